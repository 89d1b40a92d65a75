"""Leads' part of the minute sweep: nothing waits unseen.

- an assignment not accepted in time escalates to the supervisors (sooner for red), once;
- the assignee hears of work due within a day, and of work that became overdue, once each.
Every notice is deduplicated, so running the sweep twice changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from webapp.extensions import db
from webapp.jobs import sweep_step
from webapp.leads.alerts import Kind, supervisors_of, tell
from webapp.leads.codes import OPEN_STATUSES, Risk, Status
from webapp.leads.models import Lead
from webapp.leads.timeline import add_event
from webapp.timeutil import utcnow

DUE_SOON = timedelta(hours=24)


def _escalation_limits() -> dict[bool, timedelta]:
    """How long an assignment may wait for acceptance, by whether the lead is red."""
    config = current_app.config
    return {True: timedelta(minutes=config["BEATBOOK_ESCALATE_RED_MINUTES"]),
            False: timedelta(minutes=config["BEATBOOK_ESCALATE_MINUTES"])}


def _escalate(lead: Lead, now: datetime) -> bool:
    # One escalation per assignment: the key carries the assignment's time.
    if not tell(supervisors_of(lead), Kind.ESCALATED, lead, str(lead.assigned_at.timestamp())):
        return False
    add_event(lead, None, "escalated", at=now, assignee=lead.assignee.display_name if lead.assignee else "")
    return True


@sweep_step("escalated")
def escalate_unaccepted(stale_after: timedelta) -> int:
    """Assignments nobody accepted in time go to the supervisors; returns how many escalated."""
    now = utcnow()
    limits = _escalation_limits()
    waiting = db.session.scalars(
        select(Lead).where(Lead.status == Status.ASSIGNED.value, Lead.assigned_at.is_not(None),
                           Lead.assigned_at <= now - min(limits.values()))
    )
    escalated = sum(_escalate(lead, now) for lead in waiting
                    if lead.assigned_at <= now - limits[lead.risk == Risk.RED.value])
    db.session.commit()
    return escalated


@sweep_step("due_warnings")
def warn_due_and_overdue(stale_after: timedelta) -> int:
    """The assignee hears of work due within a day and of overdue work, once per deadline."""
    now = utcnow()
    leads = db.session.scalars(
        select(Lead).where(Lead.status.in_([s.value for s in OPEN_STATUSES]), Lead.assignee_id.is_not(None),
                           Lead.due_at.is_not(None), Lead.due_at <= now + DUE_SOON)
    )
    warned = 0
    for lead in leads:
        kind = Kind.OVERDUE if lead.due_at <= now else Kind.DUE_SOON
        if kind == Kind.DUE_SOON and lead.due_at - lead.cycle_started_at <= DUE_SOON:
            continue  # a 24-hour (red) deadline is "due within a day" from the start: no news
        warned += tell([lead.assignee], kind, lead, str(lead.due_at.timestamp()))
    db.session.commit()
    return warned

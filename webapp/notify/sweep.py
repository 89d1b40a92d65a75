"""The periodic sweep (every minute, on the worker): nothing waits unseen.

- pushes whose worker died mid-job (stuck "sending") go back to pending, and pending ones that
  are due are enqueued again;
- an assignment not accepted in time escalates to the supervisors (sooner for red), once;
- the assignee hears of work due within a day, and of work that became overdue, once each.
Every notification is deduplicated in the database, so running the sweep twice changes nothing.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from webapp.extensions import db
from webapp.leads.codes import OPEN_STATUSES, Risk, Status
from webapp.leads.models import Lead
from webapp.leads.services import add_event
from webapp.notify.models import Notification, PushStatus
from webapp.notify.services import Kind, notify
from webapp.org.models import Role, Station
from webapp.org.services import people_with_role
from webapp.timeutil import utcnow

CLAIM_LOST_AFTER = timedelta(minutes=2)
DUE_SOON = timedelta(hours=24)


def _requeue_lost_pushes(stale_after: timedelta) -> int:
    from webapp.jobs import push_notification

    now = utcnow()
    db.session.execute(
        update(Notification)
        .where(Notification.push_status == PushStatus.SENDING,
               Notification.push_claimed_at < now - CLAIM_LOST_AFTER)
        .values(push_status=PushStatus.PENDING.value)
    )
    due = list(db.session.scalars(
        select(Notification.id).where(Notification.push_status == PushStatus.PENDING,
                                      Notification.push_next_at <= now,
                                      Notification.created_at <= now - stale_after)
    ))
    db.session.commit()
    for notification_id in due:
        push_notification(notification_id)
    return len(due)


def _escalate_unaccepted() -> int:
    config = current_app.config
    now = utcnow()
    limits = {True: timedelta(minutes=config["BEATBOOK_ESCALATE_RED_MINUTES"]),
              False: timedelta(minutes=config["BEATBOOK_ESCALATE_MINUTES"])}
    waiting = db.session.scalars(
        select(Lead).where(Lead.status == Status.ASSIGNED.value, Lead.assigned_at.is_not(None),
                           Lead.assigned_at <= now - min(limits.values()))
    )
    escalated = 0
    for lead in waiting:
        if lead.assigned_at > now - limits[lead.risk == Risk.RED.value]:
            continue
        supervisors = people_with_role(db.session.get(Station, lead.station_id), Role.SUPERVISOR)
        # One escalation per assignment: the key carries the assignment's time.
        added = notify(supervisors, Kind.ESCALATED, lead.id, occurrence=str(lead.assigned_at.timestamp()))
        if added:
            add_event(lead, None, "escalated", at=now, assignee=lead.assignee.display_name
                      if lead.assignee else "")
            escalated += 1
    db.session.commit()
    return escalated


def _warn_due_and_overdue() -> int:
    now = utcnow()
    open_statuses = [s.value for s in OPEN_STATUSES]
    leads = db.session.scalars(
        select(Lead).where(Lead.status.in_(open_statuses), Lead.assignee_id.is_not(None),
                           Lead.due_at.is_not(None), Lead.due_at <= now + DUE_SOON)
    )
    warned = 0
    for lead in leads:
        kind = Kind.OVERDUE if lead.due_at <= now else Kind.DUE_SOON
        if kind == Kind.DUE_SOON and lead.due_at - lead.cycle_started_at <= DUE_SOON:
            continue  # a 24-hour (red) deadline is "due within a day" from the start: no news
        warned += notify([lead.assignee], kind, lead.id, occurrence=str(lead.due_at.timestamp()))
    db.session.commit()
    return warned


def run_sweep(stale_after: timedelta) -> dict:
    return {
        "escalated": _escalate_unaccepted(),
        "due_warnings": _warn_due_and_overdue(),
        "requeued": _requeue_lost_pushes(stale_after),
    }

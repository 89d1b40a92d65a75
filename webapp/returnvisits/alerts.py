"""Return visits' plug-ins: scheduled when a lead is settled, cancelled when it moves on another
way, and one push to the assignee when a visit falls due (the minute sweep). Neutral words only."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from webapp import notices
from webapp.extensions import db
from webapp.jobs import sweep_step
from webapp.leads.events import lead_stepped
from webapp.leads.models import Lead
from webapp.returnvisits import services
from webapp.returnvisits.models import ReturnVisit, State
from webapp.timeutil import utcnow

DUE = "return_visit_due"
DECIDE = "return_visit_decide"

notices.register_kinds({
    DUE: _l("A return visit is due"),
    DECIDE: _l("A return visit needs your decision"),
})

# Steps that settle a lead (DOMAIN: each of them is followed by a return visit) …
SETTLING_STEPS = {"resolve", "fail", "transfer"}
# … and steps after which a waiting return visit has no point any more.
ENDING_STEPS = {"reopen", "close", "link_duplicate"}


@lead_stepped.connect
def _stepped(lead: Lead, step: str, at: datetime, **_context) -> None:
    if step in SETTLING_STEPS:
        services.schedule(lead, at, services.delay_days())
    elif step in ENDING_STEPS:
        services.cancel_pending(lead)


def tell(visit: ReturnVisit, kind: str, people: list) -> int:
    return notices.announce(people, notices.Notice(
        kind=kind, subject_kind="return_visit", subject_id=visit.id,
        link=notices.link_to("returnvisits.detail", visit_id=visit.id),
        text=_l("Return visit #%(id)s — open Beatbook to see it.", id=visit.id),
        occurrence=f"{visit.assignee_id}",
    ))


@sweep_step("return_visits_due")
def announce_due(stale_after: timedelta) -> int:
    """On the day a return visit falls due (or later), its assignee hears of it once."""
    now = utcnow()
    due = db.session.scalars(select(ReturnVisit).where(
        ReturnVisit.state == State.PENDING.value, ReturnVisit.due_at <= services.due_by_end_of_today(now)))
    told = sum(tell(visit, DUE, [visit.assignee]) for visit in due)
    db.session.commit()
    return told

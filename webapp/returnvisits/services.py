"""Return visits: scheduled when a lead is settled, recorded once, and the lead moved on through
its own lifecycle (never by writing its columns here).

- holding → the lead goes return_visit → closed;
- relapsed → the lead is reopened (back to its assignee with a fresh deadline);
- unreachable → another attempt the next day, up to MAX_ATTEMPTS; after that the officer decides.
Recording is idempotent on the phone-made UUID, so a replay from the outbox is applied once.
"""

from __future__ import annotations

import uuid as uuid_module
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from webapp import access, notices
from webapp.extensions import db
from webapp.leads.codes import Status
from webapp.leads.deadlines import parse_deadlines
from webapp.leads.lifecycle import STEPS, LifecycleError, perform
from webapp.leads.models import Lead
from webapp.org.models import User
from webapp.returnvisits.models import Result, ReturnVisit, State
from webapp.timeutil import CLOCK_TOLERANCE, STATION_TZ, utcnow

MAX_ATTEMPTS = 3
RETRY_DAYS = 1


class ReturnVisitError(ValueError):
    """`code` picks the message; `forbidden` means the person may not do this (403)."""

    def __init__(self, code: str, field: str | None = None, forbidden: bool = False):
        super().__init__(code)
        self.code = code
        self.field = field
        self.forbidden = forbidden


@dataclass
class Recording:
    result: str
    note: str = ""
    uuid: str | None = None
    recorded_at: datetime | None = None


def end_of_local_day(start: datetime, days: int) -> datetime:
    """The end (midnight) of the station's day `days` days after `start`'s local day."""
    local_day = start.astimezone(STATION_TZ).date() + timedelta(days=days + 1)
    return datetime.combine(local_day, time.min, tzinfo=STATION_TZ).astimezone(UTC)


def delay_days() -> int:
    return int(current_app.config["BEATBOOK_RETURN_VISIT_DAYS"])


def pending_for(lead: Lead) -> list[ReturnVisit]:
    return list(db.session.scalars(select(ReturnVisit).where(
        ReturnVisit.lead_id == lead.id, ReturnVisit.state == State.PENDING.value)))


def schedule(lead: Lead, at: datetime, days: int, attempt: int = 1,
             assignee: User | None = None) -> ReturnVisit | None:
    """Schedule attempt `attempt` of this settlement's return visit (once), to the lead's officer."""
    person = assignee or lead.assignee
    if person is None:
        return None
    existing = db.session.scalar(select(ReturnVisit).where(
        ReturnVisit.lead_id == lead.id, ReturnVisit.cycle == lead.reopened_count,
        ReturnVisit.attempt == attempt))
    if existing is not None:
        return existing
    visit = ReturnVisit(station_id=lead.station_id, lead=lead, cycle=lead.reopened_count, attempt=attempt,
                        assignee=person, due_at=end_of_local_day(at, days), state=State.PENDING.value,
                        created_at=at)
    db.session.add(visit)
    db.session.flush()
    return visit


def cancel_pending(lead: Lead) -> int:
    visits = pending_for(lead)
    for visit in visits:
        visit.state = State.CANCELLED.value
    db.session.flush()
    return len(visits)


def reassign(visit: ReturnVisit, actor: User, person: User) -> ReturnVisit:
    if not access.can_reassign_return_visit(actor, visit):
        raise ReturnVisitError("not_permitted", forbidden=True)
    if not visit.is_pending:
        raise ReturnVisitError("already_recorded")
    if not access.may_be_given_return_visit(person, visit):
        raise ReturnVisitError("bad_assignee", field="assignee_id")
    visit.assignee = person
    db.session.flush()
    return visit


def recorded_with(uuid: str | None) -> ReturnVisit | None:
    if not uuid:
        return None
    return db.session.scalar(select(ReturnVisit).where(ReturnVisit.uuid == uuid))


def record(visit: ReturnVisit, actor: User, data: Recording) -> tuple[ReturnVisit, bool]:
    """Record the visit's result; returns (visit, created). A replay of the same UUID by the same
    person is the same recording; another's UUID, a second recording or a stranger are refused."""
    earlier = recorded_with(data.uuid)
    if earlier is not None:
        if earlier.id != visit.id or earlier.recorded_by_id != actor.id:
            raise ReturnVisitError("uuid_taken", forbidden=True)
        return earlier, False
    if not access.can_record_return_visit(actor, visit):
        raise ReturnVisitError("not_permitted", forbidden=True)
    if not visit.is_pending:
        raise ReturnVisitError("already_recorded")
    try:
        result = Result(data.result)
    except ValueError as error:
        raise ReturnVisitError("bad_result", field="result") from error
    now = utcnow()
    # One conditional UPDATE: of two people recording the same visit at once, exactly one wins
    # (the other finds it recorded, on either engine), so the lead is moved on once.
    claimed = db.session.execute(
        update(ReturnVisit).where(ReturnVisit.id == visit.id, ReturnVisit.state == State.PENDING.value)
        .values(state=State.RECORDED.value, result=result.value, note=data.note.strip()[:1000],
                uuid=data.uuid or str(uuid_module.uuid4()), received_at=now, recorded_by_id=actor.id,
                recorded_at=min(data.recorded_at or now, now + CLOCK_TOLERANCE))
        .execution_options(synchronize_session=False)).rowcount
    if not claimed:
        raise ReturnVisitError("already_recorded")
    db.session.refresh(visit)
    _follow_up(visit, actor, result, now)
    return visit, True


def _follow_up(visit: ReturnVisit, actor: User, result: Result, now: datetime) -> None:
    lead = visit.lead
    words = f"回访 #{visit.id}" + (f"（{actor.display_name}）" if actor.id != lead.assignee_id else "")
    note = f"{words}：{visit.note}" if visit.note else words
    if result == Result.HOLDING:
        _step(lead, actor, "return_visit", now)
        _step(lead, actor, "close", now, note=note)
    elif result == Result.RELAPSED:
        _step(lead, actor, "reopen", now, reason=note)
    elif visit.attempt < MAX_ATTEMPTS:
        schedule(lead, now, RETRY_DAYS, attempt=visit.attempt + 1, assignee=visit.assignee)
    elif lead.assignee is not None:
        notices.announce([lead.assignee], notices.Notice(
            kind="return_visit_decide", subject_kind="return_visit", subject_id=visit.id,
            link=notices.link_to("returnvisits.detail", visit_id=visit.id),
            text=_l("Return visit #%(id)s — open Beatbook to see it.", id=visit.id)))


def _step(lead: Lead, actor: User, name: str, now: datetime, **params) -> bool:
    """Take a lifecycle step for the visit's result, if the lead is where the step starts.

    A volunteer is not the lead's handler: the step is taken in the name of the lead's assignee,
    who gave them the visit (the timeline's note says who recorded it)."""
    if Status(lead.status) not in STEPS[name].sources:
        return False
    who = actor if access.may_take_step(actor, lead, STEPS[name].who) else lead.assignee
    if who is None:
        return False
    try:
        perform(lead, who, name, parse_deadlines(current_app.config["BEATBOOK_DEADLINES"]), now, **params)
    except LifecycleError:
        return False
    return True


def needs_decision(visit: ReturnVisit) -> bool:
    """The last attempt found nobody: the officer decides what happens to the lead."""
    return (visit.state == State.RECORDED.value and visit.result == Result.UNREACHABLE.value
            and visit.attempt >= MAX_ATTEMPTS)


def my_return_visits(user: User, until: datetime | None = None, limit: int = 50) -> list[ReturnVisit]:
    """Pending visits given to `user`, soonest first (due by `until`, if given)."""
    query = select(ReturnVisit).where(ReturnVisit.assignee_id == user.id,
                                      ReturnVisit.state == State.PENDING.value)
    if until is not None:
        query = query.where(ReturnVisit.due_at <= until)
    return list(db.session.scalars(query.options(selectinload(ReturnVisit.lead).selectinload(Lead.community))
                                   .order_by(ReturnVisit.due_at, ReturnVisit.id).limit(limit)))


def compartmented_visits(visits) -> list[int]:
    """The ids of the visits to DV or minor leads among `visits`: what a list that shows them audits."""
    return [visit.id for visit in visits if visit.lead.is_compartmented]


def due_by_end_of_today(now: datetime) -> datetime:
    return end_of_local_day(now, 0)


def visits_seen_by(user: User, limit: int = 100) -> list[ReturnVisit]:
    """Every return visit `user` may see (given to them, or of leads they handle), newest first."""
    return list(db.session.scalars(select(ReturnVisit).where(access.return_visit_scope(user))
                                   .order_by(ReturnVisit.due_at.desc(), ReturnVisit.id.desc()).limit(limit)))

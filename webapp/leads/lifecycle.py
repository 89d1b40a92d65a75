"""The lead lifecycle: which step may follow which, and who may take it.

registered → graded → assigned → accepted → in mediation → resolved / failed / transferred →
performance monitoring → return visit → closed; side states: overdue (computed), extension
requested, supervised (督办), reopened. Every step writes the timeline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from webapp.access import can_be_assigned, may_take_step
from webapp.extensions import db
from webapp.leads.codes import (
    ACTIVE_STATUSES,
    FAILURE_ROUTE_LABELS,
    OPEN_STATUSES,
    RESOLUTION_LABELS,
    RISK_FACTOR_LABELS,
    TRANSFER_TARGET_LABELS,
    Risk,
    Status,
)
from webapp.leads.deadlines import Deadline, due_at
from webapp.leads.events import lead_stepped
from webapp.leads.grading import set_risk
from webapp.leads.models import Lead, LeadEvent
from webapp.leads.timeline import add_event
from webapp.org.models import User
from webapp.timeutil import utcnow

S = Status
Deadlines = dict[Risk, Deadline]
Handler = Callable[..., dict]


class LifecycleError(Exception):
    """A step that is not allowed. `code` picks the message; `forbidden` means 403, else 409/422."""

    def __init__(self, code: str, forbidden: bool = False, field: str | None = None):
        super().__init__(code)
        self.code = code
        self.forbidden = forbidden
        self.field = field


def available_steps(user: User, lead: Lead) -> list[str]:
    """The steps `user` may take on `lead` now (for the buttons on the lead's page)."""
    status = Status(lead.status)
    return [name for name, step in STEPS.items()
            if status in step.sources and may_take_step(user, lead, step.who)
            and not (name == "grant_extension" and not lead.extension_requested)]


def perform(lead: Lead, actor: User, name: str, deadlines: dict[Risk, Deadline],
            now: datetime | None = None, step_uuid: str | None = None, **params) -> Lead:
    """Take step `name` on `lead` as `actor`, or raise LifecycleError and change nothing.

    `step_uuid` (made on the phone) is kept on the timeline event, so a replay is recognised.
    """
    step = STEPS.get(name)
    if step is None:
        raise LifecycleError("unknown_step")
    if not may_take_step(actor, lead, step.who):
        raise LifecycleError("not_permitted", forbidden=True)
    status = Status(lead.status)
    if status not in step.sources:
        raise LifecycleError("wrong_status")
    now = now or utcnow()
    detail = step.handler(lead, actor, deadlines, now, **params) or {}
    if step.target is not None:
        lead.status = step.target.value
    event = add_event(lead, actor, name, status.value, lead.status, at=now, **detail)
    event.uuid = step_uuid
    db.session.flush()
    lead_stepped.send(lead, step=name, actor=actor, from_status=status.value, detail=detail, at=now)
    return lead


# Steps another feature's rule may take on a lead without a person's permission (the actor on the
# timeline is the system; the rule's reason goes into the detail).
RULE_STEPS = frozenset({"grade"})


def perform_by_rule(lead: Lead, name: str, deadlines: dict[Risk, Deadline], reason: str,
                    now: datetime | None = None, **params) -> Lead:
    """Take step `name` on `lead` because a rule says so (e.g. the DV task force's follow-up found
    violence again: the grade goes to red), or raise LifecycleError and change nothing.

    Same handler, status check, timeline entry and `lead_stepped` event as a person's step."""
    step = STEPS.get(name)
    if step is None or name not in RULE_STEPS:
        raise LifecycleError("unknown_step")
    status = Status(lead.status)
    if status not in step.sources:
        raise LifecycleError("wrong_status")
    now = now or utcnow()
    detail = {**(step.handler(lead, None, deadlines, now, **params) or {}), "rule": reason}
    if step.target is not None:
        lead.status = step.target.value
    add_event(lead, None, name, status.value, lead.status, at=now, **detail)
    db.session.flush()
    lead_stepped.send(lead, step=name, actor=None, from_status=status.value, detail=detail, at=now)
    return lead


def step_already_taken(step_uuid: str) -> LeadEvent | None:
    return db.session.scalar(select(LeadEvent).where(LeadEvent.uuid == step_uuid))


def _grade(lead: Lead, actor: User, deadlines: Deadlines, now: datetime,
           risk: str, factors: set[str] | None = None, note: str = "") -> dict:
    try:
        grade = Risk(risk)
    except ValueError as error:
        raise LifecycleError("bad_risk", field="risk") from error
    factors = set(factors or ())
    unknown = factors - RISK_FACTOR_LABELS.keys()
    if unknown:
        raise LifecycleError("bad_factor", field="factors")
    previous = lead.risk
    set_risk(lead, grade, factors, confirmed=True)
    # A new grade moves the deadline, counted from the start of the current cycle (the receipt,
    # or the last reopening); confirming the same grade keeps it (and any granted extension).
    if lead.is_open and grade.value != previous:
        lead.due_at = due_at(deadlines, lead.risk, lead.cycle_started_at)
    if lead.status == S.REGISTERED:
        lead.status = S.GRADED.value
    return {"risk": grade.value, "previous": previous, "factors": sorted(factors), "note": note}


def _assign(lead: Lead, actor: User, deadlines: Deadlines, now: datetime,
            assignee: User | None = None) -> dict:
    if assignee is None or not can_be_assigned(assignee, lead):
        raise LifecycleError("bad_assignee", field="assignee")
    lead.assignee = assignee
    lead.assigned_at = now
    lead.accepted_at = None
    lead.returned_reason = ""
    if lead.due_at is None:
        lead.due_at = due_at(deadlines, lead.risk, lead.received_at)
    return {"assignee": assignee.display_name}


def _accept(lead: Lead, actor: User, deadlines: Deadlines, now: datetime) -> dict:
    lead.accepted_at = now
    return {}


def _return(lead: Lead, actor: User, deadlines: Deadlines, now: datetime, reason: str = "") -> dict:
    if not reason.strip():
        raise LifecycleError("reason_required", field="reason")
    lead.assignee = None
    lead.assigned_at = None
    lead.returned_reason = reason.strip()[:500]
    return {"reason": lead.returned_reason}


def _outcome(choices: dict, field: str) -> Handler:
    def handler(lead: Lead, actor: User, deadlines: Deadlines, now: datetime, outcome: str = "",
                note: str = "") -> dict:
        if outcome not in choices:
            raise LifecycleError("bad_outcome", field=field)
        lead.outcome = outcome
        lead.outcome_note = note.strip()[:500]
        lead.extension_requested = False
        return {"outcome": outcome, "note": lead.outcome_note}

    return handler


def _plain(lead: Lead, actor: User, deadlines: Deadlines, now: datetime) -> dict:
    return {}


def _close(lead: Lead, actor: User, deadlines: Deadlines, now: datetime, note: str = "") -> dict:
    lead.closed_at = now
    return {"note": note.strip()[:500]}


def _reopen(lead: Lead, actor: User, deadlines: Deadlines, now: datetime, reason: str = "") -> dict:
    if not reason.strip():
        raise LifecycleError("reason_required", field="reason")
    if lead.assignee is None:
        raise LifecycleError("bad_assignee", field="assignee")
    lead.reopened_count += 1
    lead.cycle_started_at = now
    lead.closed_at = None
    lead.outcome = ""
    lead.due_at = due_at(deadlines, lead.risk, now)
    lead.assigned_at = now
    lead.accepted_at = None
    return {"reason": reason.strip()[:500]}


def _request_extension(lead: Lead, actor: User, deadlines: Deadlines, now: datetime,
                       reason: str = "") -> dict:
    if not reason.strip():
        raise LifecycleError("reason_required", field="reason")
    lead.extension_requested = True
    lead.extension_reason = reason.strip()[:500]
    return {"reason": lead.extension_reason}


def _grant_extension(lead: Lead, actor: User, deadlines: Deadlines, now: datetime,
                     new_due: datetime | None = None) -> dict:
    if not lead.extension_requested:
        raise LifecycleError("no_extension_requested")
    if new_due is None or new_due <= now:
        raise LifecycleError("due_in_past", field="new_due")
    lead.due_at = new_due
    lead.extension_requested = False
    return {"due_at": new_due.isoformat()}


def _supervise(lead: Lead, actor: User, deadlines: Deadlines, now: datetime,
               until: datetime | None = None, comment: str = "") -> dict:
    if until is None or until <= now:
        raise LifecycleError("due_in_past", field="until")
    if not comment.strip():
        raise LifecycleError("comment_required", field="comment")
    lead.supervised_until = until
    lead.supervision_comment = comment.strip()[:500]
    return {"until": until.isoformat(), "comment": lead.supervision_comment}


def _link_duplicate(lead: Lead, actor: User, deadlines: Deadlines, now: datetime,
                    original: Lead | None = None) -> dict:
    if original is None or original.station_id != lead.station_id:
        raise LifecycleError("bad_original", field="original")
    seen = {original.id}
    while original.duplicate_of_id is not None:  # always point at the root, never into a chain
        original = original.duplicate_of
        if original.id in seen:
            break
        seen.add(original.id)
    if original.id == lead.id:
        raise LifecycleError("bad_original", field="original")
    lead.duplicate_of = original
    lead.closed_at = now
    lead.outcome = "duplicate"
    return {"original": original.id}


@dataclass(frozen=True)
class Step:
    name: str
    sources: frozenset[Status]  # statuses it may start from
    target: Status | None  # None: the status stays (a side state or an assessment)
    who: str  # "handler" (assignee or supervisor), "assignee", "supervisor", "grader": see access
    handler: Handler  # checks the step's input, changes the lead, returns the timeline's detail


# The lifecycle in one table: name, allowed from, to, who, what it does (docs/domain.md).
STEPS: dict[str, Step] = {
    step.name: step
    for step in (
        Step("grade", frozenset(ACTIVE_STATUSES), None, "grader", _grade),
        Step("assign", frozenset({S.REGISTERED, S.GRADED, S.ASSIGNED, S.ACCEPTED}), S.ASSIGNED,
             "supervisor", _assign),
        Step("accept", frozenset({S.ASSIGNED}), S.ACCEPTED, "assignee", _accept),
        Step("return", frozenset({S.ASSIGNED}), S.GRADED, "assignee", _return),
        Step("start_mediation", frozenset({S.ACCEPTED}), S.IN_MEDIATION, "handler", _plain),
        Step("resolve", frozenset({S.ACCEPTED, S.IN_MEDIATION}), S.RESOLVED, "handler",
             _outcome(RESOLUTION_LABELS, "outcome")),
        Step("fail", frozenset({S.IN_MEDIATION}), S.FAILED, "handler",
             _outcome(FAILURE_ROUTE_LABELS, "outcome")),
        Step("transfer", frozenset({S.ACCEPTED, S.IN_MEDIATION}), S.TRANSFERRED, "handler",
             _outcome(TRANSFER_TARGET_LABELS, "outcome")),
        Step("monitor", frozenset({S.RESOLVED}), S.MONITORING, "handler", _plain),
        Step("return_visit", frozenset({S.RESOLVED, S.MONITORING, S.FAILED, S.TRANSFERRED}),
             S.RETURN_VISIT, "handler", _plain),
        Step("close", frozenset({S.RETURN_VISIT}), S.CLOSED, "handler", _close),
        Step("reopen", frozenset({S.RESOLVED, S.FAILED, S.TRANSFERRED, S.MONITORING, S.RETURN_VISIT,
                                  S.CLOSED}), S.ASSIGNED, "handler", _reopen),
        Step("request_extension", frozenset({S.ACCEPTED, S.IN_MEDIATION}), None, "assignee",
             _request_extension),
        Step("grant_extension", frozenset(OPEN_STATUSES), None, "supervisor", _grant_extension),
        Step("supervise", frozenset(ACTIVE_STATUSES), None, "supervisor", _supervise),
        Step("link_duplicate", frozenset(OPEN_STATUSES), S.CLOSED, "handler", _link_duplicate),
    )
}

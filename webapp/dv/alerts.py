"""Who hears about the DV task force's work, in neutral words (no names, no case details):

- a letter awaits approval → the station's supervisors;
- a follow-up visit found violence again → the lead's grade goes to red through the leads
  lifecycle's `grade` step (a rule step: the system, not a person, takes it), and the task force,
  the lead's assignee and the supervisors are alerted;
- a follow-up visit is due → its assignee (or the whole task force), once (webapp/dv/sweep.py).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from contextlib import suppress
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l

from webapp import notices
from webapp.dv.events import violence_recurred
from webapp.dv.models import FollowUp, WarningLetter
from webapp.extensions import db
from webapp.leads.codes import Risk
from webapp.leads.deadlines import parse_deadlines
from webapp.leads.lifecycle import LifecycleError, perform_by_rule
from webapp.org.models import Role, Station, User
from webapp.org.services import people_with_role


class Kind(enum.StrEnum):
    LETTER_REQUESTED = "dv_letter_requested"
    FOLLOWUP_DUE = "dv_followup_due"
    RECURRENCE = "dv_recurrence"


notices.register_kinds(
    {
        Kind.LETTER_REQUESTED: _l("A letter awaits approval"),
        Kind.FOLLOWUP_DUE: _l("A follow-up visit is due"),
        Kind.RECURRENCE: _l("A follow-up visit needs attention"),
    }
)


def task_force(station_id: int) -> list[User]:
    return people_with_role(db.session.get(Station, station_id), Role.DV_TEAM)


def supervisors(station_id: int) -> list[User]:
    return people_with_role(db.session.get(Station, station_id), Role.SUPERVISOR)


def letter_requested(letter: WarningLetter) -> int:
    return notices.announce(
        supervisors(letter.station_id),
        notices.Notice(
            kind=Kind.LETTER_REQUESTED.value,
            subject_kind="dv_letter",
            subject_id=letter.id,
            link=notices.link_to("dv.letter", letter_id=letter.id),
            text=_l("Letter #%(id)s — open Beatbook to decide.", id=letter.id),
        ),
    )


def tell_about_followup(people: Iterable[User], kind: Kind, followup: FollowUp, occurrence: str) -> int:
    return notices.announce(
        people,
        notices.Notice(
            kind=kind.value,
            subject_kind="dv_followup",
            subject_id=followup.id,
            link=notices.link_to("dv.followup", followup_id=followup.id),
            text=_l("Follow-up #%(id)s — open Beatbook to see it.", id=followup.id),
            occurrence=occurrence,
        ),
    )


@violence_recurred.connect
def _recurred(followup: FollowUp, actor: User, at: datetime) -> None:
    lead = followup.lead
    deadlines = parse_deadlines(current_app.config["BEATBOOK_DEADLINES"])
    if lead.risk != Risk.RED.value:
        # A closed lead keeps its grade (the step does not start there); the alert still goes out.
        with suppress(LifecycleError):
            perform_by_rule(
                lead,
                "grade",
                deadlines,
                reason="dv_recurrence",
                now=at,
                risk=Risk.RED.value,
                factors=set(lead.factor_codes) | {"domestic_violence"},
                note=f"dv follow-up #{followup.id}",
            )
    people = {
        person.id: person
        for person in [
            *task_force(lead.station_id),
            *supervisors(lead.station_id),
            *([lead.assignee] if lead.assignee else []),
        ]
    }
    tell_about_followup(people.values(), Kind.RECURRENCE, followup, "recurred")

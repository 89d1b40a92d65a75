"""Who may see and do what with the DV task force's records (letters, deliveries, follow-ups).

They live inside the DV lead's compartment: a record is visible exactly when its lead is a DV case
the person may open (`case_scope`: the assigned officer, the task force, supervisors of the
station). Everyone else gets 404: the record does not exist for them.
"""

from __future__ import annotations

from flask import abort
from sqlalchemy import exists, select

from webapp.access.leads import case_scope
from webapp.dv.models import Delivery, FollowUp, LetterStatus, WarningLetter
from webapp.extensions import db
from webapp.leads.models import Lead
from webapp.org.models import Role, User

DV_ROLES = (Role.DV_TEAM, Role.SUPERVISOR, Role.OFFICER)
MAX_ID = 2**31 - 1  # ids are 32-bit: a bigger number (a 20-digit one in a URL) names nothing


def _names_nothing(record_id: int | None) -> bool:
    return record_id is None or not 0 < record_id <= MAX_ID


# --- scopes ------------------------------------------------------------------------------------------


def dv_lead_ids(user: User):
    """A sub-select of the DV leads `user` may open as a case."""
    return select(Lead.id).where(case_scope(user), Lead.flag_dv)


def _on_a_dv_case_of(user: User, lead_id):
    # Correlated EXISTS on the record's own lead: `lead_id IN (SELECT … every DV lead in scope)`
    # made SQLite list a station's DV leads first, ~0.4 s per supervisor home at 500k leads.
    return exists().where(Lead.id == lead_id, Lead.flag_dv, case_scope(user))


def letter_scope(user: User):
    return _on_a_dv_case_of(user, WarningLetter.lead_id)


def followup_scope(user: User):
    return _on_a_dv_case_of(user, FollowUp.lead_id)


# --- loaders -----------------------------------------------------------------------------------------


def find_dv_case(user: User, lead_id: int) -> Lead | None:
    if not user.is_authenticated or _names_nothing(lead_id):
        return None
    return db.session.scalar(select(Lead).where(Lead.id == lead_id, Lead.flag_dv, case_scope(user)))


def dv_case(user: User, lead_id: int) -> Lead:
    """A DV lead `user` may open as a case, or 404."""
    lead = find_dv_case(user, lead_id)
    if lead is None:
        abort(404)
    return lead


def find_letter(user: User, letter_id: int) -> WarningLetter | None:
    if not user.is_authenticated or _names_nothing(letter_id):
        return None
    return db.session.scalar(select(WarningLetter).where(WarningLetter.id == letter_id, letter_scope(user)))


def seen_letter(user: User, letter_id: int) -> WarningLetter:
    letter = find_letter(user, letter_id)
    if letter is None:
        abort(404)
    return letter


def delivery_photo(user: User, letter_id: int, delivery_id: int) -> Delivery:
    letter = seen_letter(user, letter_id)
    delivery = None if _names_nothing(delivery_id) else db.session.get(Delivery, delivery_id)
    if delivery is None or delivery.letter_id != letter.id or not delivery.photo_sha256:
        abort(404)
    return delivery


def find_followup(user: User, followup_id: int) -> FollowUp | None:
    if not user.is_authenticated or _names_nothing(followup_id):
        return None
    return db.session.scalar(select(FollowUp).where(FollowUp.id == followup_id, followup_scope(user)))


def seen_followup(user: User, followup_id: int) -> FollowUp:
    followup = find_followup(user, followup_id)
    if followup is None:
        abort(404)
    return followup


# --- rules about people ------------------------------------------------------------------------------


def can_work_dv(user: User) -> bool:
    """The DV pages' door: the task force, supervisors, and officers (who see only DV leads assigned
    to them; the records decide the rest)."""
    return user.is_authenticated and user.has_role(*DV_ROLES)


# --- rules about one letter ----------------------------------------------------------------------------


def may_approve(user: User, letter: WarningLetter) -> bool:
    """A supervisor of the station who did not request the letter (四眼原则)."""
    return (
        user.has_role(Role.SUPERVISOR)
        and user.station_id == letter.station_id
        and letter.requested_by_id != user.id
    )


def may_issue(user: User, letter: WarningLetter) -> bool:
    """The requester, the task force or a supervisor: whoever sees the case and works DV."""
    return letter.station_id == user.station_id and (
        letter.requested_by_id == user.id or user.has_role(Role.DV_TEAM, Role.SUPERVISOR)
    )


def can_act_on(user: User, letter: WarningLetter, action: str) -> bool:
    """May `user` take `action` ("approve", "refuse", "issue") on `letter` (status aside)?"""
    if action in ("approve", "refuse"):
        return may_approve(user, letter)
    if action == "issue":
        return may_issue(user, letter)
    return False


def is_open_for(letter: WarningLetter, action: str) -> bool:
    """The letter's status lets `action` start (an issued letter lets nothing change it)."""
    wanted = {
        "approve": LetterStatus.REQUESTED,
        "refuse": LetterStatus.REQUESTED,
        "issue": LetterStatus.APPROVED,
    }
    return letter.status == wanted.get(action)

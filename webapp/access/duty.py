"""Who may see and do what with the on-duty roster and dispatches.

The roster is the station staff's (officers, supervisors, mediators, lawyers); supervisors edit it.
A dispatch is seen by the people it was offered to, the officer handling its lead (who is told when
a mediator is coming) and the station's supervisors, nobody else; only the holder of its open offer
answers it. The page names no party, phone or address, so it shows the officer nothing new.
"""

from __future__ import annotations

from flask import abort
from sqlalchemy import select

from webapp.duty.models import DispatchCall, DispatchOffer, DutyShift, OfferState
from webapp.extensions import db
from webapp.org.models import Role, User

ROSTER_READERS = (Role.OFFICER, Role.SUPERVISOR, Role.MEDIATOR, Role.LAWYER)
MAX_ID = 2**63 - 1  # a longer id in a URL names nothing (and would overflow the database's integer)


def can_see_roster(user: User) -> bool:
    return user.is_authenticated and user.has_role(*ROSTER_READERS)


def can_edit_roster(user: User) -> bool:
    return user.is_authenticated and user.has_role(Role.SUPERVISOR)


def find_shift(user: User, shift_id: int) -> DutyShift | None:
    """A shift of the person's station, else None."""
    if not 0 < shift_id <= MAX_ID:
        return None
    shift = db.session.get(DutyShift, shift_id)
    return shift if shift is not None and shift.station_id == user.station_id else None


def station_shift(user: User, shift_id: int) -> DutyShift:
    shift = find_shift(user, shift_id)
    if shift is None:
        abort(404)
    return shift


def find_call(user: User, call_id: int) -> DispatchCall | None:
    """The dispatch if it was offered to `user`, its lead is theirs to handle or they supervise its
    station, else None."""
    if not user.is_authenticated or not 0 < call_id <= MAX_ID:
        return None
    call = db.session.get(DispatchCall, call_id)
    if call is None or call.station_id != user.station_id:
        return None
    if user.has_role(Role.SUPERVISOR) or call.lead.assignee_id == user.id:
        return call
    offered = db.session.scalar(select(DispatchOffer.id).where(
        DispatchOffer.call_id == call.id, DispatchOffer.user_id == user.id).limit(1))
    return call if offered is not None else None


def seen_call(user: User, call_id: int) -> DispatchCall:
    call = find_call(user, call_id)
    if call is None:
        abort(404)
    return call


def holds_open_offer(user: User, call: DispatchCall) -> bool:
    """May `user` answer the call now (the open offer is theirs)?"""
    return db.session.scalar(select(DispatchOffer.id).where(
        DispatchOffer.call_id == call.id, DispatchOffer.user_id == user.id,
        DispatchOffer.state == OfferState.OFFERED.value)) is not None

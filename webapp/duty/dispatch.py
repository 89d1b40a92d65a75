"""Dispatch (调解员随警出动): a dispute call from 110 goes to the first mediator on duty, who goes
with the police or declines; a decline or no answer in time passes it to the next on duty; when
nobody (left) is on duty the station's supervisors get it.

Exactly one offer per call is open at any time. Every move of an offer is a conditional UPDATE
(`… WHERE state = 'offered'`): of a decline and the sweep's timeout racing, one moves it and the
other finds nothing to move; a unique partial index on the open offer backs that up.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from webapp import notices
from webapp.duty.models import CallState, DispatchCall, DispatchOffer, OfferState
from webapp.duty.services import on_duty
from webapp.extensions import db
from webapp.jobs import sweep_step
from webapp.leads.codes import Source
from webapp.leads.events import lead_registered
from webapp.leads.models import Lead
from webapp.org.models import Role, Station
from webapp.org.services import people_with_role
from webapp.timeutil import utcnow

DISPATCH, UNANSWERED, COMING = "dispatch", "dispatch_unanswered", "dispatch_accepted"
# Neutral words only: no place, names or details in a notification.
notices.register_kinds({
    DISPATCH: _l("Go with police: a dispute call needs a mediator"),
    UNANSWERED: _l("A dispute call has no mediator on duty"),
    COMING: _l("A mediator on duty is going with you"),
})


class DispatchError(Exception):
    """The offer is no longer this person's to answer (answered, passed on, or never theirs)."""


def needs_dispatch(lead: Lead) -> bool:
    """A dispute handed over from 110. DV and minors' matters stay in their compartments: they are
    not mediated on the street and a mediator may not see them."""
    return lead.source == Source.POLICE_110.value and bool(lead.category) and not lead.is_compartmented


def open_call(lead: Lead, now: datetime) -> DispatchCall:
    """Start dispatching `lead` (once per lead) and offer it to the first mediator on duty."""
    call = db.session.scalar(select(DispatchCall).where(DispatchCall.lead_id == lead.id))
    if call is not None:
        return call
    call = DispatchCall(station_id=lead.station_id, lead_id=lead.id, created_at=now)
    db.session.add(call)
    db.session.flush()
    _offer_next(call, now)
    return call


def open_offer(call: DispatchCall) -> DispatchOffer | None:
    return db.session.scalar(select(DispatchOffer).where(
        DispatchOffer.call_id == call.id, DispatchOffer.state == OfferState.OFFERED.value))


def offers_of(call: DispatchCall) -> list[DispatchOffer]:
    return list(db.session.scalars(
        select(DispatchOffer).where(DispatchOffer.call_id == call.id).order_by(DispatchOffer.position)))


def waiting_for(person) -> list[DispatchCall]:
    """The calls whose open offer is `person`'s, oldest first: what their home puts at the top."""
    return list(db.session.scalars(
        select(DispatchCall).join(DispatchOffer, DispatchOffer.call_id == DispatchCall.id)
        .where(DispatchOffer.user_id == person.id, DispatchOffer.state == OfferState.OFFERED.value)
        .options(selectinload(DispatchCall.lead).selectinload(Lead.community))
        .order_by(DispatchOffer.offered_at, DispatchOffer.id)))


def _offer_next(call: DispatchCall, now: datetime) -> DispatchOffer | None:
    """Offer the call to the first mediator on duty not yet asked; nobody left → supervisors."""
    station = db.session.get(Station, call.station_id)
    asked = {offer.user_id for offer in offers_of(call)}
    candidate = next((p for p in on_duty(station, now, Role.MEDIATOR) if p.id not in asked), None)
    link = notices.link_to("duty.call", call_id=call.id)
    if candidate is None:
        call.state = CallState.SUPERVISORS.value
        db.session.flush()
        notices.announce(people_with_role(station, Role.SUPERVISOR), notices.Notice(
            kind=UNANSWERED, subject_kind="dispatch", subject_id=call.id, link=link,
            text=_l("Dispatch #%(id)s: no mediator on duty took it — open Beatbook.", id=call.id)))
        return None
    offer = DispatchOffer(call_id=call.id, user_id=candidate.id, position=len(asked) + 1, offered_at=now)
    db.session.add(offer)
    call.state = CallState.OFFERING.value
    db.session.flush()
    notices.announce([candidate], notices.Notice(
        kind=DISPATCH, subject_kind="dispatch", subject_id=call.id, link=link,
        text=_l("Dispatch #%(id)s: please answer within minutes — open Beatbook.", id=call.id),
        occurrence=str(offer.id)))
    return offer


def _close_offer(offer_id: int, state: OfferState, now: datetime, reason: str = "") -> bool:
    """Move an open offer to `state`; False when it was no longer open (someone else moved it)."""
    result = db.session.execute(
        update(DispatchOffer)
        .where(DispatchOffer.id == offer_id, DispatchOffer.state == OfferState.OFFERED.value)
        .values(state=state.value, answered_at=now, reason=reason)
        .execution_options(synchronize_session=False))
    moved = result.rowcount == 1
    offer = db.session.get(DispatchOffer, offer_id)
    if offer is not None:
        db.session.refresh(offer)
    return moved


def answer(call: DispatchCall, person, accept: bool, reason: str, now: datetime) -> DispatchOffer:
    """`person` answers the call's open offer: accept (they go) or decline (it passes on).
    Raises DispatchError when the offer is not (or no longer) theirs."""
    offer = db.session.scalar(select(DispatchOffer).where(
        DispatchOffer.call_id == call.id, DispatchOffer.user_id == person.id,
        DispatchOffer.state == OfferState.OFFERED.value))
    if offer is None or not _close_offer(offer.id, OfferState.ACCEPTED if accept else OfferState.DECLINED,
                                         now, "" if accept else reason):
        raise DispatchError
    if accept:
        call.state = CallState.ACCEPTED.value
        call.accepted_by_id = person.id
        db.session.flush()
        _tell_the_officer(call)
    else:
        _offer_next(call, now)
    return offer


def _tell_the_officer(call: DispatchCall) -> None:
    """The officer handling the call's lead learns that a mediator is coming (and who, on the call
    page): without it the police on the way could not count on them or know whom to meet."""
    officer = call.lead.assignee
    if officer is None:  # still in the intake queue: the supervisors see the call page already
        return
    notices.announce([officer], notices.Notice(
        kind=COMING, subject_kind="dispatch", subject_id=call.id,
        link=notices.link_to("duty.call", call_id=call.id),
        text=_l("Dispatch #%(id)s: a mediator on duty is coming — open Beatbook.", id=call.id)))


def time_out(offer_id: int, now: datetime) -> bool:
    """Pass an unanswered offer on; False when it had been answered or passed on meanwhile."""
    if not _close_offer(offer_id, OfferState.TIMED_OUT, now):
        return False
    offer = db.session.get(DispatchOffer, offer_id)
    _offer_next(offer.call, now)
    return True


def timeout() -> timedelta:
    return timedelta(minutes=current_app.config["BEATBOOK_DISPATCH_TIMEOUT_MINUTES"])


@sweep_step("dispatch_timeouts")
def pass_unanswered(stale_after: timedelta) -> int:
    """Offers nobody answered in time pass to the next on duty; returns how many passed."""
    now = utcnow()
    waiting = list(db.session.scalars(select(DispatchOffer.id).where(
        DispatchOffer.state == OfferState.OFFERED.value, DispatchOffer.offered_at <= now - timeout())))
    db.session.rollback()  # end the read: each pass is its own short transaction
    passed = 0
    for offer_id in waiting:
        passed += time_out(offer_id, now)
        db.session.commit()
    return passed


@lead_registered.connect
def _dispatch_dispute_call(lead: Lead, at: datetime, **_context) -> None:
    if needs_dispatch(lead):
        open_call(lead, at)

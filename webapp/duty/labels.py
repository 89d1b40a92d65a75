"""Names of dispatch states, for pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from webapp.duty.models import CallState, OfferState

CALL_STATE_LABELS = {
    CallState.OFFERING: _l("Waiting for a mediator's answer"),
    CallState.ACCEPTED: _l("A mediator is going"),
    CallState.SUPERVISORS: _l("No mediator on duty took it: supervisors told"),
}
OFFER_STATE_LABELS = {
    OfferState.OFFERED: _l("asked, no answer yet"),
    OfferState.ACCEPTED: _l("going"),
    OfferState.DECLINED: _l("declined"),
    OfferState.TIMED_OUT: _l("no answer in time"),
}


def call_state_label(code: str) -> str:
    return str(CALL_STATE_LABELS.get(CallState(code), code))


def offer_state_label(code: str) -> str:
    return str(OFFER_STATE_LABELS.get(OfferState(code), code))

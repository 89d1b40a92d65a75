"""One path from a filled delivery or follow-up form to the service, for the page and for the
phone's outbox (sync kinds `dv.delivery`, `dv.followup`): same checks, same messages."""

from __future__ import annotations

from webapp.dv.forms import DeliveryForm, FollowUpForm
from webapp.dv.messages import error_text
from webapp.dv.models import Delivery, FollowUp, WarningLetter
from webapp.dv.services import DeliveryInput, DvError, record_delivery, record_followup
from webapp.leads.intake import max_photo_bytes
from webapp.leads.photos import PhotoError, clean_photo
from webapp.org.models import User


def _attach(form, error: DvError) -> None:
    target = getattr(form, error.field, None) if error.field else None
    (target.errors if target is not None else form.form_errors).append(error_text(error.code))


def submit_delivery(
    form: DeliveryForm, user: User, letter: WarningLetter, address: str = ""
) -> tuple[Delivery, bool] | None:
    """Record the delivery a form describes; on a broken rule, the message goes on the form and
    None comes back (nothing stored)."""
    if not form.validate():
        return None
    upload = form.photo.data
    raw = upload.read() if upload and getattr(upload, "filename", "") else b""
    try:
        photo = clean_photo(raw, max_photo_bytes()).data if raw else None
        return record_delivery(
            user,
            letter,
            DeliveryInput(
                recipient=form.recipient.data,
                method=form.method.data,
                outcome=form.outcome.data,
                witness=form.witness.data or "",
                note=form.note.data or "",
                photo=photo,
                uuid=form.uuid.data or None,
                recorded_at=form.recorded_at.data,
            ),
            address,
        )
    except PhotoError as error:
        form.photo.errors = [*form.photo.errors, error_text(error.code)]
    except DvError as error:
        _attach(form, error)
    return None


def submit_followup(
    form: FollowUpForm, user: User, followup: FollowUp, address: str = ""
) -> tuple[FollowUp, bool] | None:
    if not form.validate():
        return None
    try:
        return record_followup(
            user,
            followup,
            form.recurred.data == "yes",
            form.note.data,
            uuid=form.uuid.data or None,
            recorded_at=form.recorded_at.data,
            address=address,
        )
    except DvError as error:
        _attach(form, error)
    return None

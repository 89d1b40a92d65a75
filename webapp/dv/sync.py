"""The DV task force's outbox items, sealed on the phone like every DV item (the forms carry
`data-sealed`; webapp/sync/sealing.py opens them): a delivery recorded at the door and a follow-up
visit, each through the same form and service as its page. A replay is answered `duplicate`.
Neither kind can touch a letter: deliveries are their own rows, and no kind edits a letter."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import select

from webapp.access.dv import can_work_dv, find_followup, find_letter
from webapp.dv.forms import MAX_ID, DeliveryForm, FollowUpForm
from webapp.dv.models import Delivery, FollowUp
from webapp.dv.submit import submit_delivery, submit_followup
from webapp.extensions import db
from webapp.org.models import User
from webapp.sync.kinds import BadItem, ItemResult, SyncKind, field_errors, formdata, register


def _record_id(item: dict, name: str) -> int | None:
    fields = item.get("fields") or {}
    if not isinstance(fields, dict):
        raise BadItem("fields must be an object")
    value = fields.get(name)
    try:
        number = int(str(value))
    except ValueError:
        return None
    return number if 0 < number <= MAX_ID else None


def _delivery_item(user: User, uuid: str, item: dict) -> ItemResult:
    existing = db.session.scalar(select(Delivery).where(Delivery.uuid == uuid))
    if existing is not None and existing.recorded_by_id == user.id:
        return ItemResult(uuid, "duplicate", url_for("dv.letter", letter_id=existing.letter_id))
    letter_id = _record_id(item, "letter_id")
    letter = find_letter(user, letter_id) if letter_id else None
    if letter is None:
        return ItemResult(uuid, "forbidden")  # not a letter this person may see: it does not exist
    form = DeliveryForm(formdata=formdata(item, "photo"), meta={"csrf": False})
    result = submit_delivery(form, user, letter)
    if result is None:
        return ItemResult(uuid, "invalid", errors=field_errors(form))
    return ItemResult(
        uuid, "created" if result[1] else "duplicate", url_for("dv.letter", letter_id=letter.id)
    )


def _followup_item(user: User, uuid: str, item: dict) -> ItemResult:
    existing = db.session.scalar(select(FollowUp).where(FollowUp.uuid == uuid))
    if existing is not None and existing.done_by_id == user.id:
        return ItemResult(uuid, "duplicate", url_for("dv.followup", followup_id=existing.id))
    followup_id = _record_id(item, "followup_id")
    followup = find_followup(user, followup_id) if followup_id else None
    if followup is None:
        return ItemResult(uuid, "forbidden")
    form = FollowUpForm(formdata=formdata(item, None), meta={"csrf": False})
    result = submit_followup(form, user, followup)
    if result is None:
        errors = field_errors(form)
        status = "conflict" if followup.done_at is not None else "invalid"
        return ItemResult(uuid, status, errors=errors)
    return ItemResult(
        uuid, "created" if result[1] else "duplicate", url_for("dv.followup", followup_id=followup.id)
    )


register(SyncKind("dv.delivery", can_work_dv, _delivery_item))
register(SyncKind("dv.followup", can_work_dv, _followup_item))

"""Batch sync: the phone's outbox, item by item, through the same forms and services as the pages.

Each item is applied in its own savepoint, so one bad item never undoes the others; the request
commits once. Replays are recognised by the phone-made UUID (unique in the database, so two
nodes racing on the same item still make one record).
"""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass, field

from flask import url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import CombinedMultiDict, FileStorage, MultiDict

from webapp.access import can_record_visits, can_report_leads, can_use_desk_intake, find_case
from webapp.extensions import db
from webapp.leads.intake import (
    build_action_form,
    build_desk_form,
    build_report_form,
    submit_lead_form,
    submit_step_form,
)
from webapp.leads.lifecycle import STEPS, step_already_taken
from webapp.leads.models import Lead
from webapp.org.models import Community, User
from webapp.visits.forms import build_visit_form
from webapp.visits.models import Visit
from webapp.visits.services import VisitError, VisitInput, record_visit

KINDS = ("lead.report", "lead.desk", "visit", "lead.step")
MAX_ITEMS = 50


@dataclass
class ItemResult:
    uuid: str
    status: str  # created, duplicate, invalid, conflict, forbidden
    url: str | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    server: dict | None = None

    def as_json(self) -> dict:
        data = {"uuid": self.uuid, "status": self.status}
        if self.url:
            data["url"] = self.url
        if self.errors:
            data["errors"] = self.errors
        if self.server is not None:
            data["server"] = self.server
        return data


class BadItem(ValueError):
    """The item is not even well-formed (not a person's mistake to fix): 400 for the batch."""


def _formdata(item: dict, file_field: str | None) -> CombinedMultiDict:
    fields = item.get("fields") or {}
    if not isinstance(fields, dict):
        raise BadItem("fields must be an object")
    values = MultiDict()
    for name, value in fields.items():
        for one in value if isinstance(value, list) else [value]:
            values.add(str(name), "" if one is None else str(one))
    files = MultiDict()
    for photo in item.get("photos") or []:
        try:
            data = base64.b64decode(photo.get("data", ""), validate=True)
        except (binascii.Error, AttributeError) as error:
            raise BadItem("photo data must be base64") from error
        if file_field:
            name = str(photo.get("name") or "photo.jpg")
            kind = str(photo.get("type") or "image/jpeg")
            files.add(file_field, FileStorage(io.BytesIO(data), filename=name, content_type=kind))
    return CombinedMultiDict([values, files])


def _field_errors(form) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name, messages in form.errors.items():
        if name is None:
            errors["_form"] = [str(m) for m in messages]
        elif isinstance(messages, list) and messages and isinstance(messages[0], dict):
            for index, sub in enumerate(messages):  # FieldList of FormFields (parties)
                for sub_name, sub_messages in sub.items():
                    errors[f"{name}-{index}-{sub_name}"] = [str(m) for m in sub_messages]
        else:
            errors[name] = [str(m) for m in messages]
    if form.form_errors:
        errors.setdefault("_form", []).extend(str(m) for m in form.form_errors)
    return errors


def _lead_item(user: User, uuid: str, item: dict, desk: bool) -> ItemResult:
    allowed = can_use_desk_intake(user) if desk else can_report_leads(user)
    if not allowed:
        return ItemResult(uuid, "forbidden")
    existing = db.session.scalar(select(Lead).where(Lead.uuid == uuid))
    if existing is not None and existing.reporter_id == user.id:
        return ItemResult(uuid, "duplicate", url_for("leads.detail", lead_id=existing.id))
    formdata = _formdata(item, "photos" if desk else "photo")
    build = build_desk_form if desk else build_report_form
    form = build(user, formdata=formdata, meta={"csrf": False})
    form.uuid.data = uuid
    if not form.validate():
        return ItemResult(uuid, "invalid", errors=_field_errors(form))
    form.uuid.data = uuid  # the item's id wins over any copy in its fields
    result = submit_lead_form(form, user)
    if result is None:
        return ItemResult(uuid, "invalid", errors=_field_errors(form))
    status = "created" if result.created else "duplicate"
    return ItemResult(uuid, status, url_for("leads.detail", lead_id=result.lead.id))


def _visit_item(user: User, uuid: str, item: dict) -> ItemResult:
    if not can_record_visits(user):
        return ItemResult(uuid, "forbidden")
    existing = db.session.scalar(select(Visit).where(Visit.uuid == uuid))
    if existing is not None and existing.visitor_id == user.id:
        return ItemResult(uuid, "duplicate", url_for("visits.detail", visit_id=existing.id))
    form = build_visit_form(user, formdata=_formdata(item, None), meta={"csrf": False})
    if not form.validate():
        return ItemResult(uuid, "invalid", errors=_field_errors(form))
    community = db.session.get(Community, form.community_id.data) if form.community_id.data else None
    try:
        visit, created = record_visit(user, VisitInput(
            household=form.household.data, visited_on=form.visited_on.data, findings=form.findings.data,
            community=community, uuid=uuid, recorded_at=form.recorded_at.data))
    except VisitError:
        return ItemResult(uuid, "forbidden")
    return ItemResult(uuid, "created" if created else "duplicate",
                      url_for("visits.detail", visit_id=visit.id))


def _lead_snapshot(lead: Lead) -> dict:
    """What the person needs to decide on a conflict: the lead as it is now."""
    from webapp.leads.labels import event_line, template_helpers

    helpers = template_helpers()
    last = lead.events[-1] if lead.events else None
    return {
        "version": lead.version, "status": lead.status, "status_label": helpers["status_label"](lead.status),
        "risk": lead.risk, "risk_label": helpers["risk_label"](lead.risk),
        "assignee": lead.assignee.display_name if lead.assignee else None,
        "last_change": event_line(last) if last else "",
        "last_change_by": last.actor.display_name if last and last.actor else "",
        "last_change_at": helpers["local_time"](last.at) if last else "",
    }


def _step_item(user: User, uuid: str, item: dict) -> ItemResult:
    step = str(item.get("step") or "")
    lead_id = item.get("lead_id")
    if step not in STEPS or not isinstance(lead_id, int):
        raise BadItem("lead.step needs a known step and an integer lead_id")
    if step_already_taken(uuid) is not None:
        return ItemResult(uuid, "duplicate", url_for("leads.detail", lead_id=lead_id))
    lead = find_case(user, lead_id)
    if lead is None:
        return ItemResult(uuid, "forbidden")
    form = build_action_form(user, lead, formdata=_formdata(item, None), meta={"csrf": False})
    if not form.validate():
        return ItemResult(uuid, "invalid", errors=_field_errors(form))
    outcome = submit_step_form(lead, user, step, form, step_uuid=uuid)
    url = url_for("leads.detail", lead_id=lead.id)
    if outcome.done:
        return ItemResult(uuid, "created", url)
    if outcome.stale:
        return ItemResult(uuid, "conflict", url, server=_lead_snapshot(lead))
    if outcome.status == 403:
        return ItemResult(uuid, "forbidden", url)
    return ItemResult(uuid, "invalid", url, errors=_field_errors(form))


def apply_item(user: User, item: dict, retried: bool = False) -> ItemResult:
    """Apply one outbox item; raises BadItem for malformed items."""
    if not isinstance(item, dict):
        raise BadItem("each item must be an object")
    uuid, kind = str(item.get("uuid") or ""), item.get("kind")
    if len(uuid) != 36 or kind not in KINDS:
        raise BadItem("each item needs a 36-character uuid and a known kind")
    try:
        with db.session.begin_nested():
            if kind == "lead.report":
                return _lead_item(user, uuid, item, desk=False)
            if kind == "lead.desk":
                return _lead_item(user, uuid, item, desk=True)
            if kind == "visit":
                return _visit_item(user, uuid, item)
            return _step_item(user, uuid, item)
    except IntegrityError:
        # Another node stored the same item a moment ago: it is a replay, answer as one.
        if retried:
            raise
        return apply_item(user, item, retried=True)

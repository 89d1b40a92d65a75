"""Leads' outbox items: a quick report, a desk intake, a lifecycle step — each through the same
form and service as its page (registered with sync; see webapp/sync/kinds.py)."""

from __future__ import annotations

from flask import url_for

from webapp import access
from webapp.dates import moment_text
from webapp.fields import DB_INT_MAX
from webapp.leads.intake import build_desk_form, build_report_form, submit_lead_form
from webapp.leads.labels import event_line, template_helpers
from webapp.leads.lifecycle import STEPS, step_already_taken
from webapp.leads.models import Lead
from webapp.leads.services import lead_with_uuid, look_up_uuids
from webapp.leads.steps import build_action_form, submit_step_form
from webapp.org.models import User
from webapp.sync.kinds import BadItem, ItemResult, SyncKind, field_errors, formdata, register


def _lead_item(user: User, uuid: str, item: dict, desk: bool) -> ItemResult:
    existing = lead_with_uuid(uuid)
    if existing is not None and existing.reporter_id == user.id:
        return ItemResult(uuid, "duplicate", _link(existing))
    build = build_desk_form if desk else build_report_form
    form = build(user, formdata=formdata(item, "photos" if desk else "photo"), meta={"csrf": False})
    form.uuid.data = uuid
    if not form.validate():
        return ItemResult(uuid, "invalid", errors=field_errors(form))
    form.uuid.data = uuid  # the item's id wins over any copy in its fields
    result = submit_lead_form(form, user)
    if result is None:
        return ItemResult(uuid, "invalid", errors=field_errors(form))
    return ItemResult(uuid, "created" if result.created else "duplicate", _link(result.lead))


def _link(lead: Lead):
    """The lead's page; a lead registered in this batch has its id after the batch's one flush."""
    return lambda: url_for("leads.detail", lead_id=lead.id)


def lead_snapshot(lead: Lead) -> dict:
    """What the person needs to decide on a conflict: the lead as it is now."""
    helpers = template_helpers()
    last = lead.events[-1] if lead.events else None
    return {
        "version": lead.version, "status": lead.status, "status_label": helpers["status_label"](lead.status),
        "risk": lead.risk, "risk_label": helpers["risk_label"](lead.risk),
        "assignee": lead.assignee.display_name if lead.assignee else None,
        "last_change": event_line(last) if last else "",
        "last_change_by": last.actor.display_name if last and last.actor else "",
        "last_change_at": moment_text(last.at) if last else "",
    }


def _step_item(user: User, uuid: str, item: dict) -> ItemResult:
    step = str(item.get("step") or "")
    lead_id = item.get("lead_id")
    if step not in STEPS or not isinstance(lead_id, int):
        raise BadItem("lead.step needs a known step and an integer lead_id")
    if step_already_taken(uuid) is not None:
        return ItemResult(uuid, "duplicate", url_for("leads.detail", lead_id=lead_id))
    lead = access.find_case(user, lead_id)
    if lead is None:
        return ItemResult(uuid, "forbidden")
    form = build_action_form(user, lead, formdata=formdata(item, None), meta={"csrf": False})
    if not form.validate():
        return ItemResult(uuid, "invalid", errors=field_errors(form))
    outcome = submit_step_form(lead, user, step, form, step_uuid=uuid)
    url = url_for("leads.detail", lead_id=lead.id)
    if outcome.done:
        return ItemResult(uuid, "created", url)
    if outcome.stale:
        return ItemResult(uuid, "conflict", url, server=lead_snapshot(lead))
    if outcome.status == 403:
        return ItemResult(uuid, "forbidden", url)
    return ItemResult(uuid, "invalid", url, errors=field_errors(form))


def _stored_lead(user: User, uuid: str) -> dict | None:
    """The lead this person's item made under `uuid`, as a conflict shows it."""
    lead = lead_with_uuid(uuid)
    return lead_snapshot(lead) if lead is not None and lead.reporter_id == user.id else None


def _stored_step(user: User, uuid: str) -> dict | None:
    event = step_already_taken(uuid)
    if event is None or event.actor_id != user.id:
        return None
    lead = access.find_case(user, event.lead_id)
    return lead_snapshot(lead) if lead is not None else None


# Reports are most of what phones send: a batch's are looked up in one query and written by one
# flush (register_lead adds the lead and announces it once flushed; it adds nothing before a refusal).
register(SyncKind("lead.report", access.can_report_leads,
                  lambda user, uuid, item: _lead_item(user, uuid, item, desk=False), stored=_stored_lead,
                  look_up=look_up_uuids, batched=True))
register(SyncKind("lead.desk", access.can_use_desk_intake,
                  lambda user, uuid, item: _lead_item(user, uuid, item, desk=True), stored=_stored_lead,
                  look_up=look_up_uuids, batched=True))
register(SyncKind("lead.step", access.signed_in, _step_item, properties={
    "lead_id": {"type": "integer", "minimum": 1, "maximum": DB_INT_MAX,
                "description": "lead.step only (required there): the lead the step is on."},
    "step": {"type": "string", "enum": list(STEPS),
             "description": "lead.step only (required there): e.g. accept, grade, resolve."},
}, required=("lead_id", "step"), stored=_stored_step))

"""Template helpers for leads: names of codes, timeline lines (dates: webapp/dates.py)."""

from __future__ import annotations

import json

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from webapp.leads.codes import (
    CATEGORY_LABELS,
    FAILURE_ROUTE_LABELS,
    PARTY_ROLE_LABELS,
    PROGRESS_LABELS,
    RESOLUTION_LABELS,
    RISK_FACTOR_LABELS,
    RISK_SHORT_LABELS,
    SOURCE_LABELS,
    STATUS_LABELS,
    SUBTYPE_LABELS,
    TRANSFER_TARGET_LABELS,
    progress_of,
)
from webapp.leads.masking import mask_address, mask_id_number, mask_name, mask_phone
from webapp.org.labels import role_label

STEP_LABELS = {
    "grade": _l("Grade risk"),
    "assign": _l("Assign"),
    "accept": _l("Accept (签收)"),
    "return": _l("Return (退回)"),
    "start_mediation": _l("Start mediation"),
    "resolve": _l("Mark resolved"),
    "fail": _l("Mediation failed"),
    "transfer": _l("Transfer"),
    "monitor": _l("Monitor performance"),
    "return_visit": _l("Return visit"),
    "close": _l("Close (销号)"),
    "reopen": _l("Reopen"),
    "request_extension": _l("Request extension"),
    "grant_extension": _l("Grant extension"),
    "supervise": _l("Supervise (督办)"),
    "link_duplicate": _l("Link as duplicate"),
}

EVENT_LABELS = {
    **STEP_LABELS,
    "registered": _l("Registered"),
    "graded": _l("Graded"),
    "assigned": _l("Assigned"),
    "unroutable": _l("No responsible officer found: sent to the supervisors' queue"),
    "shared_with_team": _l("Shared with the team"),
    "escalated": _l("Not accepted in time: escalated to the supervisors"),
}

OUTCOME_LABELS = {**RESOLUTION_LABELS, **FAILURE_ROUTE_LABELS, **TRANSFER_TARGET_LABELS,
                  "duplicate": _l("Duplicate")}


def _label(labels: dict, code: str | None) -> str:
    if not code:
        return ""
    for key, value in labels.items():
        if str(key) == code:
            return str(value)
    return code


def category_label(code: str | None) -> str:
    return _label(CATEGORY_LABELS, code)


def event_line(event) -> str:
    detail = json.loads(event.detail) if event.detail else {}
    text = _label(EVENT_LABELS, event.kind)
    extra = []
    if "risk" in detail:
        extra.append(_label(RISK_SHORT_LABELS, detail["risk"]))
    if detail.get("by_rules"):
        extra.append(_("by the intake rules, awaiting assessment"))
    if detail.get("repeat"):
        extra.append(_("repeat calls: grade raised"))
    if "assignee" in detail:
        extra.append(detail["assignee"])
    if "team" in detail:
        extra.append(role_label(detail["team"]))
    if "outcome" in detail:
        extra.append(_label(OUTCOME_LABELS, detail["outcome"]))
    if "original" in detail:
        extra.append(f"#{detail['original']}")
    for key in ("reason", "comment", "note"):
        if detail.get(key):
            extra.append(detail[key])
    return text + (" — " + " · ".join(extra) if extra else "")


def template_helpers() -> dict:
    return {
        "category_label": category_label,
        "subtype_label": lambda code: _label(SUBTYPE_LABELS, code),
        "source_label": lambda code: _label(SOURCE_LABELS, code),
        "risk_label": lambda code: _label(RISK_SHORT_LABELS, code) if code else _("Ungraded"),
        "status_label": lambda code: _label(STATUS_LABELS, code),
        "factor_label": lambda code: _label(RISK_FACTOR_LABELS, code),
        "party_role_label": lambda code: _label(PARTY_ROLE_LABELS, code),
        "outcome_label": lambda code: _label(OUTCOME_LABELS, code),
        "step_label": lambda code: _label(STEP_LABELS, code),
        "progress_label": lambda lead: _label(PROGRESS_LABELS, progress_of(
            lead.status, lead.duplicate_of_id is not None).value),
        "progress_of": lambda lead: progress_of(lead.status, lead.duplicate_of_id is not None).value,
        "event_line": event_line,
        "mask_phone": mask_phone,
        "mask_id_number": mask_id_number,
        "mask_name": mask_name,
        "mask_address": mask_address,
    }

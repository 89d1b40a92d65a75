"""A lead list as export rows: the list's own query and filters, masked per the exporting person.

The rows come from `webapp.leads.queries.lead_list`, page by page with its keyset cursor, so an
export holds exactly the rows of the list for the same filters, in the same order (newest first).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import asdict
from datetime import datetime

from flask_babel import lazy_gettext as _l

from webapp.access import can_reveal_identities
from webapp.leads import queries
from webapp.leads.codes import (
    CATEGORY_LABELS,
    FAILURE_ROUTE_LABELS,
    RESOLUTION_LABELS,
    RISK_SHORT_LABELS,
    SOURCE_LABELS,
    STATUS_LABELS,
    TRANSFER_TARGET_LABELS,
    Risk,
)
from webapp.leads.masking import mask_id_number, mask_phone
from webapp.leads.models import Lead
from webapp.org.models import User

FORMATS = ("xlsx", "csv")
FILTER_KEYS = ("q", "category", "risk", "status", "community_id", "flag", "queue")
FLAGS = ("dv", "minor", "watched", "repeat", "many_people")
BATCH = 500
MAX_ID = 2**31 - 1

COLUMNS = (
    ("number", _l("Lead number"), 10),
    ("received", _l("Time received"), 18),
    ("source", _l("Source"), 16),
    ("category", _l("Category"), 16),
    ("community", _l("Community"), 16),
    ("grid", _l("Grid"), 12),
    ("risk", _l("Risk"), 8),
    ("status", _l("Status"), 12),
    ("assignee", _l("Assignee"), 14),
    ("due", _l("Deadline"), 18),
    ("outcome", _l("Outcome"), 16),
    ("summary", _l("Summary"), 60),
)
DATE_COLUMNS = {"received", "due"}
OUTCOME_LABELS = {**RESOLUTION_LABELS, **FAILURE_ROUTE_LABELS, **TRANSFER_TARGET_LABELS}
# Phone and ID numbers written into the free text.
_ID_IN_TEXT = re.compile(r"\d{17}[\dXx]")
_PHONE_IN_TEXT = re.compile(r"(?<!\d)\+?\d[\d -]{5,}\d(?!\d)")


class BadFilter(ValueError):
    """A filter value the list does not know: the export answers 400 and makes nothing."""


def _clean(value: str, name: str, limit: int) -> str:
    if len(value) > limit:
        raise BadFilter(f"{name}: too long")
    if "\x00" in value or any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        raise BadFilter(f"{name}: not text")
    return value


def parse_filters(args: Mapping[str, str]) -> queries.LeadFilters:
    """The list's filters from a query string, strictly: an unknown value is refused, not ignored."""
    filters = queries.LeadFilters(q=_clean(args.get("q", ""), "q", 100))
    choices = {
        "category": set(CATEGORY_LABELS),
        "risk": {r.value for r in Risk},
        "status": {s.value for s in STATUS_LABELS},
        "flag": set(FLAGS),
        "queue": set(queries.QUEUES),
    }
    for name, allowed in choices.items():
        value = _clean(args.get(name, ""), name, 32)
        if value and value not in allowed:
            raise BadFilter(f"{name}: unknown value")
        setattr(filters, name, value)
    community = _clean(args.get("community_id", ""), "community_id", 20)
    if community:
        if not community.isascii() or not community.isdigit() or not 0 < int(community) <= MAX_ID:
            raise BadFilter("community_id: not an id")
        filters.community_id = int(community)
    return filters


def filters_dict(filters: queries.LeadFilters) -> dict:
    unset = asdict(queries.LeadFilters())
    return {k: v for k, v in asdict(filters).items() if v != unset[k]}


def export_leads(viewer: User, filters: queries.LeadFilters, now: datetime) -> Iterator[Lead]:
    """Every lead of the viewer's list for these filters, in the list's order."""
    before = None
    while True:
        page = queries.lead_list(viewer, filters, now, before=before, per_page=BATCH)
        yield from page.leads
        if page.next_cursor is None:
            return
        before = page.next_cursor


def count_leads(viewer: User, filters: queries.LeadFilters, now: datetime, limit: int) -> int:
    """How many rows the export would have, counting no further than `limit` + 1."""
    counted = 0
    before = None
    while counted <= limit:
        page = queries.lead_list(viewer, filters, now, before=before, per_page=BATCH)
        counted += len(page.leads)
        if page.next_cursor is None:
            break
        before = page.next_cursor
    return counted


def masked_summary(viewer: User, lead: Lead) -> str:
    """The summary as the exporter may read it: compartmented leads' stories never leave in a file,
    phone and ID numbers in the text are masked unless the exporter may reveal the lead's identities."""
    if lead.is_compartmented:
        return str(_l("(withheld)"))
    if can_reveal_identities(viewer, lead):
        return lead.summary
    text = _ID_IN_TEXT.sub(lambda m: mask_id_number(m.group()), lead.summary)
    return _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group()), text)


def lead_row(viewer: User, lead: Lead) -> dict:
    return {
        "number": lead.id,
        "received": lead.received_at,
        "source": str(SOURCE_LABELS.get(lead.source, lead.source)),
        "category": str(CATEGORY_LABELS.get(lead.category, lead.category)),
        "community": lead.community.name if lead.community else "",
        "grid": lead.grid.name if lead.grid else "",
        "risk": str(RISK_SHORT_LABELS.get(lead.risk, "")) if lead.risk else "",
        "status": str(STATUS_LABELS.get(lead.status, lead.status)),
        "assignee": lead.assignee.display_name if lead.assignee else "",
        "due": lead.due_at,
        "outcome": str(OUTCOME_LABELS.get(lead.outcome, lead.outcome)),
        "summary": masked_summary(viewer, lead),
    }

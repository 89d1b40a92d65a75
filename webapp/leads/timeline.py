"""The lead's timeline: every change is an event with who, when, from and to."""

from __future__ import annotations

import json
from datetime import datetime

from webapp.leads.models import Lead, LeadEvent
from webapp.org.models import User
from webapp.timeutil import utcnow


def add_event(lead: Lead, actor: User | None, kind: str, from_status: str = "",
              to_status: str = "", at: datetime | None = None, **detail) -> LeadEvent:
    event = LeadEvent(
        kind=kind, actor=actor, from_status=from_status, to_status=to_status,
        at=at or utcnow(),
        detail=json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str) if detail else "",
    )
    lead.events.append(event)
    return event

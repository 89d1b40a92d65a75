"""Visits: record what was found at a household. Idempotent on the phone-made UUID."""

from __future__ import annotations

import uuid as uuid_module
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from webapp.extensions import db
from webapp.org.models import Community, User
from webapp.timeutil import CLOCK_TOLERANCE, utcnow
from webapp.visits.models import Visit


@dataclass
class VisitInput:
    household: str
    visited_on: date
    findings: str
    community: Community | None = None
    uuid: str | None = None
    recorded_at: datetime | None = None


class VisitError(ValueError):
    def __init__(self, field: str, code: str):
        super().__init__(code)
        self.field = field
        self.code = code


def record_visit(visitor: User, data: VisitInput) -> tuple[Visit, bool]:
    """Return (visit, created). A replay of the same UUID by the same person is the same visit."""
    if data.uuid:
        existing = db.session.scalar(select(Visit).where(Visit.uuid == data.uuid))
        if existing is not None:
            if existing.visitor_id != visitor.id:
                raise VisitError("uuid", "uuid_taken")
            return existing, False
    now = utcnow()
    community = data.community or visitor.community
    visit = Visit(
        uuid=data.uuid or str(uuid_module.uuid4()), station_id=visitor.station_id, visitor_id=visitor.id,
        community=community, grid=visitor.grid if community is visitor.community else None,
        household=data.household.strip(), visited_on=data.visited_on, findings=data.findings.strip(),
        recorded_at=min(data.recorded_at or now, now + CLOCK_TOLERANCE), received_at=now,
    )
    db.session.add(visit)
    db.session.flush()
    return visit, True


def visits_of(visitor: User, limit: int = 50) -> list[Visit]:
    return list(db.session.scalars(
        select(Visit).where(Visit.visitor_id == visitor.id).order_by(Visit.id.desc()).limit(limit)
    ))

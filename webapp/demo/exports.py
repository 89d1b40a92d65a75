"""Demo exports: one prepared lead-list file for the supervisor (kept 24 hours, like any other)."""

from __future__ import annotations

from sqlalchemy import select

from webapp.exports.models import ExportFile
from webapp.exports.services import KEEP_FOR, lead_file
from webapp.extensions import db
from webapp.leads.queries import LeadFilters
from webapp.org.models import User
from webapp.timeutil import utcnow


def load_demo_exports(users: dict[str, User]) -> int:
    supervisor = users.get("supervisor")
    if supervisor is None or db.session.scalar(
        select(ExportFile.id).where(ExportFile.owner_id == supervisor.id)
    ):
        return 0
    now = utcnow()
    data, rows = lead_file(supervisor, LeadFilters(), "xlsx", now)
    db.session.add(
        ExportFile(
            owner_id=supervisor.id,
            fmt="xlsx",
            filters="{}",
            status="done",
            rows_total=rows,
            rows_done=rows,
            created_at=now,
            expires_at=now + KEEP_FOR,
            data=data,
        )
    )
    db.session.flush()
    return 1

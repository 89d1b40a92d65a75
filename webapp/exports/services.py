"""Exports: make a file now, or queue it as a job; every export is audited (who, filters, rows, format)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, update

from webapp import notices
from webapp.audit.services import record as audit
from webapp.exports import files
from webapp.exports.leads import COLUMNS, DATE_COLUMNS, export_leads, filters_dict, lead_row
from webapp.exports.models import ExportFile
from webapp.extensions import db
from webapp.jobs import after_commit_enqueue
from webapp.leads import queries
from webapp.org.models import User
from webapp.timeutil import utcnow

KEEP_FOR = timedelta(hours=24)
LOCALE = "zh_Hans_CN"  # files go to government offices: Chinese headers and labels, whoever exports
KIND_READY = "export_ready"

notices.register_kinds({KIND_READY: _l("Your export is ready")})


def lead_table(viewer: User, filters: queries.LeadFilters, now: datetime, progress=None) -> files.Table:
    rows = (lead_row(viewer, lead) for lead in export_leads(viewer, filters, now))
    return files.Table(str(_l("Leads")), [(k, str(h), w) for k, h, w in COLUMNS], rows, set(DATE_COLUMNS))


def lead_file(
    viewer: User, filters: queries.LeadFilters, fmt: str, now: datetime, progress=None
) -> tuple[bytes, int]:
    """The file's bytes and its row count, in Chinese."""
    counted = 0

    def count(n: int) -> None:
        nonlocal counted
        counted = n
        if progress is not None:
            progress(n)

    with force_locale(LOCALE):
        data = files.render(fmt, [lead_table(viewer, filters, now)], count)
    return data, counted


def audit_export(
    viewer: User, what: str, fmt: str, rows: int, address: str = "", object_id: int = 0, **detail
) -> None:
    audit(viewer, "export", what, object_id, address, format=fmt, rows=rows, **detail)


def queue_lead_export(viewer: User, filters: queries.LeadFilters, fmt: str, address: str = "") -> ExportFile:
    """Queue a large export (the job starts after the commit)."""
    from webapp.exports.jobs import build_export  # the task module imports this one

    now = utcnow()
    export = ExportFile(
        owner_id=viewer.id,
        fmt=fmt,
        filters=json.dumps(filters_dict(filters), ensure_ascii=False),
        status="queued",
        created_at=now,
        expires_at=now + KEEP_FOR,
    )
    db.session.add(export)
    db.session.flush()
    audit(viewer, "export_queued", "leads", export.id, address, format=fmt, filters=filters_dict(filters))
    after_commit_enqueue(build_export, export.id, session=db.session)
    return export


def build(export_id: int) -> bool:
    """The job's body: build the file, store it, tell its owner. Idempotent: a done export is left alone."""
    export = db.session.get(ExportFile, export_id)
    if export is None or export.status == "done":
        return False
    owner = db.session.get(User, export.owner_id)
    if owner is None or not owner.is_active:
        export.status = "failed"
        db.session.commit()
        return False
    filters = queries.LeadFilters(**json.loads(export.filters or "{}"))
    export.status = "running"
    db.session.commit()

    def progress(n: int) -> None:
        if n % 500 == 0:
            db.session.execute(update(ExportFile).where(ExportFile.id == export_id).values(rows_done=n))
            db.session.commit()

    data, rows = lead_file(owner, filters, export.fmt, utcnow(), progress)
    export.data = data
    export.rows_done = export.rows_total = rows
    export.status = "done"
    audit_export(
        owner, "leads", export.fmt, rows, object_id=export.id, filters=filters_dict(filters), job=True
    )
    notices.announce(
        [owner],
        notices.Notice(
            kind=KIND_READY,
            subject_kind="export",
            subject_id=export.id,
            link=notices.link_to("exports.status", export_id=export.id),
            text=_l("A file you asked for is ready to download."),
            occurrence=str(export.id),
        ),
    )
    db.session.commit()
    return True


def delete_expired(now: datetime) -> int:
    result = db.session.execute(delete(ExportFile).where(ExportFile.expires_at <= now))
    return result.rowcount or 0

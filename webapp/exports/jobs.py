"""The export job and its sweep step (listed in PLUGINS): build queued files, delete expired ones."""

from __future__ import annotations

from datetime import timedelta

from webapp.exports import services
from webapp.extensions import db
from webapp.jobs import huey, in_app, sweep_step
from webapp.timeutil import utcnow


@huey.task()
@in_app
def build_export(export_id: int) -> bool:
    try:
        return services.build(export_id)
    except Exception:
        db.session.rollback()
        from webapp.exports.models import ExportFile

        export = db.session.get(ExportFile, export_id)
        if export is not None:
            export.status = "failed"
            db.session.commit()
        raise


@sweep_step("exports_expired")
def delete_expired_exports(stale_after: timedelta) -> int:
    """Prepared files live 24 hours: then they are deleted, bytes and all."""
    deleted = services.delete_expired(utcnow())
    db.session.commit()
    return deleted

"""Who may export what: lead lists for whoever may list leads, the monthly report for supervisors."""

from __future__ import annotations

from flask import abort
from sqlalchemy import select

from webapp.access.leads import can_list_leads
from webapp.exports.models import ExportFile
from webapp.extensions import db
from webapp.org.models import Role, User
from webapp.timeutil import utcnow


def can_export_leads(user: User) -> bool:
    """Export a lead list: exactly who may open the list (its query scopes the rows)."""
    return can_list_leads(user)


def can_export_monthly(user: User) -> bool:
    return user.is_authenticated and user.has_role(Role.SUPERVISOR)


def find_export(user: User, export_id: int) -> ExportFile | None:
    """An export file is its maker's alone, and only until it expires."""
    return db.session.scalar(
        select(ExportFile).where(
            ExportFile.id == export_id, ExportFile.owner_id == user.id, ExportFile.expires_at > utcnow()
        )
    )


def own_export(user: User, export_id: int) -> ExportFile:
    export = find_export(user, export_id)
    if export is None:
        abort(404)
    return export

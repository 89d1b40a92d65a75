"""The supervisors' audit page: filter by person, record, action and date; newest first."""

from __future__ import annotations

from datetime import date

from flask import request, url_for
from flask_login import current_user

from webapp.access import roles_required
from webapp.audit import bp
from webapp.audit.labels import action_label, detail_text
from webapp.audit.services import AuditFilters, audit_page, known_actions
from webapp.fields import db_int
from webapp.org.models import Role
from webapp.rendering import never_stored, render_page


def _day(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, "")[:10])
    except ValueError:
        return None


def _filters() -> AuditFilters:
    args = request.args
    return AuditFilters(
        person=args.get("person", "")[:64].strip(),
        object_type=args.get("object_type", "")[:32].strip(),
        object_id=args.get("object_id", type=db_int),
        action=args.get("action", "")[:32].strip(),
        day_from=_day("from"),
        day_to=_day("to"),
    )


@bp.route("/")
@roles_required(Role.SUPERVISOR)
def index():
    filters = _filters()
    before = request.args.get("before", type=db_int)
    page = audit_page(filters, before=before)
    query = {k: v for k, v in request.args.items() if k != "before" and v}
    next_url = url_for("audit.index", before=page.next_before, **query) if page.has_next else None
    # Who looked at what is itself sensitive: never kept in a cache.
    return never_stored(render_page(
        "audit/index.html", block="audit_rows", page=page, filters=filters, actions=known_actions(),
        next_url=next_url, me=current_user, action_label=action_label, detail_text=detail_text,
    ))

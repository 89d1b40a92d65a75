"""Visits' outbox item: a household visit, through the same form and service as its page."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import select

from webapp import access
from webapp.extensions import db
from webapp.org.models import Community, User
from webapp.sync.kinds import ItemResult, SyncKind, field_errors, formdata, register
from webapp.visits.forms import build_visit_form
from webapp.visits.models import Visit
from webapp.visits.services import VisitError, VisitInput, record_visit


def _visit_item(user: User, uuid: str, item: dict) -> ItemResult:
    existing = db.session.scalar(select(Visit).where(Visit.uuid == uuid))
    if existing is not None and existing.visitor_id == user.id:
        return ItemResult(uuid, "duplicate", url_for("visits.detail", visit_id=existing.id))
    form = build_visit_form(user, formdata=formdata(item, None), meta={"csrf": False})
    if not form.validate():
        return ItemResult(uuid, "invalid", errors=field_errors(form))
    community = db.session.get(Community, form.community_id.data) if form.community_id.data else None
    try:
        visit, created = record_visit(user, VisitInput(
            household=form.household.data, visited_on=form.visited_on.data, findings=form.findings.data,
            community=community, uuid=uuid, recorded_at=form.recorded_at.data))
    except VisitError:
        return ItemResult(uuid, "forbidden")
    return ItemResult(uuid, "created" if created else "duplicate",
                      url_for("visits.detail", visit_id=visit.id))


def _stored_visit(user: User, uuid: str) -> dict | None:
    """The visit this person's item made under `uuid`, in the words a conflict view shows."""
    visit = db.session.scalar(select(Visit).where(Visit.uuid == uuid))
    if visit is None or visit.visitor_id != user.id:
        return None
    return {"version": 0, "status_label": visit.household, "last_change": visit.findings[:200],
            "last_change_at": visit.visited_on.isoformat()}


register(SyncKind("visit", access.can_record_visits, _visit_item, stored=_stored_visit))

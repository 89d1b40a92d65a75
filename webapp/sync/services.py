"""Batch sync: the phone's outbox, item by item, through the same forms and services as the pages.

Each item is applied in its own savepoint, so one bad item never undoes the others; the request
commits once. Replays are recognised by the phone-made UUID (unique in the database, so two
nodes racing on the same item still make one record). What each kind does is its feature's
business (webapp/sync/kinds.py).
"""

from __future__ import annotations

from flask import url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.access import can_record_visits
from webapp.extensions import db
from webapp.org.models import Community, User
from webapp.sync.kinds import BadItem, ItemResult, SyncKind, field_errors, formdata, register, registered
from webapp.visits.forms import build_visit_form
from webapp.visits.models import Visit
from webapp.visits.services import VisitError, VisitInput, record_visit

MAX_ITEMS = 50

__all__ = ["MAX_ITEMS", "BadItem", "ItemResult", "apply_item"]


def apply_item(user: User, item: dict, retried: bool = False) -> ItemResult:
    """Apply one outbox item; raises BadItem for malformed items."""
    if not isinstance(item, dict):
        raise BadItem("each item must be an object")
    uuid, kinds = str(item.get("uuid") or ""), registered()
    kind = kinds.get(item.get("kind")) if isinstance(item.get("kind"), str) else None
    if len(uuid) != 36 or kind is None:
        raise BadItem("each item needs a 36-character uuid and a known kind")
    if not kind.allowed(user):
        return ItemResult(uuid, "forbidden")
    try:
        with db.session.begin_nested():
            return kind.apply(user, uuid, item)
    except IntegrityError:
        # Another node stored the same item a moment ago: it is a replay, answer as one.
        if retried:
            raise
        return apply_item(user, item, retried=True)


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


register(SyncKind("visit", can_record_visits, _visit_item))

"""Batch sync: the phone's outbox, item by item, through the same forms and services as the pages.

Each item is applied in its own savepoint, so one bad item never undoes the others; the request
commits once. Replays are recognised by the phone-made UUID (unique in the database, so two
nodes racing on the same item still make one record). What each kind does is its feature's
business (webapp/sync/kinds.py).
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from webapp.extensions import db
from webapp.org.models import User
from webapp.sync.kinds import BadItem, ItemResult, registered

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

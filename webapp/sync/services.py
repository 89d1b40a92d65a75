"""Batch sync: the phone's outbox, item by item, through the same forms and services as the pages.

Each item is checked on its own (`check_envelope`, `check_content`), so one bad item is answered
`invalid` alone and never undoes or blocks the others; the request commits once. Replays are
recognised by the phone-made UUID (unique in the database, so two nodes racing on the same item
still make one record); the same UUID twice in one batch with different content is a `conflict`.
What each kind does is its feature's business (webapp/sync/kinds.py).

Writing: the batch's uuids are looked up once per kind. Items of batched kinds (reports) add their
records without a flush and are written together by one flush in one savepoint (`ItemBatch`); other
kinds are applied each in its own savepoint. See docs/architecture.md, "Sync in bulk".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from webapp.edge import unstorable, unstorable_message
from webapp.extensions import db, gathering, staged
from webapp.fields import DB_INT_MAX
from webapp.org.models import User
from webapp.sync.kinds import BadItem, ItemResult, SyncKind, registered

MAX_ITEMS = 50
MAX_PHOTOS = 20
MAX_DEPTH = 6  # item → photos → photo → data; item → fields → list → value; item → sealed → key
UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
PHOTO_TYPE_RE = re.compile(r"image/[a-z0-9][a-z0-9.+-]{0,60}")
PHOTO_NAME_MAX = 200

__all__ = ["MAX_ITEMS", "BadItem", "ItemBatch", "ItemResult", "apply_item", "check_envelope",
           "check_content", "fingerprint", "usable_uuid"]


def usable_uuid(item: object) -> str | None:
    """The item's uuid when it is one (the answer is filed under it), else None (answered by index)."""
    uuid = item.get("uuid") if isinstance(item, dict) else None
    return uuid if isinstance(uuid, str) and UUID_RE.fullmatch(uuid) else None


def _depth(value, limit: int) -> int:
    """How deep a decoded JSON value goes, counted without recursion and stopping past `limit`."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((child, depth + 1) for child in children)
    return deepest


def fingerprint(item: object) -> str:
    """The item's content, to tell a replay (same) from another item under the same uuid (different)."""
    return hashlib.sha256(json.dumps(item, sort_keys=True, ensure_ascii=True).encode()).hexdigest()


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= DB_INT_MAX


def check_envelope(item: object) -> tuple[dict[str, list[str]], SyncKind | None]:
    """What is wrong with the item as sent (before a sealed one is opened): errors, and its kind."""
    if not isinstance(item, dict):
        return {"_form": [_("Each item must be an object.")]}, None
    if _depth(item, MAX_DEPTH) > MAX_DEPTH:
        return {"_form": [_("This item is nested too deeply to be read.")]}, None
    if unstorable(item):
        return {"_form": [unstorable_message()]}, None
    errors: dict[str, list[str]] = {}
    if usable_uuid(item) is None:
        errors["uuid"] = [_("Each item needs a uuid made on the phone (36 characters).")]
    kind = registered().get(item.get("kind")) if isinstance(item.get("kind"), str) else None
    if kind is None:
        errors["kind"] = [_("Unknown kind of item.")]
    if "sealed" in item and not isinstance(item["sealed"], dict):
        errors["sealed"] = [_("Not a sealed item.")]
    return errors, kind


def _check_fields(fields) -> list[str]:
    if not isinstance(fields, dict):
        return [_("The item's fields are missing or not an object of texts.")]
    for value in fields.values():
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(one, str) for one in values):
            return [_("Each field must be a text or a list of texts.")]
    return []


def _check_photo(photo) -> list[str]:
    if not isinstance(photo, dict):
        return [_("Each photo must be an object.")]
    data, name, kind = photo.get("data"), photo.get("name"), photo.get("type")
    if not isinstance(data, str):
        return [_("A photo's data must be base64 text.")]
    try:
        base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return [_("A photo's data must be base64 text.")]
    if name is not None and (not isinstance(name, str) or len(name) > PHOTO_NAME_MAX):
        return [_("A photo's name must be a short text.")]
    if kind is not None and (not isinstance(kind, str) or not PHOTO_TYPE_RE.fullmatch(kind)):
        return [_("A photo's type must be an image type such as image/jpeg.")]
    return []


def _check_photos(photos) -> list[str]:
    if photos is None:
        return []
    if not isinstance(photos, list) or len(photos) > MAX_PHOTOS:
        return [_("Photos must be a list of at most %(count)s.", count=MAX_PHOTOS)]
    for photo in photos:
        if problems := _check_photo(photo):
            return problems
    return []


def _check_property(kind: SyncKind, name: str, rule: dict, value) -> list[str]:
    if value is None:
        return [_("This item needs %(name)s.", name=name)] if name in kind.required else []
    if rule.get("type") == "integer" and not _is_id(value):
        return [_("%(name)s must be a whole number the server knows.", name=name)]
    if rule.get("type") == "string" and not (isinstance(value, str) and value in rule.get("enum", [value])):
        return [_("%(name)s is not one the server knows.", name=name)]
    return []


def check_content(item: dict, kind: SyncKind) -> dict[str, list[str]]:
    """What is wrong with the (opened) item's content: fields, photos and the kind's own properties."""
    if unstorable(item):
        return {"_form": [unstorable_message()]}
    checks = {"fields": _check_fields(item.get("fields")), "photos": _check_photos(item.get("photos"))}
    for name, rule in kind.properties.items():
        checks[name] = _check_property(kind, name, rule, item.get(name))
    return {name: problems for name, problems in checks.items() if problems}


def apply_item(user: User, uuid: str, item: dict, kind: SyncKind, retried: bool = False) -> ItemResult:
    """Apply one checked outbox item in a savepoint."""
    if not kind.allowed(user):
        return ItemResult(uuid, "forbidden")
    try:
        with db.session.begin_nested():
            return kind.apply(user, uuid, item)
    except BadItem as error:  # a kind's own check: the savepoint is undone, the item alone refused
        return ItemResult(uuid, "invalid", errors={"_form": [str(error)]})
    except IntegrityError:
        # Another node stored the same item a moment ago: it is a replay, answer as one.
        if retried:
            raise
        return apply_item(user, uuid, item, kind, retried=True)


class ItemBatch:
    """One request's items: batched kinds staged and written by one flush, the others one by one.

    The staged items share one savepoint. If their flush clashes on a unique id (another node
    stored one of them a moment ago), the savepoint is undone and they are applied again one by one,
    each in its own savepoint, so the clash is answered as the replay it is and the rest go in.
    """

    def __init__(self) -> None:
        self._staged: list[tuple[ItemResult, User, str, dict, SyncKind]] = []
        self._waiting: list[Callable[[], None]] = []  # announcements of staged records
        self._savepoint = None

    @staticmethod
    def look_up(items: list) -> None:
        """Let each kind read what the batch's uuids made, in one query per kind."""
        uuids: dict[str, list[str]] = {}
        for item in items:
            uuid = usable_uuid(item)
            name = item.get("kind") if uuid else None
            if isinstance(name, str) and (kind := registered().get(name)) and kind.look_up is not None:
                uuids.setdefault(name, []).append(uuid)
        for name, kind_uuids in uuids.items():
            registered()[name].look_up(kind_uuids)

    def apply(self, user: User, uuid: str, item: dict, kind: SyncKind) -> ItemResult:
        if not kind.batched or not kind.allowed(user):
            self.write()  # what a later item reads or changes is written first
            return apply_item(user, uuid, item, kind)
        if self._savepoint is None:
            self._savepoint = db.session.begin_nested()
        try:
            with staged(self._waiting):
                result = kind.apply(user, uuid, item)
        except BadItem as error:  # raised before the kind added anything
            return ItemResult(uuid, "invalid", errors={"_form": [str(error)]})
        self._staged.append((result, user, uuid, item, kind))
        return result

    def write(self) -> None:
        """Flush the staged records, then announce them (listeners need their ids)."""
        if self._savepoint is None:
            return
        savepoint, items, waiting = self._savepoint, self._staged, self._waiting
        self._savepoint, self._staged, self._waiting = None, [], []
        try:
            db.session.flush()
            # What the listeners add waits for one flush (feed entries) or one statement (inbox).
            with db.session.no_autoflush, gathering():
                for announce in waiting:
                    announce()
            savepoint.commit()
        except IntegrityError:
            savepoint.rollback()
            self._one_by_one(items)

    @staticmethod
    def _one_by_one(items: list[tuple[ItemResult, User, str, dict, SyncKind]]) -> None:
        ItemBatch.look_up([item for _result, _user, _uuid, item, _kind in items])  # what is stored now
        for result, user, uuid, item, kind in items:
            again = apply_item(user, uuid, item, kind)
            result.status, result.url, result.errors, result.server = (
                again.status, again.url, again.errors, again.server)

"""The sync kinds registry: each feature registers the outbox items it accepts.

A kind is a name (`lead.report`, `visit`, …), who may send it, and a function that applies one
item through the feature's own form and service (one validation path with the page). `/sync` and
its OpenAPI description are built from this registry; sync itself knows no feature.
"""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Callable
from dataclasses import dataclass, field

from werkzeug.datastructures import CombinedMultiDict, FileStorage, MultiDict

from webapp.org.models import User


@dataclass
class ItemResult:
    uuid: str | None  # None: the item had no usable uuid (answered by its index)
    status: str  # created, duplicate, invalid, conflict, forbidden
    # A record made in this batch has its id (and so its page) only after the batch's one flush:
    # then the url is a function, asked when the answer is written.
    url: str | Callable[[], str] | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    server: dict | None = None
    index: int = 0  # the item's place in the batch

    def as_json(self) -> dict:
        data = {"uuid": self.uuid, "index": self.index, "status": self.status}
        if self.url:
            data["url"] = self.url() if callable(self.url) else self.url
        if self.errors:
            data["errors"] = self.errors
        if self.server is not None:
            data["server"] = self.server
        return data


class BadItem(ValueError):
    """The item is not well-formed: answered `invalid` with this message, alone."""


@dataclass(frozen=True)
class SyncKind:
    name: str
    allowed: Callable[[User], bool]  # who may send it (others: "forbidden"); records are checked inside
    apply: Callable[[User, str, dict], ItemResult]  # (person, uuid, item) → result, in a savepoint or staged
    # Extra item properties this kind reads (OpenAPI schema), e.g. lead.step's lead_id and step.
    properties: dict = field(default_factory=dict)
    required: tuple[str, ...] = ()  # which of them the kind needs (checked before `apply`)
    # The server's copy of the record an item under this uuid made (for a conflict), if any.
    stored: Callable[[User, str], dict | None] | None = None
    # Reads what the batch's uuids of this kind made, in one query, before the items are applied.
    look_up: Callable[[list[str]], None] | None = None
    # Applied without a flush or savepoint of its own: the batch's items of such kinds are written
    # by one flush (webapp/sync/services.py). Such a kind adds nothing to the session before it
    # refuses an item, and announces what it made through `once_flushed`.
    batched: bool = False


_KINDS: dict[str, SyncKind] = {}


def register(kind: SyncKind) -> SyncKind:
    if kind.name in _KINDS and _KINDS[kind.name] != kind:
        raise ValueError(f"sync kind {kind.name!r} is registered twice")
    _KINDS[kind.name] = kind
    return kind


def registered() -> dict[str, SyncKind]:
    """Every kind, in the order features registered them."""
    return dict(_KINDS)


def kind_names() -> list[str]:
    return list(_KINDS)


# --- helpers for kinds: the item as a form post, the form's errors as the answer --------------------


def formdata(item: dict, file_field: str | None) -> CombinedMultiDict:
    """The item's fields (and photos, as uploads on `file_field`) as a form post would bring them."""
    fields = item.get("fields") or {}
    if not isinstance(fields, dict):
        raise BadItem("fields must be an object")
    values = MultiDict()
    for name, value in fields.items():
        for one in value if isinstance(value, list) else [value]:
            values.add(str(name), "" if one is None else str(one))
    files = MultiDict()
    for photo in item.get("photos") or []:
        try:
            data = base64.b64decode(photo.get("data", ""), validate=True)
        except (binascii.Error, AttributeError) as error:
            raise BadItem("photo data must be base64") from error
        if file_field:
            name = str(photo.get("name") or "photo.jpg")
            kind = str(photo.get("type") or "image/jpeg")
            files.add(file_field, FileStorage(io.BytesIO(data), filename=name, content_type=kind))
    return CombinedMultiDict([values, files])


def field_errors(form) -> dict[str, list[str]]:
    """A form's messages per field (`_form` for the form), as the outbox shows them."""
    errors: dict[str, list[str]] = {}
    for name, messages in form.errors.items():
        if name is None:
            errors["_form"] = [str(m) for m in messages]
        elif isinstance(messages, list) and messages and isinstance(messages[0], dict):
            for index, sub in enumerate(messages):  # FieldList of FormFields (parties)
                for sub_name, sub_messages in sub.items():
                    errors[f"{name}-{index}-{sub_name}"] = [str(m) for m in sub_messages]
        else:
            errors[name] = [str(m) for m in messages]
    if form.form_errors:
        errors.setdefault("_form", []).extend(str(m) for m in form.form_errors)
    return errors

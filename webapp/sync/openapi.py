"""The OpenAPI 3 description of the sync endpoint (served at /api/openapi.json)."""

from __future__ import annotations

from webapp.sync.kinds import registered
from webapp.sync.services import MAX_ITEMS, MAX_PHOTOS, PHOTO_NAME_MAX, PHOTO_TYPE_RE, UUID_RE

_STRINGS = {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}


def _common_properties() -> dict:
    return {
        "uuid": {"type": "string", "format": "uuid", "pattern": "^" + UUID_RE.pattern + "$",
                 "description": "Made on the phone; replays of the same uuid yield one record."},
        "fields": {"type": "object", "additionalProperties": _STRINGS,
                   "description": "The form's fields, exactly as the page's form would post them "
                                  "(e.g. category, summary, community_id, latitude, recorded_at); "
                                  "recorded_at between 2000-01-01 and a year from now."},
        "photos": {"type": "array", "maxItems": MAX_PHOTOS, "items": {
            "type": "object", "required": ["data"],
            "properties": {"name": {"type": "string", "maxLength": PHOTO_NAME_MAX},
                           "type": {"type": "string", "pattern": "^" + PHOTO_TYPE_RE.pattern + "$"},
                           "data": {"type": "string", "format": "byte"},
                           "iv": {"type": "string", "format": "byte",
                                  "description": "Sealed items only: the photo is encrypted."}}}},
        "sealed": {"type": "object", "required": ["key", "iv", "data"],
                   "description": "A DV or minor case's fields, encrypted for the station (see "
                                  "docs/architecture.md); the plain fields hold only the version.",
                   "properties": {name: {"type": "string", "format": "byte"}
                                  for name in ("key", "iv", "data")}},
    }


def _item_schema() -> dict:
    """One outbox item: one schema per registered kind (its name, and what it reads and needs)."""
    variants = []
    for kind in registered().values():
        variants.append({
            "type": "object",
            "required": ["uuid", "kind", "fields", *kind.required],
            "properties": {**_common_properties(), "kind": {"type": "string", "enum": [kind.name]},
                           **kind.properties},
        })
    return {"oneOf": variants, "description": "An item that breaks this schema is answered `invalid` "
                                              "on its own (with errors); the others are applied."}


# Other machine-facing endpoints described beside sync (e.g. the government feed): features add
# their path at import; sync knows none of them.
_EXTRA_PATHS: dict[str, dict] = {}


def register_path(path: str, spec: dict) -> None:
    _EXTRA_PATHS[path] = spec


def openapi_document() -> dict:
    item = _item_schema()
    result = {
        "type": "object",
        "required": ["uuid", "index", "status"],
        "properties": {
            "uuid": {"type": "string", "nullable": True,
                     "description": "The item's uuid; null when it had none usable (see index)."},
            "index": {"type": "integer", "minimum": 0, "description": "The item's place in the batch."},
            "status": {"type": "string",
                       "enum": ["created", "duplicate", "invalid", "conflict", "forbidden"],
                       "description": "created: stored now; duplicate: stored before (a replay); "
                                      "invalid: malformed or refused by the form, fix and resend (see "
                                      "errors); conflict: the lead changed since the step was made, or "
                                      "the same uuid came twice in the batch with different content "
                                      "(see errors, and server when the first was stored); forbidden: "
                                      "not allowed."},
            "url": {"type": "string", "description": "Where the record can be read."},
            "errors": {"type": "object",
                       "additionalProperties": {"type": "array", "items": {"type": "string"}},
                       "description": "invalid and conflict: messages per field, in the person's "
                                      "language; `_form` for the item as a whole."},
            "server": {"type": "object", "description": "conflict only: the lead as it is now (version, "
                                                        "status, risk, assignee, last change)."},
        },
    }
    error = {"type": "object", "required": ["error"], "properties": {
        "error": {"type": "string", "description": "sign_in_required, csrf, bad_request, too_deep, "
                                                   "invalid_characters (in the envelope), too_many_items"},
        "detail": {"type": "string"}, "max_items": {"type": "integer"}}}
    # A phone revoked as lost (error: wipe): what it recorded before the revocation is applied
    # (results), later items are forbidden; then it must delete everything Beatbook kept on it.
    wipe = {"type": "object", "required": ["error"], "properties": {
        "error": {"type": "string"}, "detail": {"type": "string"}, "wipe": {"type": "boolean"},
        "results": {"type": "array", "items": result}, "user_id": {"type": "integer"},
        "csrf": {"type": "string"}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Beatbook sync", "version": "1",
                 "description": "Batch sync for the phone's outbox. Each item goes through the same "
                                "form and service as the online page. Authenticate with the session "
                                "cookie and send the CSRF token in X-CSRFToken."},
        "paths": {
            "/sync": {"post": {
                "summary": "Apply a batch of outbox items, one result per item",
                "parameters": [{"name": "X-CSRFToken", "in": "header", "required": True,
                                "schema": {"type": "string"}}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["items"],
                    "properties": {"items": {"type": "array", "maxItems": MAX_ITEMS, "items": item}}}}}},
                "responses": {
                    "200": {"description": "Per-item results, in the order of the items",
                            "content": {"application/json": {"schema": {
                                "type": "object", "required": ["results"],
                                "properties": {"results": {"type": "array", "items": result}}}}}},
                    "400": {"description": "Malformed batch (not {items: [...]}, nested too deep, a NUL "
                                           "or broken character outside the items) or CSRF token "
                                           "(error: csrf); a malformed item is answered invalid in a 200",
                            "content": {"application/json": {"schema": error}}},
                    "401": {"description": "Not signed in: keep the items, ask the person to sign in. "
                                           "Or (wipe: true) this phone was revoked as lost: the items "
                                           "recorded before the revocation were applied (results); "
                                           "delete everything kept on the phone",
                            "content": {"application/json": {"schema": wipe}}},
                    "413": {"description": "Too many items in one batch, or too large a body",
                            "content": {"application/json": {"schema": error}}},
                },
            }},
            "/sync/session": {"get": {
                "summary": "Who is signed in, and the CSRF token to sync with",
                "description": "The outbox renews a refused token here. The remember-me cookie alone "
                               "reaches it, so a phone whose browser was reopened can sync at once.",
                "responses": {
                    "200": {"description": "Signed in", "content": {"application/json": {"schema": {
                        "type": "object", "required": ["user_id", "csrf"],
                        "properties": {"user_id": {"type": "integer"}, "csrf": {"type": "string"}}}}}},
                    "401": {"description": "Nobody is signed in: keep the items, ask the person to sign "
                                           "in. Or (wipe: true, with user_id and csrf) this phone was "
                                           "revoked as lost: send what it recorded before, then wipe",
                            "content": {"application/json": {"schema": wipe}}},
                },
            }},
            **_EXTRA_PATHS,
        },
    }

"""The OpenAPI 3 description of the sync endpoint (served at /api/openapi.json)."""

from __future__ import annotations

from webapp.sync.kinds import registered
from webapp.sync.services import MAX_ITEMS

_STRINGS = {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}


def _item_schema() -> dict:
    """One outbox item: the common envelope, plus what each registered kind reads."""
    kinds = registered()
    item = {
        "type": "object",
        "required": ["uuid", "kind", "fields"],
        "properties": {
            "uuid": {"type": "string", "format": "uuid",
                     "description": "Made on the phone; replays of the same uuid yield one record."},
            "kind": {"type": "string", "enum": list(kinds)},
            "fields": {"type": "object", "additionalProperties": _STRINGS,
                       "description": "The form's fields, exactly as the page's form would post them "
                                      "(e.g. category, summary, community_id, latitude, recorded_at)."},
            "photos": {"type": "array", "items": {
                "type": "object", "required": ["data"],
                "properties": {"name": {"type": "string"}, "type": {"type": "string"},
                               "data": {"type": "string", "format": "byte"}}}},
        },
    }
    for kind in kinds.values():
        item["properties"].update(kind.properties)
    return item


def openapi_document() -> dict:
    item = _item_schema()
    result = {
        "type": "object",
        "required": ["uuid", "status"],
        "properties": {
            "uuid": {"type": "string"},
            "status": {"type": "string",
                       "enum": ["created", "duplicate", "invalid", "conflict", "forbidden"],
                       "description": "created: stored now; duplicate: stored before (a replay); "
                                      "invalid: fix and resend (see errors); conflict: the lead changed "
                                      "since the step was made (see server); forbidden: not allowed."},
            "url": {"type": "string", "description": "Where the record can be read."},
            "errors": {"type": "object",
                       "additionalProperties": {"type": "array", "items": {"type": "string"}},
                       "description": "Messages per field, in the person's language; `_form` for the form."},
            "server": {"type": "object", "description": "conflict only: the lead as it is now (version, "
                                                        "status, risk, assignee, last change)."},
        },
    }
    error = {"type": "object", "properties": {"error": {"type": "string"}, "detail": {"type": "string"}}}
    # A phone revoked as lost (error: wipe): what it recorded before the revocation is applied
    # (results), later items are forbidden; then it must delete everything Beatbook kept on it.
    wipe = {"type": "object", "properties": {
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
                                "type": "object", "properties": {"results": {"type": "array",
                                                                             "items": result}}}}}},
                    "400": {"description": "Malformed batch, item or CSRF token (error: csrf)",
                            "content": {"application/json": {"schema": error}}},
                    "401": {"description": "Not signed in: keep the items, ask the person to sign in. "
                                           "Or (wipe: true) this phone was revoked as lost: the items "
                                           "recorded before the revocation were applied (results); "
                                           "delete everything kept on the phone",
                            "content": {"application/json": {"schema": wipe}}},
                    "413": {"description": "Too many items in one batch",
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
        },
    }

"""Refuse input no database can store, once, before any view or form sees it.

PostgreSQL refuses a NUL character in text and psycopg cannot encode a lone UTF-16 surrogate
(JSON's "\\ud800"); either used to surface as a 500 from whichever query met it first. One
request hook checks the path, query string, form fields, JSON body and headers, and answers
400 with a clear message: JSON for the outbox and JSON clients, an error page otherwise.

An endpoint that answers each item of a batch on its own (`/sync`) is marked with
`checks_its_items("items")`: the hook still checks everything else (path, headers, the envelope),
and leaves the items to the view, which answers a bad one `invalid` without refusing the others.
A JSON body nested too deep to decode is refused here too (400), never a RecursionError.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from flask import Flask, current_app, jsonify, request
from flask_babel import gettext as _

# NUL, and the surrogate range, which is never valid on its own in a Python str from UTF-8.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_MAX_DEPTH = 64


def _strings(value, depth: int = 0) -> Iterable[str]:
    """Every string in a decoded JSON value: keys and values, however deep (bounded)."""
    if depth > _MAX_DEPTH:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, depth + 1)


_ITEMS_ATTRIBUTE = "_checks_its_items"


def checks_its_items(key: str) -> Callable:
    """Mark a view that checks each element of the JSON body's `key` list itself."""

    def mark(view: Callable) -> Callable:
        setattr(view, _ITEMS_ATTRIBUTE, key)
        return view

    return mark


def unstorable(value) -> bool:
    """Whether a decoded JSON value holds a NUL or a lone surrogate (keys and values, bounded depth)."""
    return any(_UNSTORABLE.search(text) for text in _strings(value))


def _own_items_key() -> str | None:
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return getattr(view, _ITEMS_ATTRIBUTE, None)


def _json_strings() -> Iterable[str]:
    body = request.get_json(silent=True)
    key = _own_items_key()
    if key and isinstance(body, dict) and isinstance(body.get(key), list):
        body = {name: value for name, value in body.items() if name != key}  # the envelope only
        yield key
    yield from _strings(body)


def json_too_deep() -> bool:
    """Whether the JSON body is too deeply nested to decode (json.loads raises RecursionError)."""
    if not request.is_json:
        return False
    try:
        request.get_json(silent=True)
    except RecursionError:
        return True
    return False


def _request_strings() -> Iterable[str]:
    yield request.path
    yield request.query_string.decode("latin-1")
    for key, values in request.args.lists():
        yield key
        yield from values
    for name, value in request.headers.items():
        yield name
        yield value
    if request.is_json:
        yield from _json_strings()
    elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for key, values in request.form.lists():
            yield key
            yield from values
        for key, upload in request.files.items(multi=True):
            yield key
            yield upload.filename or ""


def has_unstorable_input() -> bool:
    return any(_UNSTORABLE.search(text) for text in _request_strings())


def unstorable_message() -> str:
    return _("The request contains a character that cannot be stored (a NUL byte or a broken "
             "character). Remove it and try again.")


def wants_json() -> bool:
    return request.is_json or request.path == "/sync" or (
        request.accept_mimetypes.best == "application/json"
    )


def init_app(app: Flask) -> None:
    """Register the check first, so it runs before CSRF, sign-in and every view."""

    def refuse_unstorable_input():
        if json_too_deep():
            message = _("The request is nested too deeply to be read.")
            error = "too_deep"
        elif has_unstorable_input():
            message = unstorable_message()
            error = "invalid_characters"
        else:
            return None
        if wants_json():
            return jsonify(error=error, detail=message), 400
        from webapp.errors import render_error

        return render_error(400, message)

    app.before_request_funcs.setdefault(None, []).insert(0, refuse_unstorable_input)

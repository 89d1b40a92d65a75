"""One URL, two shapes: the whole page, or — for an htmx request — just a named block of it."""

from __future__ import annotations

from flask import Response, make_response, redirect, render_template
from flask_babel import get_locale
from htmx_flask import request
from jinja2_fragments.flask import render_block

from webapp.timeutil import STATION_TZ, utcnow


def wants_fragment() -> bool:
    """A plain htmx request gets a fragment; boosted navigation and history restores need the page."""
    htmx = request.htmx
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render_page(template: str, block: str = "content", status: int = 200, **context) -> Response:
    """Render `template` whole, or only `block` when htmx asks for a fragment.

    Both shapes come from the same URL, so every response says `Vary: HX-Request` to keep
    browser and service-worker caches from serving one shape for the other.
    """
    if wants_fragment():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def see_other(url: str) -> Response:
    """After a successful POST: a 303 for plain forms; for htmx, a full navigation via HX-Redirect
    (a followed 303 would swap the next page into the form)."""
    if request.htmx:
        response = make_response("", 200)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, code=303)


def readable_offline(response: Response, stamp: str | None = None) -> Response:
    """Let the service worker keep this page for reading with no signal (it caches nothing else).

    Only for pages without compartmented details: what is cached sits on the phone unencrypted.
    `stamp` (from `offline_stamp`) names this version of a page that a home hands the worker to
    keep: the worker fetches it again only when the home lists another stamp.
    """
    if response.status_code == 200:
        response.headers["X-Offline-Cache"] = "page"
        if stamp is not None:
            response.headers["X-Offline-Stamp"] = stamp
    return response


def offline_stamp(*parts: object) -> str:
    """What a kept page was made from: the record's own marks (`parts`: a version, its last event…),
    plus the station's day (due times read "in 3 days") and the language it is written in."""
    return ".".join(str(part) for part in (*parts, utcnow().astimezone(STATION_TZ).date(), get_locale()))


def never_stored(response: Response) -> Response:
    """Compartmented pages: not in any cache, on the phone or between."""
    response.headers["Cache-Control"] = "no-store, private"
    return response

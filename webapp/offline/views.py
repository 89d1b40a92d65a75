"""The installable, offline-capable app: service worker, its modules, manifest, offline pages."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

from flask import Response, abort, current_app, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from webapp.access import public
from webapp.assets import asset_url, conditional, encoded_response, minified, precompressed
from webapp.auth.services import signed_in_user_id, wipe_claim
from webapp.offline import bp
from webapp.rendering import render_page
from webapp.sync.sealing import seal_keys

OFFLINE_DIR = Path(__file__).resolve().parent.parent.parent / "offline"
# The service worker's own modules, in the order /sw.js carries them (each uses those before it).
MODULES = ("db.js", "caches.js", "session.js", "routes.js", "outbox.js", "wipe.js", "push.js")
# Of those, what pages load too (<script src="/offline/db.js?v=…">).
PAGE_MODULES = ("db.js",)
# What every page needs offline, cached when the service worker installs.
# Not the notification icon: a push needs the network anyway, so it is fetched when first shown
# instead of on every first visit (1.9 KB of a 40 KB budget).
SHELL_ASSETS = ("css/app.css", "vendor/htmx.min.js", "js/app.js", "js/offline.js")


@cache
def _version(static_folder: str, template_folder: str) -> str:
    """A hash of everything the worker caches or runs: a change anywhere makes a new worker."""
    digest = hashlib.sha256()
    paths = sorted(OFFLINE_DIR.glob("*.js")) + sorted(Path(static_folder).rglob("*.*"))
    paths += sorted(Path(template_folder, "_layouts").glob("*.html"))
    paths += sorted(Path(template_folder, "offline").glob("*.html"))
    paths += sorted(Path(current_app.root_path, "translations").rglob("*.mo"))
    for path in paths:
        if path.is_file() and ".built" not in path.name:
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def worker_version() -> str:
    return _version(current_app.static_folder, current_app.template_folder)


@bp.after_app_request
def say_who_is_signed_in(response: Response) -> Response:
    """Every page names the person it was made for, so the worker keeps and serves pages per
    person and learns of a new person from the server, never from a page it kept."""
    if response.mimetype == "text/html":
        user_id = signed_in_user_id()
        response.headers["X-Signed-In"] = str(user_id or 0)
        if user_id is None and wipe_claim() is not None:
            # This phone was revoked as lost: the worker sends what is pending, then wipes.
            response.headers["X-Wipe"] = "1"
    return response


@bp.route("/sw.js")
@public
def service_worker():
    version = worker_version()
    config = {
        "version": version,
        "shell": [asset_url(name) for name in SHELL_ASSETS] + [url_for("offline.outbox_page")],
        # Also what a page not kept on the phone is answered with offline (it says so then).
        "outboxPage": url_for("offline.outbox_page"),
        "syncUrl": url_for("sync.sync"),
        "sessionUrl": url_for("sync.session"),
        "forgetSessionUrl": url_for("sync.forget_session"),
        # DV and minor items are encrypted on the phone for this key (webapp/sync/sealing.py).
        "sealKey": seal_keys().public_jwk,
        # Forms that change who is signed in: the worker forgets whose pages it may show.
        "authPaths": [url_for("auth.login"), url_for("auth.logout"), url_for("auth.sign_out_everywhere")],
        "icon": asset_url("icons/icon-192.png"),
    }
    modules = "\n".join((OFFLINE_DIR / name).read_text() for name in MODULES)
    source = (OFFLINE_DIR / "sw.js").read_text().replace("__CONFIG__", json.dumps(config))
    source = source.replace("__MODULES__", modules)
    digest = hashlib.sha256(source.encode()).hexdigest()[:24]
    found = _worker_encodings.get(digest)
    if found is None:
        # Minified and compressed once per version at the highest levels: 6.1 KB in brotli instead
        # of 12.2 KB as written at Flask-Compress's per-request level, on every phone's first visit.
        _worker_encodings.clear()
        body = minified(source, "application/javascript").encode()
        found = _worker_encodings[digest] = (body, precompressed(body))
    response = encoded_response(*found, "application/javascript", digest)
    # The browser must see a new worker as soon as it exists: never serve it from a cache unasked.
    # It asks on every page load; the validator makes the unchanged answer a 304 with no body.
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return conditional(response)


# The current worker's digest → its minified body and that body's encodings.
_worker_encodings: dict[str, tuple[bytes, dict[str, bytes]]] = {}
# A page module's (name, digest) → the same.
_module_encodings: dict[tuple[str, str], tuple[bytes, dict[str, bytes]]] = {}


@bp.route("/offline/<name>")
@public
def module(name: str):
    if name not in PAGE_MODULES:
        abort(404)
    source = (OFFLINE_DIR / name).read_text()
    digest = hashlib.sha256(source.encode()).hexdigest()[:24]
    found = _module_encodings.get((name, digest))
    if found is None:  # minified and compressed once per version, as the worker is
        body = minified(source, "application/javascript").encode()
        found = _module_encodings[(name, digest)] = (body, precompressed(body))
    response = encoded_response(*found, "application/javascript", digest)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"  # URL carries ?v=
    # Revalidated, not downloaded again, when the HTTP cache's copy is old or a reload asks.
    return conditional(response)


@bp.route("/manifest.webmanifest")
@public
def manifest():
    locale = str(get_locale())
    chinese = locale.startswith("zh")
    document = {
        "name": _("Beatbook — community policing"),
        "short_name": _("Beatbook"),
        "description": _("Report and follow up neighbourhood disputes, online or not."),
        "lang": "zh-CN" if chinese else "en",
        "dir": "ltr",
        "id": "/",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#f4f6f9",
        "theme_color": "#12355b",
        "icons": [
            {"src": asset_url("icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": asset_url("icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {"src": asset_url("icons/maskable-512.png"), "sizes": "512x512", "type": "image/png",
             "purpose": "maskable"},
        ],
    }
    response = Response(json.dumps(document, ensure_ascii=False), mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "no-cache"
    response.vary.add("Cookie")
    return response


@bp.route("/outbox")
@public
def outbox_page():
    """The outbox lives on the phone (IndexedDB); this page is the frame its script fills in, and,
    offline, the answer to any page the phone has not kept (with a "no signal" part shown)."""
    response = render_page("offline/outbox.html")
    response.headers["X-Offline-Cache"] = "shell"
    return response

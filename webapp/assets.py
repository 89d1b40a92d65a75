"""Static files for phones: content-hashed URLs cached for a year, sent compressed.

Static files are few and small, so each is read and compressed once per process and served from
memory: no per-request compression work, and no streamed file handle left open.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import brotli
import rcssmin
import rjsmin
from flask import Response, abort, current_app, request, url_for
from werkzeug.security import safe_join

COMPRESSIBLE = ("text/", "application/javascript", "application/json", "application/manifest+json",
                "image/svg+xml")
ONE_YEAR = 365 * 24 * 3600
MINIFIABLE = ("application/javascript", "text/css")


@dataclass(frozen=True)
class StaticFile:
    digest: str
    mimetype: str
    raw: bytes
    encoded: dict[str, bytes]


def minified(text: str, mimetype: str) -> str:
    """Our scripts and styles without their comments and layout, as phones get them.

    The sources explain themselves at length; sent as written, the comments were a sixth of a first
    visit's bytes even compressed (bench/README.md, Honest page weight). Libraries come minified.
    """
    if mimetype == "application/javascript":
        return rjsmin.jsmin(text)
    if mimetype == "text/css":
        return rcssmin.cssmin(text)
    return text


@cache
def _load(path: str, mtime_ns: int) -> StaticFile:
    raw = Path(path).read_bytes()
    mimetype = mimetypes.guess_type(path)[0] or "application/octet-stream"
    if mimetype == "text/javascript":
        mimetype = "application/javascript"
    if mimetype in MINIFIABLE and not path.endswith(".min.js"):
        raw = minified(raw.decode(), mimetype).encode()
    encoded = precompressed(raw) if mimetype.startswith(COMPRESSIBLE) and len(raw) > 512 else {}
    return StaticFile(hashlib.sha256(raw).hexdigest()[:10], mimetype, raw, encoded)


def precompressed(raw: bytes) -> dict[str, bytes]:
    """The smallest encodings, made once: brotli's and gzip's highest levels are too slow per request."""
    return {"br": brotli.compress(raw, quality=11), "gzip": gzip.compress(raw, 9, mtime=0)}


def encoded_response(raw: bytes, encoded: dict[str, bytes], mimetype: str, digest: str) -> Response:
    """The smallest encoding the client accepts, with a validator of its own per encoding."""
    accepted = request.headers.get("Accept-Encoding", "")
    encoding = next((e for e in ("br", "gzip") if e in accepted and e in encoded), None)
    response = Response(encoded[encoding] if encoding else raw, mimetype=mimetype)
    if encoding:
        response.headers["Content-Encoding"] = encoding
    response.vary.add("Accept-Encoding")
    response.set_etag(digest + (encoding or ""))
    return response


def conditional(response: Response) -> Response:
    """A 304 when the client's copy is current. Werkzeug also writes a Date header here, which the
    server (gunicorn, nginx) writes too: two on every file, bytes a first visit pays for."""
    response.make_conditional(request)
    del response.headers["Date"]
    return response


def _static_file(filename: str) -> StaticFile | None:
    path = safe_join(current_app.static_folder, filename)
    if path is None or not Path(path).is_file():
        return None
    return _load(path, Path(path).stat().st_mtime_ns)


_urls: dict[str, str] = {}


def asset_url(filename: str) -> str:
    """`/static/<filename>?v=<hash>`: a changed file gets a new URL, so a stale copy is never used.

    Outside debug mode the files change only with a deploy (a new process), so each URL is worked out
    once: checking the file on every use cost ~0.3 ms of a page's CPU (five assets per page).
    """
    url = _urls.get(filename)
    if url is None or current_app.debug:
        found = _static_file(filename)
        if found is None:
            raise FileNotFoundError(filename)
        url = _urls[filename] = url_for("static", filename=filename, v=found.digest)
    return url


def serve_static(filename: str) -> Response:
    found = _static_file(filename)
    if found is None:
        abort(404)
    response = encoded_response(found.raw, found.encoded, found.mimetype, found.digest)
    # Versioned URLs never change content; unversioned ones must be revalidated.
    if request.args.get("v") == found.digest:
        response.cache_control.public = True
        response.cache_control.max_age = ONE_YEAR
        response.cache_control.immutable = True
    else:
        response.cache_control.no_cache = True
    return conditional(response)

"""Browser-side defences (issue 10): a strict CSP with no inline code anywhere, HSTS and Secure cookies
over TLS, CSRF tokens that expire, and no caching of revealed identities."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.factories import commit, make_station, make_user
from webapp.extensions import db
from webapp.org.models import Role

ROOT = Path(__file__).resolve().parent.parent


def test_every_document_and_the_worker_have_a_strict_content_security_policy(client):
    for path in ("/login", "/sw.js", "/nothing-here", "/static/nothing-here.js"):
        policy = client.get(path).headers["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        # A fetch directive left out falls back to default-src (worker-src via script-src).
        for fetched in ("script-src", "style-src", "connect-src", "font-src", "manifest-src", "worker-src"):
            assert directives.get(fetched, directives["default-src"]) == "'self'", fetched
        assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
        assert directives["base-uri"] == "'self'" and directives["form-action"] == "'self'"
        assert "unsafe" not in policy


def test_files_a_page_loads_carry_no_document_policies(client):
    """A stylesheet or script is governed by its page's policy; repeating it on every file only
    weighs on a phone's first visit. They still must not be sniffed as something else."""
    page = client.get("/login").get_data(as_text=True)
    module = re.search(r'"(/offline/[a-z]+\.js\?v=[^"]+)"', page).group(1)
    for path in ("/static/js/app.js", module):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "Content-Security-Policy" not in response.headers and "X-Frame-Options" not in response.headers
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_json_answers_carry_no_document_policies(client):
    """A JSON answer is read by a script, never shown as a page: the worker asks /sync/session on
    every first visit, and the policies were a quarter of its bytes."""
    for path in ("/sync/session", "/api/openapi.json", "/healthz"):
        response = client.get(path)
        assert response.mimetype == "application/json", path
        assert "Content-Security-Policy" not in response.headers and "X-Frame-Options" not in response.headers
        assert response.headers["X-Content-Type-Options"] == "nosniff"


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I), "inline script"),
    (re.compile(r"<style\b", re.I), "style element"),
    (re.compile(r"\sstyle=", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+=", re.I), "event handler attribute"),
    (re.compile(r"\shx-on", re.I), "htmx inline handler"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_no_template_needs_inline_script_or_style():
    """The CSP would block them: keep scripts and styles in files (JSON data islands are fine)."""
    found = []
    for template in sorted((ROOT / "templates").rglob("*.html")):
        text = template.read_text(encoding="utf-8")
        for pattern, what in INLINE:
            for match in pattern.finditer(text):
                found.append(f"{template.relative_to(ROOT)}: {what}: {match.group(0)!r}")
    assert found == []


def test_hsts_and_secure_cookies_only_over_tls(database, monkeypatch):
    from webapp import create_app

    config = {k: v for k, v in database.items() if k.isupper()}
    plain = create_app({"SECRET_KEY": "x", **config})
    assert "Strict-Transport-Security" not in plain.test_client().get("/login").headers
    assert plain.config["SESSION_COOKIE_SECURE"] is False

    monkeypatch.setenv("BEATBOOK_HTTPS", "1")
    tls = create_app({"SECRET_KEY": "x", **config})
    assert tls.config["SESSION_COOKIE_SECURE"] and tls.config["REMEMBER_COOKIE_SECURE"]
    response = tls.test_client().get("/login", base_url="https://beatbook.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    with tls.app_context():
        db.engine.dispose()


def test_csrf_tokens_expire_after_the_configured_hours(app, client, monkeypatch):
    import itsdangerous.timed

    from tests.conftest import csrf_from

    hours = app.config["WTF_CSRF_TIME_LIMIT"] / 3600
    assert 8 <= hours <= 24  # long enough for a patrol offline, not forever
    real = itsdangerous.timed.TimestampSigner.get_timestamp
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp",
                        lambda self: real(self) - int(hours * 3600) - 60)
    stale = csrf_from(client.get("/login").get_data(as_text=True))
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", real)
    response = client.post("/login", data={"username": "x", "password": "y", "csrf_token": stale})
    assert response.status_code == 400
    fresh = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": "x", "password": "y", "csrf_token": fresh})
    assert response.status_code == 422  # a fresh token passes CSRF (the password is wrong)


@pytest.fixture
def demo(app_ctx):
    assert app_ctx.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0


def test_revealed_identities_are_never_cached(demo, person):
    from webapp.leads.models import Lead
    from webapp.org.models import User

    officer = db.session.scalar(select(User).where(User.username == "officer"))
    lead = db.session.scalar(select(Lead).where(Lead.assignee_id == officer.id).limit(1))
    assert lead is not None
    person.login("officer", "beatbook-demo")
    response = person.post(f"/leads/{lead.id}/reveal", from_page=f"/leads/{lead.id}",
                           headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]


def test_supervisors_idle_timeout_is_configurable(app):
    assert app.config["BEATBOOK_IDLE_MINUTES"] == 30


@pytest.fixture
def officer(app_ctx):
    station = make_station()
    user = make_user(station, Role.OFFICER, username="wang")
    commit()
    return user


def test_cookies_are_http_only_and_same_site(person, officer):
    response = person.login("wang")
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies
    for cookie in cookies:
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie

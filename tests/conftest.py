"""Shared fixtures: the app on each database engine, a clean schema per run, clean rows per test.

Engines: SQLite always; PostgreSQL too when TEST_DATABASE_URL is set (CI sets it, and an
unreachable server fails the run — it is never skipped).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
from pathlib import Path

import pytest

# Before any webapp import: keep tests away from the developer's instance/ and environment.
_INSTANCE = Path(tempfile.mkdtemp(prefix="beatbook-test-instance-"))
os.environ["BEATBOOK_INSTANCE_PATH"] = str(_INSTANCE)
for _name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "BEATBOOK_PUSH_HOSTS"):
    os.environ.pop(_name, None)
# Test-only: the local push service (tests/notify/pushservice.py) is http on 127.0.0.1, which
# production refuses. Set here so the job workers the tests start inherit it; tests of the
# production rule turn it off in the app's config (tests/notify/test_endpoints.py).
os.environ["BEATBOOK_PUSH_ALLOW_INSECURE_LOCAL"] = "1"

from flask.testing import FlaskClient  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.extensions import db  # noqa: E402


def pytest_sessionfinish(session, exitstatus):
    """In CI a skipped test is a failed run: green must mean everything ran."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if os.environ.get("CI") and reporter and reporter.stats.get("skipped"):
        reporter.write_line("CI: skipped tests are not allowed", red=True)
        session.exitstatus = 1


ENGINES = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


def _postgres_url() -> str:
    url = os.environ["TEST_DATABASE_URL"]
    return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+psycopg://", url)


@pytest.fixture(scope="session", params=ENGINES)
def database(request, tmp_path_factory):
    """A fresh, empty database for this run: a SQLite file, or a private PostgreSQL schema."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "beatbook.db"
        yield {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SQLALCHEMY_ENGINE_OPTIONS": {}}
        return
    url = _postgres_url()
    schema = f"beatbook_test_{os.getpid()}_{secrets.token_hex(4)}"
    admin = create_engine(url)
    with admin.begin() as connection:  # raises when PostgreSQL is unreachable: the run fails
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield {
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": {
                "connect_args": {"options": f"-csearch_path={schema}"},
                "pool_pre_ping": True,
            },
            "schema": schema,
        }
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


class RequestIsolatedClient(FlaskClient):
    """Each request gets its own app context, as in production.

    Without this, requests reuse the test's app context, sharing `g` (the signed-in user, the
    CSRF token) and the database session between requests and between clients.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(database):
    config = {k: v for k, v in database.items() if k.isupper()}
    app = create_app(
        # A cheap password hash: the suite creates hundreds of people (production uses scrypt).
        {"TESTING": True, "SECRET_KEY": "test-secret", "BEATBOOK_PASSWORD_METHOD": "pbkdf2:sha256:1000",
         # Tables are emptied between tests, so anchors would outlive the chain they anchor:
         # anchoring is off unless a test turns it on with its own file.
         "BEATBOOK_AUDIT_ANCHORS": "",
         **config}
    )
    app.test_client_class = RequestIsolatedClient
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


def empty_all_tables() -> None:
    db.session.remove()
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def app_ctx(app):
    """An app context for the test, and empty tables afterwards (so every test starts clean)."""
    with app.app_context():
        yield app
        empty_all_tables()


@pytest.fixture
def ctx(world):
    """An app context over a module's `world` (a cast built once per module, see the lead tests);
    requests run in their own."""
    with world.app.app_context():
        yield world
        db.session.remove()


@pytest.fixture
def client(app_ctx):
    return app_ctx.test_client()


@pytest.fixture(scope="module")
def demo_station(app):
    """The demo station, loaded once per module, for tests that only read it (signing in is fine).
    Use `demo_client` with it: the plain `client` empties every table after each test."""
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["demo", "load"])
        assert result.exit_code == 0, result.output
        db.session.remove()
    yield app
    with app.app_context():
        empty_all_tables()


@pytest.fixture
def demo_client(demo_station):
    """A test client over the module's demo station (its rows stay for the next test)."""
    with demo_station.app_context():
        yield demo_station.test_client()
        db.session.remove()


@pytest.fixture
def make_client(app_ctx):
    """More clients = more devices (e.g. the same person on two phones)."""
    return app_ctx.test_client


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_WORKER_CONFIG = re.compile(r"const CONFIG\s*=\s*")


def worker_config(script: str) -> dict:
    """The settings /sw.js is served with (its CONFIG object), read from the script as minified."""
    start = _WORKER_CONFIG.search(script)
    assert start, "the worker script names no CONFIG"
    return json.JSONDecoder().raw_decode(script, start.end())[0]


def csrf_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


class Browser:
    """Drives the test client the way a person does: read a page, fill its form, submit it."""

    def __init__(self, client):
        self.client = client

    def token(self, path: str = "/login") -> str:
        return csrf_from(self.client.get(path).get_data(as_text=True))

    def post(self, path: str, data: dict | None = None, *, from_page: str | None = None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.token(from_page or path))
        return self.client.post(path, data=data, **kwargs)

    def login(self, username: str, password: str = "correct horse battery", remember: bool = True):
        data = {"username": username, "password": password}
        if remember:
            data["remember"] = "y"
        return self.post("/login", data)

    def logout(self):
        return self.post("/logout", from_page="/account")


@pytest.fixture
def person(client):
    return Browser(client)

"""Behind reverse proxies (BEATBOOK_PROXIES): sign-in throttling and the audit log see the phone's
address, not the proxy's — and never an address a client forged in X-Forwarded-For."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import select

from tests.conftest import Browser, RequestIsolatedClient
from tests.factories import commit, make_station, make_user
from webapp import create_app
from webapp.audit.models import AuditEntry
from webapp.extensions import db
from webapp.org.models import Role

PROXY = "10.0.0.2"


SHARED = ("SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_ENGINE_OPTIONS", "BEATBOOK_PASSWORD_METHOD")


@contextmanager
def node(app, proxies: int):
    """Another node on the same database, with its own BEATBOOK_PROXIES."""
    behind = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "BEATBOOK_AUDIT_ANCHORS": "",
                         "BEATBOOK_PROXIES": proxies, **{key: app.config[key] for key in SHARED}})
    behind.test_client_class = RequestIsolatedClient
    yield behind
    with behind.app_context():
        db.engine.dispose()


@pytest.mark.parametrize(("proxies", "forwarded", "seen"), [
    (1, "203.0.113.7", "203.0.113.7"),  # the phone, as nginx appends it
    (1, "198.51.100.1, 203.0.113.7", "203.0.113.7"),  # the left one was forged by the client
    (2, "203.0.113.7, 192.0.2.9", "203.0.113.7"),  # a load balancer, then nginx
    (0, "203.0.113.7", PROXY),  # no proxy configured: the header is anybody's, ignored
])
def test_the_address_a_failed_sign_in_is_audited_with(app_ctx, proxies, forwarded, seen):
    make_user(make_station(), Role.OFFICER, username="wang")
    commit()
    with node(app_ctx, proxies) as behind:
        client = behind.test_client()
        client.environ_base.update(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded)
        assert Browser(client).login("wang", "wrong password!").status_code == 422

    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "sign_in_failed")).one()
    assert entry.address == seen

"""A second factor (TOTP) for supervisors and admins: enrol with a QR code, then every sign-in asks
for a code; codes are single-use and guesses are throttled."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from sqlalchemy import select

from tests.conftest import Browser
from tests.factories import commit, make_station, make_user
from webapp.audit.models import AuditEntry
from webapp.extensions import db
from webapp.org.models import Role, User
from webapp.timeutil import utcnow


@pytest.fixture
def station(app_ctx):
    station = make_station()
    make_user(station, Role.SUPERVISOR, username="sup")
    make_user(station, Role.ADMIN, username="boss")
    make_user(station, Role.OFFICER, username="wang")
    commit()
    return station


def _enrol(browser: Browser) -> pyotp.TOTP:
    page = browser.client.get("/account/two-factor")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'src="data:image/svg+xml' in html
    secret = re.search(r"<code>([A-Z2-7]+)</code>", html).group(1)
    assert browser.post("/account/two-factor", {"code": "000000"}).status_code == 422
    totp = pyotp.TOTP(secret)
    assert browser.post("/account/two-factor", {"code": totp.now()}).status_code == 303
    return totp


def _user(username: str) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


def test_enrol_then_sign_in_needs_a_fresh_code(make_client, station):
    sup = Browser(make_client())
    sup.login("sup")
    totp = _enrol(sup)
    assert _user("sup").totp_secret
    sup.logout()

    password_only = sup.login("sup")
    assert password_only.headers["Location"] == "/login/code"
    assert sup.client.get("/home/supervisor").status_code == 302  # not signed in yet
    page = sup.client.get("/login/code")
    assert page.status_code == 200 and "no-store" in page.headers["Cache-Control"]
    fragment = sup.client.get("/login/code", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True) and "HX-Request" in fragment.headers["Vary"]
    assert sup.post("/login/code", {"code": "123456"}).status_code == 422
    assert sup.post("/login/code", {"code": totp.now()}).status_code == 422  # used to enrol
    code = totp.at(time.time() + 30)  # the next one (a phone's clock may run ahead)
    assert sup.post("/login/code", {"code": code}).headers["Location"] == "/home/supervisor"
    assert sup.client.get("/home/supervisor").status_code == 200

    # The same code does not work twice.
    thief = Browser(make_client())
    assert thief.login("sup").headers["Location"] == "/login/code"
    assert thief.post("/login/code", {"code": code}).status_code == 422
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"two_factor_enabled", "two_factor_failed", "sign_in"} <= actions


def test_code_guesses_are_throttled(app, make_client, station):
    sup = Browser(make_client())
    sup.login("sup")
    totp = _enrol(sup)
    sup.logout()
    sup.login("sup")
    limit = app.config["BEATBOOK_LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    statuses = [sup.post("/login/code", {"code": f"{n:06d}"}).status_code for n in range(limit + 1)]
    assert statuses == [422] * limit + [429]
    assert sup.post("/login/code", {"code": totp.at(time.time() + 30)}).status_code == 429


def test_the_code_page_without_a_password_first_goes_to_sign_in(client, station):
    assert client.get("/login/code").headers["Location"] == "/login"


def test_officers_are_not_offered_it(person, station):
    person.login("wang")
    assert person.client.get("/account/two-factor").status_code == 403


def test_an_admin_can_remove_a_lost_authenticator(make_client, station):
    sup = Browser(make_client())
    sup.login("sup")
    _enrol(sup)
    admin = Browser(make_client())
    admin.login("boss")
    person = _user("sup")
    response = admin.post(f"/admin/users/{person.id}/reset-two-factor", from_page=f"/admin/users/{person.id}")
    assert response.status_code == 303
    assert _user("sup").totp_secret is None
    assert sup.client.get("/home/supervisor").status_code == 302  # signed out everywhere
    assert sup.login("sup").headers["Location"] == "/home/supervisor"


def test_the_secret_is_stored_sealed_and_bound_to_its_person(make_client, station):
    """A copied database yields no working codes: the stored secret is encrypted, and moving it to
    another person's row does not make it theirs."""
    from webapp.auth.totp import accept_code

    sup = Browser(make_client())
    sup.login("sup")
    totp = _enrol(sup)
    stored = _user("sup").totp_secret
    assert totp.secret not in stored and stored.startswith("v1:")
    boss = _user("boss")
    boss.totp_secret = stored
    commit()
    assert not accept_code(_user("boss"), totp.at(time.time() + 30), utcnow())
    assert accept_code(_user("sup"), totp.at(time.time() + 30), utcnow())  # still the owner's


def test_secrets_enrolled_before_sealing_are_sealed_by_the_migration(station):
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from webapp.auth.totp import accept_code

    secret = pyotp.random_base32()
    sup_id = _user("sup").id
    db.session.remove()
    downgrade(revision="771f60baedd4")
    with db.engine.begin() as connection:
        connection.execute(text('UPDATE "user" SET totp_secret = :s WHERE id = :id'),
                           {"s": secret, "id": sup_id})
    upgrade()
    sup = _user("sup")
    assert sup.totp_secret.startswith("v1:") and secret not in sup.totp_secret
    assert accept_code(sup, pyotp.TOTP(secret).now(), utcnow())

"""Sessions end on the server: signing out, a password change or idling kills the old cookies (issue 10)."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select, update

from tests.conftest import Browser
from tests.factories import commit, make_user
from webapp.audit.models import AuditEntry
from webapp.auth.models import UserSession
from webapp.extensions import db
from webapp.org.models import Role
from webapp.timeutil import utcnow


def _stolen_copy(make_client, browser: Browser) -> Browser:
    """Another browser holding exactly the cookies `browser` has now (a copied cookie jar)."""
    copy = Browser(make_client())
    for name in ("session", "remember_token"):
        cookie = browser.client.get_cookie(name)
        if cookie is not None:
            copy.client.set_cookie(name, cookie.value)
    return copy


def test_signing_out_ends_the_session_and_remember_cookies_on_the_server(make_client, officer):
    phone = Browser(make_client())
    phone.login("wang", remember=True)
    copy = _stolen_copy(make_client, phone)
    remember_only = Browser(make_client())
    remember_only.client.set_cookie("remember_token", phone.client.get_cookie("remember_token").value)
    assert copy.client.get("/home/officer").status_code == 200

    assert phone.logout().status_code == 303
    assert copy.client.get("/home/officer").status_code == 302
    assert remember_only.client.get("/home/officer").status_code == 302


def test_signing_out_on_one_phone_leaves_the_others_signed_in(make_client, officer):
    phone, desk = Browser(make_client()), Browser(make_client())
    phone.login("wang")
    desk.login("wang")
    phone.logout()
    assert desk.client.get("/home/officer").status_code == 200


def test_a_password_change_ends_every_session_of_that_person(make_client, station, officer):
    make_user(station, Role.ADMIN, username="boss")
    commit()
    phone = Browser(make_client())
    phone.login("wang", remember=True)
    remember_only = Browser(make_client())
    remember_only.client.set_cookie("remember_token", phone.client.get_cookie("remember_token").value)
    admin = Browser(make_client())
    admin.login("boss")
    page = f"/admin/users/{officer.id}"
    response = admin.post(page, {"display_name": "Wang", "roles": "officer", "is_enabled": "y",
                                 "password": "a new long passphrase 7"})
    assert response.status_code == 303, response.get_data(as_text=True)
    assert phone.client.get("/home/officer").status_code == 302
    assert remember_only.client.get("/home/officer").status_code == 302
    assert admin.client.get(page).status_code == 200  # the admin's own session is untouched
    assert phone.login("wang", "a new long passphrase 7").status_code == 303


def test_each_session_is_a_row_with_its_device(make_client, officer):
    phone = Browser(make_client())
    phone.client.environ_base["HTTP_USER_AGENT"] = "Pixel 7"
    phone.login("wang")
    rows = db.session.scalars(select(UserSession).where(UserSession.user_id == officer.id)).all()
    assert [(r.user_agent, r.revoked_at) for r in rows] == [("Pixel 7", None)]


def test_supervisors_are_signed_out_after_idling(app, make_client, station):
    make_user(station, Role.SUPERVISOR, username="sup")
    make_user(station, Role.OFFICER, username="patrol")
    commit()
    supervisor, officer = Browser(make_client()), Browser(make_client())
    supervisor.login("sup", remember=True)
    officer.login("patrol", remember=True)
    idle = timedelta(minutes=app.config["BEATBOOK_IDLE_MINUTES"] + 1)
    db.session.execute(update(UserSession).values(last_seen_at=utcnow() - idle))
    commit()
    assert supervisor.client.get("/home/supervisor").status_code == 302
    supervisor.client.delete_cookie("session")  # the remember cookie does not bring it back
    assert supervisor.client.get("/home/supervisor").status_code == 302
    assert officer.client.get("/home/officer").status_code == 200  # officers stay on patrol


def test_changing_my_own_password_signs_out_my_other_devices(make_client, officer):
    phone, desk = Browser(make_client()), Browser(make_client())
    phone.login("wang", remember=True)
    desk.login("wang")
    assert desk.post("/account/password", {"current": "wrong password!",
                                           "new": "a new long passphrase 7"}).status_code == 422
    weak = desk.post("/account/password", {"current": "correct horse battery", "new": "password12"})
    assert weak.status_code == 422
    response = desk.post("/account/password", {"current": "correct horse battery",
                                                "new": "a new long passphrase 7"})
    assert response.status_code == 303
    assert desk.client.get("/home/officer").status_code == 200  # this device stays signed in
    assert phone.client.get("/home/officer").status_code == 302
    phone.client.delete_cookie("session")
    assert phone.client.get("/home/officer").status_code == 302  # the remember cookie is dead too
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "password_changed"))
    assert (entry.actor_id, entry.object_id, json.loads(entry.detail)) == (officer.id, officer.id,
                                                                          {"by_self": True})

"""A lost phone: one device's session revoked (by the person from another device, or by an admin),
its push subscriptions gone, and — when it next reaches the server — only what it recorded before
the revocation accepted, then the answer "wipe" (on each database engine)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import Browser
from tests.factories import commit, make_community, make_station, make_user
from tests.notify.pushservice import PushService, register_device, store_device
from tests.sync.test_sealing import _seal
from webapp.audit.models import AuditEntry
from webapp.auth.models import UserSession
from webapp.auth.services import load_user_from_session_id
from webapp.extensions import db
from webapp.leads.models import Lead
from webapp.notify.models import Notification, PushSubscription
from webapp.org.models import Role
from webapp.sync.sealing import seal_keys
from webapp.timeutil import utcnow

PHONE_AGENT = ("Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
               "Chrome/131.0.0.0 Mobile Safari/537.36")
DESK_AGENT = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/131.0.0.0 Safari/537.36")


@pytest.fixture
def push_service(app):
    with PushService(application_server_key=app.extensions["beatbook_vapid"].public_key) as service:
        yield service


def _browser(make_client, agent: str) -> Browser:
    client = make_client()
    client.environ_base["HTTP_USER_AGENT"] = agent
    return Browser(client)


def _sessions(user_id: int) -> list[UserSession]:
    db.session.expire_all()
    return list(db.session.scalars(select(UserSession).where(UserSession.user_id == user_id)
                                   .order_by(UserSession.id)))


def _live(user_id: int) -> list[UserSession]:
    return [row for row in _sessions(user_id) if row.revoked_at is None]


def _subscriptions(user_id: int) -> list[PushSubscription]:
    db.session.expire_all()
    return list(db.session.scalars(select(PushSubscription).where(PushSubscription.user_id == user_id)
                                   .order_by(PushSubscription.id)))


def _audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def _phone_and_desk(make_client, push_service, username: str):
    """The person signed in on a phone (remembered) and a desk PC, each with alerts on."""
    phone, desk = _browser(make_client, PHONE_AGENT), _browser(make_client, DESK_AGENT)
    assert phone.login(username, remember=True).status_code == 303
    assert desk.login(username, remember=False).status_code == 303
    assert register_device(phone.client, push_service.subscribe("phone"), PHONE_AGENT).status_code == 201
    assert register_device(desk.client, push_service.subscribe("desk"), DESK_AGENT).status_code == 201
    return phone, desk


def _signed_out(browser: Browser, home: str = "/home/officer") -> bool:
    """Neither its session cookie nor (alone) its remember cookie opens a page any more."""
    if browser.client.get(home).status_code != 302:
        return False
    browser.client.delete_cookie("session")
    return browser.client.get(home).status_code == 302


# --- revoking one device ---------------------------------------------------------------------------


def test_the_person_revokes_one_lost_phone_from_another_device(make_client, push_service, officer):
    phone, desk = _phone_and_desk(make_client, push_service, "wang")
    phone_row, desk_row = _live(officer.id)
    assert [s.session_id for s in _subscriptions(officer.id)] == [phone_row.id, desk_row.id]

    page = desk.client.get("/account").get_data(as_text=True)
    assert "安卓手机上的 Chrome" in page and "Windows 电脑上的 Chrome" in page
    assert page.count('name="session_id"') == 1  # the device in use is marked, not offered
    assert f'name="session_id" value="{phone_row.id}"' in page

    response = desk.post("/account/devices/revoke", {"session_id": str(phone_row.id)}, from_page="/account")
    assert response.status_code == 303

    assert _signed_out(phone)  # session cookie and remember cookie both dead
    assert desk.client.get("/home/officer").status_code == 200
    assert [s.session_id for s in _subscriptions(officer.id)] == [desk_row.id]
    revoked = db.session.get(UserSession, phone_row.id)
    assert revoked.revoked_at is not None and revoked.wipe_requested_at == revoked.revoked_at
    assert db.session.get(UserSession, desk_row.id).revoked_at is None
    entries = _audit("device_revoked")
    assert len(entries) == 1 and entries[0].actor_id == officer.id and entries[0].object_id == officer.id
    assert json.loads(entries[0].detail)["session"] == phone_row.id
    # Done by the person themselves: no inbox entry about it.
    assert db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.kind == "device_revoked")) == 0


def test_revoke_refuses_malformed_and_foreign_sessions_and_changes_nothing(make_client, station, officer):
    other = make_user(station, Role.OFFICER, username="li")
    commit()
    phone, desk, stranger = (_browser(make_client, PHONE_AGENT), _browser(make_client, DESK_AGENT),
                             _browser(make_client, PHONE_AGENT))
    phone.login("wang")
    desk.login("wang", remember=False)
    stranger.login("li")
    phone_row, desk_row = _live(officer.id)
    (others_row,) = _live(other.id)
    for value, status in [("", 422), ("abc", 422), ("-1", 422), ("1.5", 422), ("9" * 20, 422),
                          ("١٢", 422), ("99999", 404), (str(others_row.id), 404), (str(desk_row.id), 422)]:
        response = desk.post("/account/devices/revoke", {"session_id": value}, from_page="/account")
        assert response.status_code == status, value
    revoke = "/account/devices/revoke"
    assert desk.post(revoke, {"session_id": "1\x00"}, from_page="/account").status_code == 400
    assert desk.client.post(revoke, data={"session_id": str(phone_row.id)}).status_code == 400  # no CSRF
    assert len(_live(officer.id)) == 2 and len(_live(other.id)) == 1
    assert _audit("device_revoked") == []
    # The one that is gone already: 404, not a second revocation.
    assert desk.post("/account/devices/revoke", {"session_id": str(phone_row.id)},
                     from_page="/account").status_code == 303
    assert desk.post("/account/devices/revoke", {"session_id": str(phone_row.id)},
                     from_page="/account").status_code == 404
    assert len(_audit("device_revoked")) == 1
    assert stranger.client.get("/home/officer").status_code == 200


def test_sign_out_everywhere_drops_every_devices_alerts(make_client, push_service, officer):
    phone, desk = _phone_and_desk(make_client, push_service, "wang")
    store_device(officer.id, push_service.subscribe("from-before-sessions-were-linked"))
    commit()
    assert len(_subscriptions(officer.id)) == 3
    assert desk.post("/account/sign-out-everywhere", from_page="/account").status_code == 303
    assert _subscriptions(officer.id) == []
    assert _signed_out(phone)


def test_a_new_password_drops_the_other_devices_alerts_keeps_this_ones(make_client, push_service, officer):
    phone, desk = _phone_and_desk(make_client, push_service, "wang")
    store_device(officer.id, push_service.subscribe("from-before-sessions-were-linked"))
    commit()
    _phone_row, desk_row = _live(officer.id)
    response = desk.post("/account/password", {"current": "correct horse battery",
                                               "new": "a quite different passphrase 7",
                                               "confirm": "a quite different passphrase 7"},
                         from_page="/account/password")
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    assert [s.session_id for s in _subscriptions(officer.id)] == [desk_row.id]
    assert phone.client.get("/home/officer").status_code == 302


def test_an_admin_revokes_a_persons_phone_and_the_person_is_told(make_client, push_service, station, officer):
    make_user(station, Role.ADMIN, username="boss")
    elsewhere = make_station("OTHER-PS")
    make_user(elsewhere, Role.ADMIN, username="faraway")
    make_user(station, Role.OFFICER, username="colleague")
    commit()
    phone, desk = _phone_and_desk(make_client, push_service, "wang")
    phone_row, desk_row = _live(officer.id)
    admin, faraway, colleague = (Browser(make_client()) for _ in range(3))
    admin.login("boss")
    faraway.login("faraway")
    colleague.login("colleague")

    page = admin.client.get(f"/admin/users/{officer.id}").get_data(as_text=True)
    assert "安卓手机上的 Chrome" in page and f'value="{phone_row.id}"' in page
    path = f"/admin/users/{officer.id}/revoke-device"
    assert faraway.post(path, {"session_id": str(phone_row.id)}, from_page="/account").status_code == 404
    assert colleague.post(path, {"session_id": str(phone_row.id)}, from_page="/account").status_code == 403
    assert admin.post(path, {"session_id": "x"}, from_page=f"/admin/users/{officer.id}").status_code == 422
    assert len(_live(officer.id)) == 2

    response = admin.post(path, {"session_id": str(phone_row.id)}, from_page=f"/admin/users/{officer.id}")
    assert response.status_code == 303
    assert _signed_out(phone)
    assert desk.client.get("/home/officer").status_code == 200
    assert [s.session_id for s in _subscriptions(officer.id)] == [desk_row.id]
    (entry,) = _audit("device_revoked")
    assert entry.object_id == officer.id and entry.actor_id != officer.id
    (notice,) = db.session.scalars(select(Notification).where(Notification.user_id == officer.id,
                                                              Notification.kind == "device_revoked"))
    assert notice.link == "/account" and "Android" not in notice.text and "boss" not in notice.text
    # An admin's session id on another person's page is not that person's: 404.
    (admin_row,) = _live(db.session.scalar(select(UserSession.user_id).where(UserSession.id > desk_row.id)
                                           .order_by(UserSession.id)))
    assert admin.post(path, {"session_id": str(admin_row.id)},
                      from_page=f"/admin/users/{officer.id}").status_code == 404


# --- the revoked phone comes back -----------------------------------------------------------------


def _report(community_id: int, recorded_at) -> dict:
    fields = {"category": "neighbour", "community_id": str(community_id),
              "summary": f"楼道堆物争执 {uuid.uuid4().hex[:6]}"}
    if recorded_at is not None:
        fields["recorded_at"] = recorded_at.isoformat()
    return {"uuid": str(uuid.uuid4()), "kind": "lead.report", "photos": [], "fields": fields}


def _stored(*items: dict) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Lead)
                             .where(Lead.uuid.in_([item["uuid"] for item in items]))) or 0


@pytest.fixture
def volunteer_world(app_ctx):
    station = make_station()
    officer = make_user(station, Role.OFFICER, username="oa")
    community = make_community(station, officer=officer)
    volunteer = make_user(station, Role.VOLUNTEER, username="va", community=community)
    commit()
    return volunteer, community


def test_a_revoked_phone_sends_only_what_it_recorded_before_then_wipes(make_client, volunteer_world):
    volunteer, community = volunteer_world
    phone, desk = _browser(make_client, PHONE_AGENT), _browser(make_client, DESK_AGENT)
    phone.login("va", remember=True)
    desk.login("va", remember=False)
    old_token = phone.client.get("/sync/session").get_json()["csrf"]
    phone_row = _live(volunteer.id)[0]
    before = _report(community.id, utcnow() - timedelta(minutes=20))
    also_before = _report(community.id, utcnow() - timedelta(minutes=5))
    assert desk.post("/account/devices/revoke", {"session_id": str(phone_row.id)},
                     from_page="/account").status_code == 303
    db.session.expire_all()
    revoked_at = db.session.get(UserSession, phone_row.id).revoked_at
    after = _report(community.id, revoked_at + timedelta(seconds=1))
    undated = _report(community.id, None)

    # Pages say so (the worker starts its wipe), the session answer too, with a token to send with.
    page = phone.client.get("/home/volunteer")
    assert page.status_code == 302
    assert phone.client.get("/login").headers.get("X-Wipe") == "1"
    told = phone.client.get("/sync/session")
    assert told.status_code == 401 and told.headers["Cache-Control"] == "no-store"
    body = told.get_json()
    assert body["wipe"] is True and body["user_id"] == volunteer.id and body["csrf"]

    batch = {"items": [before, after, undated, also_before]}
    assert phone.client.post("/sync", json=batch, headers={"X-CSRFToken": "forged"}).status_code == 400
    answer = phone.client.post("/sync", json=batch, headers={"X-CSRFToken": body["csrf"]})
    assert answer.status_code == 401
    result = answer.get_json()
    assert result["wipe"] is True
    assert [r["status"] for r in result["results"]] == ["created", "forbidden", "forbidden", "created"]
    assert _stored(before, also_before) == 2 and _stored(after, undated) == 0
    lead = db.session.scalar(select(Lead).where(Lead.uuid == before["uuid"]))
    assert lead.reporter_id == volunteer.id

    # Replays (a dropped answer, the same batch again, with the old token too) stay exactly once.
    again = phone.client.post("/sync", json=batch, headers={"X-CSRFToken": old_token})
    assert again.status_code == 401
    assert [r["status"] for r in again.get_json()["results"]] == ["duplicate", "forbidden", "forbidden",
                                                                    "duplicate"]
    assert _stored(before, also_before) == 2 and _stored(after, undated) == 0
    entries = _audit("sync_after_revocation")
    assert sorted(json.loads(e.detail)["status"] for e in entries) == ["created", "created", "duplicate",
                                                                       "duplicate"]
    assert {e.object_id for e in entries} == {phone_row.id}

    # The remember cookie alone (the browser reopened) is answered the same way.
    phone.client.delete_cookie("session")
    assert phone.client.get("/sync/session").get_json()["wipe"] is True

    # A malformed batch is still 400; malformed items are answered invalid one by one; nothing stored.
    token = phone.client.get("/sync/session").get_json()["csrf"]
    earlier = revoked_at - timedelta(minutes=1)
    assert phone.client.post("/sync", json={"items": "x"}, headers={"X-CSRFToken": token}).status_code == 400
    bad = {"items": [1, {**_report(community.id, earlier), "uuid": 7}]}
    answer = phone.client.post("/sync", json=bad, headers={"X-CSRFToken": token})
    assert answer.status_code == 401 and answer.get_json()["wipe"] is True
    assert [r["status"] for r in answer.get_json()["results"]] == ["invalid", "invalid"]
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 2


def test_a_signed_out_or_unknown_phone_is_not_told_to_wipe(make_client, volunteer_world):
    _volunteer, community = volunteer_world
    stranger = make_client()
    assert stranger.get("/sync/session").get_json() == {"error": "sign_in_required"}
    assert "X-Wipe" not in stranger.get("/login").headers
    signed_out = Browser(make_client())
    signed_out.login("va")
    assert signed_out.logout().status_code == 303
    assert signed_out.client.get("/sync/session").get_json() == {"error": "sign_in_required"}
    assert "X-Wipe" not in signed_out.client.get("/login").headers


def test_a_recovered_phone_signs_in_again_and_is_no_longer_told_to_wipe(make_client, volunteer_world):
    volunteer, _community = volunteer_world
    phone, desk = _browser(make_client, PHONE_AGENT), _browser(make_client, DESK_AGENT)
    phone.login("va", remember=True)
    desk.login("va", remember=False)
    phone_row = _live(volunteer.id)[0]
    desk.post("/account/devices/revoke", {"session_id": str(phone_row.id)}, from_page="/account")
    login_page = phone.client.get("/login")
    assert login_page.headers.get("X-Wipe") == "1"
    assert 'id="wiped-notice"' in login_page.get_data(as_text=True)
    assert phone.login("va", remember=True).status_code == 303
    assert phone.client.get("/sync/session").status_code == 200
    assert "X-Wipe" not in phone.client.get("/home/volunteer").headers


def test_a_wiped_phone_forgets_the_revoked_session_so_pages_stop_saying_wipe(make_client, volunteer_world):
    """The worker's last step: without it every page (the sign-in page too) starts a new wipe,
    which takes the sign-in page away from a person signing in again."""
    volunteer, _community = volunteer_world
    phone, desk = _browser(make_client, PHONE_AGENT), _browser(make_client, DESK_AGENT)
    phone.login("va", remember=True)
    desk.login("va", remember=False)
    desk.post("/account/devices/revoke", {"session_id": str(_live(volunteer.id)[0].id)}, from_page="/account")
    token = phone.client.get("/sync/session").get_json()["csrf"]
    assert phone.client.post("/sync/session/forget").status_code == 400  # no token: refused
    assert phone.client.get("/login").headers.get("X-Wipe") == "1"

    assert phone.client.post("/sync/session/forget", headers={"X-CSRFToken": token}).status_code == 204
    assert "X-Wipe" not in phone.client.get("/login").headers
    assert phone.client.get("/sync/session").get_json() == {"error": "sign_in_required"}
    # Someone signed in is not signed out by it.
    token = desk.client.get("/sync/session").get_json()["csrf"]
    answer = desk.client.post("/sync/session/forget", headers={"X-CSRFToken": token})
    assert answer.status_code == 409 and answer.get_json()["error"] == "signed_in"
    assert desk.client.get("/sync/session").status_code == 200


def test_demo_devices_load_once_and_no_cookie_reaches_them(app_ctx):
    runner = app_ctx.test_cli_runner()
    assert "2 devices added" in runner.invoke(args=["demo", "load"]).output
    assert "0 devices added" in runner.invoke(args=["demo", "load"]).output
    officer_id = db.session.scalar(select(UserSession.user_id)
                                   .where(UserSession.token_hash == "demo-officer-desk-pc"))
    rows = _sessions(officer_id)
    live = [(r.revoked_at is None, r.wipe_requested_at is None) for r in rows]
    assert live == [(True, True), (False, False)]  # the desk PC signed in; the old phone lost
    for row in rows:  # a marker, not a digest: no token names these rows
        assert load_user_from_session_id(f"{officer_id}.{row.token_hash}") is None
        assert len(row.token_hash) != 64


def test_sealed_items_from_a_revoked_phone_are_judged_by_their_sealed_time(make_client, volunteer_world):
    """A DV report sealed on the phone: its time is inside the seal, opened before it is judged."""
    volunteer, community = volunteer_world
    phone, desk = _browser(make_client, PHONE_AGENT), _browser(make_client, DESK_AGENT)
    phone.login("va", remember=True)
    desk.login("va", remember=False)
    phone_row = _live(volunteer.id)[0]
    desk.post("/account/devices/revoke", {"session_id": str(phone_row.id)}, from_page="/account")
    db.session.expire_all()
    revoked_at = db.session.get(UserSession, phone_row.id).revoked_at
    key = seal_keys().private_key.public_key()
    items = []
    for when in (revoked_at - timedelta(minutes=3), revoked_at + timedelta(minutes=3)):
        plain = _report(community.id, when)
        plain["fields"].update(uuid=plain["uuid"], flag_dv="y", category="marriage_family")
        items.append(_seal(plain, key))
    token = phone.client.get("/sync/session").get_json()["csrf"]
    answer = phone.client.post("/sync", json={"items": items}, headers={"X-CSRFToken": token})
    assert answer.status_code == 401 and answer.get_json()["wipe"] is True
    assert [r["status"] for r in answer.get_json()["results"]] == ["created", "forbidden"]
    assert _stored(items[0]) == 1 and _stored(items[1]) == 0

"""GET /sync/session — how the phone's worker renews its token — and the X-Signed-In header that
tells the worker whose pages it may keep and show (on each database engine)."""

from __future__ import annotations

import uuid

from tests.conftest import Browser, worker_config
from tests.factories import commit, make_community, make_station, make_user
from webapp.org.models import Role


def _report(community_id: int) -> dict:
    return {"uuid": str(uuid.uuid4()), "kind": "lead.report", "photos": [], "fields": {
        "category": "neighbour", "community_id": str(community_id),
        "summary": "浏览器重开后补发：楼道堆物争执", "recorded_at": "2026-11-30T08:00:00+00:00"}}


def _setup():
    station = make_station()
    officer = make_user(station, Role.OFFICER, username="oa")
    community = make_community(station, officer=officer)
    volunteer = make_user(station, Role.VOLUNTEER, username="va", community=community)
    commit()
    return volunteer, community


def test_signed_out_gets_401_and_nothing_is_cached(client):
    response = client.get("/sync/session")
    assert response.status_code == 401
    assert response.get_json() == {"error": "sign_in_required"}
    assert response.headers["Cache-Control"] == "no-store"


def test_the_token_it_gives_is_accepted_by_sync(client):
    volunteer, community = _setup()
    Browser(client).login("va")
    response = client.get("/sync/session")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["user_id"] == volunteer.id
    synced = client.post("/sync", json={"items": [_report(community.id)]},
                         headers={"X-CSRFToken": body["csrf"]})
    assert synced.status_code == 200, synced.get_data(as_text=True)
    assert synced.get_json()["results"][0]["status"] == "created"


def test_a_reopened_browser_with_only_the_remember_cookie_renews_its_token(app_ctx, make_client):
    """The session cookie died with the browser; the stored token is refused; the remember-me
    cookie alone gets a new token, and the same item then goes through."""
    _volunteer, community = _setup()
    phone = make_client()
    Browser(phone).login("va", remember=True)
    old_token = phone.get("/sync/session").get_json()["csrf"]
    remember = phone.get_cookie("remember_token")
    assert remember is not None

    reopened = make_client()
    reopened.set_cookie("remember_token", remember.value)
    item = _report(community.id)
    refused = reopened.post("/sync", json={"items": [item]}, headers={"X-CSRFToken": old_token})
    assert refused.status_code == 400 and refused.get_json() == {"error": "csrf"}
    renewed = reopened.get("/sync/session")
    assert renewed.status_code == 200
    synced = reopened.post("/sync", json={"items": [item]},
                           headers={"X-CSRFToken": renewed.get_json()["csrf"]})
    assert synced.get_json()["results"][0]["status"] == "created"


def test_every_page_says_for_whom_it_was_made(client):
    volunteer, _community = _setup()
    assert client.get("/login").headers["X-Signed-In"] == "0"
    Browser(client).login("va")
    page = client.get("/leads/new")
    assert page.status_code == 200 and page.headers["X-Signed-In"] == str(volunteer.id)
    # Not on what is not a page: the worker learns from pages and from /sync/session only.
    assert "X-Signed-In" not in client.get("/sync/session").headers
    worker = client.get("/sw.js")
    config = worker_config(worker.get_data(as_text=True))
    assert config["sessionUrl"] == "/sync/session"
    assert set(config["authPaths"]) == {"/login", "/logout", "/account/sign-out-everywhere"}

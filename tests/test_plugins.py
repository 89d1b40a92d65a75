"""A feature plugs in without touching the machinery: a new notification kind needs no change in
notify (inbox, push), a new sync kind none in sync (/sync, OpenAPI). Both are made up here, about
a record kind the app does not have, so nothing of leads can be what makes them work."""

from __future__ import annotations

import uuid

import pytest
from flask_babel import lazy_gettext as _l

from tests.conftest import Browser
from tests.factories import PASSWORD, make_station, make_user
from webapp import notices
from webapp.access import signed_in
from webapp.extensions import db
from webapp.notify.models import Notification
from webapp.notify.push import payload_for
from webapp.org.models import Role
from webapp.sync import kinds
from webapp.sync.kinds import ItemResult, SyncKind

notices.register_kinds({"test_session_invite": _l("You are invited to a session")})


@pytest.fixture
def person(app_ctx):
    user = make_user(make_station(), Role.MEDIATOR, username="plug_mediator")
    user.locale = "en"
    db.session.commit()
    browser = Browser(app_ctx.test_client())
    browser.client.set_cookie("lang", "en")
    assert browser.login("plug_mediator", PASSWORD).status_code == 303
    return user, browser


def test_a_new_notification_kind_reaches_the_inbox_and_the_push(person):
    user, browser = person
    notice = notices.Notice(kind="test_session_invite", subject_kind="mediation", subject_id=7,
                            link="/mediation/7", text=_l("Open Beatbook to see it."), occurrence="1")
    assert notices.announce([user], notice) == 1
    assert notices.announce([user], notice) == 0  # the same event again: told once
    db.session.commit()

    [row] = db.session.scalars(db.select(Notification).where(Notification.user_id == user.id))
    assert (row.subject_kind, row.subject_id, row.link) == ("mediation", 7, "/mediation/7")
    assert payload_for(row, user) == {"title": "You are invited to a session",
                                      "body": "Open Beatbook to see it.", "url": "/mediation/7",
                                      "tag": "mediation-7", "id": row.id}
    inbox = browser.client.get("/inbox/").get_data(as_text=True)
    assert "You are invited to a session" in inbox and "#7" in inbox
    opened = browser.post(f"/inbox/{row.id}/open", from_page="/inbox/")
    assert opened.status_code == 303 and opened.location.endswith("/mediation/7")


def test_a_new_sync_kind_is_served_and_described_by_sync(person, monkeypatch):
    user, browser = person

    def apply(sender, item_uuid: str, item: dict) -> ItemResult:
        assert sender.id == user.id
        return ItemResult(item_uuid, "created", f"/mediation/sessions/{item['fields']['room']}")

    monkeypatch.setitem(kinds._KINDS, "test.session", SyncKind("test.session", signed_in, apply, properties={
        "room": {"type": "string", "description": "test.session only"}}))
    item = {"uuid": str(uuid.uuid4()), "kind": "test.session", "fields": {"room": "3"}}
    response = browser.client.post("/sync", json={"items": [item]},
                                   headers={"X-CSRFToken": browser.token("/account")})
    assert response.status_code == 200
    assert response.get_json()["results"] == [
        {"uuid": item["uuid"], "index": 0, "status": "created", "url": "/mediation/sessions/3"}]
    schema = browser.client.get("/api/openapi.json").get_json()
    item_schema = schema["paths"]["/sync"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    variants = item_schema["properties"]["items"]["items"]["oneOf"]
    variant, = (v for v in variants if v["properties"]["kind"]["enum"] == ["test.session"])
    assert "room" in variant["properties"]

"""The pull feed: token auth, cursor paging, signature, malformed input, token management access."""

from __future__ import annotations

import hashlib
import hmac
import re

import pytest
from sqlalchemy import func, select

from tests.conftest import Browser
from tests.factories import commit, make_station, make_user
from tests.govfeed.conftest import DEADLINES
from webapp.extensions import db
from webapp.govfeed.models import FeedEntry, FeedToken
from webapp.govfeed.services import issue_token
from webapp.leads.lifecycle import perform
from webapp.org.models import Role


def _token(world) -> str:
    _, plain = issue_token(world.station, "区综治中心", world.liaison)
    commit()
    return plain


def _pull(client, token: str | None, **params):
    headers = {"Accept": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return client.get("/api/feed", query_string=params, headers=headers)


def test_pages_return_each_entry_once_in_order_and_changes_add_entries(feed_world, client):
    leads = [feed_world.lead(summary=f"纠纷{i}") for i in range(5)]
    commit()
    token = _token(feed_world)
    first = _pull(client, token, limit=3).get_json()
    assert [e["event"] for e in first["entries"]] == ["registered"] * 3 and first["more"] is True
    second = _pull(client, token, cursor=first["next_cursor"], limit=3).get_json()
    assert len(second["entries"]) == 2 and second["more"] is False
    seqs = [e["seq"] for e in first["entries"] + second["entries"]]
    assert seqs == sorted(set(seqs)) and len(seqs) == 5
    # A change to a lead is a new entry after the cursor, with the new status.
    lead = db.session.merge(leads[0])
    perform(lead, db.session.merge(feed_world.officer), "accept", DEADLINES)
    commit()
    third = _pull(client, token, cursor=second["next_cursor"]).get_json()
    assert [(e["event"], e["lead"]["status"]) for e in third["entries"]] == [("accept", "accepted")]
    assert third["entries"][0]["lead"]["ref"] == first["entries"][0]["lead"]["ref"]
    assert _pull(client, token, cursor=third["next_cursor"]).get_json()["entries"] == []


def test_signature_verifies_with_the_token(feed_world, client):
    feed_world.lead()
    commit()
    token = _token(feed_world)
    response = _pull(client, token)
    expected = "sha256=" + hmac.new(token.encode(), response.get_data(), hashlib.sha256).hexdigest()
    assert response.headers["X-Beatbook-Signature"] == expected
    assert response.headers["Cache-Control"] == "no-store"
    tampered = response.get_data().replace(b"registered", b"registerex")
    assert "sha256=" + hmac.new(token.encode(), tampered, hashlib.sha256).hexdigest() != expected


def test_revoked_unknown_or_missing_token_is_401_and_last_use_is_shown(feed_world, client, person):
    token = _token(feed_world)
    assert _pull(client, token).status_code == 200
    person.login("liaison")
    page = client.get("/feed/tokens").get_data(as_text=True)
    assert token[:12] in page and token not in page  # the prefix only; the token itself never again
    stored = db.session.scalar(select(FeedToken))
    assert stored.last_used_at is not None and stored.token_hash != token
    response = person.post(f"/feed/tokens/{stored.id}/revoke", from_page="/feed/tokens")
    assert response.status_code == 303
    for bad in (token, token + "x", "bbf_" + "A" * 43, None, ""):
        answer = _pull(client, bad)
        assert answer.status_code == 401 and answer.get_json()["error"] == "unauthorized"
    assert client.get("/api/feed", headers={"Authorization": "Basic abc"}).status_code == 401
    # broken characters in a header: refused before the feed (400) or by it (401), never 200/500
    assert client.get("/api/feed", headers={"Authorization": "Bearer \udcff\x00"}).status_code in (400, 401)


@pytest.mark.parametrize(("params", "word"), [
    ({"cursor": "abc"}, "cursor"), ({"cursor": "-1"}, "cursor"), ({"cursor": "1.5"}, "cursor"),
    ({"cursor": "9" * 20}, "cursor"), ({"cursor": "\x00"}, None), ({"cursor": "１２"}, "cursor"),
    ({"cursor": "2147483648"}, "cursor"), ({"limit": "0"}, "limit"), ({"limit": "501"}, "limit"),
    ({"limit": "ten"}, "limit"), ("limit=%ED%A0%80", None), ("cursor=%FF%FE", None),
])
def test_malformed_cursor_or_limit_is_400_with_a_message(feed_world, client, params, word):
    token = _token(feed_world)
    if isinstance(params, str):  # bytes that are not UTF-8
        response = client.get(f"/api/feed?{params}", headers={"Authorization": f"Bearer {token}",
                                                              "Accept": "application/json"})
    else:
        response = _pull(client, token, **params)
    assert response.status_code == 400
    body = response.get_json()
    assert body["detail"]
    if word is not None:  # NUL and broken characters are refused before the feed, for every route
        assert body["error"] == "bad_request" and word in body["detail"]


def test_only_the_station_sees_its_feed(feed_world, client):
    feed_world.lead()
    other = make_station("OTHER-PS")
    outsider = make_user(other, Role.LIAISON, username="outsider")
    _, plain = issue_token(other, "other", outsider)
    commit()
    assert _pull(client, plain).get_json()["entries"] == []
    assert _pull(client, _token(feed_world)).get_json()["entries"] != []


@pytest.mark.parametrize(("username", "status"), [
    ("liaison", 200), ("chief", 200), ("admin", 200), ("officer", 403), ("vol", 403)])
def test_who_manages_tokens(feed_world, client, username, status):
    person = Browser(client)
    person.login(username)
    assert client.get("/feed/tokens").status_code == status


def test_issue_token_and_bad_names(feed_world, client, person):
    person.login("chief")
    response = person.post("/feed/tokens", {"name": "区综治中心"})
    assert response.status_code == 200
    shown = re.search(r'<code id="new-token">([^<]+)</code>', response.get_data(as_text=True)).group(1)
    assert _pull(client, shown).status_code == 200
    for bad in ("", "x" * 81, "bad\x00name"):
        answer = person.post("/feed/tokens", {"name": bad})
        assert answer.status_code in (400, 422)
    assert db.session.scalar(select(func.count(FeedToken.id))) == 1


def test_another_stations_token_cannot_be_revoked(feed_world, client, person):
    other = make_station("OTHER-PS")
    token, plain = issue_token(other, "other", make_user(other, Role.LIAISON, username="x1"))
    commit()
    person.login("liaison")
    assert person.post(f"/feed/tokens/{token.id}/revoke", from_page="/feed/tokens").status_code == 404
    huge = "/feed/tokens/99999999999999999999/revoke"
    assert person.post(huge, from_page="/feed/tokens").status_code == 404
    assert _pull(client, plain).status_code == 200


def test_openapi_describes_the_feed(client):
    document = client.get("/api/openapi.json").get_json()
    assert "/api/feed" in document["paths"] and "/sync" in document["paths"]


def test_liaison_home_shows_what_was_pushed(feed_world, client, person):
    feed_world.lead()
    feed_world.lead(flag_dv=True)
    commit()
    token = _token(feed_world)
    _pull(client, token)
    person.login("liaison")
    page = client.get("/home/liaison").get_data(as_text=True)
    assert db.session.scalar(select(func.count(FeedEntry.id))) == 2
    assert "脱敏推送数据共 2 条" in page and "最近一次拉取" in page  # both entries (the DV one counted)
    assert "/feed/tokens" in page and "1 个令牌" in page
    assert "邻里噪音纠纷" not in page  # counts only, no lead

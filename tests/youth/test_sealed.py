"""Sealed profiles: for everyone but the youth team and the station's supervisors they do not
exist — no page, no form, no list, no search result, no sync answer; every opening is audited."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import select

from tests.youth.conftest import GUARDIAN_PHONE, OUTSIDERS, SECRET, audit_entries, counts
from webapp import access
from webapp.extensions import db
from webapp.org.models import User
from webapp.youth.services import profile_list, sessions_due

RECORD_PAGES = ("/youth/profiles/{id}", "/youth/profiles/{id}/edit", "/youth/profiles/{id}/sessions/new")
RECORD_POSTS = ("/youth/profiles/{id}/reveal", "/youth/profiles/{id}/close", "/youth/profiles/{id}/leads",
                "/youth/profiles/{id}/sessions/new", "/youth/profiles/{id}/edit")
LIST_PAGES = ("/youth/", "/youth/?q=赵", "/youth/?status=all", "/youth/profiles/new", "/youth/figures")


@pytest.mark.parametrize("who", (*OUTSIDERS, "nobody"))
def test_outsiders_get_no_profile_page_and_no_form(cast, who):
    before = counts()
    profile_id = cast.ids["profile"]
    for path in RECORD_PAGES + LIST_PAGES:
        response = cast.get(who, path.format(id=profile_id))
        if who == "nobody":
            assert response.status_code in (302, 303) and "/login" in response.location, path
        elif who.endswith("_elsewhere") and path in LIST_PAGES:
            assert response.status_code == 200  # their own station's lists: ours is not in them
        else:
            assert response.status_code in (403, 404), (path, response.status_code)
        assert SECRET not in response.get_data(as_text=True)
    valid_close = {"reason": "helped", "closed_on": "2026-11-20", "note": "已复学"}
    for path in RECORD_POSTS:
        response = cast.post(who, path.format(id=profile_id), valid_close)
        if who == "nobody":
            assert response.status_code in (302, 303, 400), (path, response.status_code)
        else:
            assert response.status_code in (403, 404), (path, response.status_code)
        body = response.get_data(as_text=True)
        assert SECRET not in body and GUARDIAN_PHONE not in body
    assert counts() == before
    assert audit_entries("view", profile_id) == [] and audit_entries("reveal_guardian", profile_id) == []


@pytest.mark.parametrize("who", OUTSIDERS)
def test_no_trace_in_their_lists_search_home_and_sync(cast, who):
    user = db.session.scalar(select(User).where(User.username == who))
    assert profile_list(user, status="all") == [] and sessions_due(user, date(2100, 1, 1)) == []
    assert access.find_profile(user, cast.ids["profile"]) is None
    home = cast.get(who, "/").location or "/account"
    pages = [home, "/leads/", f"/leads/?q={SECRET}", "/inbox/", "/account", "/youth/outreach"]
    for path in pages:
        body = cast.get(who, path).get_data(as_text=True)  # a search echoes its words: look for the rest
        leaks = ("赵小五", "赵**", "父母离异", "谈心", f"西门口中学 {SECRET}",
                 f"/youth/profiles/{cast.ids['profile']}")
        assert [leak for leak in leaks if leak in body] == [], path
    token = cast.get(who, "/sync/session").get_json()["csrf"]
    item_id = str(uuid.uuid4())
    response = cast.browser(who).client.post("/sync", headers={"X-CSRFToken": token}, json={"items": [{
        "uuid": item_id, "kind": "youth.session", "fields": {
            "uuid": item_id, "profile_id": str(cast.ids["profile"]), "kind": "counselling",
            "held_on": "2026-11-20", "duration_minutes": "45", "notes": "x"}}]})
    assert response.status_code == 200
    assert response.get_json()["results"] == [{"uuid": item_id, "status": "forbidden"}]
    assert SECRET not in response.get_data(as_text=True)


@pytest.mark.parametrize("who", ("youth_team", "youth2", "supervisor"))
def test_each_opening_is_audited_and_never_stored(cast, who):
    profile_id = cast.ids["profile"]
    for _ in range(2):
        response = cast.get(who, f"/youth/profiles/{profile_id}")
        assert response.status_code == 200
        assert "no-store" in response.headers["Cache-Control"] and "X-Offline-Cache" not in response.headers
        body = response.get_data(as_text=True)
        assert SECRET in body and "赵小五" in body
        assert GUARDIAN_PHONE not in body and "139****7788" in body  # masked until revealed
    views = audit_entries("view", profile_id)
    me = db.session.scalar(select(User.id).where(User.username == who))
    assert [entry.actor_id for entry in views] == [me, me]
    cast.get(who, f"/youth/profiles/{profile_id}/edit")
    assert len(audit_entries("view", profile_id)) == 3
    revealed = cast.post(who, f"/youth/profiles/{profile_id}/reveal", headers={"HX-Request": "true"})
    assert revealed.status_code == 200 and GUARDIAN_PHONE in revealed.get_data(as_text=True)
    assert "no-store" in revealed.headers["Cache-Control"]
    assert [entry.actor_id for entry in audit_entries("reveal_guardian", profile_id)] == [me]


def test_lists_show_masked_names_only(cast):
    body = cast.get("youth_team", "/youth/?status=all").get_data(as_text=True)
    assert "赵**" in body and "赵小五" not in body
    assert "no-store" in cast.get("youth_team", "/youth/").headers["Cache-Control"]
    assert "赵**" in cast.get("youth_team", "/youth/?q=西门口").get_data(as_text=True)
    assert "赵**" not in cast.get("youth_team", "/youth/?q=%25").get_data(as_text=True)  # % is a letter here

"""A NUL byte or a lone surrogate anywhere in a request is a clear 400, never a 500 (issue 10).

PostgreSQL refuses NUL in text; before the edge check a NUL in the sign-in form, a search or any
form reached the database and failed there, even for someone not signed in.
"""

from __future__ import annotations

import json

import pytest

from tests.factories import commit, make_station, make_user
from webapp.org.models import Role

MESSAGE_ZH = "无法保存的字符"


@pytest.fixture
def officer(app_ctx):
    station = make_station()
    user = make_user(station, Role.OFFICER, Role.SUPERVISOR, username="wang")
    commit()
    return user


def _is_clear_400(response) -> None:
    assert response.status_code == 400
    assert MESSAGE_ZH in response.get_data(as_text=True)


def test_nul_in_the_sign_in_form_is_400_without_signing_in(person, officer):
    _is_clear_400(person.post("/login", {"username": "wang\x00", "password": "x\x00y"}))
    # Even without a CSRF token: the check runs before everything else.
    _is_clear_400(person.client.post("/login", data={"username": "\x00"}))


def test_nul_in_a_search_is_400(person, officer):
    person.login("wang")
    _is_clear_400(person.client.get("/leads/?q=a%00b"))
    _is_clear_400(person.client.get("/admin/users?q=%00"))
    assert person.client.get("/leads/?q=ab").status_code == 200


def test_nul_in_the_path_or_a_header_is_400(client, officer):
    _is_clear_400(client.get("/leads/%00"))
    _is_clear_400(client.get("/login", headers={"X-Anything": "a\x00b"}))


def test_lone_surrogate_in_json_is_a_json_400(person, officer):
    """Outside the items of /sync (which answers each item itself, tests/sync/test_malformed_items.py)."""
    person.login("wang")
    token = person.token("/account")
    body = '{"items": [], "note": "\\ud800"}'
    response = person.client.post("/sync", data=body, content_type="application/json",
                                  headers={"X-CSRFToken": token})
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_characters"
    nul = json.dumps({"items": [], "a\x00b": 1})
    response = person.client.post("/sync", data=nul, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_characters"


def test_a_bad_character_inside_one_sync_item_is_that_items_answer(person, officer):
    person.login("wang")
    body = '{"items": [{"kind": "lead", "summary": "\\ud800"}, {"kind": "x", "fields": {"a": "a\\u0000b"}}]}'
    response = person.client.post("/sync", data=body, content_type="application/json",
                                  headers={"X-CSRFToken": person.token("/account")})
    assert response.status_code == 200
    assert [r["status"] for r in response.get_json()["results"]] == ["invalid", "invalid"]


def test_nul_in_a_form_key_or_upload_name_is_400(person, officer):
    person.login("wang")
    _is_clear_400(person.post("/leads/new", {"summ\x00ary": "x"}))

"""Passwords: common and trivial ones and ones holding the user name are refused (issue 10)."""

from __future__ import annotations

import pytest

from tests.conftest import Browser
from tests.factories import commit, make_station, make_user
from webapp.org.models import Role
from webapp.org.services import password_problem


@pytest.mark.parametrize(("password", "problem"), [
    ("aaaaaaaaaa", "too_weak"),
    ("1234567890", "too_weak"),
    ("password12", "too_weak"),
    (" " * 10, "too_weak"),
    ("qwertyuiop", "too_weak"),
    ("short", "too_short"),
    ("wangwei-2026!x", "contains_name"),
    ("correct horse battery", None),
    ("tangerine harbour lantern", None),
])
def test_password_rules(password, problem):
    assert password_problem(password, "wangwei", "Wang Wei") == problem


def test_the_admin_form_refuses_a_trivial_password_with_a_message(client, app_ctx):
    station = make_station()
    make_user(station, Role.ADMIN, username="boss")
    commit()
    client.set_cookie("lang", "en")
    admin = Browser(client)
    admin.login("boss")
    for password, message in (("password12", "Too easy to guess"),
                              ("newbie-newbie-2026", "must not contain the user name")):
        response = admin.post("/admin/users/new", {
            "username": "newbie", "display_name": "New Person", "roles": "volunteer",
            "password": password}, from_page="/admin/users/new")
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)

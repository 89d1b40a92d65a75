"""Numbers no INTEGER column holds (PostgreSQL: 32 bits; SQLite: 64) in a URL, a query string or a
form: a 404, an ignored filter or a form error — never a 500 from the database (issue 10)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.org.models import User

HUGE = ["99999999999999999999", str(2**31), str(2**63)]


@pytest.mark.parametrize("number", HUGE)
@pytest.mark.parametrize(("person", "path"), [
    ("oa", "/leads/{}"), ("oa", "/visits/{}"), ("admin", "/admin/users/{}"),
    ("admin", "/admin/communities/{}"), ("oa", "/leads/{}/photos/1"),
])
def test_a_huge_id_in_a_url_is_not_found(fctx, person, path, number):
    assert fctx.browser(person).client.get(path.format(number)).status_code == 404


@pytest.mark.parametrize("number", HUGE)
@pytest.mark.parametrize(("person", "path"), [
    ("oa", "/leads/?community_id={}"), ("oa", "/leads/?q={}"), ("admin", "/admin/users?page={}"),
    ("va", "/leads/new?visit={}"),
])
def test_a_huge_number_in_a_query_string_is_ignored(fctx, person, path, number):
    assert fctx.browser(person).client.get(path.format(number)).status_code == 200


@pytest.mark.parametrize("number", HUGE)
def test_a_huge_id_in_the_org_admins_form_is_a_form_error(fctx, number):
    browser = fctx.browser("admin")
    db.session.rollback()
    people = db.session.scalar(select(func.count()).select_from(User))
    response = browser.post("/admin/users/new", {
        "username": "big_number", "display_name": "张三", "roles": "volunteer", "community_id": number,
        "grid_id": "", "is_enabled": "y", "password": "Blue-harbour-lantern-42"})
    assert response.status_code in (200, 400, 422), response.status_code
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(User)) == people

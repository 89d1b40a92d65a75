"""Supervisors read the audit log at /audit/: filters, pages, both response shapes; sign-ins,
sign-outs and failed sign-ins are in it (issue 10)."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from tests.conftest import Browser
from tests.factories import commit, make_station, make_user
from webapp.audit.models import AuditEntry
from webapp.audit.services import record
from webapp.extensions import db
from webapp.org.models import Role, User


@pytest.fixture
def station(app_ctx):
    station = make_station()
    make_user(station, Role.SUPERVISOR, username="sup")
    make_user(station, Role.OFFICER, username="wang")
    commit()
    return station


def test_sign_in_sign_out_and_failures_are_audited(make_client, station):
    phone = Browser(make_client())
    phone.client.environ_base["REMOTE_ADDR"] = "10.2.3.4"
    phone.login("wang", "wrong password!")
    phone.login("nobody", "wrong password!")
    phone.login("wang")
    phone.logout()
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action.like("sign_%"))
                                 .order_by(AuditEntry.seq)).all()
    assert [e.action for e in entries] == ["sign_in_failed", "sign_in_failed", "sign_in", "sign_out"]
    assert {e.address for e in entries} == {"10.2.3.4"}
    assert json.loads(entries[1].detail) == {"username": "nobody"}
    assert "password" not in " ".join(e.detail for e in entries)


def test_the_page_is_for_supervisors_in_both_shapes(make_client, station):
    officer = Browser(make_client())
    officer.login("wang")
    assert officer.client.get("/audit/").status_code == 403
    sup = Browser(make_client())
    sup.login("sup")
    page = sup.client.get("/audit/")
    assert page.status_code == 200
    assert "HX-Request" in page.headers["Vary"]
    assert "no-store" in page.headers["Cache-Control"]
    body = page.get_data(as_text=True)
    assert "<html" in body and "sign_in" in body
    fragment = sup.client.get("/audit/?action=sign_in", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.get_data(as_text=True)
    assert 'id="audit-rows"' in fragment.get_data(as_text=True)


def test_filters_and_pages(make_client, station):
    wang = db.session.scalar(select(User).where(User.username == "wang"))
    for n in range(60):
        record(wang, "view", "lead", 1000 + n % 3)
    record(None, "probe", "user", 7)
    commit()
    sup = Browser(make_client())
    sup.login("sup")

    def rows(query: str) -> str:
        response = sup.client.get(f"/audit/?{query}", headers={"HX-Request": "true"})
        assert response.status_code == 200
        return response.get_data(as_text=True)

    by_wang = rows("person=wang")
    assert by_wang.count("<tr><td>") == 50 and "before=" in by_wang
    wangs = list(db.session.scalars(select(AuditEntry.seq).where(AuditEntry.actor_id == wang.id)
                                    .order_by(AuditEntry.seq)))
    assert len(wangs) == 60
    assert rows(f"person=wang&before={wangs[10]}").count("<tr><td>") == 10
    one_record = rows("object_type=lead&object_id=1001")
    assert one_record.count("<tr><td>") == 20
    assert rows("action=probe").count("<tr><td>") == 1
    assert rows("from=2000-01-01&to=2000-01-02").count("<tr><td>") == 0
    assert rows("from=not-a-date&object_id=abc").count("<tr><td>") > 0  # bad filters are ignored


def test_actions_are_shown_by_their_label_and_details_as_key_value_text(make_client, station):
    """The page reads the codes for people: a sign-out is 退出登录 (Signed out in English), not
    `sign_out`; details read `role: supervisor; by self: Yes`, not JSON; a code without a label
    (written by a newer version) still shows, as its code."""
    wang = db.session.scalar(select(User).where(User.username == "wang"))
    record(wang, "sign_out", "user", wang.id)
    record(wang, "role_added", "user", wang.id, role="supervisor", by_self=True, leads=[3, 5],
           filters={"q": "x"})
    record(wang, "some_new_action", "user", wang.id)
    commit()
    sup = Browser(make_client())
    sup.login("sup")

    def rows() -> list[tuple[str, str]]:
        """Each row's action cell (code in its title, then the label) and its details, newest first."""
        body = sup.client.get("/audit/?person=wang", headers={"HX-Request": "true"}).get_data(as_text=True)
        cells = [re.findall(r"<td([^>]*)>(.*?)</td>", row, re.S) for row in body.split("<tr>")[2:]]
        return [(f"{row[3][0].strip()}>{row[3][1]}", row[5][1]) for row in cells]

    assert rows() == [
        ('title="some_new_action">some_new_action', "<small></small>"),
        ('title="role_added">授予角色',
         "<small>by self: 是; filters: q=x; leads: 3, 5; role: supervisor</small>"),
        ('title="sign_out">退出登录', "<small></small>"),
    ]
    sup.post("/language", {"lang": "en", "next": "/audit/"}, from_page="/audit/")
    assert [row[0] for row in rows()] == [
        'title="some_new_action">some_new_action', 'title="role_added">Role given',
        'title="sign_out">Signed out']
    assert rows()[1][1] == "<small>by self: Yes; filters: q=x; leads: 3, 5; role: supervisor</small>"


def test_every_action_the_app_writes_has_a_label():
    """A new audited action needs its label (and translation), or the page shows its code."""
    from pathlib import Path

    from webapp.audit.labels import ACTION_LABELS

    written = set()
    for source in (Path(__file__).parents[2] / "webapp").rglob("*.py"):
        written |= set(re.findall(r"\b(?:audit|record|_audit)\(\s*[\w.]+,\s*\"([a-z_]+)\"",
                                  source.read_text(encoding="utf-8")))
    assert len(written) > 40
    assert written - set(ACTION_LABELS) == set()

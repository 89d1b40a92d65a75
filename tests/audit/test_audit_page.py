"""Supervisors read the audit log at /audit/: filters, pages, both response shapes; sign-ins,
sign-outs and failed sign-ins are in it (issue 10)."""

from __future__ import annotations

import json

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

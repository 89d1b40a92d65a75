"""The DV compartment: another officer, a volunteer, an admin and a mediator find no trace of the
case by any route — every DV page about it answers 404, the letters' list and search show nothing,
/sync refuses their DV items, and their inbox holds nothing of it. The assigned officer, the task
force and supervisors see it."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import func, select

from tests.conftest import Browser
from tests.dv.conftest import issued_letter, letter_input
from tests.factories import make_station, make_user
from webapp.dv.models import Delivery, FollowUp
from webapp.dv.services import DeliveryInput, record_delivery, request_letter
from webapp.extensions import db
from webapp.notify.models import Notification
from webapp.org.models import Role
from webapp.timeutil import STATION_TZ, utcnow

OUTSIDERS = ("officer2", "volunteer", "admin", "mediator")
INSIDERS = ("officer", "dvteam", "supervisor")
WORDS = ("张伟", "李秀兰", "酒后")


@pytest.fixture
def case(cast):
    letter = issued_letter(cast)
    delivery, _ = record_delivery(
        cast.dvteam,
        letter,
        DeliveryInput(
            recipient="abuser", method="in_person", outcome="signed", photo=b"\xff\xd8 not really a photo"
        ),
    )
    db.session.commit()
    return cast, letter, delivery


def _record_pages(letter, delivery, lead_id: int) -> list[str]:
    page = f"/dv/letters/{letter.id}"
    return [
        page,
        f"{page}/print",
        f"{page}/pdf",
        f"{page}/deliveries/new",
        f"{page}/deliveries/{delivery.id}/photo",
        f"/dv/followups/{letter.followups[0].id}",
        f"/dv/leads/{lead_id}/letters/new",
        f"/dv/leads/{lead_id}/letters/new?supersedes={letter.id}",
    ]


def test_outsiders_get_404_on_every_dv_page_and_change_nothing(case, make_client):
    cast, letter, delivery = case
    page = f"/dv/letters/{letter.id}"
    posts = {
        f"{page}/approve": {},
        f"{page}/refuse": {"reason": "x"},
        f"{page}/issue": {},
        f"{page}/deliveries/new": {
            "letter_id": str(letter.id),
            "recipient": "victim",
            "method": "in_person",
            "outcome": "signed",
        },
        f"/dv/followups/{letter.followups[0].id}": {
            "followup_id": str(letter.followups[0].id),
            "recurred": "yes",
            "note": "x",
        },
        f"/dv/leads/{cast.lead.id}/letters/new": {
            "abuser_name": "x",
            "relationship": "spouse",
            "victim_name": "y",
            "minors_in_household": "0",
            "facts": "z",
            "evidence": ["admission"],
        },
    }
    counts = (
        db.session.scalar(select(func.count()).select_from(Delivery)),
        db.session.scalar(select(func.count()).select_from(FollowUp).where(FollowUp.done_at.is_not(None))),
    )
    for who in OUTSIDERS:
        browser = cast.browser(make_client(), who)
        for path in _record_pages(letter, delivery, cast.lead.id):
            for htmx in (False, True):
                response = browser.client.get(path, headers={"HX-Request": "true"} if htmx else {})
                assert response.status_code == 404, (who, path, response.status_code)
                assert not any(word in response.get_data(as_text=True) for word in WORDS)
        for path, data in posts.items():
            response = browser.post(path, data, from_page="/account")
            assert response.status_code == 404, (who, path, response.status_code)
        # The list and its search: the task force's door (403) or, for another officer, nothing in it.
        listing = browser.client.get("/dv/?q=张")
        assert listing.status_code == (200 if who == "officer2" else 403)
        assert f"/dv/letters/{letter.id}" not in listing.get_data(as_text=True)
        home = browser.client.get("/home/dv-team")
        assert home.status_code == 403
        inbox = browser.client.get("/inbox/").get_data(as_text=True)
        assert "/dv/" not in inbox and not any(word in inbox for word in WORDS)
    db.session.expire_all()
    assert counts == (
        db.session.scalar(select(func.count()).select_from(Delivery)),
        db.session.scalar(select(func.count()).select_from(FollowUp).where(FollowUp.done_at.is_not(None))),
    )
    outsider_ids = [getattr(cast, who).id for who in OUTSIDERS]
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id.in_(outsider_ids), Notification.subject_kind.like("dv%"))
        )
        == 0
    )


def test_outsiders_dv_sync_items_are_forbidden(case, make_client):
    cast, letter, _delivery = case
    for who in OUTSIDERS:
        browser = cast.browser(make_client(), who)
        token = browser.client.get("/sync/session").get_json()["csrf"]
        items = [
            {
                "uuid": str(uuid.uuid4()),
                "kind": "dv.delivery",
                "photos": [],
                "fields": {
                    "letter_id": str(letter.id),
                    "recipient": "victim",
                    "method": "in_person",
                    "outcome": "signed",
                },
            },
            {
                "uuid": str(uuid.uuid4()),
                "kind": "dv.followup",
                "photos": [],
                "fields": {"followup_id": str(letter.followups[0].id), "recurred": "yes", "note": "x"},
            },
        ]
        response = browser.client.post("/sync", json={"items": items}, headers={"X-CSRFToken": token})
        assert response.status_code == 200
        assert [r["status"] for r in response.get_json()["results"]] == ["forbidden", "forbidden"]
        body = response.get_data(as_text=True)
        assert not any(word in body for word in WORDS) and f"/dv/letters/{letter.id}" not in body
    assert db.session.scalar(select(func.count()).select_from(Delivery)) == 1


def test_insiders_see_the_case(case, make_client):
    cast, letter, delivery = case
    for who in INSIDERS:
        browser = cast.browser(make_client(), who)
        for path in _record_pages(letter, delivery, cast.lead.id):
            response = browser.client.get(path)
            assert response.status_code == 200, (who, path)
            if response.mimetype == "text/html":
                assert "no-store" in response.headers["Cache-Control"]  # never kept on the phone
        assert f"/dv/letters/{letter.id}" in browser.client.get("/dv/?q=张").get_data(as_text=True)


def test_a_supervisor_of_another_station_sees_nothing(case, make_client):
    cast, letter, delivery = case
    make_user(make_station("DV-OTHER"), Role.SUPERVISOR, Role.DV_TEAM, username="dv_elsewhere")
    db.session.commit()
    browser = Browser(make_client())
    browser.login("dv_elsewhere")
    for path in _record_pages(letter, delivery, cast.lead.id):
        assert browser.client.get(path).status_code == 404
    assert f"/dv/letters/{letter.id}" not in browser.client.get("/dv/").get_data(as_text=True)


def _listed(action_type: str) -> list[tuple[int, list[int]]]:
    from webapp.audit.models import AuditEntry

    db.session.expire_all()
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "list",
                                                          AuditEntry.object_type == action_type)
                                 .order_by(AuditEntry.seq))
    return [(entry.actor_id, json.loads(entry.detail)[action_type]) for entry in entries]


def test_lists_and_searches_that_show_dv_records_are_audited(case, make_client):
    """Issue 10: an audit entry for every list or search that returned compartmented records."""
    cast, letter, _ = case
    supervisor = cast.browser(make_client(), "supervisor")
    before = len(_listed("lead"))
    assert supervisor.client.get("/leads/").status_code == 200
    assert supervisor.client.get("/leads/?q=家暴").status_code == 200
    assert _listed("lead")[before:] == [(cast.supervisor.id, [cast.lead.id])] * 2
    assert supervisor.client.get("/dv/?q=张").status_code == 200
    assert _listed("dv_letter") == [(cast.supervisor.id, [letter.id])]
    # A list without them writes nothing: another officer's, or a search that misses.
    other = cast.browser(make_client(), "officer2")
    assert other.client.get("/leads/").status_code == 200
    assert supervisor.client.get("/leads/?q=nothing-like-it").status_code == 200
    assert supervisor.client.get("/dv/?q=nothing-like-it").status_code == 200
    assert len(_listed("lead")) == before + 2 and len(_listed("dv_letter")) == 1


def _home_lists(browser, path: str) -> list[dict]:
    """The 'list' entries one visit of a home wrote: the ids it showed, by kind (sorted)."""
    from webapp.audit.models import AuditEntry

    db.session.expire_all()
    before = db.session.scalar(select(func.max(AuditEntry.seq))) or 0
    assert browser.client.get(path).status_code == 200
    db.session.expire_all()
    details = [json.loads(detail) for detail in db.session.scalars(
        select(AuditEntry.detail).where(AuditEntry.seq > before, AuditEntry.action == "list"))]
    return [{kind: sorted(ids) for kind, ids in detail.items() if kind != "page"} for detail in details]


def test_homes_that_show_dv_letters_and_followups_audit_them_in_one_entry(case, make_client):
    """The task force's and supervisors' homes list DV letters and follow-up visits beside the
    leads: one entry names them all; an officer of another community's home writes none."""
    cast, issued, _ = case
    pending = request_letter(cast.dvteam, cast.lead, letter_input(), issued)
    today = utcnow().astimezone(STATION_TZ).date()
    first = issued.followups[0]
    first.due_on, first.assignee_id = today, cast.supervisor.id
    db.session.commit()
    supervisor = cast.browser(make_client(), "supervisor")
    assert _home_lists(supervisor, "/home/supervisor") == [
        {"dv_letter": [pending.id], "dv_followup": [first.id]}]
    team = cast.browser(make_client(), "dvteam")
    assert _home_lists(team, "/home/dv-team") == [
        {"dv_letter": sorted([pending.id, issued.id]), "dv_followup": [first.id]}]
    officer = cast.browser(make_client(), "officer")
    assert _home_lists(officer, "/home/officer") == [{"lead": [cast.lead.id]}]
    assert _home_lists(cast.browser(make_client(), "officer2"), "/home/officer") == []

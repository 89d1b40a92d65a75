"""Hostile and mistaken input on every DV form and sync kind: a clear 4xx with its message, and
nothing changed (no letter, delivery or recording; the letter as it was)."""

from __future__ import annotations

import io
import uuid

import pytest
from sqlalchemy import func, select

from tests.dv.conftest import FACTS, issued_letter, letter_input
from webapp.dv.models import Delivery, FollowUp, LetterStatus, WarningLetter
from webapp.dv.services import request_letter
from webapp.extensions import db

GOOD_REQUEST = {
    "abuser_name": "张伟",
    "abuser_id_number": "",
    "relationship": "spouse",
    "victim_name": "李秀兰",
    "minors_in_household": "1",
    "police_ref": "",
    "facts": FACTS,
    "evidence": ["victim_statement", "injury_report"],
}
HUGE_ID = "9" * 20

BAD_REQUESTS = [
    ({"abuser_name": ""}, "abuser_name"),
    ({"abuser_name": "张" * 65}, "abuser_name"),
    ({"abuser_id_number": "12345"}, "abuser_id_number"),
    ({"relationship": "neighbour"}, "relationship"),
    ({"victim_name": ""}, "victim_name"),
    ({"minors_in_household": "-1"}, "minors_in_household"),
    ({"minors_in_household": "abc"}, "minors_in_household"),
    ({"minors_in_household": HUGE_ID}, "minors_in_household"),
    ({"police_ref": "110; DROP"}, "police_ref"),
    ({"facts": ""}, "facts"),
    ({"facts": "事" * 4001}, "facts"),
    ({"evidence": []}, "evidence"),
    ({"evidence": ["hearsay"]}, "evidence"),
    ({"evidence": ["victim_statement"]}, "evidence"),  # a statement alone is not enough
    ({"supersedes": "abc"}, "supersedes"),
]


def _counts() -> tuple:
    db.session.expire_all()
    return (
        db.session.scalar(select(func.count()).select_from(WarningLetter)),
        db.session.scalar(select(func.count()).select_from(Delivery)),
        db.session.scalar(select(func.count()).select_from(FollowUp).where(FollowUp.done_at.is_not(None))),
    )


def _error_shown(response) -> bool:
    body = response.get_data(as_text=True)
    return 'class="error"' in body or 'role="alert"' in body


@pytest.mark.parametrize(("change", "field"), BAD_REQUESTS, ids=[f for _c, f in BAD_REQUESTS])
def test_bad_letter_requests_are_refused_with_a_message(cast, make_client, change, field):
    team = cast.browser(make_client(), "dvteam")
    before = _counts()
    response = team.post(f"/dv/leads/{cast.lead.id}/letters/new", {**GOOD_REQUEST, **change})
    assert response.status_code == 422, (field, response.status_code)
    assert _error_shown(response)
    assert _counts() == before


def test_odd_urls_and_unstorable_characters(cast, make_client):
    team = cast.browser(make_client(), "dvteam")
    before = _counts()
    for path in (
        f"/dv/letters/{HUGE_ID}",
        f"/dv/followups/{HUGE_ID}",
        f"/dv/leads/{HUGE_ID}/letters/new",
        f"/dv/leads/{cast.lead.id}/letters/new?supersedes={HUGE_ID}",
        f"/dv/letters/{HUGE_ID}/deliveries/1/photo",
    ):
        assert team.client.get(path).status_code == 404, path
    response = team.post(f"/dv/leads/{cast.lead.id}/letters/new", {**GOOD_REQUEST, "supersedes": HUGE_ID})
    assert response.status_code in (404, 422)
    response = team.post(f"/dv/leads/{cast.lead.id}/letters/new", {**GOOD_REQUEST, "facts": "a\x00b"})
    assert response.status_code == 400 and "无法保存" in response.get_data(as_text=True)
    token = team.token(f"/dv/leads/{cast.lead.id}/letters/new")
    raw = "a%00b"
    response = team.client.post(
        f"/dv/leads/{cast.lead.id}/letters/new",
        data=f"csrf_token={token}&abuser_name={raw}&facts={raw}",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400 and "无法保存" in response.get_data(as_text=True)
    assert team.client.get(f"/dv/?q={raw}").status_code == 400
    assert team.client.get(f"/dv/followups/1?note={raw}").status_code == 400
    # Bytes that are not UTF-8 (a lone surrogate's encoding) arrive as replacement characters: the
    # form is merely incomplete. A lone surrogate in JSON is refused at the door.
    response = team.client.post(
        f"/dv/leads/{cast.lead.id}/letters/new",
        data=f"csrf_token={token}&abuser_name=%ED%A0%80&facts=%ED%A0%80",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 422
    item = '{"uuid": "' + str(uuid.uuid4()) + '", "kind": "dv.followup", "fields": {"note": "\\ud800"}}'
    json_body = '{"items": [' + item + "]}"
    sync_token = team.client.get("/sync/session").get_json()["csrf"]
    response = team.client.post(
        "/sync", data=json_body, content_type="application/json", headers={"X-CSRFToken": sync_token}
    )
    assert response.status_code == 400
    assert _counts() == before


def test_bad_decisions_and_issues(cast, make_client):
    letter = request_letter(cast.dvteam, cast.lead, letter_input())
    db.session.commit()
    page = f"/dv/letters/{letter.id}"
    supervisor = cast.browser(make_client(), "supervisor")
    response = supervisor.post(f"{page}/refuse", {"reason": ""}, from_page=page)
    assert response.status_code == 422 and _error_shown(response)
    response = supervisor.post(f"{page}/refuse", {"reason": "理" * 501}, from_page=page)
    assert response.status_code == 422
    response = supervisor.post(f"{page}/issue", {"followups_by": "task_force"}, from_page=page)
    assert response.status_code == 409 and _error_shown(response)  # not approved yet
    supervisor.post(f"{page}/approve", {}, from_page=page)
    response = supervisor.post(f"{page}/issue", {"followups_by": "neighbours"}, from_page=page)
    assert response.status_code == 422
    db.session.expire_all()
    letter = db.session.get(WarningLetter, letter.id)
    assert letter.status == LetterStatus.APPROVED and letter.number_seq is None


GOOD_DELIVERY = {"recipient": "abuser", "method": "in_person", "outcome": "signed"}
BAD_DELIVERIES = [
    ({"recipient": ""}, "recipient"),
    ({"recipient": "neighbour"}, "recipient"),
    ({"method": "by_pigeon"}, "method"),
    ({"outcome": "maybe"}, "outcome"),
    ({"method": "with_witness", "witness": ""}, "witness"),
    ({"witness": "证" * 65}, "witness"),
    ({"note": "注" * 1001}, "note"),
    ({"uuid": "not-a-uuid"}, "uuid"),
    ({"recorded_at": "yesterday"}, "recorded_at"),
    ({"letter_id": "abc"}, "letter_id"),
    ({"letter_id": HUGE_ID}, "letter_id"),
    ({"photo": b"not a photo at all"}, "photo"),  # sent as a file named receipt.jpg
]


def _as_upload(change: dict) -> dict:
    """A fresh file for each request (a test runs once per engine)."""
    if "photo" in change:
        return {**change, "photo": (io.BytesIO(change["photo"]), "receipt.jpg")}
    return change


@pytest.mark.parametrize(("change", "field"), BAD_DELIVERIES, ids=[f for _c, f in BAD_DELIVERIES])
def test_bad_deliveries_are_refused_with_a_message(cast, make_client, change, field):
    letter = issued_letter(cast)
    team = cast.browser(make_client(), "dvteam")
    before = _counts()
    response = team.post(
        f"/dv/letters/{letter.id}/deliveries/new",
        {"letter_id": str(letter.id), **GOOD_DELIVERY, **_as_upload(change)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422, (field, response.status_code)
    assert _error_shown(response)
    assert _counts() == before


def test_a_delivery_for_another_letter_or_an_unissued_one(cast, make_client):
    letter = issued_letter(cast)
    other = issued_letter(cast)
    pending = request_letter(cast.dvteam, cast.lead, letter_input())
    db.session.commit()
    team = cast.browser(make_client(), "dvteam")
    before = _counts()
    response = team.post(
        f"/dv/letters/{letter.id}/deliveries/new", {"letter_id": str(other.id), **GOOD_DELIVERY}
    )
    assert response.status_code == 422 and _error_shown(response)
    response = team.post(
        f"/dv/letters/{pending.id}/deliveries/new", {"letter_id": str(pending.id), **GOOD_DELIVERY}
    )
    assert response.status_code == 409 and _error_shown(response)
    assert _counts() == before


BAD_FOLLOWUPS = [
    ({"recurred": ""}, "recurred"),
    ({"recurred": "maybe"}, "recurred"),
    ({"note": ""}, "note"),
    ({"note": "注" * 1001}, "note"),
    ({"followup_id": HUGE_ID}, "followup_id"),
    ({"uuid": "123"}, "uuid"),
]


@pytest.mark.parametrize(("change", "field"), BAD_FOLLOWUPS, ids=[f for _c, f in BAD_FOLLOWUPS])
def test_bad_follow_ups_are_refused_with_a_message(cast, make_client, change, field):
    letter = issued_letter(cast)
    followup = letter.followups[0]
    team = cast.browser(make_client(), "dvteam")
    before = _counts()
    response = team.post(
        f"/dv/followups/{followup.id}",
        {"followup_id": str(followup.id), "recurred": "no", "note": "平稳", **change},
    )
    assert response.status_code == 422, (field, response.status_code)
    assert _error_shown(response)
    assert _counts() == before


def test_bad_sync_items_are_answered_alone(cast, make_client):
    letter = issued_letter(cast)
    team = cast.browser(make_client(), "dvteam")
    token = team.client.get("/sync/session").get_json()["csrf"]
    before = _counts()

    def item(kind: str, **fields):
        return {"uuid": str(uuid.uuid4()), "kind": kind, "photos": [], "fields": fields}

    items = [
        item("dv.delivery", letter_id=str(letter.id), recipient="x", method="in_person", outcome="signed"),
        item("dv.delivery", letter_id=HUGE_ID, recipient="abuser", method="in_person", outcome="signed"),
        item("dv.delivery", letter_id=["1", "2"], recipient="abuser"),
        item("dv.followup", followup_id=str(letter.followups[0].id), recurred="perhaps", note=""),
        item("dv.followup", followup_id="abc", recurred="no", note="x"),
    ]
    response = team.client.post("/sync", json={"items": items}, headers={"X-CSRFToken": token})
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == ["invalid", "forbidden", "forbidden", "invalid", "forbidden"]
    assert (
        results[0]["errors"]["recipient"]
        and results[3]["errors"]["recurred"]
        and results[3]["errors"]["note"]
    )
    malformed = {"uuid": str(uuid.uuid4()), "kind": "dv.delivery", "fields": "letter"}
    response = team.client.post("/sync", json={"items": [malformed]}, headers={"X-CSRFToken": token})
    assert response.status_code == 400
    assert _counts() == before

"""Assistance sessions: on the page and from the outbox (sealed), once however often they are sent."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta

from sqlalchemy import select

from tests.sync.test_sealing import _seal
from tests.youth.conftest import counts
from webapp.extensions import db
from webapp.sync.sealing import seal_keys
from webapp.youth.models import YouthProfile, YouthSession

NOTES = "孩子谈到在校被孤立，约定下周再谈"


def _fields(profile_id: int | str, item_id: str, **changes) -> dict:
    fields = {
        "uuid": item_id,
        "profile_id": str(profile_id),
        "kind": "family_education",
        "counsellor_id": "",
        "held_on": "2026-11-25",
        "duration_minutes": "60",
        "notes": NOTES,
        "next_session_on": "",
    }
    fields.update(changes)
    return fields


def _sync(cast, who: str, items: list[dict]):
    token = cast.get(who, "/sync/session").get_json()["csrf"]
    return cast.browser(who).client.post("/sync", json={"items": items}, headers={"X-CSRFToken": token})


def test_a_session_on_the_page_moves_the_next_one(cast):
    profile_id = cast.ids["profile"]
    next_on = date.today() + timedelta(days=7)
    item_id = str(uuid.uuid4())
    form = _fields(
        profile_id, item_id, counsellor_id=str(cast.ids["youth2"]), next_session_on=next_on.isoformat()
    )
    page = f"/youth/profiles/{profile_id}/sessions/new"
    assert "data-sealed" in cast.get("youth_team", page).get_data(as_text=True)
    assert cast.post("youth_team", page, form).status_code == 303
    assert cast.post("youth_team", page, form).status_code == 303  # the same tap twice: one session
    sessions = list(db.session.scalars(select(YouthSession).where(YouthSession.uuid == item_id)))
    assert len(sessions) == 1
    session = sessions[0]
    assert (session.kind, session.counsellor_id, session.duration_minutes, session.notes) == (
        "family_education",
        cast.ids["youth2"],
        60,
        NOTES,
    )
    assert db.session.get(YouthProfile, profile_id).next_session_on == next_on
    shown = cast.get("youth_team", f"/youth/profiles/{profile_id}").get_data(as_text=True)
    assert NOTES in shown


def test_counsellors_come_from_the_station_youth_team(cast):
    profile_id = cast.ids["profile"]
    before = counts()
    for counsellor in (cast.ids["youth_elsewhere"], 10**20, "abc"):
        response = cast.post(
            "youth_team",
            f"/youth/profiles/{profile_id}/sessions/new",
            _fields(profile_id, str(uuid.uuid4()), counsellor_id=str(counsellor)),
        )
        assert response.status_code == 422 and 'class="error"' in response.get_data(as_text=True)
    assert counts() == before


def test_a_sealed_session_from_the_outbox_arrives_once(cast):
    profile_id = cast.ids["profile"]
    item_id = str(uuid.uuid4())
    plain = {"uuid": item_id, "kind": "youth.session", "fields": _fields(profile_id, item_id)}
    sealed = _seal(plain, seal_keys().private_key.public_key())
    assert NOTES not in json.dumps(sealed, ensure_ascii=False) and set(sealed["fields"]) == {"uuid"}
    first = _sync(cast, "youth_team", [sealed]).get_json()["results"][0]
    assert first["status"] == "created" and first["url"].endswith(f"/youth/profiles/{profile_id}")
    again = _sync(cast, "youth_team", [sealed]).get_json()["results"][0]
    assert again["status"] == "duplicate"
    stored = db.session.scalars(select(YouthSession).where(YouthSession.uuid == item_id)).one()
    assert stored.notes == NOTES and stored.counsellor_id == cast.ids["youth"]


def test_outbox_sessions_answer_bad_items_alone(cast):
    profile_id = cast.ids["profile"]
    before = counts()
    cases = {
        "invalid": [
            _fields(profile_id, "", duration_minutes="0"),
            _fields(profile_id, "", kind="karaoke"),
            _fields(profile_id, "", held_on="2999-01-01"),
            _fields("abc", ""),
            _fields("99999999999999999999", ""),
            _fields(profile_id, "", notes="长" * 4001),
        ],
        "forbidden": [_fields(99999, "")],
    }
    items, expected = [], {}
    for status, field_sets in cases.items():
        for fields in field_sets:
            item_id = str(uuid.uuid4())
            items.append({"uuid": item_id, "kind": "youth.session", "fields": {**fields, "uuid": item_id}})
            expected[item_id] = status
    response = _sync(cast, "youth_team", items)
    assert response.status_code == 200
    results = {result["uuid"]: result for result in response.get_json()["results"]}
    assert {item_id: results[item_id]["status"] for item_id in expected} == expected
    assert all(results[i]["errors"] for i, status in expected.items() if status == "invalid")
    assert counts() == before
    other = _sync(
        cast,
        "youth_elsewhere",
        [
            {
                "uuid": items[0]["uuid"],
                "kind": "youth.session",
                "fields": _fields(profile_id, items[0]["uuid"]),
            }
        ],
    )
    assert other.get_json()["results"][0]["status"] == "forbidden" and counts() == before

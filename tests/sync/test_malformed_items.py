"""Issue 10, defects 3 and 11: a malformed outbox item is answered `invalid` alone, with a message,
and the good items sent with it are stored; the API refuses what its description says it refuses.

Before this, each case below answered 400 or 500 for the whole batch (and the phone retried a 5xx
batch for ever, so one bad item held back the good ones).
"""

from __future__ import annotations

import base64
import json

import pytest

from tests.sync.test_sync_api import (  # noqa: F401 (the module's cast, shared)
    count,
    jpeg,
    lead,
    lead_id_of,
    leads_with,
    report,
    reported_lead,
    step,
    visit,
    world,
)
from webapp.leads.models import LeadEvent, LeadPhoto
from webapp.visits.models import Visit

PHOTO = base64.b64encode(jpeg((64, 48))).decode()


def _photo(**overrides) -> dict:
    return {"name": "a.jpg", "type": "image/jpeg", "data": PHOTO, **overrides}


def _cases(cast) -> dict[str, dict | object]:
    good = report(cast)
    fields = good["fields"]
    return {
        "photo data not a string": {**good, "photos": [_photo(data=12345)]},
        "photo data not base64": {**good, "photos": [_photo(data="%%%not base64")]},
        "photo not an object": {**good, "photos": ["photo.jpg"]},
        "photos not a list": {**good, "photos": {"data": PHOTO}},
        "newline in photo type": {**good, "photos": [_photo(type="image/jpeg\r\nX-Evil: 1")]},
        "junk photo type": {**good, "photos": [_photo(type="text/html")]},
        "photo type not a string": {**good, "photos": [_photo(type=["image/jpeg"])]},
        "id beyond 64 bits in fields": {**good, "fields": {**fields, "community_id": "9" * 20}},
        "id beyond 32 bits in fields": {**good, "fields": {**fields, "community_id": str(2**31)}},
        "NUL in a field": {**good, "fields": {**fields, "summary": "邻居\x00纠纷"}},
        "lone surrogate in a field": {**good, "fields": {**fields, "summary": "邻居\ud800纠纷"}},
        "lone surrogate in a key": {**good, "fields": {**fields, "\udfffx": "1"}},
        "fields a list": {**good, "fields": ["category", "neighbour"]},
        "fields a string": {**good, "fields": "category=neighbour"},
        "field value an object": {**good, "fields": {**fields, "summary": {"text": "x"}}},
        "field value a number": {**good, "fields": {**fields, "community_id": cast.ids["A"]}},
        "no fields": {k: v for k, v in good.items() if k != "fields"},
        "uuid not a UUID": {**good, "uuid": "x" * 36},
        "uuid a number": {**good, "uuid": 12345},
        "no uuid": {k: v for k, v in good.items() if k != "uuid"},
        "recorded in year 1": {**good, "fields": {**fields, "recorded_at": "0001-01-01T00:00:00Z"}},
        "recorded in 9999": {**good, "fields": {**fields, "recorded_at": "9999-12-31T23:59:59Z"}},
        "recorded in 1999": {**good, "fields": {**fields, "recorded_at": "1999-12-31T23:00:00Z"}},
        "nested deep": {**good, "fields": {**fields, "x": [[[[[[[[["deep"]]]]]]]]]}},
        "not an object": ["lead.report"],
        "null": None,
        "unknown kind": {**good, "kind": "lead.delete"},
        "damaged seal": {**good, "sealed": {"key": "%%%", "iv": 1, "data": None}},
        "seal not an object": {**good, "sealed": "secret"},
    }


def _step_cases(lead_id: int, version: int) -> dict[str, dict]:
    good = step(lead_id, "accept", version)
    return {
        "step without lead_id": {k: v for k, v in good.items() if k != "lead_id"},
        "step lead_id beyond 64 bits": {**good, "lead_id": 2**64},
        "step lead_id beyond 32 bits": {**good, "lead_id": 2**31},
        "step lead_id a boolean": {**good, "lead_id": True},
        "step lead_id a float": {**good, "lead_id": float(lead_id)},
        "step lead_id a string": {**good, "lead_id": str(lead_id)},
        "step lead_id zero": {**good, "lead_id": 0},
        "step without step": {k: v for k, v in good.items() if k != "step"},
        "step unknown": {**good, "step": "teleport"},
        "step version beyond 64 bits": {**good, "fields": {"version": "9" * 20}},
        "step version beyond 32 bits": {**good, "fields": {"version": str(2**31)}},
    }


CASES = [
    "photo data not a string", "photo data not base64", "photo not an object", "photos not a list",
    "newline in photo type", "junk photo type", "photo type not a string", "id beyond 64 bits in fields",
    "id beyond 32 bits in fields", "NUL in a field", "lone surrogate in a field", "lone surrogate in a key",
    "fields a list",
    "fields a string", "field value an object", "field value a number", "no fields", "uuid not a UUID",
    "uuid a number", "no uuid", "recorded in year 1", "recorded in 9999", "recorded in 1999",
    "nested deep", "not an object", "null", "unknown kind", "damaged seal", "seal not an object"]
STEP_CASES = ["step without lead_id", "step lead_id beyond 64 bits", "step lead_id beyond 32 bits",
              "step lead_id a boolean",
              "step lead_id a float", "step lead_id a string", "step lead_id zero", "step without step",
              "step unknown", "step version beyond 64 bits", "step version beyond 32 bits"]


def _assert_invalid_alone(phone, bad, good) -> list[dict]:
    response = phone.sync(bad, good)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    first, second = response.get_json()["results"]
    assert first["index"] == 0 and first["status"] == "invalid"
    messages = [m for ms in first["errors"].values() for m in ms]
    assert messages and all(isinstance(m, str) and m for m in messages)
    usable = isinstance(bad, dict) and isinstance(bad.get("uuid"), str) and len(bad["uuid"]) == 36 \
        and bad["uuid"].count("-") == 4 and "x" not in bad["uuid"]
    assert first["uuid"] == (bad["uuid"] if usable else None)
    assert (second["index"], second["uuid"], second["status"]) == (1, good["uuid"], "created")
    return [first, second]


@pytest.mark.parametrize("case", CASES)
def test_a_malformed_item_is_invalid_alone_and_the_good_one_is_stored(ctx, case):
    cases = _cases(ctx)
    assert set(cases) == set(CASES)
    bad, good = cases[case], report(ctx)
    photos = count(LeadPhoto)
    _assert_invalid_alone(ctx.phone("va"), bad, good)
    assert leads_with(good["uuid"]) == 1
    if isinstance(bad, dict) and isinstance(bad.get("uuid"), str):
        assert leads_with(bad["uuid"]) == 0
    assert count(LeadPhoto) == photos


@pytest.mark.parametrize("case", STEP_CASES)
def test_a_malformed_step_is_invalid_alone_and_changes_nothing(ctx, case):
    lead_id = reported_lead(ctx)
    version = lead(lead_id).version
    cases = _step_cases(lead_id, version)
    assert set(cases) == set(STEP_CASES)
    bad, good = cases[case], visit(ctx)
    _assert_invalid_alone(ctx.phone("oa"), bad, good)
    assert count(Visit, Visit.uuid == good["uuid"]) == 1
    assert count(LeadEvent, LeadEvent.uuid == bad["uuid"]) == 0
    assert (lead(lead_id).status, lead(lead_id).version) == ("assigned", version)


def test_a_nul_in_the_envelope_is_still_refused_whole(ctx):
    phone = ctx.phone("va")
    good = report(ctx)
    response = phone.client.post("/sync", json={"items": [good], "note\x00": "x"},
                                 headers={"X-CSRFToken": phone.token})
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_characters"
    assert leads_with(good["uuid"]) == 0


def test_json_nested_too_deep_for_python_is_a_400_for_the_batch(ctx):
    phone = ctx.phone("va")
    body = '{"items": [' + "[" * 100_000 + "]" * 100_000 + "]}"
    response = phone.client.post("/sync", data=body, content_type="application/json",
                                 headers={"X-CSRFToken": phone.token})
    assert response.status_code == 400
    assert response.get_json()["error"] == "too_deep" and response.get_json()["detail"]


def test_the_same_uuid_with_other_content_in_one_batch_is_a_conflict(ctx):
    first = report(ctx)
    changed = {**first, "fields": {**first["fields"], "summary": "另一件事：楼道堆放杂物，影响通行。"}}
    third = {**first, "fields": {**first["fields"], "summary": "第三个版本：有人在楼道吸烟。"}}
    results = ctx.phone("va").results(first, first, changed, third)
    assert [r["status"] for r in results] == ["created", "duplicate", "conflict", "conflict"]
    for conflict in results[2:]:
        assert conflict["errors"]["_form"]
        assert conflict["url"] == results[0]["url"]
        assert conflict["server"]["version"] == lead(lead_id_of(results[0]["url"])).version
    assert leads_with(first["uuid"]) == 1
    stored = lead(lead_id_of(results[0]["url"]))
    assert stored.summary == first["fields"]["summary"]


def test_a_repeat_of_an_invalid_item_with_other_content_is_a_conflict_without_server_copy(ctx):
    bad = report(ctx, category="alien_abduction")
    other = {**bad, "fields": {**bad["fields"], "category": "neighbour"}}
    results = ctx.phone("va").results(bad, other)
    assert [r["status"] for r in results] == ["invalid", "conflict"]
    assert "server" not in results[1]
    assert leads_with(bad["uuid"]) == 0


def test_a_good_photo_beside_a_bad_item_is_stored(ctx):
    good = {**report(ctx), "photos": [_photo()]}
    bad = {**report(ctx), "photos": [_photo(data="not base64!")]}
    results = ctx.phone("va").results(bad, good)
    assert [r["status"] for r in results] == ["invalid", "created"]
    assert results[0]["errors"]["photos"]
    assert count(LeadPhoto, LeadPhoto.lead_id == lead_id_of(results[1]["url"])) == 1


def test_answers_are_json_serialisable_in_chinese_by_default(ctx):
    bad = {**report(ctx), "photos": "photo"}
    response = ctx.phone("va", lang="zh").sync(bad)
    assert response.status_code == 200
    message = response.get_json()["results"][0]["errors"]["photos"][0]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message), message
    json.dumps(response.get_json())


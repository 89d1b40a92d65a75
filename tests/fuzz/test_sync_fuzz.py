"""Property tests over POST /sync: batches mixing good items with items broken in every way hypothesis
finds. Per example: no 5xx, one answer per item in order, each good item stored exactly once, and
nothing stored from an item answered anything but created/duplicate."""

from __future__ import annotations

import uuid as uuid_module

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.fuzz.conftest import FUZZ
from webapp.extensions import db
from webapp.leads.models import Lead

JSON_LEAVES = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
               | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12))
JSON = st.recursive(JSON_LEAVES, lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=6)
KEYS = st.sampled_from(["uuid", "kind", "fields", "photos", "sealed", "lead_id", "step"])
FIELD_NAMES = st.sampled_from(["category", "summary", "community_id", "recorded_at", "latitude",
                               "visit_id", "head_count", "x"])
NASTY_TEXT = st.sampled_from(["", "9" * 20, "-1", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
                              "\x00", "\ud800", "a\nb", "1e400", "NaN", "ä" * 300]) | st.text(max_size=20)


def good_report(cast, uuid: str) -> dict:
    return {"uuid": uuid, "kind": "lead.report", "fields": {
        "category": "neighbour", "summary": "楼上邻居深夜装修，噪音扰民。",
        "community_id": str(cast.ids["A"]), "recorded_at": "2024-05-01T06:30:00Z"}}


@st.composite
def broken(draw, cast, uuid: str):
    item = good_report(cast, uuid)
    how = draw(st.sampled_from(["key", "field", "drop", "whole"]))
    if how == "key":
        item[draw(KEYS)] = draw(JSON)
    elif how == "field":
        item["fields"][draw(FIELD_NAMES)] = draw(NASTY_TEXT | JSON)
    elif how == "drop":
        item.pop(draw(st.sampled_from(["uuid", "kind", "fields"])))
    else:
        return draw(JSON)
    return item


@st.composite
def batches(draw, cast):
    # Placeholders, replaced by fresh uuids in each run (a replayed example must not meet its own
    # records from an earlier run).
    uuids = [f"{n:08d}-0000-4000-8000-000000000000" for n in range(draw(st.integers(1, 6)))]
    items, good = [], []
    for uuid in uuids:
        if draw(st.booleans()):
            items.append(good_report(cast, uuid))
            good.append(len(items) - 1)
        else:
            items.append(draw(broken(cast, uuid)))
    return items, good


def _leads(uuid) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Lead).where(Lead.uuid == str(uuid)))


def test_sync_answers_every_item_once_and_stores_only_good_ones(fctx):
    examples = []

    @settings(FUZZ, max_examples=40)
    @given(batch=batches(fctx))
    def run(batch):
        fctx.ran_one()
        items, good = _fresh(*batch)
        before = _total()
        response = fctx.browser("va").client.post("/sync", json={"items": items},
                                                  headers={"X-CSRFToken": fctx.token("va")})
        assert response.status_code < 500, response.get_data(as_text=True)[:300]
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        results = response.get_json()["results"]
        assert [r["index"] for r in results] == list(range(len(items)))
        created = 0
        for index, (item, result) in enumerate(zip(items, results, strict=True)):
            uuid = item.get("uuid") if isinstance(item, dict) else None
            if index in good:
                assert result == {**result, "uuid": uuid, "status": "created"}
            if result["status"] in ("created", "duplicate"):
                assert _leads(uuid) == 1
                created += result["status"] == "created"
            else:
                assert result["status"] in ("invalid", "forbidden", "conflict")
                assert result["status"] != "invalid" or result["errors"]
                if isinstance(uuid, str) and uuid:
                    assert _leads(uuid) == 0
        assert _total() == before + created
        examples.append(len(items))

    run()
    assert len(examples) >= 10  # the property ran on real batches, not just on refused ones


def _fresh(items: list, good: list[int]) -> tuple[list, list[int]]:
    fresh = []
    for item in items:
        if isinstance(item, dict) and str(item.get("uuid", "")).endswith("-0000-4000-8000-000000000000"):
            item = {**item, "uuid": str(uuid_module.uuid4())}
        fresh.append(item)
    return fresh, good


def _total() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Lead))

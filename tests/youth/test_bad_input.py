"""Malformed input on every youth form: a 4xx with a message, never a 500, and nothing changed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.youth.conftest import counts

THIS_YEAR = date.today().year
FUTURE = (date.today() + timedelta(days=3)).isoformat()
HUGE = "99999999999999999999"

PROFILE = {"name": "钱小六", "birth_year": str(THIS_YEAR - 11), "situation": "放学后无人看管", "version": "1"}
SESSION = {"kind": "counselling", "held_on": "2026-11-20", "duration_minutes": "45", "notes": "谈心"}
CLOSE = {"reason": "helped", "closed_on": "2026-11-20", "note": "已复学"}
OUTREACH = {"topic": "law", "held_on": "2026-12-10", "place": "学校", "audience": "120"}

# (form, field, bad value): each replaces one field of a valid form.
BAD = {
    "profile": [("name", ""), ("name", "名" * 51), ("birth_year", "abc"),
                ("birth_year", str(THIS_YEAR - 30)),
                ("birth_year", HUGE), ("situation", ""), ("situation", "长" * 4001), ("school", "校" * 101),
                ("guardian_phone", "call me"), ("risk_factors", "aliens"), ("counsellor_id", HUGE),
                ("counsellor_id", "abc"), ("next_session_on", "2999-01-01"),
                ("next_session_on", "2026-02-30"),
                ("version", "abc"), ("version", HUGE)],
    "session": [("kind", "karaoke"), ("kind", ""), ("held_on", FUTURE), ("held_on", "1900-01-01"),
                ("held_on", "yesterday"), ("duration_minutes", "0"), ("duration_minutes", "abc"),
                ("duration_minutes", HUGE), ("notes", "长" * 4001), ("counsellor_id", HUGE),
                ("uuid", "not-a-uuid")],
    "close": [("reason", "vanished"), ("reason", ""), ("closed_on", FUTURE), ("closed_on", ""), ("note", ""),
              ("note", "长" * 501)],
    "link": [("lead_id", "abc"), ("lead_id", HUGE), ("lead_id", "-1"), ("lead_id", "")],
    "outreach": [("topic", "astrology"), ("held_on", "1999-12-31"), ("held_on", f"{THIS_YEAR + 3}-01-01"),
                 ("held_on", "soon"), ("place", ""), ("place", "地" * 201), ("audience", "0"),
                 ("audience", "lots"), ("audience", HUGE)],
}


def _target(cast, form: str) -> tuple[str, dict]:
    profile, event = cast.ids["profile"], cast.ids["event"]
    return {
        "profile": (f"/youth/profiles/{profile}/edit", PROFILE),
        "session": (f"/youth/profiles/{profile}/sessions/new", SESSION),
        "close": (f"/youth/profiles/{profile}/close", CLOSE),
        "link": (f"/youth/profiles/{profile}/leads", {"lead_id": str(cast.ids["minor_lead"])}),
        "outreach": (f"/youth/outreach/{event}/edit", OUTREACH),
    }[form]


@pytest.mark.parametrize("form", BAD)
def test_every_bad_field_is_refused_with_a_message(cast, form):
    path, valid = _target(cast, form)
    before = counts()
    for field, value in BAD[form]:
        response = cast.post("youth_team", path, {**valid, field: value}, headers={"HX-Request": "true"})
        body = response.get_data(as_text=True)
        assert response.status_code in (409, 422), (field, value, response.status_code)
        assert 'class="error"' in body or 'role="alert"' in body, (field, value)
        assert counts() == before, (field, value)
    new_profile = cast.post("youth_team", "/youth/profiles/new", {**PROFILE, "birth_year": "abc"})
    assert new_profile.status_code == 422 and counts() == before


@pytest.mark.parametrize(("raw", "status"), [("name=%00", 400), ("situation=a%00b", 400),
                                            ("name=%ED%A0%80", 422)])  # broken UTF-8 arrives as U+FFFD
def test_unstorable_characters_are_refused(cast, raw, status):
    before = counts()
    token = cast.token("youth_team")
    response = cast.browser("youth_team").client.post(
        "/youth/profiles/new", data=f"csrf_token={token}&birth_year=2014&{raw}",
        content_type="application/x-www-form-urlencoded")
    assert response.status_code == status and counts() == before


def test_a_lone_surrogate_from_the_outbox_is_refused(cast):
    before = counts()
    token = cast.get("youth_team", "/sync/session").get_json()["csrf"]
    item = ('{"items": [{"uuid": "0b0c7f8e-6c5e-4d0e-9a0e-3f1d2c4b5a69", "kind": "youth.session", '
            '"fields": {"profile_id": "PROFILE", "kind": "counselling", "held_on": "2026-11-20", '
            '"duration_minutes": "45", "notes": "\\ud800"}}]}').replace("PROFILE", str(cast.ids["profile"]))
    response = cast.browser("youth_team").client.post("/sync", data=item, content_type="application/json",
                                                      headers={"X-CSRFToken": token})
    assert response.status_code == 400 and counts() == before


def test_unknown_records_are_not_found(cast):
    before = counts()
    for path in (f"/youth/profiles/{HUGE}", "/youth/profiles/99999", "/youth/outreach/99999/edit"):
        assert cast.get("youth_team", path).status_code == 404, path
    assert cast.post("youth_team", "/youth/profiles/99999/close", CLOSE).status_code == 404
    assert counts() == before

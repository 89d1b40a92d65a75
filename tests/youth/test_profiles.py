"""Opening, keeping, linking and closing a sealed profile through its pages."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select

from tests.youth.conftest import audit_entries, counts
from webapp.extensions import db
from webapp.youth.models import YouthProfile

THIS_YEAR = date.today().year


def _profile_form(**changes) -> dict:
    data = {
        "name": "钱小六",
        "birth_year": str(THIS_YEAR - 11),
        "school": "春归苑小学",
        "grade": "五年级",
        "guardian_name": "钱大",
        "guardian_relation": "父亲",
        "guardian_phone": "13911112222",
        "situation": "放学后无人看管",
        "risk_factors": ["guardian_absent", "night_out"],
        "counsellor_id": "",
    }
    data.update(changes)
    return data


def test_the_youth_team_opens_a_profile(cast):
    response = cast.post(
        "youth_team", "/youth/profiles/new", _profile_form(counsellor_id=str(cast.ids["youth2"]))
    )
    assert response.status_code == 303
    profile = db.session.scalar(select(YouthProfile).where(YouthProfile.name == "钱小六"))
    assert response.location.endswith(f"/youth/profiles/{profile.id}")
    assert (
        profile.factor_codes == ["guardian_absent", "night_out"]
        and profile.counsellor_id == cast.ids["youth2"]
    )
    assert profile.station_id == db.session.get(YouthProfile, cast.ids["profile"]).station_id
    assert len(audit_entries("open", profile.id)) == 1
    page = cast.get("youth_team", response.location).get_data(as_text=True)
    assert "钱小六" in page and "放学后无人看管" in page


def test_editing_keeps_what_changed_and_refuses_a_stale_form(cast):
    profile_id = cast.ids["profile"]
    version = db.session.get(YouthProfile, profile_id).version
    edit = f"/youth/profiles/{profile_id}/edit"
    assert (
        cast.post("youth_team", edit, _profile_form(name="赵小五", version=str(version))).status_code == 303
    )
    db.session.expire_all()
    profile = db.session.get(YouthProfile, profile_id)
    assert profile.school == "春归苑小学" and profile.version == version + 1
    before = counts()
    stale = cast.post("youth2", edit, _profile_form(name="别人改的", version=str(version)))
    assert stale.status_code == 409 and 'role="alert"' in stale.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(YouthProfile, profile_id).name == "赵小五" and counts() == before


def test_linking_a_minor_lead_only(cast):
    profile_id = cast.ids["profile"]
    link = f"/youth/profiles/{profile_id}/leads"
    before = counts()
    for lead_id, why in (
        (cast.ids["plain_lead"], "not a minor lead"),
        (cast.ids["minor_elsewhere"], "another station's"),
        (99999, "no such lead"),
    ):
        response = cast.post("youth_team", link, {"lead_id": str(lead_id)}, headers={"HX-Request": "true"})
        assert response.status_code == 422, why
        assert 'class="error"' in response.get_data(as_text=True), why
    db.session.expire_all()
    assert db.session.get(YouthProfile, profile_id).leads == [] and counts() == before
    assert cast.post("youth_team", link, {"lead_id": str(cast.ids["minor_lead"])}).status_code == 303
    assert (
        cast.post("youth_team", link, {"lead_id": str(cast.ids["minor_lead"])}).status_code == 303
    )  # again: once
    db.session.expire_all()
    assert [lead.id for lead in db.session.get(YouthProfile, profile_id).leads] == [cast.ids["minor_lead"]]
    assert len(audit_entries("link_lead", profile_id)) == 1


def test_closing_with_a_reason_ends_the_work_on_it(cast):
    profile_id = cast.ids["profile"]
    close = f"/youth/profiles/{profile_id}/close"
    response = cast.post(
        "supervisor", close, {"reason": "helped", "closed_on": "2026-11-20", "note": "已复学"}
    )
    assert response.status_code == 303
    db.session.expire_all()
    profile = db.session.get(YouthProfile, profile_id)
    assert (profile.status, profile.closed_reason, profile.closed_on, profile.closed_note) == (
        "closed",
        "helped",
        date(2026, 11, 20),
        "已复学",
    )
    assert profile.next_session_on is None and len(audit_entries("close", profile_id)) == 1
    before = counts()
    again = cast.post(
        "youth_team", close, {"reason": "moved_away", "closed_on": "2026-11-21", "note": "搬走"}
    )
    assert again.status_code == 409
    assert cast.get("youth_team", f"/youth/profiles/{profile_id}/edit").status_code == 409
    session = cast.post(
        "youth_team",
        f"/youth/profiles/{profile_id}/sessions/new",
        {"kind": "counselling", "held_on": "2026-11-21", "duration_minutes": "30"},
    )
    assert session.status_code == 422
    db.session.expire_all()
    assert counts() == before and db.session.get(YouthProfile, profile_id).closed_reason == "helped"
    closed_list = cast.get("youth_team", "/youth/?status=closed").get_data(as_text=True)
    assert f"/youth/profiles/{profile_id}" in closed_list
    assert f"/youth/profiles/{profile_id}" not in cast.get("youth_team", "/youth/").get_data(as_text=True)


def test_the_profile_list_and_search_are_audited_when_they_show_a_profile(cast):
    """Every profile is a minor's record: the list or a search that shows one writes a 'list' entry
    naming the profiles shown and the search; one that shows none writes nothing."""
    profile = cast.ids["profile"]
    for path in ("/youth/", "/youth/?q=赵&status=all", "/youth/?q=nobody-like-that", "/youth/?status=closed",
                 "/youth/?q=赵"):
        assert cast.get("youth_team", path).status_code == 200
    db.session.expire_all()
    entries = audit_entries("list", profile)
    assert [json.loads(entry.detail) for entry in entries] == [
        {"youth_profile": [profile], "page": "youth.index", "q": q, "status": status}
        for q, status in (("", "open"), ("赵", "all"), ("赵", "open"))]
    assert {entry.actor_id for entry in entries} == {cast.ids["youth"]}

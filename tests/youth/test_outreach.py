"""Outreach events: station staff read them; the youth team and supervisors keep them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.youth.conftest import counts
from webapp.extensions import db
from webapp.youth.models import OutreachEvent

GOOD = {"topic": "anti_fraud", "held_on": "2026-12-10", "place": "春归苑小学操场", "audience": "260"}
READERS = ("officer", "supervisor", "dv_team", "youth_team", "mediator", "admin")
NOT_READERS = ("volunteer", "lawyer", "expert", "liaison")
EDITORS = ("youth_team", "supervisor")


@pytest.mark.parametrize("who", READERS + NOT_READERS)
def test_who_reads_the_list(cast, who):
    response = cast.get(who, "/youth/outreach")
    if who in READERS:
        assert response.status_code == 200 and "西门口中学礼堂" in response.get_data(as_text=True)
        edit_link = f"/youth/outreach/{cast.ids['event']}/edit"
        assert (edit_link in response.get_data(as_text=True)) == (who in EDITORS)
    else:
        assert response.status_code == 403 and "西门口中学礼堂" not in response.get_data(as_text=True)


@pytest.mark.parametrize("who", [w for w in READERS + NOT_READERS if w not in EDITORS] + ["youth_elsewhere"])
def test_others_cannot_add_change_or_delete(cast, who):
    event_id = cast.ids["event"]
    before = counts()
    if who != "youth_elsewhere":  # another station's youth team adds to its own station's list
        assert cast.post(who, "/youth/outreach/new", GOOD).status_code == 403
    for path in (f"/youth/outreach/{event_id}/edit", f"/youth/outreach/{event_id}/delete"):
        response = cast.post(who, path, {**GOOD, "confirm": "y"})
        assert response.status_code == (404 if who == "youth_elsewhere" else 403), path
    db.session.expire_all()
    event = db.session.get(OutreachEvent, event_id)
    assert event.place == "西门口中学礼堂" and event.audience == 300
    if who != "youth_elsewhere":
        assert counts() == before


@pytest.mark.parametrize("who", EDITORS)
def test_the_youth_team_and_supervisors_keep_the_events(cast, who):
    assert cast.post(who, "/youth/outreach/new", GOOD).status_code == 303
    event = db.session.scalar(select(OutreachEvent).where(OutreachEvent.place == GOOD["place"]))
    assert (event.topic, event.audience, event.held_on.isoformat()) == ("anti_fraud", 260, "2026-12-10")
    event_id = event.id
    edit = f"/youth/outreach/{event_id}/edit"
    assert cast.post(who, edit, {**GOOD, "audience": "280"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(OutreachEvent, event_id).audience == 280
    delete = f"/youth/outreach/{event_id}/delete"
    unconfirmed = cast.post(who, delete, headers={"HX-Request": "true"})
    assert unconfirmed.status_code == 422 and 'class="error"' in unconfirmed.get_data(as_text=True)
    assert db.session.get(OutreachEvent, event_id) is not None
    assert cast.post(who, delete, {"confirm": "y"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(OutreachEvent, event_id) is None
    assert db.session.get(OutreachEvent, cast.ids["event"]) is not None

"""The signed-in inbox says what each entry is about (category and community) for leads the reader
may open; DV and minor leads only inside their compartment. Push stays neutral (test_push.py)."""

from __future__ import annotations

import pytest

from tests.factories import make_user
from tests.notify.pushservice import make_cast, register_assignment
from tests.notify.test_push import signed_in
from webapp import notices
from webapp.extensions import db
from webapp.leads.alerts import Kind, tell
from webapp.leads.models import Lead
from webapp.org.models import Community, Role, Station, User


@pytest.fixture
def cast(app_ctx, queue):
    return make_cast()


def _inbox(app, user_id: int) -> str:
    page = signed_in(app, user_id).client.get("/inbox/")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_an_assignment_in_the_inbox_names_its_category_and_community(app, cast):
    lead_id = register_assignment(app, cast.volunteer, cast.community_zh)
    community = db.session.get(Community, cast.community_zh).name
    assert f"新派单：邻里 · {community}" in _inbox(app, cast.officer_zh)
    assert f"#{lead_id}" in _inbox(app, cast.officer_zh)


def test_in_english_too(app, cast):
    register_assignment(app, cast.volunteer, cast.community_en)
    community = db.session.get(Community, cast.community_en).name
    assert f"New assignment: Neighbour · {community}" in _inbox(app, cast.officer_en)


def test_a_dv_lead_is_described_only_inside_the_compartment(app, cast):
    lead_id = register_assignment(app, cast.volunteer, cast.community_zh)
    lead = db.session.get(Lead, lead_id)
    lead.flag_dv = True
    station = db.session.get(Station, cast.station)
    task_force = make_user(station, Role.DV_TEAM, username="dv_member")
    outsider = make_user(station, Role.OFFICER, username="other_officer")  # not assigned, not their area
    tell([task_force, outsider], Kind.COMPARTMENT, lead, "dv")
    db.session.commit()

    community = db.session.get(Community, cast.community_zh).name
    assert f"有一条线索交由本专班处理：邻里 · {community}" in _inbox(app, task_force.id)
    neutral = _inbox(app, outsider.id)
    assert f"#{lead_id}" in neutral
    assert community not in neutral and "邻里" not in neutral


def test_the_describer_answers_only_for_leads_the_reader_may_open(app, cast):
    lead_id = register_assignment(app, cast.volunteer, cast.community_zh)
    reader = db.session.get(User, cast.officer_en)  # another area's officer
    assert notices.describe(reader, [("lead", lead_id)]) == {}
    assert notices.describe(db.session.get(User, cast.officer_zh), [("lead", lead_id)]) != {}

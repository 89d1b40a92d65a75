"""Routing: which community, grid and officer a lead belongs to, and who is told about it.

The map used throughout (longitude × latitude, near the station in Hefei):

    31.870 +----------------------+----------------------+----------------------+
           |  NA (no grid here)   |  NB                  |  NC (no officer)     |
    31.865 +----------+-----------+  officer: zhao       |                      |
           | grid GB  | grid GA   |                      |                      |
           |          |           |                      |                      |
    31.860 +----------+-----------+----------------------+----------------------+
        117.280    117.285     117.290                117.300                117.310
    NA's officer: wang. GB is created before GA (lower id), GA has the lower code.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import commit, make_community, make_grid, make_station, make_user
from webapp.access import case_scope
from webapp.extensions import db
from webapp.leads.codes import Risk, Source, Status
from webapp.leads.deadlines import due_at, parse_deadlines
from webapp.leads.lifecycle import perform
from webapp.leads.models import Lead
from webapp.leads.queries import LeadFilters, lead_list
from webapp.leads.routing import route
from webapp.leads.services import LeadInput, register_lead
from webapp.notify.models import Notification
from webapp.org.models import Role
from webapp.timeutil import utcnow

MAX_PHOTO = 10 * 1024 * 1024


def rectangle(west: float, south: float, east: float, north: float) -> str:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


class Town:
    """The station of the map above, with its people."""

    def __init__(self):
        self.station = make_station()
        self.wang = make_user(self.station, Role.OFFICER, username="wang")
        self.zhao = make_user(self.station, Role.OFFICER, username="zhao")
        self.chief = make_user(self.station, Role.SUPERVISOR, username="chief")
        self.deputy = make_user(self.station, Role.SUPERVISOR, username="deputy")
        self.dv_1 = make_user(self.station, Role.DV_TEAM, username="dv1")
        self.dv_2 = make_user(self.station, Role.DV_TEAM, username="dv2")
        self.youth = make_user(self.station, Role.YOUTH_TEAM, username="youth")
        self.volunteer = make_user(self.station, Role.VOLUNTEER, username="li")
        # Created in "wrong" code order so that id order and code order disagree.
        self.nb = make_community(self.station, "NB", officer=self.zhao,
                                 boundary=rectangle(117.290, 31.860, 117.300, 31.870))
        self.na = make_community(self.station, "NA", officer=self.wang,
                                 boundary=rectangle(117.280, 31.860, 117.290, 31.870))
        self.nc = make_community(self.station, "NC", officer=None,
                                 boundary=rectangle(117.300, 31.860, 117.310, 31.870))
        self.gb = make_grid(self.na, "GB")
        self.gb.boundary = rectangle(117.280, 31.860, 117.285, 31.865)
        self.ga = make_grid(self.na, "GA")
        self.ga.boundary = rectangle(117.285, 31.860, 117.290, 31.865)
        db.session.flush()
        self.deadlines = parse_deadlines("red=24h,orange=5d,yellow=30d,blue=30d")

    def report(self, **fields) -> Lead:
        fields.setdefault("source", Source.VOLUNTEER)
        fields.setdefault("category", "neighbour")
        fields.setdefault("summary", "楼上漏水，两户争吵")
        return register_lead(self.volunteer, LeadInput(**fields), self.deadlines, MAX_PHOTO).lead


@pytest.fixture
def town(app_ctx):
    made = Town()
    commit()
    return made


def kinds_for(user, lead) -> set[str]:
    return set(db.session.scalars(
        select(Notification.kind).where(Notification.user_id == user.id, Notification.subject_id == lead.id)
    ))


def can_open(user, lead) -> bool:
    return db.session.scalar(select(Lead.id).where(Lead.id == lead.id, case_scope(user))) is not None


# --- the routing table ------------------------------------------------------------------------

# (longitude, latitude) → (community code, grid code, officer username, matched_by)
ROUTES = [
    pytest.param(117.2825, 31.8625, "NA", "GB", "wang", "grid_boundary", id="inside-grid-GB"),
    pytest.param(117.2875, 31.8625, "NA", "GA", "wang", "grid_boundary", id="inside-grid-GA"),
    pytest.param(117.2825, 31.8675, "NA", None, "wang", "community_boundary", id="community-outside-grids"),
    pytest.param(117.2950, 31.8650, "NB", None, "zhao", "community_boundary", id="other-community"),
    # Exactly on the edge GB|GA: the lowest code (GA) wins although GB was made first.
    pytest.param(117.285, 31.8625, "NA", "GA", "wang", "grid_boundary", id="shared-grid-edge"),
    # The corner GB, GA and the grid-less north of NA share: still grid GA.
    pytest.param(117.285, 31.865, "NA", "GA", "wang", "grid_boundary", id="shared-grid-corner"),
    # On the edge NA|NB, north of the grids: NA (lowest code) although NB was made first.
    pytest.param(117.290, 31.868, "NA", None, "wang", "community_boundary", id="shared-community-edge"),
    # A community's outer edge and outer corner are covered, not "outside".
    pytest.param(117.280, 31.868, "NA", None, "wang", "community_boundary", id="outer-west-edge"),
    pytest.param(117.295, 31.870, "NB", None, "zhao", "community_boundary", id="outer-north-edge"),
    pytest.param(117.280, 31.860, "NA", "GB", "wang", "grid_boundary", id="outer-corner-in-grid"),
    # Inside a community with no officer: located, but nobody to send it to.
    pytest.param(117.305, 31.865, "NC", None, None, "community_boundary", id="community-without-officer"),
    # Outside everything (just beyond an edge, and far away).
    pytest.param(117.2799, 31.865, None, None, None, "none", id="just-west-of-NA"),
    pytest.param(117.295, 31.8701, None, None, None, "none", id="just-north-of-NB"),
    pytest.param(116.40, 39.90, None, None, None, "none", id="beijing"),
]


@pytest.mark.parametrize(("longitude", "latitude", "community", "grid", "officer", "matched_by"), ROUTES)
def test_gps_point_routes_by_grid_then_community(town, longitude, latitude, community, grid, officer,
                                                 matched_by):
    found = route(town.station, longitude=longitude, latitude=latitude)
    assert (found.community.code if found.community else None) == community
    assert (found.grid.code if found.grid else None) == grid
    assert (found.officer.username if found.officer else None) == officer
    assert found.matched_by == matched_by
    assert found.routable is (officer is not None)


def test_edge_winner_does_not_depend_on_insertion_order(town):
    """Re-drawing the grids so that GB is now the higher id changes nothing: codes decide."""
    town.gb.boundary, town.ga.boundary = town.ga.boundary, town.gb.boundary  # GA west, GB east
    db.session.flush()
    assert route(town.station, longitude=117.285, latitude=31.8625).grid.code == "GA"
    assert route(town.station, longitude=117.2825, latitude=31.8625).grid.code == "GA"
    assert route(town.station, longitude=117.2875, latitude=31.8625).grid.code == "GB"


def test_chosen_community_wins_over_gps_elsewhere(town):
    found = route(town.station, community=town.nb, longitude=117.2825, latitude=31.8625)  # inside GB
    assert (found.community, found.grid, found.officer, found.matched_by) == (town.nb, None, town.zhao,
                                                                             "community")


def test_chosen_community_drops_a_grid_of_another_community(town):
    found = route(town.station, community=town.nb, grid=town.ga)
    assert (found.community, found.grid, found.officer) == (town.nb, None, town.zhao)


def test_chosen_grid_gives_its_community_and_officer(town):
    found = route(town.station, grid=town.ga, longitude=117.295, latitude=31.865)  # GPS in NB
    assert (found.community, found.grid, found.officer) == (town.na, town.ga, town.wang)


def test_chosen_community_without_officer_is_unroutable(town):
    found = route(town.station, community=town.nc)
    assert found.community == town.nc and found.officer is None and not found.routable


def test_community_whose_officer_was_disabled_is_unroutable(town):
    town.zhao.is_enabled = False  # left the station; the community has not been given a new officer yet
    db.session.flush()
    lead = town.report(community=town.nb)
    assert lead.assignee is None and lead.status == Status.GRADED
    assert kinds_for(town.chief, lead) == {"unroutable"}


def test_no_place_at_all_is_unroutable(town):
    found = route(town.station)
    assert (found.community, found.grid, found.officer, found.matched_by) == (None, None, None, "none")


def test_another_stations_map_is_never_used(town):
    other = make_station("OTHER-PS")
    officer = make_user(other, Role.OFFICER, username="sun")
    make_community(other, "XA", officer=officer, boundary=rectangle(118.0, 32.0, 118.1, 32.1))
    commit()
    assert route(town.station, longitude=118.05, latitude=32.05).matched_by == "none"
    assert route(other, longitude=118.05, latitude=32.05).officer == officer
    assert route(other, longitude=117.2825, latitude=31.8625).matched_by == "none"


# --- through intake -----------------------------------------------------------------------------

def test_routed_lead_is_assigned_to_the_officer_with_a_deadline(town):
    before = utcnow()
    lead = town.report(longitude=117.2875, latitude=31.8625, risk=Risk.ORANGE)
    commit()
    db.session.expire_all()
    assert (lead.community, lead.grid, lead.assignee) == (town.na, town.ga, town.wang)
    assert lead.status == Status.ASSIGNED
    assert lead.assigned_at is not None and lead.assigned_at >= before - timedelta(seconds=1)
    assert lead.due_at == due_at(town.deadlines, "orange", lead.received_at)
    assert [e.kind for e in lead.events] == ["registered", "graded", "assigned"]
    assert json.loads(lead.events[-1].detail)["matched_by"] == "grid_boundary"
    assert kinds_for(town.wang, lead) == {"assigned"}
    assert kinds_for(town.zhao, lead) == set()
    assert kinds_for(town.chief, lead) == set()  # an orange routed lead does not bother supervisors


@pytest.mark.parametrize("place", [
    pytest.param({"longitude": 117.2799, "latitude": 31.865}, id="gps-outside-everything"),
    pytest.param({"longitude": 117.305, "latitude": 31.865}, id="gps-in-community-without-officer"),
    pytest.param({}, id="no-place-given"),
])
def test_unroutable_lead_waits_for_the_supervisors(town, place):
    lead = town.report(**place)
    commit()
    assert lead.status == Status.GRADED
    assert lead.assignee is None and lead.assigned_at is None
    assert lead.due_at is not None  # the clock runs even while nobody has it
    assert lead.events[-1].kind == "unroutable"
    for supervisor in (town.chief, town.deputy):
        assert kinds_for(supervisor, lead) == {"unroutable"}
    for person in (town.wang, town.zhao, town.volunteer):
        assert kinds_for(person, lead) == set()
    now = utcnow()
    assert [x.id for x in lead_list(town.chief, LeadFilters(queue="unroutable"), now).leads] == [lead.id]
    assert lead_list(town.chief, LeadFilters(queue="returned"), now).leads == []


def test_dv_lead_is_shared_with_the_dv_team_only(town):
    lead = town.report(community=town.na, flag_dv=True, category="marriage_family")
    other_lead = town.report(community=town.na)  # an ordinary lead in the same community
    commit()
    assert lead.assignee == town.wang and lead.flag_dv
    for member in (town.dv_1, town.dv_2):
        assert kinds_for(member, lead) == {"compartment"}
        assert can_open(member, lead)
        assert not can_open(member, other_lead)  # the task force sees DV leads, not everything
    assert kinds_for(town.youth, lead) == set()
    assert not can_open(town.youth, lead)
    assert can_open(town.wang, lead)  # the assigned officer
    assert can_open(town.chief, lead)  # station leaders
    assert not can_open(town.zhao, lead)  # another community's officer
    assert "shared_with_team" in [e.kind for e in lead.events]


def test_dv_lead_stays_hidden_from_its_community_officer_once_handed_on(town):
    """Compartmented: the community officer sees it only while it is assigned to them."""
    lead = town.report(community=town.na, flag_dv=True)
    perform(lead, town.chief, "assign", town.deadlines, assignee=town.dv_1)
    commit()
    assert can_open(town.dv_1, lead) and can_open(town.dv_2, lead)
    assert not can_open(town.wang, lead)
    plain = town.report(community=town.na)
    perform(plain, town.chief, "assign", town.deadlines, assignee=town.zhao)
    commit()
    assert can_open(town.wang, plain)  # an ordinary lead in wang's community stays in view


def test_minor_lead_is_shared_with_the_youth_team_only(town):
    lead = town.report(longitude=117.295, latitude=31.865, flag_minor=True)
    commit()
    assert lead.assignee == town.zhao
    assert kinds_for(town.youth, lead) == {"compartment"}
    assert can_open(town.youth, lead)
    for member in (town.dv_1, town.dv_2):
        assert kinds_for(member, lead) == set()
        assert not can_open(member, lead)
    assert not can_open(town.wang, lead)


@pytest.mark.parametrize(("fields", "red"), [
    pytest.param({"risk": Risk.RED}, True, id="chosen-red"),
    pytest.param({"risk_factors": {"criminal_tendency"}}, True, id="red-by-rules"),
    pytest.param({"risk": Risk.ORANGE}, False, id="orange"),
])
def test_red_lead_alerts_every_supervisor(town, fields, red):
    lead = town.report(community=town.na, **fields)
    commit()
    assert (lead.risk == Risk.RED) is red
    for supervisor in (town.chief, town.deputy):
        assert ("red_lead" in kinds_for(supervisor, lead)) is red
    assert "red_lead" not in kinds_for(town.wang, lead)


def test_returned_lead_goes_back_to_the_supervisors_queue(town):
    lead = town.report(community=town.na)
    commit()
    perform(lead, town.wang, "return", town.deadlines, reason="不在我的辖区，应属西门口社区")
    commit()
    db.session.expire_all()
    assert lead.status == Status.GRADED
    assert lead.assignee is None and lead.assigned_at is None
    assert lead.returned_reason == "不在我的辖区，应属西门口社区"
    assert (lead.events[-1].kind, lead.events[-1].from_status, lead.events[-1].to_status) == (
        "return", "assigned", "graded")
    for supervisor in (town.chief, town.deputy):
        assert "returned" in kinds_for(supervisor, lead)
    assert "returned" not in kinds_for(town.wang, lead)
    now = utcnow()
    assert [x.id for x in lead_list(town.chief, LeadFilters(queue="returned"), now).leads] == [lead.id]
    assert lead_list(town.chief, LeadFilters(queue="unroutable"), now).leads == []
    # Once someone takes it again it leaves the queue.
    perform(lead, town.chief, "assign", town.deadlines, assignee=town.zhao)
    commit()
    assert lead.returned_reason == ""
    assert lead_list(town.chief, LeadFilters(queue="returned"), utcnow()).leads == []

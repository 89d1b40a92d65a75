"""A station with one person of every role, and the work that reaches their homes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from tests.conftest import Browser
from tests.factories import commit, make_community, make_station, make_user
from webapp.experts.models import Expert, ExpertInvitation
from webapp.extensions import db
from webapp.leads.codes import RISK_RANK, Risk, Source
from webapp.leads.deadlines import parse_deadlines
from webapp.leads.lifecycle import perform
from webapp.leads.models import Lead
from webapp.leads.services import LeadInput, PartyInput, register_lead
from webapp.mediation import services as mediation
from webapp.mediation.codes import MemberRole
from webapp.org import services as org
from webapp.org.models import Community, Role, Station, User
from webapp.returnvisits.models import ReturnVisit
from webapp.returnvisits.services import end_of_local_day
from webapp.timeutil import utcnow

DEADLINES = parse_deadlines("red=24h,orange=5d,yellow=30d,blue=30d")


@dataclass
class Place:
    station: Station
    community: Community
    officer: User
    supervisor: User
    volunteer: User
    mediator: User
    lawyer: User
    expert: User
    dv_team: User
    youth_team: User
    liaison: User
    admin: User
    nobody: User  # no role at all

    def browser(self, client, who: str) -> Browser:
        person = Browser(client)
        assert person.login(getattr(self, who).username).status_code == 303
        return person


@pytest.fixture
def place(app_ctx) -> Place:
    station = make_station("HOME-PS")
    officer = make_user(station, Role.OFFICER, username="h_officer")
    community = make_community(station, officer=officer)
    people = {
        "supervisor": make_user(station, Role.SUPERVISOR, username="h_supervisor"),
        "volunteer": make_user(station, Role.VOLUNTEER, username="h_volunteer", community=community),
        "mediator": make_user(station, Role.MEDIATOR, username="h_mediator"),
        "lawyer": make_user(station, Role.LAWYER, username="h_lawyer"),
        "expert": make_user(station, Role.EXPERT, username="h_expert"),
        "dv_team": make_user(station, Role.DV_TEAM, username="h_dv"),
        "youth_team": make_user(station, Role.YOUTH_TEAM, username="h_youth"),
        "liaison": make_user(station, Role.LIAISON, username="h_liaison"),
        "admin": make_user(station, Role.ADMIN, username="h_admin"),
        "nobody": org.create_user(station, username="h_nobody", display_name="无角色的人",
                                  password="correct horse battery", roles=set()),
    }
    commit()
    return Place(station=station, community=community, officer=officer, **people)


def make_lead(place: Place, *, risk: Risk | None = None, overdue: bool = False, dv: bool = False,
              minor: bool = False, reporter: User | None = None) -> Lead:
    """A lead of the place's community (routed to its officer), graded `risk`, due in a day or overdue."""
    lead = register_lead(reporter or place.volunteer, LeadInput(
        source=Source.VOLUNTEER, category="neighbour", summary="楼道堆物争吵", community=place.community,
        flag_dv=dv, flag_minor=minor, address="金桂园3栋201",
        parties=[PartyInput(role="applicant", name="张三", phone="13800000001")],
    ), DEADLINES, 10_000_000).lead
    if risk is not None:
        lead.risk, lead.risk_rank = risk.value, RISK_RANK[risk]
    lead.due_at = utcnow() + (timedelta(hours=-2) if overdue else timedelta(days=1))
    commit()
    return lead


def make_return_visit(place: Place, assignee: User, overdue: bool = False) -> ReturnVisit:
    """A settled lead's return visit, given to `assignee`, due today (or overdue)."""
    lead = make_lead(place)
    perform(lead, place.officer, "accept", DEADLINES)
    perform(lead, place.officer, "resolve", DEADLINES, outcome="oral")
    visit = db.session.scalars(select(ReturnVisit).where(ReturnVisit.lead_id == lead.id)).one()
    visit.assignee = assignee
    last_second_of_today = end_of_local_day(utcnow(), 0) - timedelta(seconds=1)
    visit.due_at = utcnow() - timedelta(hours=1) if overdue else last_second_of_today
    commit()
    return visit


def make_case(place: Place, session_in: timedelta | None = None):
    """A mediation case on a new accepted lead with the place's mediator on it, and a session planned
    `session_in` from now (if given) with the mediator and the lawyer on its panel."""
    lead = make_lead(place)
    perform(lead, place.officer, "accept", DEADLINES)
    case = mediation.open_case(lead, place.officer, "on_request")
    mediation.add_member(case, place.mediator, MemberRole.MEDIATOR)
    if session_in is not None:
        mediation.record_session(case, mediation.SessionInput(
            starts_at=utcnow() + session_in, place="room", officer=place.officer, lawyer=place.lawyer),
            place.officer)
    commit()
    return case


def make_invitation(place: Place, meets_in: timedelta | None) -> ExpertInvitation:
    expert = db.session.query(Expert).filter_by(user_id=place.expert.id).one_or_none()
    if expert is None:
        expert = Expert(station_id=place.station.id, user_id=place.expert.id, name="刘专家",
                        fields="neighbour")
        db.session.add(expert)
        db.session.flush()
    invitation = ExpertInvitation(lead_id=make_lead(place).id, expert_id=expert.id,
                                  video_link="https://meet.example.cn/room",
                                  meets_at=utcnow() + meets_in if meets_in is not None else None)
    db.session.add(invitation)
    commit()
    return invitation


@contextmanager
def counted_statements() -> Iterator[list[str]]:
    """The SQL statements run inside the block (every request's, on this app's engine)."""
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)

"""A station with a DV case and the cast around it: the assigned officer, the task force, two
supervisors, and the people who must never see the case (another officer, a volunteer, an admin, a
mediator)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from tests.conftest import Browser
from tests.factories import commit, make_community, make_station, make_user
from webapp.dv.models import WarningLetter
from webapp.dv.services import LetterInput, decide_letter, issue_letter, request_letter
from webapp.extensions import db
from webapp.leads.codes import Source
from webapp.leads.deadlines import parse_deadlines
from webapp.leads.models import Lead
from webapp.leads.services import LeadInput, PartyInput, register_lead
from webapp.org.models import Role, Station, User

FACTS = "2026年11月20日晚，张某酒后在家中殴打妻子李某，致其面部软组织挫伤。"
DAYS = [7, 30, 90]


@dataclass
class Cast:
    station: Station
    officer: User  # the DV lead's assigned officer (its community's)
    dvteam: User
    supervisor: User
    supervisor2: User
    officer2: User
    volunteer: User
    admin: User
    mediator: User
    lead: Lead

    def browser(self, client, who: str) -> Browser:
        browser = Browser(client)
        assert browser.login(getattr(self, who).username).status_code == 303
        return browser


def make_dv_lead(station: Station, reporter: User, community, summary: str = "家暴线索") -> Lead:
    from flask import current_app

    data = LeadInput(
        source=Source.POLICE_110,
        category="marriage_family",
        summary=summary,
        flag_dv=True,
        source_ref="20261120-0042",
        community=community,
        address="和平里3栋2单元502",
        parties=[PartyInput(role="victim", name="李秀兰", phone="13955120001")],
    )
    return register_lead(
        reporter, data, parse_deadlines(current_app.config["BEATBOOK_DEADLINES"]), 10 << 20
    ).lead


@pytest.fixture
def cast(app_ctx) -> Cast:
    station = make_station("DV-PS")
    officer = make_user(station, Role.OFFICER, username="dv_officer")
    community = make_community(station, officer=officer)
    people = dict(
        dvteam=make_user(station, Role.DV_TEAM, username="dv_team1"),
        supervisor=make_user(station, Role.SUPERVISOR, username="dv_sup1"),
        supervisor2=make_user(station, Role.SUPERVISOR, username="dv_sup2"),
        officer2=make_user(station, Role.OFFICER, username="dv_officer2"),
        volunteer=make_user(station, Role.VOLUNTEER, username="dv_volunteer", community=community),
        admin=make_user(station, Role.ADMIN, username="dv_admin"),
        mediator=make_user(station, Role.MEDIATOR, username="dv_mediator"),
    )
    make_community(station, officer=people["officer2"])
    lead = make_dv_lead(station, people["volunteer"], community)
    commit()
    assert lead.assignee_id == officer.id
    return Cast(station=station, officer=officer, lead=lead, **people)


def letter_input(**changes) -> LetterInput:
    values = dict(
        abuser_name="张伟",
        relationship="spouse",
        victim_name="李秀兰",
        facts=FACTS,
        evidence=["victim_statement", "injury_report"],
        abuser_id_number="110101198001010011",
        minors_in_household=1,
        police_ref="20261120-0042",
    )
    values.update(changes)
    return LetterInput(**values)


def issued_letter(cast: Cast, supersedes: WarningLetter | None = None, **changes) -> WarningLetter:
    letter = request_letter(cast.dvteam, cast.lead, letter_input(**changes), supersedes)
    decide_letter(cast.supervisor, letter, approve=True)
    issue_letter(cast.dvteam, letter, DAYS)
    commit()
    return letter


def letters_of(lead: Lead) -> list[WarningLetter]:
    return list(
        db.session.scalars(
            select(WarningLetter).where(WarningLetter.lead_id == lead.id).order_by(WarningLetter.id)
        )
    )

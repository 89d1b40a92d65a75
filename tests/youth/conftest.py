"""The youth team's cast: a station with one person per role (and a youth team and supervisor of
another station), a minor lead and an ordinary one, and a sealed profile with one session."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import Browser
from tests.factories import commit, make_community, make_station, make_user
from webapp.audit.models import AuditEntry
from webapp.extensions import db
from webapp.leads.codes import Source
from webapp.leads.deadlines import parse_deadlines
from webapp.leads.services import LeadInput, PartyInput, register_lead
from webapp.org.models import Role
from webapp.youth.models import OutreachEvent, YouthProfile, YouthSession
from webapp.youth.services import (
    OutreachInput,
    ProfileInput,
    SessionInput,
    open_profile,
    record_session,
    save_outreach,
)

SECRET = "gmxsealedwordq"  # in the profile's school, situation and session notes: found nowhere else
GUARDIAN_PHONE = "13911117788"
# Everyone who is not the youth team or a supervisor of the station (and nobody signed in).
OUTSIDERS = ("officer", "volunteer", "admin", "mediator", "lawyer", "expert", "dv_team", "liaison",
             "youth_elsewhere", "supervisor_elsewhere")


@dataclass
class Cast:
    app: object
    ids: dict[str, int] = field(default_factory=dict)
    browsers: dict[str, Browser] = field(default_factory=dict)

    def browser(self, who: str) -> Browser:
        if who not in self.browsers:
            browser = Browser(self.app.test_client())
            if who != "nobody":
                assert browser.login(who).status_code == 303, who
            self.browsers[who] = browser
        return self.browsers[who]

    def token(self, who: str) -> str:
        return self.browser(who).token("/login" if who == "nobody" else "/account")

    def post(self, who: str, path: str, data: dict | None = None, **kwargs):
        data = {"csrf_token": self.token(who), **(data or {})}
        return self.browser(who).client.post(path, data=data, **kwargs)

    def get(self, who: str, path: str, **kwargs):
        return self.browser(who).client.get(path, **kwargs)


def counts() -> dict[str, int]:
    """How many youth rows and audit entries exist: "nothing changed" compares these."""
    def count(model):
        return db.session.scalar(select(func.count()).select_from(model))
    return {"profiles": count(YouthProfile), "sessions": count(YouthSession), "events": count(OutreachEvent),
            "versions": db.session.scalar(select(func.coalesce(func.sum(YouthProfile.version), 0)))}


def audit_entries(action: str, object_id: int) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == action, AuditEntry.object_type == "youth_profile",
        AuditEntry.object_id == object_id).order_by(AuditEntry.seq)))


@pytest.fixture
def cast(app_ctx) -> Cast:
    app = app_ctx
    station = make_station("YT-PS")
    people = {role.value: make_user(station, role, username=role.value) for role in Role}
    people["youth2"] = make_user(station, Role.YOUTH_TEAM, username="youth2")
    elsewhere = make_station("YT-PS2")
    people["youth_elsewhere"] = make_user(elsewhere, Role.YOUTH_TEAM, username="youth_elsewhere")
    people["supervisor_elsewhere"] = make_user(elsewhere, Role.SUPERVISOR, username="supervisor_elsewhere")
    community = make_community(station, code="YTA", officer=people["officer"])
    community_elsewhere = make_community(elsewhere, code="YTB")
    db.session.flush()
    deadlines = parse_deadlines(app.config["BEATBOOK_DEADLINES"])

    def lead(reporter, where, minor: bool, summary: str):
        return register_lead(reporter, LeadInput(
            source=Source.VOLUNTEER, category="marriage_family", summary=summary, flag_minor=minor,
            community=where, parties=[PartyInput(role="minor", name="王小明", phone="13911110009")]),
            deadlines, 10 << 20).lead

    minor = lead(people["volunteer"], community, True, "初中生夜不归宿，父母外出务工")
    plain = lead(people["volunteer"], community, False, "楼道堆物争执")
    minor_elsewhere = lead(people["youth_elsewhere"], community_elsewhere, True, "外所未成年人线索")
    youth = people["youth_team"]
    profile = open_profile(youth, ProfileInput(
        name="赵小五", birth_year=date.today().year - 13, situation=f"父母离异 {SECRET}",
        school=f"西门口中学 {SECRET}", grade="初一(2)班", guardian_name="赵大勇", guardian_relation="父亲",
        guardian_phone=GUARDIAN_PHONE, risk_factors={"truancy"}, counsellor_id=youth.id))
    session, _ = record_session(youth, profile, SessionInput(
        kind="counselling", counsellor_id=youth.id, held_on=date.today() - timedelta(days=20),
        duration_minutes=45, notes=f"谈心 {SECRET}"))
    event = save_outreach(youth, None, OutreachInput(topic="law", held_on=date.today() - timedelta(days=19),
                                                     place="西门口中学礼堂", audience=300))
    commit()
    cast = Cast(app, ids={"profile": profile.id, "session": session.id, "event": event.id,
                          "minor_lead": minor.id, "plain_lead": plain.id,
                          "minor_elsewhere": minor_elsewhere.id,
                          "youth": youth.id, "youth2": people["youth2"].id,
                          "youth_elsewhere": people["youth_elsewhere"].id})
    return cast

"""Every mediation form refuses malformed input with a 4xx and a message, changing nothing; DV and
minor leads' cases stay in their compartment, and a view of one is audited."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from tests.conftest import Browser
from tests.factories import make_community, make_station, make_user
from webapp.audit.models import AuditEntry
from webapp.extensions import db
from webapp.leads.codes import Source
from webapp.leads.deadlines import parse_deadlines
from webapp.leads.lifecycle import perform
from webapp.leads.services import LeadInput, PartyInput, register_lead
from webapp.mediation import services
from webapp.mediation.codes import MemberRole
from webapp.mediation.models import (
    Agreement,
    AgreementCopy,
    AgreementSignature,
    CaseMember,
    CaseOutcome,
    GuideTick,
    MediationCase,
    MediatorRefusal,
    MethodGuide,
    PerformanceTerm,
)
from webapp.org.models import Role, User

HUGE = "99999999999999999999"
TABLES = (
    MediationCase,
    CaseMember,
    MediatorRefusal,
    GuideTick,
    MethodGuide,
    CaseOutcome,
    Agreement,
    AgreementSignature,
    AgreementCopy,
    PerformanceTerm,
)


def _lead(station, community, reporter, dv=False):
    deadlines = parse_deadlines("red=24h,orange=5d,yellow=30d,blue=30d")
    lead = register_lead(
        reporter,
        LeadInput(
            source=Source.VOLUNTEER,
            category="neighbour",
            summary="邻居噪音纠纷",
            community=community,
            flag_dv=dv,
            parties=[PartyInput(role="applicant", name="甲"), PartyInput(role="respondent", name="乙")],
        ),
        deadlines,
        1 << 20,
    ).lead
    perform(lead, lead.assignee, "accept", deadlines)
    return lead


@pytest.fixture
def cases(app_ctx):
    """Two open cases of the officer: one with a draft agreement, one with a signed one."""
    station = make_station()
    officer = make_user(station, Role.OFFICER, username="officer")
    community = make_community(station, officer=officer)
    volunteer = make_user(station, Role.VOLUNTEER, username="volunteer", community=community)
    mediator = make_user(station, Role.MEDIATOR, username="mediator")
    make_user(station, Role.SUPERVISOR, username="supervisor")
    services.save_guide(station, "neighbour", "要点", "一\n二", officer)
    draft = services.open_case(_lead(station, community, volunteer), officer, "on_request")
    signed = services.open_case(_lead(station, community, volunteer), officer, "on_request")
    for case in (draft, signed):
        services.add_member(case, mediator, MemberRole.MEDIATOR)
        services.save_agreement(
            case,
            services.AgreementInput(
                parties="甲乙",
                facts="f",
                issues="i",
                responsibilities="r",
                terms="t",
                performance="p",
                perform_by=date(2026, 12, 31),
                performance_terms=[(date(2026, 12, 1), "付款")],
            ),
        )
    services.sign_agreement(signed, ["甲", "乙"], mediator)
    db.session.commit()
    return {
        "draft": draft.id,
        "signed": signed.id,
        "lead": draft.lead_id,
        "mediator": mediator.id,
        "term": signed.agreement.performance_terms[0].id,
    }


def _snapshot():
    counts = tuple(db.session.scalar(select(func.count()).select_from(table)) for table in TABLES)
    cases = tuple(db.session.execute(select(MediationCase.status, MediationCase.consent_at)).all())
    db.session.expire_all()
    return counts, cases


def _forms(ids):
    draft, signed = ids["draft"], ids["signed"]
    return [
        (f"/mediation/{draft}/members", {"role": "boss", "user_id": str(ids["mediator"])}),
        (f"/mediation/{draft}/members", {"role": "lawyer", "user_id": HUGE}),
        (f"/mediation/{draft}/consent", {"note": "同" * 501}),
        (f"/mediation/{draft}/refusals", {"user_id": HUGE, "party": "甲"}),
        (f"/mediation/{draft}/refusals", {"user_id": str(ids["mediator"]), "party": "甲" * 65}),
        (f"/mediation/{draft}/refusals", {"user_id": "abc", "party": "甲"}),
        (f"/mediation/{draft}/guide", {"guide_id": "abc"}),
        (f"/mediation/{draft}/guide", {"guide_id": HUGE}),
        (f"/mediation/{draft}/guide", {"guide_id": "1", "items": ["x"]}),
        (f"/mediation/{draft}/conclude", {"outcome": "vanished"}),
        (f"/mediation/{draft}/conclude", {"outcome": "failed", "failure_route": "court", "note": "注" * 501}),
        (f"/mediation/{draft}/agreement/sign", {"parties": "甲\n乙", "mediator_id": HUGE}),
        (f"/mediation/{draft}/agreement/sign", {"parties": "甲", "mediator_id": str(ids["mediator"])}),
        (
            f"/mediation/{draft}/agreement/sign",
            {"parties": ("名" * 65) + "\n乙", "mediator_id": str(ids["mediator"])},
        ),
        (f"/mediation/{draft}/agreement/copies", {"recipient": "甲"}),  # not signed yet: 409
        (f"/mediation/{signed}/agreement/copies", {"recipient": "甲" * 65}),
        (f"/mediation/{signed}/agreement/performed", {"term_id": HUGE}),
        (f"/mediation/{signed}/agreement/performed", {"term_id": "abc"}),
        (f"/mediation/{signed}/agreement/performed", {"term_id": str(ids["term"]), "note": "n" * 501}),
        (f"/mediation/{signed}/agreement/sign", {"parties": "甲\n乙", "mediator_id": str(ids["mediator"])}),
        (
            f"/mediation/{signed}/agreement",
            {
                "parties": "x",
                "facts": "x",
                "issues": "x",
                "responsibilities": "x",
                "terms": "x",
                "performance": "x",
                "perform_by": "2026-12-31",
            },
        ),
        (
            f"/mediation/{draft}/sessions/new",
            {
                "starts_at": "2026-12-01T10:00",
                "place": "video",
                "video_url": "javascript:alert(1)",
                "result": "continuing",
            },
        ),
        (
            f"/mediation/{draft}/sessions/new",
            {"starts_at": "2026-12-01T10:00", "place": "room", "result": "failed"},
        ),  # a failure needs its reason
        (f"/mediation/open/{ids['lead']}", {"origin": ""}),
        ("/mediation/guides/neighbour", {"title": "t" * 101, "items": "一"}),
        ("/mediation/guides/neighbour", {"title": "t", "items": "\n".join(str(i) for i in range(31))}),
        ("/mediation/guides/neighbour", {"title": "t", "items": "一\x00"}),
    ]


def test_every_form_refuses_bad_input_and_changes_nothing(client, cases):
    officer, supervisor = Browser(client), Browser(client.application.test_client())
    assert officer.login("officer").status_code == 303
    assert supervisor.login("supervisor").status_code == 303
    before = _snapshot()
    problems = []
    for path, data in _forms(cases):
        person = supervisor if path.startswith("/mediation/guides") else officer
        response = person.post(path, data, from_page="/mediation/")
        body = response.get_data(as_text=True)
        told = 'class="error"' in body or 'role="alert"' in body or 'class="card error-page"' in body
        if response.status_code not in (400, 409, 422) or not told:
            problems.append(f"{path} {sorted(data)}: {response.status_code}")
    assert problems == [], "\n".join(problems)
    assert _snapshot() == before


def test_dv_case_stays_in_its_compartment_and_views_are_audited(client, app_ctx):
    station = make_station()
    officer = make_user(station, Role.OFFICER, username="officer")
    community = make_community(station, officer=officer)
    volunteer = make_user(station, Role.VOLUNTEER, username="volunteer", community=community)
    mediator = make_user(station, Role.MEDIATOR, username="mediator")
    make_user(station, Role.DV_TEAM, username="dvteam")
    lead = _lead(station, community, volunteer, dv=True)
    case = services.open_case(lead, officer, "on_request")
    # The mediator could not be put on it (the compartment), even when the form is posted anyway.
    with pytest.raises(services.MediationError):
        services.add_member(case, mediator, MemberRole.MEDIATOR)
    case.members.append(CaseMember(user_id=mediator.id, role="mediator"))  # and if they were, still unseen
    db.session.commit()
    case_id = case.id
    outsider = Browser(client.application.test_client())
    outsider.login("mediator")
    assert outsider.client.get(f"/mediation/{case_id}").status_code == 404
    assert f"/mediation/{case_id}" not in outsider.client.get("/home/mediation").get_data(as_text=True)
    team = Browser(client.application.test_client())
    team.login("dvteam")
    page = team.client.get(f"/mediation/{case_id}")
    assert page.status_code == 200 and "no-store" in page.headers["Cache-Control"]
    assert "X-Offline-Cache" not in page.headers
    audited = db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "mediation_case")).all()
    assert [(a.action, a.object_id, a.actor_id) for a in audited] == [
        ("view", case_id, db.session.scalar(select(User.id).where(User.username == "dvteam")))
    ]


def test_supervisors_mark_prosecutor_mediators_and_the_panel_follows(client, cases):
    mediator_id = cases["mediator"]
    supervisor = Browser(client)
    assert supervisor.login("supervisor").status_code == 303
    case = db.session.get(MediationCase, cases["draft"])
    assert services.propose_panel(case, case.opened_at)[1] is None  # no prosecutor-mediator yet
    for bad in ({"user_id": HUGE, "prosecutor": "y"}, {"user_id": "abc"}, {}):
        response = supervisor.post("/mediation/mediators/prosecutor", bad, from_page="/mediation/mediators")
        assert response.status_code == 422 and 'class="error"' in response.get_data(as_text=True)
    assert not services.is_prosecutor(db.session.get(User, mediator_id))
    assert (
        supervisor.post(
            "/mediation/mediators/prosecutor",
            {"user_id": str(mediator_id), "prosecutor": "y"},
            from_page="/mediation/mediators",
        ).status_code
        == 303
    )
    db.session.expire_all()
    case = db.session.get(MediationCase, cases["draft"])
    assert services.propose_panel(case, case.opened_at)[1].id == mediator_id
    mediator = Browser(client.application.test_client())
    mediator.login("mediator")
    page = mediator.client.get("/mediation/mediators")
    assert page.status_code == 200 and "Mark as" not in page.get_data(as_text=True)
    assert (
        mediator.post(
            "/mediation/mediators/prosecutor", {"user_id": str(mediator_id)}, from_page="/mediation/mediators"
        ).status_code
        == 403
    )
    assert services.is_prosecutor(db.session.get(User, mediator_id))

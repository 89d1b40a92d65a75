"""Mediation through the pages a person uses: a lead becomes a case, sessions with the 两官一律 panel,
a signed agreement with a stable PDF, performance terms, and the outcome back on the lead."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import Browser, csrf_from
from tests.factories import make_community, make_station, make_user
from webapp.duty.services import add_shift
from webapp.extensions import db
from webapp.leads.codes import Source, Status
from webapp.leads.deadlines import parse_deadlines
from webapp.leads.lifecycle import perform
from webapp.leads.models import Lead, LeadEvent
from webapp.leads.services import LeadInput, PartyInput, register_lead
from webapp.mediation import figures, pdf, services
from webapp.mediation.models import (
    Agreement,
    AgreementCopy,
    GuideTick,
    MediationCase,
    MediationSession,
    MethodGuide,
    PerformanceTerm,
)
from webapp.mediation.sweep import remind_court_confirmation, warn_overdue_terms
from webapp.notify.models import Notification
from webapp.org.models import Role, User
from webapp.returnvisits.models import ReturnVisit
from webapp.timeutil import STATION_TZ, utcnow


@pytest.fixture
def cast(app_ctx):
    station = make_station()
    officer = make_user(station, Role.OFFICER, username="officer")
    community = make_community(station, officer=officer)
    people = {
        "officer": officer,
        "prosecutor": make_user(station, Role.MEDIATOR, username="prosecutor"),
        "mediator": make_user(station, Role.MEDIATOR, username="mediator"),
        "lawyer": make_user(station, Role.LAWYER, username="lawyer"),
        "supervisor": make_user(station, Role.SUPERVISOR, username="supervisor"),
        "volunteer": make_user(station, Role.VOLUNTEER, username="volunteer", community=community),
        "stranger": make_user(station, Role.MEDIATOR, username="stranger"),
    }
    services.set_prosecutor(people["prosecutor"], True)
    services.save_guide(
        station, "neighbour", "邻里纠纷调解要点", "到现场查看\n分别谈话\n促成和解", people["supervisor"]
    )
    db.session.commit()
    return {"station": station, "community": community, **{k: v.id for k, v in people.items()}}


def _accepted_lead(cast, category="neighbour", summary="楼上漏水，楼下要求赔偿") -> int:
    deadlines = parse_deadlines("red=24h,orange=5d,yellow=30d,blue=30d")
    volunteer = db.session.get(User, cast["volunteer"])
    lead = register_lead(
        volunteer,
        LeadInput(
            source=Source.VOLUNTEER,
            category=category,
            summary=summary,
            community=cast["community"],
            parties=[
                PartyInput(role="applicant", name="王秀英"),
                PartyInput(role="respondent", name="陈立新"),
            ],
        ),
        deadlines,
        1 << 20,
    ).lead
    perform(lead, lead.assignee, "accept", deadlines)
    db.session.commit()
    return lead.id


def _signed_in(client, username) -> Browser:
    person = Browser(client)
    assert person.login(username).status_code == 303
    return person


def _local(at: datetime) -> str:
    return at.astimezone(STATION_TZ).strftime("%Y-%m-%dT%H:%M")


def _case_id(lead_id: int) -> int:
    return db.session.scalar(select(MediationCase.id).where(MediationCase.lead_id == lead_id))


def _post(person, path, data, from_page=None):
    """A form post; a lone surrogate cannot be form-encoded, so that one goes as JSON (as a script would)."""
    if any("\ud800" in str(value) for value in data.values()):
        token = person.token(from_page or path)
        return person.client.post(path, json=data, headers={"X-CSRFToken": token})
    return person.post(path, data, from_page=from_page)


def _session(person, case_id, cast, **fields):
    data = {
        "starts_at": _local(utcnow() + timedelta(days=1)),
        "place": "room",
        "result": "continuing",
        "officer_id": cast["officer"],
        "prosecutor_id": cast["prosecutor"],
        "lawyer_id": cast["lawyer"],
        **fields,
    }
    return _post(person, f"/mediation/{case_id}/sessions/new", data)


def test_a_full_case_from_lead_to_closing(client, cast):
    lead_id = _accepted_lead(cast)
    officer = _signed_in(client, "officer")
    assert "/mediation/open/" in client.get(f"/leads/{lead_id}").get_data(as_text=True)

    opened = officer.post(f"/mediation/open/{lead_id}", {"origin": "on_request"})
    assert opened.status_code == 303
    case_id = _case_id(lead_id)
    assert db.session.get(Lead, lead_id).status == Status.IN_MEDIATION  # through the lifecycle
    assert officer.post(f"/mediation/open/{lead_id}", {"origin": "on_request"}).status_code == 409

    # The session form proposes the panel: the community officer, the prosecutor-mediator, a lawyer.
    form = client.get(f"/mediation/{case_id}/sessions/new").get_data(as_text=True)
    for person in ("officer", "prosecutor", "lawyer"):
        assert re.search(rf'<option selected value="{cast[person]}">', form), person
    assert _session(officer, case_id, cast, statements="双方陈述").status_code == 303
    assert (
        _session(
            officer,
            case_id,
            cast,
            place="video",
            video_url="https://meet.example.cn/1",
            result="agreement",
            terms="分两期赔偿6000元",
        ).status_code
        == 303
    )
    assert db.session.scalar(select(func.count()).select_from(MediationSession)) == 2
    invited = db.session.scalars(
        select(Notification.user_id).where(Notification.kind == "mediation_session")
    ).all()
    assert sorted(set(invited)) == sorted({cast["officer"], cast["prosecutor"], cast["lawyer"]})
    assert "#" + str(case_id) not in Notification.__name__  # neutral words: checked below
    assert all("王" not in n.text for n in db.session.scalars(select(Notification)))

    # The lawyer sees the session on their home, and the case.
    lawyer = Browser(client.application.test_client())
    assert lawyer.login("lawyer").status_code == 303
    assert f"/mediation/{case_id}" in lawyer.client.get("/home/mediation").get_data(as_text=True)
    assert lawyer.client.get(f"/mediation/{case_id}").status_code == 200
    stranger = Browser(client.application.test_client())
    stranger.login("stranger")
    assert stranger.client.get(f"/mediation/{case_id}").status_code == 404

    today = utcnow().astimezone(STATION_TZ).date()
    agreement = {
        "parties": "申请人：王秀英\n被申请人：陈立新",
        "facts": "漏水",
        "issues": "赔偿",
        "responsibilities": "楼上",
        "terms": "赔偿6000元",
        "performance": "转账",
        "perform_by": (today + timedelta(days=30)).isoformat(),
        "term_lines": f"{today.isoformat()} 支付第一期3000元\n"
        f"{(today - timedelta(days=2)).isoformat()} 修好水管",
    }
    assert officer.post(f"/mediation/{case_id}/agreement", agreement).status_code == 303
    assert (
        officer.post(
            f"/mediation/{case_id}/members",
            {"role": "mediator", "user_id": cast["mediator"]},
            from_page=f"/mediation/{case_id}",
        ).status_code
        == 303
    )
    signed = officer.post(
        f"/mediation/{case_id}/agreement/sign",
        {"parties": "王秀英\n陈立新", "mediator_id": cast["mediator"]},
        from_page=f"/mediation/{case_id}",
    )
    assert signed.status_code == 303
    stored = db.session.scalar(select(Agreement).where(Agreement.case_id == case_id))
    assert stored.pdf.startswith(b"%PDF") and stored.pdf_sha256 == hashlib.sha256(stored.pdf).hexdigest()
    assert pdf.agreement_pdf(stored) == stored.pdf  # same agreement, same bytes
    download = client.get(f"/mediation/{case_id}/agreement.pdf")
    assert download.status_code == 200 and download.data == stored.pdf
    assert stored.pdf_sha256 in client.get(f"/mediation/{case_id}/agreement/print").get_data(as_text=True)
    # Signed means immutable.
    assert (
        officer.post(
            f"/mediation/{case_id}/agreement",
            {**agreement, "terms": "改了"},
            from_page=f"/mediation/{case_id}",
        ).status_code
        == 409
    )
    db.session.expire_all()
    assert db.session.get(Agreement, stored.id).terms == "赔偿6000元"

    # Terms due today and overdue reach the officer's work; the overdue one pushes once.
    home = client.get("/home/officer").get_data(as_text=True)
    assert "修好水管" not in home and home.count(f"/mediation/{case_id}") >= 2
    assert warn_overdue_terms(timedelta(seconds=30)) == 1
    assert warn_overdue_terms(timedelta(seconds=30)) == 0

    concluded = officer.post(
        f"/mediation/{case_id}/conclude",
        {"outcome": "resolved", "resolution": "written"},
        from_page=f"/mediation/{case_id}",
    )
    assert concluded.status_code == 303, re.findall(
        r'class="error"[^>]*>([^<]*)', concluded.get_data(as_text=True)
    )
    lead = db.session.get(Lead, lead_id)
    assert lead.status == Status.RESOLVED and lead.outcome == "written"
    assert (
        db.session.scalar(
            select(LeadEvent.kind).where(LeadEvent.lead_id == lead_id).order_by(LeadEvent.id.desc()).limit(1)
        )
        == "resolve"
    )

    # The loop closes: resolving scheduled a return visit; the officer finds the parties holding
    # to the agreement and the lead is closed, through its own steps.
    [visit] = db.session.scalars(select(ReturnVisit).where(ReturnVisit.lead_id == lead_id)).all()
    assert visit.assignee_id == cast["officer"] and visit.is_pending
    recorded = officer.post(f"/return-visits/{visit.id}/record",
                            {"result": "holding", "note": "已按期支付", "return_visit_id": str(visit.id)},
                            from_page=f"/return-visits/{visit.id}")
    assert recorded.status_code == 303
    db.session.expire_all()
    assert db.session.get(Lead, lead_id).status == Status.CLOSED


def test_pdf_hash_is_stable_and_court_confirmation_reminds_once(client, cast):
    lead_id = _accepted_lead(cast)
    officer = db.session.get(User, cast["officer"])
    lead = db.session.get(Lead, lead_id)
    case = services.open_case(lead, officer, "own_initiative")
    services.add_member(case, db.session.get(User, cast["mediator"]), services.MemberRole.MEDIATOR)
    day = datetime(2026, 1, 2, tzinfo=UTC).date()
    data = services.AgreementInput(
        parties="甲乙",
        facts="事实",
        issues="争议",
        responsibilities="责任",
        terms="条款",
        performance="转账",
        perform_by=day,
        performance_terms=[(day, "付款")],
    )
    services.save_agreement(case, data)
    signed_at = utcnow() - timedelta(days=24)
    services.sign_agreement(case, ["甲", "乙"], db.session.get(User, cast["mediator"]), now=signed_at)
    db.session.commit()
    first = case.agreement.pdf
    assert hashlib.sha256(pdf.agreement_pdf(case.agreement)).hexdigest() == case.agreement.pdf_sha256
    assert pdf.agreement_pdf(case.agreement) == first
    assert remind_court_confirmation(timedelta(seconds=30)) == 1
    assert remind_court_confirmation(timedelta(seconds=30)) == 0


def test_a_failed_case_tells_the_route_and_the_lead_fails(client, cast):
    lead_id = _accepted_lead(cast)
    officer = _signed_in(client, "officer")
    officer.post(f"/mediation/open/{lead_id}", {"origin": "own_initiative"})
    case_id = _case_id(lead_id)
    assert (
        officer.post(
            f"/mediation/{case_id}/conclude",
            {"outcome": "failed", "failure_route": "nowhere"},
            from_page=f"/mediation/{case_id}",
        ).status_code
        == 422
    )
    # A written resolution needs a signed agreement.
    assert (
        officer.post(
            f"/mediation/{case_id}/conclude",
            {"outcome": "resolved", "resolution": "written"},
            from_page=f"/mediation/{case_id}",
        ).status_code
        == 422
    )
    assert db.session.get(Lead, lead_id).status == Status.IN_MEDIATION
    assert (
        officer.post(
            f"/mediation/{case_id}/conclude",
            {"outcome": "failed", "failure_route": "court", "note": "已告知可向法院起诉"},
            from_page=f"/mediation/{case_id}",
        ).status_code
        == 303
    )
    lead = db.session.get(Lead, lead_id)
    assert (lead.status, lead.outcome, lead.outcome_note) == (Status.FAILED, "court", "已告知可向法院起诉")
    assert db.session.get(MediationCase, case_id).status == "failed"


def test_a_mediator_cannot_conclude_for_the_lead(client, cast):
    lead_id = _accepted_lead(cast)
    case = services.open_case(
        db.session.get(Lead, lead_id), db.session.get(User, cast["officer"]), "on_request"
    )
    services.add_member(case, db.session.get(User, cast["mediator"]), services.MemberRole.MEDIATOR)
    db.session.commit()
    mediator = _signed_in(client, "mediator")
    page = client.get(f"/mediation/{case.id}")
    assert page.status_code == 200
    response = mediator.client.post(
        f"/mediation/{case.id}/conclude",
        data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "outcome": "failed",
            "failure_route": "court",
        },
    )
    assert response.status_code == 403
    assert db.session.get(Lead, lead_id).status == Status.IN_MEDIATION


def test_a_refused_mediator_cannot_be_named(client, cast):
    lead_id = _accepted_lead(cast)
    officer = _signed_in(client, "officer")
    officer.post(f"/mediation/open/{lead_id}", {"origin": "on_request"})
    case_id = _case_id(lead_id)
    assert (
        officer.post(
            f"/mediation/{case_id}/refusals",
            {"user_id": cast["prosecutor"], "party": "陈立新", "reason": "认为与对方熟识"},
            from_page=f"/mediation/{case_id}",
        ).status_code
        == 303
    )
    form = client.get(f"/mediation/{case_id}/sessions/new").get_data(as_text=True)
    assert f'value="{cast["prosecutor"]}"' not in form  # not offered
    assert _session(officer, case_id, cast).status_code == 422  # nor taken when posted anyway
    assert (
        officer.post(
            f"/mediation/{case_id}/members",
            {"role": "prosecutor", "user_id": cast["prosecutor"]},
            from_page=f"/mediation/{case_id}",
        ).status_code
        == 422
    )
    assert db.session.scalar(select(func.count()).select_from(MediationSession)) == 0
    case = db.session.get(MediationCase, case_id)
    assert services.propose_panel(case, utcnow())[1] is None


def test_guide_versions_are_kept_and_ticks_stay_with_their_version(client, cast):
    lead_id = _accepted_lead(cast)
    officer = _signed_in(client, "officer")
    officer.post(f"/mediation/open/{lead_id}", {"origin": "on_request"})
    case_id = _case_id(lead_id)
    first = db.session.get(MediationCase, case_id).guide_id
    assert (
        officer.post(
            f"/mediation/{case_id}/guide",
            {"guide_id": first, "items": ["0", "2"]},
            from_page=f"/mediation/{case_id}",
        ).status_code
        == 303
    )
    supervisor = Browser(client.application.test_client())
    supervisor.login("supervisor")
    assert (
        supervisor.post(
            "/mediation/guides/neighbour",
            {"title": "邻里纠纷调解要点（修订）", "items": "到现场\n请楼栋长参加"},
        ).status_code
        == 303
    )
    assert (
        officer.post(
            "/mediation/guides/neighbour", {"title": "x", "items": "y"}, from_page="/mediation/guides"
        ).status_code
        == 403
    )
    versions = db.session.scalars(
        select(MethodGuide).where(MethodGuide.category == "neighbour").order_by(MethodGuide.version)
    ).all()
    assert [(g.version, g.items) for g in versions][0] == (1, "到现场查看\n分别谈话\n促成和解")
    assert len(versions) == 2
    assert db.session.get(MediationCase, case_id).guide_id == first  # the case keeps its version
    ticks = db.session.execute(select(GuideTick.guide_id, GuideTick.item).order_by(GuideTick.item)).all()
    assert ticks == [(first, 0), (first, 2)]
    # A tick form for another version is refused; out-of-range items too.
    assert (
        officer.post(
            f"/mediation/{case_id}/guide",
            {"guide_id": versions[1].id, "items": ["0"]},
            from_page=f"/mediation/{case_id}",
        ).status_code
        == 409
    )
    assert (
        officer.post(
            f"/mediation/{case_id}/guide",
            {"guide_id": first, "items": ["7"]},
            from_page=f"/mediation/{case_id}",
        ).status_code
        == 422
    )
    assert db.session.scalar(select(func.count()).select_from(GuideTick)) == 2


BAD = {
    "nul": ({"note": "同意\x00"}, 400),
    "surrogate": ({"note": "同意\ud800"}, 400),
    "oversize": ({"note": "长" * 501}, 422),
    "missing": ({}, 422),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_consent_input_is_refused_and_changes_nothing(client, cast, case):
    data, status = BAD[case]
    lead_id = _accepted_lead(cast)
    officer = _signed_in(client, "officer")
    officer.post(f"/mediation/open/{lead_id}", {"origin": "on_request"})
    case_id = _case_id(lead_id)
    response = _post(officer, f"/mediation/{case_id}/consent", data, from_page=f"/mediation/{case_id}")
    assert response.status_code == status
    assert response.get_data(as_text=True).strip()
    assert db.session.get(MediationCase, case_id).consent_at is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("starts_at", "tomorrow"),
        ("prosecutor_id", "99999999999999999999"),
        ("officer_id", "abc"),
        ("place", "moon"),
        ("attendees", "人" * 4001),
        ("video_url", "x" * 501),
        ("private", "\ud800"),
    ],
)
def test_bad_session_input_is_refused_and_changes_nothing(client, cast, field, value):
    lead_id = _accepted_lead(cast)
    officer = _signed_in(client, "officer")
    officer.post(f"/mediation/open/{lead_id}", {"origin": "on_request"})
    case_id = _case_id(lead_id)
    response = _session(officer, case_id, cast, **{field: value})
    assert response.status_code in (400, 422)
    assert response.get_data(as_text=True).strip()
    assert db.session.scalar(select(func.count()).select_from(MediationSession)) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("perform_by", "2026-13-45"),
        ("term_lines", "明天 付款"),
        ("term_lines", "2026-12-01"),
        ("facts", "事" * 4001),
        ("parties", ""),
        ("terms", "\x00"),
    ],
)
def test_bad_agreement_input_is_refused_and_changes_nothing(client, cast, field, value):
    lead_id = _accepted_lead(cast)
    officer = _signed_in(client, "officer")
    officer.post(f"/mediation/open/{lead_id}", {"origin": "on_request"})
    case_id = _case_id(lead_id)
    data = {
        "parties": "甲乙",
        "facts": "f",
        "issues": "i",
        "responsibilities": "r",
        "terms": "t",
        "performance": "p",
        "perform_by": "2026-12-31",
        field: value,
    }
    response = officer.post(f"/mediation/{case_id}/agreement", data)
    assert response.status_code in (400, 422)
    assert db.session.scalar(select(func.count()).select_from(Agreement)) == 0
    assert db.session.scalar(select(func.count()).select_from(PerformanceTerm)) == 0


def test_bad_ids_on_open_and_members_are_refused(client, cast):
    lead_id = _accepted_lead(cast)
    officer = _signed_in(client, "officer")
    assert client.get("/mediation/open/99999999999999999999").status_code == 404
    assert officer.post(f"/mediation/open/{lead_id}", {"origin": "sideways"}).status_code == 422
    assert db.session.get(Lead, lead_id).status == Status.ACCEPTED
    officer.post(f"/mediation/open/{lead_id}", {"origin": "on_request"})
    case_id = _case_id(lead_id)
    for user_id in ("99999999999999999999", "x", str(cast["volunteer"])):
        assert (
            officer.post(
                f"/mediation/{case_id}/members",
                {"role": "lawyer", "user_id": user_id},
                from_page=f"/mediation/{case_id}",
            ).status_code
            == 422
        )
    assert client.get("/mediation/99999999999999999999").status_code == 404


def test_success_rate_counts_the_stations_way(client, cast):
    """resolved ÷ (resolved + failed) over conclusions in the period; transferred excluded; a resolved
    case whose lead was reopened later counts as failed; open cases and other periods do not count."""
    officer = db.session.get(User, cast["officer"])
    deadlines = parse_deadlines("red=24h,orange=5d,yellow=30d,blue=30d")
    start = utcnow() - timedelta(days=1)
    outcomes = [
        ("resolved", "oral"),
        ("resolved", "on_the_spot"),
        ("resolved", "oral"),
        ("failed", "court"),
        ("transferred", "justice_office"),
        ("resolved", "oral"),
    ]
    cases = []
    for status, code in outcomes:
        case = services.open_case(db.session.get(Lead, _accepted_lead(cast)), officer, "on_request")
        services.conclude_case(case, status, code, "", officer)
        cases.append(case)
    services.open_case(db.session.get(Lead, _accepted_lead(cast)), officer, "on_request")  # still open
    relapsed = cases[-1].lead
    perform(relapsed, officer, "reopen", deadlines, now=utcnow() + timedelta(seconds=1), reason="又吵起来了")
    db.session.commit()
    rate = figures.success_rate(cast["station"].id, start, utcnow() + timedelta(days=1))
    assert (rate.resolved, rate.failed, rate.transferred) == (3, 2, 1)
    assert rate.rate == pytest.approx(0.6)
    supervisor = Browser(client)
    supervisor.login("supervisor")
    figures_card = client.get("/home/supervisor").get_data(as_text=True).split('id="mediation-figures"')[1]
    assert "<strong>60.0%</strong>" in figures_card.split("</section>")[0]
    assert figures.success_rate(cast["station"].id, start - timedelta(days=9), start).rate is None


def test_the_panel_prefers_who_is_on_duty(client, cast):
    station = cast["station"]
    early = make_user(station, Role.LAWYER, username="aaa-lawyer")  # first by name
    lead_id = _accepted_lead(cast)
    case = services.open_case(
        db.session.get(Lead, lead_id), db.session.get(User, cast["officer"]), "on_request"
    )
    at = utcnow().replace(microsecond=0) + timedelta(days=2)
    add_shift(
        station, db.session.get(User, cast["lawyer"]), at - timedelta(hours=1), at + timedelta(hours=4), None
    )
    db.session.commit()
    assert services.propose_panel(case, at)[2].id == cast["lawyer"]  # on duty then
    assert services.propose_panel(case, at + timedelta(hours=6))[2].id == early.id  # nobody on duty: by name


def test_the_case_page_speaks_of_mediation_not_of_other_teams_work(client, cast):
    """The case's words are mediation's own: msgids shared with the youth team's assistance sessions
    and the return visit's result read 帮扶记录 / 记录帮扶 / 回访结果 on a mediation case."""
    lead_id = _accepted_lead(cast)
    officer = _signed_in(client, "officer")
    officer.post(f"/mediation/open/{lead_id}", {"origin": "on_request"})
    case_id = _case_id(lead_id)
    assert _session(officer, case_id, cast, private="y").status_code == 303
    page = client.get(f"/mediation/{case_id}").get_data(as_text=True)
    form = client.get(f"/mediation/{case_id}/sessions/new").get_data(as_text=True)
    for wrong in ("帮扶", "回访", "不公开信息"):
        assert wrong not in page and wrong not in form, wrong
    assert "调解会议" in page and "背对背调解" in page and "会议结果" in page
    assert "记录调解会议" in form


def test_copies_handed_out_and_terms_performed_are_kept_beside_the_signed_agreement(client, cast):
    """After signing, the only records are beside the agreement: who got a copy, which term was
    performed; a performed term leaves the officer's work; the PDF and its hash never change."""
    lead_id = _accepted_lead(cast)
    officer = db.session.get(User, cast["officer"])
    case = services.open_case(db.session.get(Lead, lead_id), officer, "on_request")
    services.add_member(case, db.session.get(User, cast["mediator"]), services.MemberRole.MEDIATOR)
    today = utcnow().astimezone(STATION_TZ).date()
    services.save_agreement(case, services.AgreementInput(
        parties="甲乙", facts="事实", issues="争议", responsibilities="责任", terms="条款",
        performance="转账",
        perform_by=today, performance_terms=[(today, "支付3000元"), (today + timedelta(days=9), "修好水管")]))
    services.sign_agreement(case, ["甲", "乙"], db.session.get(User, cast["mediator"]))
    db.session.commit()
    case_id, pdf_before, hash_before = case.id, case.agreement.pdf, case.agreement.pdf_sha256
    due = db.session.scalar(select(PerformanceTerm).where(PerformanceTerm.description == "支付3000元"))
    assert [term.id for term in services.terms_for(officer, today)] == [due.id]

    person = _signed_in(client, "officer")
    page = f"/mediation/{case_id}"
    assert person.post(f"{page}/agreement/copies", {"recipient": "王秀英"}, from_page=page).status_code == 303
    assert person.post(f"{page}/agreement/performed", {"term_id": str(due.id), "note": "已转账"},
                       from_page=page).status_code == 303
    db.session.expire_all()
    agreement = db.session.get(Agreement, case.agreement.id)
    assert [copy.recipient for copy in db.session.scalars(select(AgreementCopy))] == ["王秀英"]
    assert db.session.get(PerformanceTerm, due.id).done_at is not None
    assert services.terms_for(db.session.get(User, cast["officer"]), today) == []
    assert (agreement.pdf, agreement.pdf_sha256) == (pdf_before, hash_before)
    shown = client.get(page).get_data(as_text=True)
    assert "王秀英" in shown

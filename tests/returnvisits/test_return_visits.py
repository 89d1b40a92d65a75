"""Return visits (回访): scheduled when a lead is settled, recorded once (page or outbox), and the
lead moved on through its lifecycle: holding closes it, relapsed reopens it, unreachable tries
again (three attempts, then the officer decides). Both engines, real app, real database."""

from __future__ import annotations

import threading
import uuid as uuid_module
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import Browser
from tests.factories import commit, make_community, make_station, make_user
from webapp.extensions import db
from webapp.jobs import run_sweep
from webapp.leads.codes import Source, Status
from webapp.leads.deadlines import parse_deadlines
from webapp.leads.lifecycle import perform
from webapp.leads.models import Lead, LeadEvent
from webapp.leads.services import LeadInput, PartyInput, register_lead
from webapp.notify.models import Notification
from webapp.org.models import Role, User
from webapp.returnvisits.models import ReturnVisit
from webapp.returnvisits.services import end_of_local_day
from webapp.timeutil import STATION_TZ, utcnow

DEADLINES = parse_deadlines("red=24h,orange=5d,yellow=30d,blue=30d")


@dataclass
class Cast:
    officer: User
    other_officer: User
    volunteer: User
    far_volunteer: User
    supervisor: User


@pytest.fixture
def cast(app_ctx):
    station = make_station()
    officer = make_user(station, Role.OFFICER, username="officer1")
    other = make_user(station, Role.OFFICER, username="officer2")
    home = make_community(station, officer=officer)
    far = make_community(station, officer=other)
    volunteer = make_user(station, Role.VOLUNTEER, username="vol1", community=home)
    far_volunteer = make_user(station, Role.VOLUNTEER, username="vol2", community=far)
    supervisor = make_user(station, Role.SUPERVISOR, username="sup1")
    commit()
    return Cast(officer, other, volunteer, far_volunteer, supervisor)


def settled_lead(cast: Cast, step: str = "resolve", dv: bool = False) -> Lead:
    """A lead in the officer's community, accepted and settled by `step` (resolve/fail/transfer)."""
    result = register_lead(cast.volunteer, LeadInput(
        source=Source.VOLUNTEER, category="neighbour", summary="楼道堆物争吵", flag_dv=dv,
        community=cast.officer.community or db.session.scalar(
            select(User).where(User.id == cast.volunteer.id)).community,
        address="金桂园3栋201", parties=[PartyInput(role="applicant", name="张三", phone="13800000001")],
    ), DEADLINES, 10_000_000)
    lead = result.lead
    perform(lead, cast.officer, "accept", DEADLINES)
    if step in ("fail",):
        perform(lead, cast.officer, "start_mediation", DEADLINES)
    outcome = {"resolve": "oral", "fail": "court", "transfer": "justice_office"}[step]
    perform(lead, cast.officer, step, DEADLINES, outcome=outcome)
    commit()
    return lead


def visits_of(lead: Lead) -> list[ReturnVisit]:
    return list(db.session.scalars(select(ReturnVisit).where(ReturnVisit.lead_id == lead.id)
                                   .order_by(ReturnVisit.cycle, ReturnVisit.attempt)))


def signed_in(client, user: User) -> Browser:
    person = Browser(client)
    assert person.login(user.username).status_code == 303
    return person


def record_page(person: Browser, visit: ReturnVisit, **fields):
    data = {"result": "holding", "note": "", "return_visit_id": str(visit.id), **fields}
    return person.post(f"/return-visits/{visit.id}/record", data, from_page=f"/return-visits/{visit.id}")


# --- scheduling ------------------------------------------------------------------------------------


@pytest.mark.parametrize("step", ["resolve", "fail", "transfer"])
def test_settling_a_lead_schedules_one_visit_to_its_officer_at_the_end_of_the_local_day(cast, step):
    before = utcnow()
    lead = settled_lead(cast, step)
    [visit] = visits_of(lead)
    assert visit.assignee_id == cast.officer.id and visit.attempt == 1 and visit.is_pending
    local_day = before.astimezone(STATION_TZ).date() + timedelta(days=7)
    assert visit.due_at == datetime.combine(local_day + timedelta(days=1), time.min, tzinfo=STATION_TZ)
    assert visit.due_at.tzinfo is not None and visit.due_at.astimezone(UTC) > before


def test_the_delay_is_configurable(cast, app_ctx):
    app_ctx.config["BEATBOOK_RETURN_VISIT_DAYS"] = 2
    try:
        lead = settled_lead(cast)
    finally:
        app_ctx.config["BEATBOOK_RETURN_VISIT_DAYS"] = 7
    [visit] = visits_of(lead)
    today = utcnow().astimezone(STATION_TZ).date()
    assert visit.due_at.astimezone(STATION_TZ).date() == today + timedelta(days=3)


def test_closing_the_lead_another_way_cancels_the_waiting_visit(cast):
    lead = settled_lead(cast)
    perform(lead, cast.officer, "return_visit", DEADLINES)
    perform(lead, cast.officer, "close", DEADLINES, note="电话回访")
    commit()
    [visit] = visits_of(lead)
    assert visit.state == "cancelled"


# --- recording on the page -----------------------------------------------------------------------


def test_holding_closes_the_lead_through_its_lifecycle(cast, client):
    lead = settled_lead(cast)
    [visit] = visits_of(lead)
    person = signed_in(client, cast.officer)
    response = record_page(person, visit, note="双方和好，未再争吵")
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Lead, lead.id).status == Status.CLOSED
    kinds = [e.kind for e in db.session.scalars(select(LeadEvent).where(LeadEvent.lead_id == lead.id)
                                                .order_by(LeadEvent.id))]
    assert kinds[-2:] == ["return_visit", "close"]
    visit = db.session.get(ReturnVisit, visit.id)
    assert (visit.state, visit.result, visit.recorded_by_id) == ("recorded", "holding", cast.officer.id)


def test_relapsed_reopens_the_lead_back_to_its_officer(cast, client):
    lead = settled_lead(cast)
    [visit] = visits_of(lead)
    person = signed_in(client, cast.officer)
    assert record_page(person, visit, result="relapsed", note="又因噪音争吵").status_code == 303
    db.session.expire_all()
    lead = db.session.get(Lead, lead.id)
    assert (lead.status, lead.reopened_count, lead.assignee_id) == (Status.ASSIGNED, 1, cast.officer.id)
    reopen = db.session.scalar(select(LeadEvent).where(LeadEvent.lead_id == lead.id,
                                                       LeadEvent.kind == "reopen"))
    assert "又因噪音争吵" in reopen.detail
    # Settled again: a new return visit for the new cycle.
    perform(lead, cast.officer, "accept", DEADLINES)
    perform(lead, cast.officer, "resolve", DEADLINES, outcome="written")
    commit()
    assert [(v.cycle, v.attempt, v.state) for v in visits_of(lead)] == [(0, 1, "recorded"), (1, 1, "pending")]


def test_unreachable_tries_three_times_then_the_officer_decides(cast, client):
    lead = settled_lead(cast)
    person = signed_in(client, cast.officer)
    for attempt in (1, 2, 3):
        visit = visits_of(lead)[-1]
        assert visit.attempt == attempt and visit.is_pending
        assert record_page(person, visit, result="unreachable").status_code == 303
        db.session.expire_all()
    assert len(visits_of(lead)) == 3
    assert db.session.get(Lead, lead.id).status == Status.RESOLVED
    decide = db.session.scalars(select(Notification).where(
        Notification.user_id == cast.officer.id, Notification.kind == "return_visit_decide")).all()
    assert len(decide) == 1
    page = client.get(f"/return-visits/{visits_of(lead)[-1].id}").get_data(as_text=True)
    assert "三次" in page or "three attempts" in page


def test_a_visit_is_recorded_once(cast, client):
    lead = settled_lead(cast)
    [visit] = visits_of(lead)
    person = signed_in(client, cast.officer)
    assert record_page(person, visit, result="unreachable").status_code == 303
    again = record_page(person, visit, result="holding")
    assert again.status_code in (403, 404, 422)
    db.session.expire_all()
    assert db.session.get(ReturnVisit, visit.id).result == "unreachable"
    assert db.session.get(Lead, lead.id).status == Status.RESOLVED


def test_two_people_recording_at_once_record_it_once(cast, app, make_client):
    lead = settled_lead(cast)
    [visit] = visits_of(lead)
    people = [signed_in(make_client(), cast.officer), signed_in(make_client(), cast.supervisor)]
    tokens = [person.token(f"/return-visits/{visit.id}") for person in people]
    start, statuses = threading.Barrier(2), []

    def record_it(person: Browser, token: str, result: str) -> None:
        start.wait()
        statuses.append(person.client.post(f"/return-visits/{visit.id}/record", data={
            "csrf_token": token, "result": result, "return_visit_id": str(visit.id)}).status_code)

    threads = [threading.Thread(target=record_it, args=(people[0], tokens[0], "holding")),
               threading.Thread(target=record_it, args=(people[1], tokens[1], "relapsed"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [303, 422]
    db.session.expire_all()
    steps = [e.kind for e in db.session.scalars(select(LeadEvent).where(
        LeadEvent.lead_id == lead.id, LeadEvent.kind.in_(["close", "reopen"])))]
    assert len(steps) == 1
    expected = {"close": Status.CLOSED, "reopen": Status.ASSIGNED}[steps[0]]
    assert db.session.get(Lead, lead.id).status == expected


@pytest.mark.parametrize("fields", [
    {"result": "fixed"}, {"result": ""}, {"return_visit_id": "abc"},
    {"return_visit_id": "99999999999999999999"}, {"note": "长" * 1001}, {"uuid": "not-a-uuid"},
    {"recorded_at": "yesterday"}, {"return_visit_id": "0"},
])
def test_bad_input_is_refused_with_a_message_and_changes_nothing(cast, client, fields):
    lead = settled_lead(cast)
    [visit] = visits_of(lead)
    person = signed_in(client, cast.officer)
    response = record_page(person, visit, **fields)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'class="error"' in html or 'role="alert"' in html
    db.session.expire_all()
    assert db.session.get(ReturnVisit, visit.id).is_pending
    assert db.session.get(Lead, lead.id).status == Status.RESOLVED


def test_nul_in_the_note_is_a_clear_400(cast, client):
    lead = settled_lead(cast)
    [visit] = visits_of(lead)
    person = signed_in(client, cast.officer)
    assert record_page(person, visit, note="a\x00b").status_code == 400
    db.session.expire_all()
    assert db.session.get(ReturnVisit, visit.id).is_pending


def test_strangers_do_not_see_or_record_it(cast, client, make_client):
    lead = settled_lead(cast)
    [visit] = visits_of(lead)
    for stranger in (cast.other_officer, cast.volunteer, cast.far_volunteer):
        person = signed_in(make_client(), stranger)
        assert person.client.get(f"/return-visits/{visit.id}").status_code == 404
        assert person.client.get("/return-visits/99999999999999999999").status_code == 404
        assert record_page(person, visit).status_code in (400, 404)
    assert client.get(f"/return-visits/{visit.id}").status_code == 302  # not signed in: sign in first
    db.session.expire_all()
    assert db.session.get(ReturnVisit, visit.id).is_pending
    # the supervisor may see and record it
    boss = signed_in(make_client(), cast.supervisor)
    assert boss.client.get(f"/return-visits/{visit.id}").status_code == 200


# --- giving it to a volunteer --------------------------------------------------------------------


def test_the_officer_gives_it_to_a_volunteer_of_the_community_who_records_it(cast, client, make_client):
    lead = settled_lead(cast)
    [visit] = visits_of(lead)
    officer = signed_in(client, cast.officer)
    page = f"/return-visits/{visit.id}"
    refused = officer.post(f"{page}/assign", {"assignee_id": str(cast.far_volunteer.id)}, from_page=page)
    assert refused.status_code == 422
    assert officer.post(f"{page}/assign", {"assignee_id": "abc"}, from_page=page).status_code == 422
    given = officer.post(f"{page}/assign", {"assignee_id": str(cast.volunteer.id)}, from_page=page)
    assert given.status_code == 303
    db.session.expire_all()
    assert db.session.get(ReturnVisit, visit.id).assignee_id == cast.volunteer.id

    db.session.get(ReturnVisit, visit.id).due_at = end_of_local_day(utcnow(), 0)  # due today
    commit()
    volunteer = signed_in(make_client(), cast.volunteer)
    home = volunteer.client.get("/home/volunteer").get_data(as_text=True)
    # Among what waits for the volunteer's answer:
    assert f'href="/return-visits/{visit.id}"' in home.split('id="answer-rows"')[1]
    # The volunteer may not hand it on.
    assert volunteer.post(f"{page}/assign", {"assignee_id": str(cast.volunteer.id)},
                          from_page=page).status_code == 403
    response = volunteer.client.get(page)
    assert response.headers["X-Offline-Cache"] == "page"  # an ordinary lead's visit: readable offline
    detail = response.get_data(as_text=True)
    assert "张三" not in detail and "13800000001" not in detail and "金桂园3栋201" not in detail
    assert record_page(volunteer, visit, note="一切平稳").status_code == 303
    db.session.expire_all()
    lead = db.session.get(Lead, lead.id)
    assert lead.status == Status.CLOSED
    close = db.session.scalar(select(LeadEvent).where(LeadEvent.lead_id == lead.id,
                                                      LeadEvent.kind == "close"))
    assert close.actor_id == cast.officer.id and cast.volunteer.display_name in close.detail


def test_a_dv_leads_visit_is_never_given_to_a_volunteer_and_its_form_is_sealed(cast, client):
    lead = settled_lead(cast, dv=True)
    [visit] = visits_of(lead)
    visit.due_at = utcnow() - timedelta(hours=1)
    commit()
    officer = signed_in(client, cast.officer)
    page = f"/return-visits/{visit.id}"
    response = client.get(page)
    html = response.get_data(as_text=True)
    assert "data-sealed" in html and 'data-client-record="returnvisit.record"' in html
    # Never kept on the phone, and not in the pages "my work" asks the phone to keep.
    assert "no-store" in response.headers["Cache-Control"] and "X-Offline-Cache" not in response.headers
    home = client.get("/home/officer").get_data(as_text=True)
    keep = home.split("data-offline-keep=")[1].split(">")[0]
    assert f'href="{page}"' in home and page not in keep
    response = officer.post(f"{page}/assign", {"assignee_id": str(cast.volunteer.id)}, from_page=page)
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(ReturnVisit, visit.id).assignee_id == cast.officer.id


# --- my work and the push ------------------------------------------------------------------------


def test_due_and_overdue_visits_are_in_my_work_and_later_ones_are_not(cast, client):
    due_today, overdue, later = (settled_lead(cast) for _ in range(3))
    now = utcnow()
    visits_of(due_today)[0].due_at = datetime.combine(
        now.astimezone(STATION_TZ).date() + timedelta(days=1), time.min, tzinfo=STATION_TZ)
    visits_of(overdue)[0].due_at = now - timedelta(days=2)
    commit()
    signed_in(client, cast.officer)
    html = client.get("/home/officer").get_data(as_text=True)
    rows = html.split('id="return-visit-rows"')[1].split("</ul>")[0]
    assert f"#{due_today.id} " in rows and f"#{overdue.id} " in rows and f"#{later.id} " not in rows
    assert "overdue" in rows
    # Due by the end of today reads as today's date, not tomorrow's midnight.
    today = now.astimezone(STATION_TZ).date()
    assert f"{today.month}月{today.day}日 24:00 前" in rows


def test_a_due_visit_pushes_its_assignee_once(cast, app_ctx):
    lead = settled_lead(cast)
    later = settled_lead(cast)
    [visit] = visits_of(lead)
    visit.due_at = utcnow() - timedelta(hours=1)
    commit()
    run_sweep(timedelta(minutes=5))
    run_sweep(timedelta(minutes=5))
    told = db.session.scalars(select(Notification).where(Notification.kind == "return_visit_due")).all()
    assert [(n.user_id, n.subject_id) for n in told] == [(cast.officer.id, visit.id)]
    assert "张三" not in told[0].text and "金桂园" not in told[0].text
    assert visits_of(later)[0].id != visit.id


# --- the outbox ------------------------------------------------------------------------------------


def sync(person: Browser, *items):
    return person.client.post("/sync", json={"items": list(items)},
                              headers={"X-CSRFToken": person.token("/account")})


def item(visit: ReturnVisit, uuid: str | None = None, **fields) -> dict:
    return {"uuid": uuid or str(uuid_module.uuid4()), "kind": "returnvisit.record",
            "fields": {"return_visit_id": str(visit.id), "result": "holding", "note": "离线回访",
                       "recorded_at": "2026-11-30T01:00:00Z", **fields}}


def test_an_outbox_item_is_applied_once_however_often_it_is_replayed(cast, client):
    lead = settled_lead(cast)
    [visit] = visits_of(lead)
    person = signed_in(client, cast.officer)
    one = item(visit)
    first = sync(person, one).get_json()["results"][0]
    assert first["status"] == "created" and first["url"] == f"/return-visits/{visit.id}"
    assert sync(person, one).get_json()["results"][0]["status"] == "duplicate"
    assert sync(person, one, one).get_json()["results"][1]["status"] == "duplicate"
    db.session.expire_all()
    visit = db.session.get(ReturnVisit, visit.id)
    assert visit.uuid == one["uuid"] and visit.recorded_at == datetime(2026, 11, 30, 1, tzinfo=UTC)
    closes = db.session.scalar(select(func.count()).select_from(LeadEvent).where(
        LeadEvent.lead_id == lead.id, LeadEvent.kind == "close"))
    assert closes == 1


def test_an_outbox_item_from_the_wrong_person_is_forbidden(cast, client, make_client):
    lead = settled_lead(cast)
    [visit] = visits_of(lead)
    stranger = signed_in(make_client(), cast.other_officer)
    assert sync(stranger, item(visit)).get_json()["results"][0]["status"] == "forbidden"
    # A replay of the officer's recording sent by someone else is not theirs either.
    officer = signed_in(client, cast.officer)
    mine = item(visit)
    assert sync(officer, mine).get_json()["results"][0]["status"] == "created"
    assert sync(stranger, mine).get_json()["results"][0]["status"] == "forbidden"


def test_a_bad_outbox_item_is_invalid_alone(cast, client):
    lead = settled_lead(cast)
    other = settled_lead(cast)
    [visit] = visits_of(lead)
    [good] = visits_of(other)
    person = signed_in(client, cast.officer)
    bad = [item(visit, result="fixed"), item(visit, return_visit_id="x"),
           item(visit, return_visit_id="99999999999999999999"), item(visit, note="长" * 1001)]
    results = sync(person, *bad, item(good)).get_json()["results"]
    assert [r["status"] for r in results] == ["invalid"] * 4 + ["created"]
    assert all(r["errors"] for r in results[:4])
    db.session.expire_all()
    assert db.session.get(ReturnVisit, visit.id).is_pending
    assert db.session.get(ReturnVisit, good.id).result == "holding"


def test_the_sync_kind_is_described(cast, client):
    spec = client.get("/api/openapi.json").get_json()
    assert "returnvisit.record" in str(spec)

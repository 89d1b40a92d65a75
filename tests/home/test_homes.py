"""Every role's home opens on what the person must act on now, most urgent first; says what is new
since their last visit; says what to do when there is nothing; and runs the same number of statements
whatever the number of rows."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import commit, make_user
from tests.home.conftest import (
    Place,
    counted_statements,
    make_case,
    make_invitation,
    make_lead,
    make_return_visit,
)
from webapp.extensions import db
from webapp.leads.codes import Risk
from webapp.leads.models import Lead
from webapp.org import services as org
from webapp.org.models import Role, Station, User
from webapp.timeutil import utcnow

HOMES = {
    "officer": "/home/officer",
    "supervisor": "/home/supervisor",
    "volunteer": "/home/volunteer",
    "mediator": "/home/mediation",
    "lawyer": "/home/mediation",
    "expert": "/experts/mine",
    "dv_team": "/home/dv-team",
    "youth_team": "/home/youth-team",
    "liaison": "/home/liaison",
    "admin": "/home/admin",
    "nobody": "/home/none",
}


def in_order(body: str, *needles: str) -> bool:
    """Each needle is on the page, and each before the next."""
    places = [body.find(needle) for needle in needles]
    return all(place >= 0 for place in places) and places == sorted(places)


def home(place: Place, client, who: str) -> str:
    person = place.browser(client, who)
    response = person.client.get(HOMES[who])
    assert response.status_code == 200
    return response.get_data(as_text=True)


# --- most urgent first -------------------------------------------------------------------------------


def test_the_officer_sees_overdue_then_red_then_orange_before_their_communities(place, client):
    orange = make_lead(place, risk=Risk.ORANGE)
    red = make_lead(place, risk=Risk.RED)
    overdue = make_lead(place, risk=Risk.YELLOW, overdue=True)
    body = home(place, client, "officer")
    assert in_order(body, f'/leads/{overdue.id}"', f'/leads/{red.id}"', f'/leads/{orange.id}"')
    # The work, counted in its heading, before the communities (reference).
    assert in_order(body, "待处理线索 <small>(3)</small>", 'id="work-rows"', f'/leads/{orange.id}"',
                    f'/leads/?community_id={place.community.id}"')


def test_my_work_shows_a_phones_worth_and_the_rest_one_tap_away(place, client):
    """35 leads assigned: the home shows the 30 most urgent (the overdue one first), counts all 35 and
    links to the list of exactly those 35; the worker keeps only what the home shows."""
    overdue = make_lead(place, risk=Risk.BLUE, overdue=True)
    for _ in range(34):
        make_lead(place, risk=Risk.YELLOW)
    body = home(place, client, "officer")
    rows = body.split('id="work-rows"', 1)[1].split("</ul>", 1)[0]
    assert rows.count('<li class="lead') == 30 and f'/leads/{overdue.id}"' in rows.split("</li>", 1)[0]
    assert "待处理线索 <small>(35)</small>" in body
    assert '<a id="all-my-work" href="/leads/?mine=1">' in body
    listed, next_url = [], "/leads/?mine=1"
    while next_url:  # the same signed-in client
        page = client.get(next_url).get_data(as_text=True)
        listed += re.findall(r'<li class="lead[^"]*">\s*<a href="/leads/(\d+)"', page)
        found = re.search(r'href="(/leads/\?[^"]*before=\d+[^"]*)"', page)
        next_url = found.group(1).replace("&amp;", "&") if found else None
    mine = {lead.id for lead in db.session.scalars(select(Lead).where(Lead.assignee_id == place.officer.id))}
    assert len(listed) == 35 and set(map(int, listed)) == mine


def test_the_supervisor_sees_decisions_waiting_then_their_own_work_then_the_directory(place, client):
    org.request_role(place.nobody, Role.OFFICER, place.supervisor)
    mine = make_lead(place, risk=Risk.RED)
    mine.assignee_id, mine.assigned_at = place.supervisor.id, utcnow()
    commit()
    body = home(place, client, "supervisor")
    assert in_order(body, 'id="pending-grants"', "无角色的人", 'id="work-rows"', f'/leads/{mine.id}"',
                    'id="mediation-figures"', 'class="list"')


def test_the_volunteer_reports_first_then_answers_then_sees_progress(place, client):
    report = make_lead(place)
    today = make_return_visit(place, place.volunteer)
    overdue = make_return_visit(place, place.volunteer, overdue=True)
    body = home(place, client, "volunteer")
    assert in_order(body, 'class="button primary big" href="/leads/new"', 'id="answer-rows"',
                    f'/return-visits/{overdue.id}"', f'/return-visits/{today.id}"', "未能发送的上报",
                    'id="report-rows"', f'/leads/{report.id}"')


@pytest.mark.parametrize("who", ["mediator", "lawyer"])
def test_mediation_homes_show_the_soonest_session_first_then_the_cases(place, client, who):
    later = make_case(place, session_in=timedelta(days=3))
    sooner = make_case(place, session_in=timedelta(days=1))
    body = home(place, client, who)
    sessions = body.split('id="session-rows"')[1].split("</ul>")[0]
    assert in_order(sessions, f'/mediation/{sooner.id}"', f'/mediation/{later.id}"')
    assert in_order(body, 'id="session-rows"', 'id="case-rows"')
    assert "<small>(2)</small>" in body


def test_the_expert_sees_coming_meetings_soonest_first_then_those_to_agree_then_past_ones(place, client):
    past = make_invitation(place, timedelta(days=-3))
    to_agree = make_invitation(place, None)
    in_two_days = make_invitation(place, timedelta(days=2))
    tomorrow = make_invitation(place, timedelta(days=1))
    body = home(place, client, "expert")
    assert in_order(body, *(f'/experts/invitations/{i.id}"' for i in (tomorrow, in_two_days, to_agree, past)))


def test_the_dv_team_sees_new_dv_leads_before_figures_and_members(place, client):
    lead = make_lead(place, dv=True)
    body = home(place, client, "dv_team")
    assert in_order(body, 'id="dv-overdue"', 'id="dv-new"', f'/leads/{lead.id}"', 'id="dv-figures"',
                    place.dv_team.display_name)
    assert 'id="nothing-waiting"' not in body


def test_the_youth_team_sees_overdue_minor_leads_first_and_its_counts_below_the_work(place, client):
    red = make_lead(place, minor=True, risk=Risk.RED)
    overdue = make_lead(place, minor=True, risk=Risk.BLUE, overdue=True)
    body = home(place, client, "youth_team")
    assert in_order(body, f'/leads/{overdue.id}"', f'/leads/{red.id}"', 'id="sessions-due"',
                    'id="upcoming-outreach"', 'class="queues"')


def test_the_liaison_sees_the_feed_before_the_figures_and_communities(place, client):
    body = home(place, client, "liaison")
    assert in_order(body, 'id="feed"', 'href="/feed/tokens"', 'id="station-figures"', place.community.name)


def test_the_admin_sees_roles_to_approve_before_the_stations_set_up(place, client):
    org.request_role(place.nobody, Role.OFFICER, place.supervisor)
    commit()
    body = home(place, client, "admin")
    assert in_order(body, 'id="pending-grants"', "无角色的人", 'id="administration"')


def test_a_person_without_a_role_is_told_whom_to_ask(place, client):
    body = home(place, client, "nobody")
    assert "请联系本所管理员为您分配角色" in body
    assert in_order(body, 'id="admins"', place.admin.display_name)


# --- empty states ------------------------------------------------------------------------------------

EMPTY = {
    "officer": "暂无待办。新的派单会显示在这里，并通过手机通知提醒您。",
    "supervisor": "暂无指派给您的线索。上方的队列是所里待办的事项。",
    "volunteer": "您还没有上报过线索。发现纠纷或隐患时，点“上报线索”。",
    "mediator": "近期没有调解会议。您被安排参加的会议会显示在这里和收件箱中。",
    "lawyer": "暂无案件。您被加入的案件会显示在这里。",
    "expert": "暂无邀请。所里邀请您参加调解时，邀请及视频链接会显示在这里。",
    "dv_team": "暂无待办。新的家暴线索和待处理的告诫书会显示在这里，并通过手机通知提醒您。",
    "youth_team": "暂无待处理的未成年人线索。新线索会显示在这里，并通过手机通知提醒您。",
    "liaison": "近七天没有推送条目。所里筛查过的纠纷进入推送后会显示在这里。",
    "admin": "暂无待办。领导提出的角色申请会显示在这里。",
    "nobody": "这里暂时没有事项：您的账号在本所还没有角色。请联系本所管理员为您分配角色。",
}


@pytest.mark.parametrize("who", sorted(EMPTY))
def test_an_empty_home_says_what_to_do(place, client, who):
    assert EMPTY[who] in home(place, client, who)


# --- what is new since the last visit ------------------------------------------------------------------


ARRIVALS = {
    "officer": lambda place: make_lead(place),
    "supervisor": lambda place: org.request_role(place.nobody, Role.OFFICER, place.supervisor),
    "volunteer": lambda place: make_lead(place),
    "mediator": lambda place: make_case(place),
    "expert": lambda place: make_invitation(place, timedelta(days=1)),
    "dv_team": lambda place: make_lead(place, dv=True),
    "youth_team": lambda place: make_lead(place, minor=True),
    "liaison": lambda place: make_lead(place),  # registered: one entry in the feed
    "admin": lambda place: org.request_role(place.nobody, Role.OFFICER, place.supervisor),
}


@pytest.mark.parametrize("who", sorted(ARRIVALS))
def test_the_second_visit_counts_what_arrived_since_the_first(place, client, who):
    person = place.browser(client, who)
    first = person.client.get(HOMES[who]).get_data(as_text=True)
    assert 'id="since"' not in first  # a first visit: nothing is "new" yet
    seen = db.session.get(User, getattr(place, who).id)
    db.session.refresh(seen)
    assert seen.home_seen_at is not None
    assert "以来没有新内容" in person.client.get(HOMES[who]).get_data(as_text=True)
    ARRIVALS[who](place)
    commit()
    third = person.client.get(HOMES[who]).get_data(as_text=True)
    since = third.split('id="since"')[1].split("</p>")[0]
    assert "以来有 1 项新内容" in since or "以来新增 1 条" in since
    if who != "liaison":  # the feed's entries are counts, not rows
        assert third.count('class="tag warn new"') == 1
    # Seen now: the next visit has nothing new.
    assert "以来没有新内容" in person.client.get(HOMES[who]).get_data(as_text=True)


def test_an_htmx_refresh_is_not_a_visit(place, client):
    person = place.browser(client, "officer")
    person.client.get(HOMES["officer"])
    make_lead(place)
    fragment = person.client.get(HOMES["officer"], headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.count('class="tag warn new"') == 1
    page = person.client.get(HOMES["officer"]).get_data(as_text=True)
    assert "以来有 1 项新内容" in page  # the refresh did not move the last visit on


# --- constant statements ------------------------------------------------------------------------------


def _many(make, count: int):
    return lambda place: [make(place) for _ in range(count)]


def _assigned_to_supervisor(place: Place):
    lead = make_lead(place, risk=Risk.ORANGE)
    lead.assignee_id, lead.assigned_at = place.supervisor.id, utcnow()
    commit()


def _grant(place: Place):
    person = make_user(place.station, Role.VOLUNTEER)
    org.request_role(person, Role.OFFICER, place.supervisor)
    commit()


def _officers_rows(place: Place):
    make_lead(place, risk=Risk.RED)
    make_return_visit(place, place.officer)


def _volunteers_rows(place: Place):
    make_lead(place)
    make_return_visit(place, place.volunteer)


ROWS = {
    "officer": _officers_rows,
    "supervisor": _assigned_to_supervisor,
    "volunteer": _volunteers_rows,
    "mediator": lambda place: make_case(place, session_in=timedelta(days=1)),
    "expert": lambda place: make_invitation(place, timedelta(days=1)),
    "dv_team": lambda place: make_lead(place, dv=True),
    "youth_team": lambda place: make_lead(place, minor=True),
    "liaison": lambda place: make_lead(place),
    "admin": _grant,
}


@pytest.mark.parametrize("who", sorted(ROWS))
def test_a_home_with_twenty_rows_runs_as_many_statements_as_with_two(place, client, who):
    person = place.browser(client, who)

    def statements_of_home() -> int:
        person.client.get(HOMES[who])  # settles what a first request of a session does once
        with counted_statements() as statements:
            assert person.client.get(HOMES[who]).status_code == 200
        return len(statements)

    for _ in range(2):
        ROWS[who](place)
    with_two = statements_of_home()
    for _ in range(18):
        ROWS[who](place)
    with_twenty = statements_of_home()
    assert with_twenty == with_two, (who, with_two, with_twenty)


def test_opening_a_home_leaves_the_station_figures_cached(place, client):
    """Recording the visit's time used to restamp every station (an ORM UPDATE says "any station
    may have changed"): each home view threw the dashboard's counts away and locked every station row."""
    place.browser(client, "officer")
    db.session.expire_all()
    before = db.session.scalar(select(Station.figures_stamp).where(Station.id == place.station.id))
    assert client.get("/home/officer").status_code == 200
    assert client.get("/home/supervisor").status_code in (200, 403)
    db.session.expire_all()
    assert db.session.scalar(select(Station.figures_stamp).where(Station.id == place.station.id)) == before
    assert db.session.scalar(select(User.home_seen_at).where(User.id == place.officer.id)) is not None

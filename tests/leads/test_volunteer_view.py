"""Volunteers see the effect of their work: plain progress, and the branch's contribution figures."""

import re

import pytest

from tests.conftest import Browser
from tests.factories import commit, make_community, make_station, make_user
from webapp.extensions import db
from webapp.leads.codes import Source
from webapp.leads.deadlines import parse_deadlines
from webapp.leads.lifecycle import perform
from webapp.leads.services import LeadInput, register_lead
from webapp.org.models import Role


@pytest.fixture
def cast(app_ctx):
    station = make_station()
    officer = make_user(station, Role.OFFICER, username="wang")
    community = make_community(station, code="A", officer=officer)
    li = make_user(station, Role.VOLUNTEER, username="li", community=community, in_volunteer_branch=True)
    zhao = make_user(station, Role.VOLUNTEER, username="zhao", community=community, in_volunteer_branch=True)
    secretary = make_user(station, Role.VOLUNTEER, username="sec", community=community,
                          in_volunteer_branch=True, is_branch_secretary=True)
    outsider = make_user(station, Role.VOLUNTEER, username="out", community=community)
    make_user(station, Role.SUPERVISOR, username="boss")
    commit()
    return {"officer": officer, "community": community, "li": li, "zhao": zhao,
            "secretary": secretary, "outsider": outsider}


def _report(app, reporter, community, summary):
    deadlines = parse_deadlines(app.config["BEATBOOK_DEADLINES"])
    return register_lead(reporter, LeadInput(source=Source.VOLUNTEER, category="neighbour",
                                             summary=summary, community=community),
                         deadlines, 10 * 1024 * 1024).lead


@pytest.mark.parametrize(("steps", "expected_zh"), [
    ((), "已收到，等待社区民警处理"),
    (("accept",), "正在处理"),
    (("accept", "start_mediation"), "正在处理"),
    (("accept", "resolve"), "已化解"),
    (("accept", "transfer"), "已转交相关部门处理"),
])
def test_progress_in_plain_words_without_the_case(app, client, cast, steps, expected_zh):
    lead = _report(app, cast["li"], cast["community"], "楼道堆放杂物引发争吵")
    lead.parties.clear()
    deadlines = parse_deadlines(app.config["BEATBOOK_DEADLINES"])
    params = {"resolve": {"outcome": "oral"}, "transfer": {"outcome": "justice_office"}}
    for step in steps:
        perform(lead, cast["officer"], step, deadlines, **params.get(step, {}))
    commit()
    Browser(client).login("li")
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert 'id="progress"' in page
    assert expected_zh in page
    # No case file: no timeline, no assignee, no actions.
    assert 'class="timeline"' not in page and "wang" not in page and 'id="actions"' not in page
    listed = client.get("/home/volunteer").get_data(as_text=True)
    assert expected_zh in listed


def test_branch_figures_count_reports_and_confirmed_leads(app, make_client, cast):
    deadlines = parse_deadlines(app.config["BEATBOOK_DEADLINES"])
    first = _report(app, cast["li"], cast["community"], "一")
    _report(app, cast["li"], cast["community"], "二")
    third = _report(app, cast["li"], cast["community"], "三")
    perform(first, cast["officer"], "accept", deadlines)
    perform(third, cast["officer"], "link_duplicate", deadlines, original=first)  # not a real lead
    _report(app, cast["zhao"], cast["community"], "四")
    commit()

    secretary = Browser(make_client())
    secretary.client.set_cookie("lang", "en")
    secretary.login("sec")
    page = secretary.client.get("/leads/branch")
    assert page.status_code == 200
    html = re.sub(r"\s+", " ", page.get_data(as_text=True))

    def figures(name):
        cells = rf"<td>Person {name}( <small>[^<]*</small>)?</td> ?<td>(\d+)</td> ?<td>(\d+)</td>"
        match = re.search(cells, html)
        return (int(match.group(2)), int(match.group(3))) if match else None

    assert figures("li") == (3, 1)
    assert figures("zhao") == (1, 0)
    assert figures("out") is None  # only branch members are listed

    for username, status in (("boss", 200), ("li", 403), ("out", 403), ("wang", 403)):
        person = Browser(make_client())
        person.login(username)
        assert person.client.get("/leads/branch").status_code == status, username
    db.session.rollback()

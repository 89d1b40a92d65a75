"""The dashboard page: who sees what, drill-down links, small-count suppression, bad query strings."""

from __future__ import annotations

import re

import pytest

from tests.conftest import Browser
from tests.factories import commit
from tests.reports.conftest import local, make_lead

APRIL = "/reports/?period=custom&start=2026-04-01&end=2026-04-30"
MARCH = "/reports/?period=custom&start=2026-03-01&end=2026-03-31"


def _page(client, user, url=MARCH):
    Browser(client).login(user.username)
    response = client.get(url)
    return response.status_code, response.get_data(as_text=True)


def _cell(html: str, label: str) -> str:
    """The 'this period' cell of the summary row labelled `label`."""
    match = re.search(rf"<th scope=\"row\">{re.escape(label)}</th><td class=\"num\">(.*?)</td>", html)
    assert match, label
    return match.group(1)


def test_supervisor_reads_the_station_with_charts_tables_and_links(hand, client):
    client.set_cookie("lang", "en")
    status, html = _page(client, hand.supervisor)
    assert status == 200
    assert _cell(html, "Leads received") == "4"
    # Every chart is a figure with a caption, an SVG and the table behind it.
    assert html.count("<figure") == html.count("<figcaption") >= 8
    drawn = html.count('<svg class="bars"') + html.count('<svg class="trend"') + html.count('class="gridmap"')
    assert drawn >= 8
    assert 'style="' not in html and "<style" not in html and "<script>" not in html
    # Drill-down: the category count links to the filtered list; the map areas link to their lists.
    assert 'href="/leads/?category=neighbour"' in html
    assert f'href="/leads/?community_id={hand.a.id}"' in html
    assert f'href="/leads/?grid_id={hand.grid_a.id}"' in html
    # A minor's lead (1) is a small count: shown, never linked.
    assert "flag=minor" not in html


def test_the_drill_down_lists_are_filtered(hand, client):
    Browser(client).login(hand.supervisor.username)
    by_source = client.get("/leads/?source=hotline_12345").get_data(as_text=True)
    assert f"/leads/{hand.leads['l2'].id}\"" in by_source
    assert f"/leads/{hand.leads['l1'].id}\"" not in by_source
    by_grid = client.get(f"/leads/?grid_id={hand.grid_a.id}").get_data(as_text=True)
    assert f"/leads/{hand.leads['l1'].id}\"" in by_grid and f"/leads/{hand.leads['l2'].id}\"" not in by_grid


def test_officer_sees_only_their_communities(hand, client):
    client.set_cookie("lang", "en")
    status, html = _page(client, hand.officer)
    assert status == 200
    assert _cell(html, "Leads received") == "2"  # l1, l2: not B's l3, not the minor's l8
    assert hand.b.name not in html
    assert "Warning letters issued" not in html and "Minors helped" not in html


def test_liaison_sees_counts_without_any_link_to_records(hand, client):
    client.set_cookie("lang", "en")
    status, html = _page(client, hand.liaison)
    assert status == 200
    assert _cell(html, "Leads received") == "4"
    assert "/leads/" not in html


@pytest.mark.parametrize("role", ["volunteer", "dv_team"])
def test_people_outside_the_roles_are_refused(hand, client, role):
    status, _html = _page(client, getattr(hand, role))
    assert status == 403


def test_dv_counts_link_only_from_five_and_inside_the_compartment(hand, client):
    client.set_cookie("lang", "en")
    status, html = _page(client, hand.supervisor, APRIL)
    assert status == 200 and "flag=dv" not in html  # one DV lead in April: suppressed
    for day in range(2, 6):
        make_lead(hand.station, hand.officer, local(2026, 4, day), community=hand.b, flag_dv=True)
    commit()
    html = client.get(APRIL).get_data(as_text=True)
    assert 'href="/leads/?flag=dv"' in html  # five: the supervisor (inside the compartment) may follow it
    Browser(client).logout()
    status, html = _page(client, hand.liaison, APRIL)
    assert status == 200 and "flag=dv" not in html


@pytest.mark.parametrize("query", [
    "period=yesterday", "period=custom", "period=custom&start=2026-13-01&end=2026-03-31",
    "period=custom&start=2026-03-31&end=2026-03-01", "period=custom&start=1900-01-01&end=1900-01-02",
    "period=custom&start=2020-01-01&end=2026-01-01", "period=custom&start=2026-03-01%00&end=2026-03-31",
    "period=custom&start=%ED%A0%80&end=2026-03-31", "period=custom&start=20260301000000000000&end=2026-03-31",
    "period=this_month&map=heat", "period=" + "x" * 5000,
])
def test_bad_query_strings_are_400_with_a_message(hand, client, query):
    client.set_cookie("lang", "en")
    Browser(client).login(hand.supervisor.username)
    response = client.get(f"/reports/?{query}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert any(word in html for word in ("YYYY-MM-DD", "period", "range", "map"))


def test_the_default_period_is_this_month(hand, client):
    Browser(client).login(hand.supervisor.username)
    for choice in ("", "?period=this_month", "?period=last_month", "?period=this_year"):
        assert client.get(f"/reports/{choice}").status_code == 200

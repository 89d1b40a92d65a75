"""The dashboard page: who sees what, drill-down links, small-count suppression, bad query strings."""

from __future__ import annotations

import html as html_lib
import re
import unicodedata
from pathlib import Path

import pytest

from tests.conftest import Browser
from tests.factories import commit
from tests.reports.conftest import local, make_lead

CSS = Path(__file__).parents[2] / "static" / "css" / "app.css"
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
    # Drill-down: the category count links to the list filtered to the period; the map areas (open
    # leads now, not a period) link to their lists.
    assert 'href="/leads/?category=neighbour&amp;from=2026-03-01&amp;to=2026-03-31&amp;originals=1"' in html
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


def _listed(client, href: str) -> set[str]:
    html = client.get(html_lib.unescape(href)).get_data(as_text=True)
    return set(re.findall(r'href="/leads/(\d+)"', html))


def test_every_linked_count_opens_a_list_of_exactly_that_many_leads(hand, client):
    for day in range(2, 7):  # five DV leads in March, so the DV count is a link too
        make_lead(hand.station, hand.officer, local(2026, 3, day), community=hand.b, flag_dv=True)
    make_lead(hand.station, hand.officer, local(2026, 2, 27), community=hand.b, flag_dv=True)  # February
    commit()
    status, html = _page(client, hand.supervisor)
    assert status == 200
    charts = html[html.index('class="card charts"'):html.index('id="grid-map"')]
    links = re.findall(r'<td class="num"><a href="([^"]+)">(\d+)</a></td>', charts)
    linked = {html_lib.unescape(href).split("?")[1].split("&")[0] for href, _n in links}
    assert {"category=neighbour", "source=walk_in", "risk=red", "flag=dv", "reached=resolved",
            f"community_id={hand.a.id}"} <= linked
    for href, count in links:
        assert len(_listed(client, href)) == int(count), href


def test_the_lead_list_filters_by_station_local_dates(hand, client):
    Browser(client).login(hand.supervisor.username)
    ids = {name: str(lead.id) for name, lead in hand.leads.items()}
    march = _listed(client, "/leads/?from=2026-03-01&to=2026-03-31")
    # l1 (1 Mar 00:30 local, still 28 Feb in UTC) and l3 (31 Mar 23:30) are in; l4 (1 Apr 00:10) is not.
    assert {ids["l1"], ids["l3"], ids["l6"]} <= march and ids["l4"] not in march and ids["l5"] not in march
    assert ids["l6"] not in _listed(client, "/leads/?from=2026-03-01&to=2026-03-31&originals=1")
    assert ids["l3"] not in _listed(client, "/leads/?from=2026-03-01&to=2026-03-30")
    assert _listed(client, "/leads/?reached=failed&from=2026-03-01&to=2026-03-31") == {ids["l1"]}
    assert _listed(client, "/leads/?reached=transferred&from=2026-03-01&to=2026-03-31") == set()


@pytest.mark.parametrize("query", [
    "from=junk", "from=2026-02-30", "from=20260301000000000000", "to=99999-01-01", "to=1999-12-31",
    "from=" + "9" * 5000, "to=%ED%A0%80", "reached=closed", "originals=yes",
])
def test_junk_list_dates_are_ignored_never_a_500(hand, client, query):
    Browser(client).login(hand.supervisor.username)
    response = client.get(f"/leads/?{query}")
    assert response.status_code == 200
    assert _listed(client, f"/leads/?{query}") == _listed(client, "/leads/")


@pytest.mark.parametrize("query", ["from=2026-03-01%00", "reached=%00"])
def test_nul_bytes_in_list_filters_are_a_clear_400(hand, client, query):
    Browser(client).login(hand.supervisor.username)
    response = client.get(f"/leads/?{query}")
    assert response.status_code == 400 and "<h1" in response.get_data(as_text=True)


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
    # Five: the supervisor (inside the compartment) may follow it.
    assert 'href="/leads/?flag=dv&amp;from=2026-04-01&amp;to=2026-04-30&amp;originals=1"' in html
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


def _em(text: str) -> float:
    """An upper bound of a label's width in em for the sans fonts phones use: wide (CJK) 1, else 0.65."""
    return sum(1.0 if unicodedata.east_asian_width(ch) in "WFA" else 0.65 for ch in text)


def test_bar_labels_end_before_their_bars_and_keep_the_full_label_in_a_title(hand, client):
    for source in ("online", "residents_committee", "police_110"):  # the longest Chinese labels
        make_lead(hand.station, hand.officer, local(2026, 3, 20), community=hand.a, source=source)
    commit()
    status, html = _page(client, hand.supervisor)  # Chinese, the default
    assert status == 200
    rows = re.findall(r'<text class="bar-label" x="([\d.]+)" y="([\d.]+)">'
                      r'(?:<title>([^<]*)</title>)?([^<]*)</text>\s*'
                      r'<rect class="bar" x="([\d.]+)" y="([\d.]+)" height="([\d.]+)"', html)
    assert len(rows) >= 15
    font = float(re.search(r"\.bar-label,[^{]*\{font-size:(\d+)px", CSS.read_text()).group(1))
    titled = set()
    for x, y, title, shown, bar_x, bar_y, height in rows:
        # The label's box (baseline y, one font size tall) ends left of the bar it stands beside.
        assert float(x) + _em(html_lib.unescape(shown)) * font <= float(bar_x), shown
        assert float(bar_y) <= float(y) <= float(bar_y) + float(height) + font
        if title:
            assert shown.endswith("…") and html_lib.unescape(title).startswith(html_lib.unescape(shown)[:-1])
            titled.add(html_lib.unescape(title))
    assert "网上受理（公众号/视频）" in titled  # too long for the room: cut, whole in its title
    table = html.split('id="chart-source"')[1].split("</table>")[0]
    assert "网上受理（公众号/视频）" in table  # and in the table behind the chart

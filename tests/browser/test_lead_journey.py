"""The core loop on phones: a volunteer reports by GPS, the right officer finds it in "my work"
with the right deadline; DV stays in its compartment; the supervisor sees what needs routing."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from webapp.demo import data

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Inside the plaza community's western grid (国购广场社区, 广场东网格), whose officer is `officer`.
PLAZA_WEST = {"longitude": data.ORIGIN_LON + 0.3 * data.CELL_LON,
              "latitude": data.ORIGIN_LAT + 0.5 * data.CELL_LAT, "accuracy": 8}


def _lead_row(live_server, summary: str) -> dict:
    uri = f"file:{live_server.db_path}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as connection:
        connection.row_factory = sqlite3.Row
        row = connection.execute(
            """SELECT lead.*, community.code AS community_code, grid.code AS grid_code,
                      assignee.username AS assignee_username
               FROM lead LEFT JOIN community ON community.id = lead.community_id
               LEFT JOIN grid ON grid.id = lead.grid_id
               LEFT JOIN "user" AS assignee ON assignee.id = lead.assignee_id
               WHERE lead.summary = ?""", (summary,)).fetchone()
    assert row is not None, f"no lead with summary {summary!r}"
    return dict(row)


def _aware(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _report(page, summary: str, *, dv: bool = False) -> None:
    page.goto("/leads/new")
    page.select_option("select[name=category]", "neighbour")
    page.click("[data-locate]")
    expect(page.locator("[data-locate-status]")).to_contain_text("✓")
    page.fill("textarea[name=summary]", summary)
    if dv:
        page.check("input[name=flag_dv]")
    page.click("#report-form button[type=submit]")
    expect(page.locator("#progress")).to_be_visible()


def test_volunteer_reports_by_gps_and_the_officer_finds_it(new_phone, live_server, artifacts_dir):
    volunteer = new_phone(geolocation=PLAZA_WEST, permissions=["geolocation"])
    assert sign_in(volunteer, "volunteer").ok
    started = datetime.now(UTC)
    summary = "楼上住户深夜拖动家具，楼下老人多次敲门理论，双方在楼道争吵"
    _report(volunteer, summary)
    # The volunteer sees plain progress, not a case file.
    expect(volunteer.locator("#progress")).to_contain_text("已收到")
    volunteer.screenshot(path=str(artifacts_dir / "volunteer-progress.png"), full_page=True)

    lead = _lead_row(live_server, summary)
    assert lead["community_code"] == "GGGC" and lead["grid_code"] == "GGGC-1"
    assert lead["assignee_username"] == "officer" and lead["status"] == "assigned"
    assert lead["latitude"] is not None and lead["gps_accuracy_m"] == 8
    recorded, received = _aware(lead["recorded_at"]), _aware(lead["received_at"])
    assert started - timedelta(seconds=5) <= recorded <= received + timedelta(seconds=1)
    # A neighbour dispute is graded yellow: 30 days, to the end of that day in Shanghai.
    local_received = received.astimezone(SHANGHAI)
    expected_due = datetime.combine(local_received.date() + timedelta(days=31), datetime.min.time(),
                                    tzinfo=SHANGHAI)
    assert lead["risk"] == "yellow"
    assert _aware(lead["due_at"]) == expected_due.astimezone(UTC)

    officer = new_phone()
    sign_in(officer, "officer")
    expect(officer).to_have_url(re.compile(r"/home/officer$"))
    # The new lead is in "my work" (the officer may have chosen English in another test).
    link = officer.locator(f"#work-rows a[href='/leads/{lead['id']}']")
    expect(link).to_be_visible()
    link.click()
    expect(officer.locator("h1")).to_contain_text(f"#{lead['id']}")
    expect(officer.locator("body")).to_contain_text(summary)
    # The officer accepts (签收) from the phone.
    accept = officer.locator("#actions form[action$='/steps/accept']")
    accept.locator("xpath=..").locator("summary").click()
    accept.locator("button[type=submit]").click()
    expect(officer.locator(".flash")).to_be_visible()
    officer.screenshot(path=str(artifacts_dir / "officer-lead.png"), full_page=True)
    assert _lead_row(live_server, summary)["status"] == "accepted"


def test_a_dv_lead_stays_in_its_compartment(new_phone, live_server):
    volunteer = new_phone(geolocation=PLAZA_WEST, permissions=["geolocation"])
    sign_in(volunteer, "volunteer")
    summary = "广场公寓一女子深夜呼救，邻居听到打骂声，疑似家暴"
    _report(volunteer, summary, dv=True)
    lead = _lead_row(live_server, summary)
    assert lead["flag_dv"] == 1 and lead["assignee_username"] == "officer"
    path = f"/leads/{lead['id']}"

    # The assigned officer and the DV task force see the case.
    for username in ("officer", "dvteam"):
        page = new_phone()
        sign_in(page, username)
        assert page.goto(path).status == 200
        expect(page.locator("body")).to_contain_text(summary)

    # Other officers and other volunteers do not even learn it exists.
    for username in ("officer2", "volunteer02"):
        page = new_phone()
        sign_in(page, username)
        assert page.goto(path).status == 404
        if username == "officer2":
            page.goto("/leads/?q=家暴")
            expect(page.locator("#lead-rows")).not_to_contain_text(summary)

    # The reporting volunteer follows progress only: no case, no timeline, no actions.
    volunteer.goto(path)
    expect(volunteer.locator("#progress")).to_be_visible()
    expect(volunteer.locator("#actions")).to_have_count(0)


def test_supervisor_sees_unroutable_and_overdue(new_phone, live_server, artifacts_dir):
    page = new_phone()
    sign_in(page, "supervisor")
    expect(page).to_have_url(re.compile(r"/home/supervisor$"))
    queues = page.locator("nav.queues")
    unroutable = queues.locator("a[href$='queue=unroutable'] strong")
    overdue = queues.locator("a[href$='queue=overdue'] strong")
    assert int(unroutable.inner_text()) >= 1
    assert int(overdue.inner_text()) >= 1
    page.screenshot(path=str(artifacts_dir / "supervisor-home.png"), full_page=True)

    page.click("nav.queues a[href$='queue=unroutable']")
    expect(page.locator("#lead-rows")).to_contain_text("物业")  # the online report with no place
    page.goto("/")
    page.click("nav.queues a[href$='queue=overdue']")
    expect(page.locator("#lead-rows li.overdue").first).to_be_visible()


def test_revealing_identities_is_an_htmx_swap_and_audited(new_phone, live_server):
    """The assignee reveals a party's full phone in place (htmx POST with the CSRF header)."""
    lead = _lead_row(live_server, "110警情流转：邻居因楼道堆物多次争吵，一方持刀威胁，已被劝离。")
    page = new_phone()
    sign_in(page, "officer")
    page.goto(f"/leads/{lead['id']}")
    parties = page.locator("#parties")
    expect(parties).to_contain_text("137****0000")
    expect(parties).not_to_contain_text("13712340000")
    url_before = page.url
    parties.locator("button[type=submit]").click()
    expect(page.locator("#parties")).to_contain_text("13712340000")
    assert page.url == url_before  # swapped in place, no navigation

    uri = f"file:{live_server.db_path}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as connection:
        audited = connection.execute(
            "SELECT count(*) FROM audit_entry WHERE action = 'reveal_identities' AND object_id = ?",
            (lead["id"],)).fetchone()[0]
    assert audited >= 1

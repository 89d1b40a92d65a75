"""Issue 15: a repeat visit of the officer's home re-downloads nothing unchanged. The pages "my work"
hands the worker to keep (leads, return visits) are fetched once; again only when they changed.

Counted on the wire: the phone talks to the server through bench/page_weight.py's counting proxy,
so the worker's own requests are seen like the page's."""

from __future__ import annotations

import json
import re

import pytest

from bench.page_weight import Wire
from tests.browser.conftest import sign_in
from tests.browser.test_offline import _controlled, _poll, _query

# The home itself (~4 KB compressed) and the browser's update check of the worker (/sw.js and its
# seven modules, ~2.6 KB of 304s, when Chromium decides to check): below this. One kept page
# fetched again is ~5 KB more.
REPEAT_VISIT_LIMIT = 8 * 1024
KEPT = re.compile(r"^GET (/leads/\d+|/return-visits/\d+)(?:\?masked=1)? ")

STAMP_KEPT_JS = """async ({url, stamp}) => {
  for (const name of await caches.keys()) {
    const kept = await (await caches.open(name)).match(url, {ignoreVary: true});
    if (kept && kept.headers.get("X-Offline-Stamp") === stamp) return true;
  }
  return false;
}"""


@pytest.fixture
def wire(live_server):
    return Wire(live_server.port)


@pytest.fixture
def officer_phone(browser, playwright, wire):
    context = browser.new_context(**playwright.devices["Pixel 7"], locale="zh-CN",
                                  timezone_id="Asia/Shanghai", base_url=wire.url)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def _open_home(page, wire) -> list[dict]:
    """Open the home in a new tab (the way a person comes back to the app), wait until every page
    it lists is kept in the version it lists and the wire is quiet; the listed pages."""
    wire.reset()
    page = page.context.new_page()
    page.goto("/home/officer")
    keep = json.loads(page.locator("[data-offline-keep]").get_attribute("data-offline-keep"))
    for entry in keep:
        _poll(page, STAMP_KEPT_JS, {"url": wire.url + entry["url"], "stamp": entry["stamp"]},
              what=f"{entry['url']} kept as {entry['stamp']}")
    wire.wait_quiet(quiet_s=1.0)
    page.close()
    return keep


def _kept_fetches(requests: list[str]) -> list[str]:
    return [match.group(1) for match in map(KEPT.match, requests) if match]


def test_a_repeat_visit_fetches_no_unchanged_kept_page_and_a_changed_one_again(officer_phone, wire,
                                                                                live_server):
    page = officer_phone
    sign_in(page, "officer")
    page.goto("/home/officer")
    _controlled(page)

    keep = _open_home(page, wire)  # the worker in control: every listed page fetched, once
    assert len(keep) >= 3
    fetched = _kept_fetches(wire.since_reset())
    assert len(fetched) == len(set(fetched)), wire.since_reset()

    _open_home(page, wire)
    assert _kept_fetches(wire.since_reset()) == [], wire.since_reset()
    assert wire.down < REPEAT_VISIT_LIMIT, wire.since_reset()

    [lead] = _query(live_server, """
        SELECT lead.id, lead.version FROM lead JOIN "user" ON "user".id = lead.assignee_id
        WHERE "user".username = 'officer' AND lead.status = 'assigned'
          AND NOT lead.flag_dv AND NOT lead.flag_minor ORDER BY lead.id LIMIT 1""")
    assert any(entry["url"] == f"/leads/{lead['id']}" for entry in keep)
    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    accepted = page.request.post(f"/leads/{lead['id']}/steps/accept", form={"version": str(lead["version"])},
                                 headers={"X-CSRFToken": token}, max_redirects=0)
    assert accepted.status == 303, accepted.text()[:300]

    _open_home(page, wire)
    assert _kept_fetches(wire.since_reset()) == [f"/leads/{lead['id']}"], wire.since_reset()

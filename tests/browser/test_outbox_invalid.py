"""An outbox item the server answers `invalid` for a reason that is not a field on the form (here a
recorded time no phone can have) waits as "needs fixing" and shows the server's message as a
general one, never lost or retried for ever (issue 10, defect 3; the other items of its batch are
checked in tests/sync/test_malformed_items.py)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.test_offline import (
    GPS,
    _fill_report,
    _items,
    _open_report,
    _query,
    _submit_saved,
    _wait_items,
)
from webapp.timeutil import STATION_TZ

pytestmark = pytest.mark.browser

BREAK_JS = """async (uuid) => {
  const item = (await BeatbookDB.all()).find((i) => i.uuid === uuid);
  await BeatbookDB.put({ ...item, fields: { ...item.fields, recorded_at: "0001-01-01T00:00:00Z" } });
}"""
CREATED_AT_JS = "async (uuid) => (await BeatbookDB.all()).find((i) => i.uuid === uuid).createdAt"


def test_an_item_refused_for_no_form_field_shows_the_servers_message(new_phone, live_server):
    page = new_phone(**GPS)
    sign_in(page, "volunteer")
    _open_report(page)
    page.context.set_offline(True)
    _fill_report(page, "时钟坏了的报告：楼道堆放杂物")
    _submit_saved(page, "#report-form")
    [broken] = _items(page)
    page.evaluate(BREAK_JS, broken["uuid"])  # as a phone with a dead clock battery would make it

    page.context.set_offline(False)
    [bad] = _wait_items(page, "items.length === 1 && items[0].state === 'needs_fixing'")
    message = bad["errors"]["recorded_at"][0]
    assert message and message != "invalid"
    assert _query(live_server, "SELECT id FROM lead WHERE uuid = ?", (broken["uuid"],)) == []

    page.goto("/outbox")
    row = page.locator(f"#outbox-list li[data-uuid='{broken['uuid']}']")
    expect(row).to_have_attribute("data-state", "needs_fixing")
    expect(row.locator("form.fix .error").first).to_have_text(message)

    # When it was saved, written the server's one way (webapp/dates.py): the station's clock,
    # YYYY-MM-DD HH:mm, no seconds, nothing around it, inside <time datetime>.
    shown = row.locator("small time")
    created_ms = page.evaluate(CREATED_AT_JS, broken["uuid"])
    saved = datetime.fromtimestamp(created_ms / 1000, UTC).astimezone(STATION_TZ)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", row.locator("small").text_content())
    expect(shown).to_have_text(saved.strftime("%Y-%m-%d %H:%M"))
    expect(shown).to_have_attribute("datetime", saved.strftime("%Y-%m-%dT%H:%M+08:00"))

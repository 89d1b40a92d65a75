"""An outbox item the server answers `invalid` for a reason that is not a field on the form (here a
recorded time no phone can have) waits as "needs fixing" and shows the server's message as a
general one; the person's other reports still arrive (issue 10, defect 3)."""

from __future__ import annotations

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

pytestmark = pytest.mark.browser

BREAK_JS = """async (uuid) => {
  const item = (await BeatbookDB.all()).find((i) => i.uuid === uuid);
  await BeatbookDB.put({ ...item, fields: { ...item.fields, recorded_at: "0001-01-01T00:00:00Z" } });
}"""


def test_an_item_invalid_as_a_whole_shows_the_servers_message_and_the_others_arrive(new_phone, live_server):
    page = new_phone(**GPS)
    sign_in(page, "volunteer")
    page.context.set_offline(True)
    _open_report(page)
    _fill_report(page, "时钟坏了的报告：楼道堆放杂物")
    _submit_saved(page, "#report-form")
    [broken] = _items(page)
    page.evaluate(BREAK_JS, broken["uuid"])
    _open_report(page)
    _fill_report(page, "正常的报告：楼上漏水，邻里争执")
    _submit_saved(page, "#report-form")

    page.context.set_offline(False)
    items = _wait_items(page, "items.length === 2 && items.every((i) => i.state !== 'waiting' "
                              "&& i.state !== 'sending')")
    states = {item["uuid"]: item["state"] for item in items}
    assert states[broken["uuid"]] == "needs_fixing"
    assert list(states.values()).count("sent") == 1
    bad = next(item for item in items if item["uuid"] == broken["uuid"])
    message = bad["errors"]["recorded_at"][0]
    assert message and message != "invalid"
    assert _query(live_server, "SELECT id FROM lead WHERE uuid = ?", (broken["uuid"],)) == []

    page.goto("/outbox")
    row = page.locator(f"#outbox-list li[data-uuid='{broken['uuid']}']")
    expect(row).to_have_attribute("data-state", "needs_fixing")
    expect(row.locator("form.fix .error").first).to_have_text(message)

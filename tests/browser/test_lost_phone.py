"""A lost phone, for real: the phone saves a report without signal; the person, on another device,
revokes it; back online, the phone sends the report (stored once), then deletes every cache and
IndexedDB database, drops its push subscription and shows the sign-in page saying why."""

from __future__ import annotations

import os
import re
import uuid

from cryptography.hazmat.primitives.asymmetric import ec
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.test_offline import (
    GPS,
    INDEXEDDB_JS,
    WAIT_MS,
    _controlled,
    _items,
    _leads,
    _open_report,
    _poll,
    _query,
    _report_offline,
    _unique,
    _wait_db,
)
from tests.notify.pushservice import BrowserSubscription

# Chromium here reaches no push service (pushManager.subscribe() hangs, see test_push.py), so the
# worker's registration is given a subscription whose unsubscribe() counts its calls.
FAKE_PUSH_JS = """() => {
  self.__unsubscribed = 0;
  self.registration.pushManager.getSubscription = async () => ({
    endpoint: "https://push.example/lost-phone",
    unsubscribe: async () => { self.__unsubscribed += 1; return true; },
  });
  return true;
}"""

SUBSCRIBE_JS = """async (subscription) => {
  const response = await fetch("/inbox/devices", {
    method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json",
              "X-CSRFToken": document.querySelector("meta[name=csrf-token]").content},
    body: JSON.stringify(subscription),
  });
  return response.status;
}"""


def _subscription() -> BrowserSubscription:
    return BrowserSubscription(name="lost-phone", endpoint=f"https://push.example/{uuid.uuid4().hex}",
                               private_key=ec.generate_private_key(ec.SECP256R1()),
                               auth_secret=os.urandom(16))


def test_a_lost_phone_sends_what_is_pending_then_wipes_itself(new_phone, live_server, artifacts_dir):
    phone = new_phone(**GPS)
    sign_in(phone, "volunteer", remember=True)  # their own phone: kept signed in
    _open_report(phone)
    _controlled(phone)
    subscription = _subscription()
    assert phone.evaluate(SUBSCRIBE_JS, subscription.as_json()) == 201
    [device] = _query(live_server, "SELECT session_id FROM push_subscription WHERE endpoint = ?",
                      (subscription.endpoint,))
    session_id = device["session_id"]
    assert session_id is not None
    worker = phone.context.service_workers[0]
    assert worker.evaluate(FAKE_PUSH_JS)

    phone.context.set_offline(True)
    summary = _unique("丢失手机测试：离线上报，楼道堆物争执")
    _report_offline(phone, summary)
    [item] = _items(phone)
    assert item["state"] == "waiting" and _leads(live_server, summary) == []

    # The volunteer, on another device, says this phone is lost.
    desk = new_phone()
    sign_in(desk, "volunteer")
    desk.goto("/account")
    row = desk.locator(f'#session-list li[data-session-id="{session_id}"]')
    expect(row).to_contain_text("安卓手机上的 Chrome")
    desk.screenshot(path=str(artifacts_dir / "my-devices.png"), full_page=True)
    row.locator("button[type=submit]").click()
    expect(desk.locator(f'#session-list li[data-session-id="{session_id}"]')).to_have_count(0)
    [revoked] = _query(live_server, "SELECT revoked_at, wipe_requested_at FROM user_session WHERE id = ?",
                       (session_id,))
    assert revoked["revoked_at"] is not None and revoked["wipe_requested_at"] is not None
    assert _query(live_server, "SELECT id FROM push_subscription WHERE endpoint = ?",
                  (subscription.endpoint,)) == []

    # The phone is back: the report arrives once, then nothing of Beatbook is left on it.
    phone.bring_to_front()
    phone.context.set_offline(False)
    _wait_db(phone, lambda: _leads(live_server, summary), "the lost phone's report")
    expect(phone).to_have_url(re.compile(r"/login\?wiped=1$"), timeout=WAIT_MS)
    expect(phone.locator("#wiped-notice")).to_be_visible()
    phone.screenshot(path=str(artifacts_dir / "wiped-sign-in.png"))
    _poll(phone, "async () => (await caches.keys()).length === 0",
          what=lambda: f"no cache left; there are {phone.evaluate('async () => await caches.keys()')}")
    stores = _poll(phone, f"async () => {{ const s = await ({INDEXEDDB_JS})(); "
                          "return s.every((x) => x.count === 0) ? s : null; }",
                   what=lambda: f"empty IndexedDB; it holds {phone.evaluate(INDEXEDDB_JS)}")
    assert all(store["count"] == 0 for store in stores), stores
    assert worker.evaluate("() => self.__unsubscribed") >= 1
    assert len(_leads(live_server, summary)) == 1
    lead = _leads(live_server, summary)[0]
    [volunteer] = _query(live_server, "SELECT id FROM \"user\" WHERE username = 'volunteer'")
    assert lead["reporter_id"] == volunteer["id"]
    # The phone still works as a phone: signing in again starts afresh.
    sign_in(phone, "volunteer")
    expect(phone).to_have_url(re.compile(r"/home/volunteer"))
    assert len(_leads(live_server, summary)) == 1

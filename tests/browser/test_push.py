"""Push on a phone: the service worker's push and notificationclick handlers in a real Chromium,
and the alerts settings page.

No push service is reachable here, so `pushManager.subscribe()` is never called (it hangs with the
notification permission granted). The worker gets its pushes through CDP
`ServiceWorker.deliverPushMessage`, with the payload the server's job sends (tests/notify checks that
payload end to end, encrypted and signed, against a local push service).

A tap on a notification cannot be made through CDP or Playwright. The tests dispatch a
`NotificationEvent("notificationclick")` in the worker instead, with the notification the worker
showed, and run the worker's own listener. Chromium allows `WindowClient.focus()` and
`clients.openWindow()` only during a real tap, so it refuses them for this event. With a window
open, the test lifts only the focus refusal and checks that the listener navigates that window to
the lead. With no window open, it records the URL the listener asks `openWindow` for, then opens
that URL.
"""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from contextlib import closing

from playwright.sync_api import expect

from tests.browser.conftest import sign_in

WAIT_MS = 15_000

NOTIFICATIONS_JS = """async () => {
  const registration = await navigator.serviceWorker.ready;
  return (await registration.getNotifications()).map((n) => ({
    title: n.title, body: n.body, tag: n.tag, data: n.data, icon: n.icon, badge: n.badge}));
}"""

# Run in the worker: "tap" the notification with this tag through the worker's own listener.
TAP_JS = """async ({tag, allowFocus}) => {
  const opened = [];
  const openWindow = Clients.prototype.openWindow;
  Clients.prototype.openWindow = function (url) { opened.push(url); return openWindow.call(this, url); };
  const focus = WindowClient.prototype.focus;
  if (allowFocus) WindowClient.prototype.focus = function () { return Promise.resolve(this); };
  const [notification] = await self.registration.getNotifications({tag});
  const event = new NotificationEvent("notificationclick", {notification});
  let work = null;  // what the listener hands to event.waitUntil()
  Object.defineProperty(event, "waitUntil", {value: (promise) => { work = promise; }});
  self.dispatchEvent(event);
  let outcome = "done";
  try { await work; } catch (error) { outcome = error.name + ": " + error.message; }
  Clients.prototype.openWindow = openWindow;
  WindowClient.prototype.focus = focus;
  return {outcome, opened, left: (await self.registration.getNotifications({tag})).length};
}"""


def _officer_leads(live_server, count: int = 2) -> list[int]:
    uri = f"file:{live_server.db_path}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as connection:
        rows = connection.execute(
            'SELECT lead.id FROM lead JOIN "user" ON "user".id = lead.assignee_id '
            'WHERE "user".username = ? ORDER BY lead.id LIMIT ?', ("officer", count)).fetchall()
    assert len(rows) == count, "the demo station gives `officer` assigned leads"
    return [row[0] for row in rows]


def _devices(live_server, username: str) -> list[dict]:
    uri = f"file:{live_server.db_path}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as connection:
        connection.row_factory = sqlite3.Row
        return [dict(row) for row in connection.execute(
            'SELECT push_subscription.* FROM push_subscription JOIN "user" ON "user".id = user_id '
            'WHERE "user".username = ? ORDER BY push_subscription.id', (username,))]


def _push_channel(page, live_server):
    """send(data): deliver a push to this origin's service worker, as the browser's push service does."""
    cdp = page.context.new_cdp_session(page)
    registrations: list[dict] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated",
           lambda event: registrations.extend(event["registrations"]))
    cdp.send("ServiceWorker.enable")
    for _ in range(100):
        live = [r for r in registrations
                if not r.get("isDeleted") and r["scopeURL"].startswith(live_server.url)]
        if live:
            registration_id = live[-1]["registrationId"]
            break
        page.wait_for_timeout(100)
    else:
        raise AssertionError(f"no service worker registration reported: {registrations}")

    def send(data: str) -> None:
        cdp.send("ServiceWorker.deliverPushMessage",
                 {"origin": live_server.url, "registrationId": registration_id, "data": data})

    return send


def _payload(lead_id: int, body: str = "") -> str:
    """What webapp.notify.push.payload_for sends: neutral words, a link, a tag per lead."""
    return json.dumps({"title": "新派单", "body": body or f"线索 #{lead_id} — 请打开枫桥警务通查看。",
                       "url": f"/leads/{lead_id}", "tag": f"lead-{lead_id}", "id": lead_id},
                      ensure_ascii=False)


def _wait_notifications(page, count: int, check=lambda shown: True) -> list[dict]:
    shown: list[dict] = []
    for _ in range(WAIT_MS // 100):
        shown = page.evaluate(NOTIFICATIONS_JS)
        if len(shown) == count and check(shown):
            return shown
        page.wait_for_timeout(100)
    raise AssertionError(f"expected {count} notifications, the phone shows {shown}")


def _signed_in_phone(new_phone, **options):
    page = new_phone(permissions=["notifications"], **options)
    sign_in(page, "officer")
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=WAIT_MS)
    return page


def test_a_push_shows_one_notification_per_lead_and_a_tap_opens_the_lead(new_phone, live_server):
    page = _signed_in_phone(new_phone)
    home = page.url
    first, second = _officer_leads(live_server)
    push = _push_channel(page, live_server)

    push(_payload(first))
    [shown] = _wait_notifications(page, 1)
    assert shown["title"] == "新派单" and shown["body"] == f"线索 #{first} — 请打开枫桥警务通查看。"
    assert shown["tag"] == f"lead-{first}" and shown["data"] == {"url": f"/leads/{first}"}
    assert "/icons/icon-192.png" in shown["icon"] and "/icons/icon-192.png" in shown["badge"]

    # The same lead again (reassigned, escalated, due): it replaces the first, it does not pile up.
    push(_payload(first, body="again"))
    [shown] = _wait_notifications(page, 1, lambda s: s[0]["body"] == "again")
    assert shown["tag"] == f"lead-{first}"
    # Another lead: a second notification.
    push(_payload(second))
    shown = _wait_notifications(page, 2)
    assert sorted(n["tag"] for n in shown) == sorted([f"lead-{first}", f"lead-{second}"])

    # A tap while Beatbook is open: that window goes to the lead; the notification goes away.
    worker = page.context.service_workers[0]
    with page.expect_navigation(url=f"{live_server.url}/leads/{first}"):
        tapped = worker.evaluate(TAP_JS, {"tag": f"lead-{first}", "allowFocus": True})
    assert tapped == {"outcome": "done", "opened": [], "left": 0}
    assert page.url != home
    expect(page.locator("body")).to_contain_text(f"#{first}")
    assert [n["tag"] for n in _wait_notifications(page, 1)] == [f"lead-{second}"]

    # Without lifting the refusal, Chromium refuses focus() for an event that was not a real tap:
    # the listener did try the open window first.
    tapped = worker.evaluate(TAP_JS, {"tag": f"lead-{second}", "allowFocus": False})
    assert tapped["outcome"] == "InvalidAccessError: Not allowed to focus a window." and tapped["left"] == 0

    # A push that is not our JSON still shows something (never a silent push).
    push("not json")
    [shown] = _wait_notifications(page, 1)
    assert shown["title"] == "Beatbook" and shown["data"] == {"url": "/"}


def test_a_tap_with_no_window_open_opens_the_lead(new_phone, live_server):
    page = _signed_in_phone(new_phone)
    [lead_id] = _officer_leads(live_server, 1)
    _push_channel(page, live_server)(_payload(lead_id))
    _wait_notifications(page, 1)
    context, worker = page.context, page.context.service_workers[0]
    page.close()  # Beatbook is closed; the notification stays

    tapped = worker.evaluate(TAP_JS, {"tag": f"lead-{lead_id}", "allowFocus": False})
    # The listener asked for a new window on the lead (Chromium opens it only for a real tap).
    assert tapped["opened"] == [f"{live_server.url}/leads/{lead_id}"] and tapped["left"] == 0
    assert tapped["outcome"] == "InvalidAccessError: Not allowed to open a window."
    # That URL opens the lead for the signed-in officer.
    page = context.new_page()
    response = page.goto(tapped["opened"][0])
    assert response.status == 200 and page.url == tapped["opened"][0]
    expect(page.locator("body")).to_contain_text(f"#{lead_id}")


def test_the_alerts_page_explains_when_this_phone_cannot_get_alerts(new_phone, live_server):
    # A browser without Web Push (an iPhone's Safari before "Add to Home Screen").
    page = new_phone()
    page.context.add_init_script("delete window.PushManager;")
    sign_in(page, "officer5")  # nobody else changes their language
    page.goto("/inbox/devices")
    text = json.loads(page.locator("#push-text").text_content())
    status = page.locator("[data-push-status]")
    expect(status).to_have_text(text["unsupported"])
    assert "iPhone" in text["unsupported"] and "主屏幕" in text["unsupported"]
    expect(page.locator("[data-push=subscribe]")).to_be_disabled()


def test_the_alerts_page_says_when_alerts_are_blocked_and_lists_and_removes_devices(new_phone, live_server):
    page = new_phone()
    # The person answers "Block" to the permission prompt (headless Chromium would leave it open).
    page.context.add_init_script("Notification.requestPermission = async () => 'denied';")
    sign_in(page, "officer5")
    page.goto("/inbox/devices")
    text = json.loads(page.locator("#push-text").text_content())
    status = page.locator("[data-push-status]")
    expect(status).to_have_text("")
    button = page.locator("[data-push=subscribe]")
    expect(button).to_be_enabled()
    button.click()
    expect(status).to_have_text(text["denied"])
    assert _devices(live_server, "officer5") == []

    # What the page posts after a successful subscribe(), sent from this phone: then listed.
    endpoint = f"https://push.example/send/{uuid.uuid4()}"
    answer = page.evaluate("""async (endpoint) => {
      const response = await fetch("/inbox/devices", {method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json",
                  "X-CSRFToken": document.querySelector("meta[name=csrf-token]").content},
        body: JSON.stringify({endpoint, keys: {
          p256dh: "BEl62iUYgUivxIkv69yViEuiBIa-Ib9-SkvMeAtA3LFgDzkrxZJjSgSnfckjBJuBkr3qBUYIHBQFLXYp5Nksh8U",
          auth: "tBHItJI5svbpez7KI4CCXg"}})});
      return {status: response.status, body: await response.json()};
    }""", endpoint)
    assert answer["status"] == 201
    [device] = _devices(live_server, "officer5")
    assert device["endpoint"] == endpoint and "Pixel 7" in device["device"]
    page.reload()
    rows = page.locator("#device-list li")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(re.compile("Android|Pixel"))

    rows.first.locator("button[type=submit]").click()
    expect(page.locator("#device-list li.empty")).to_have_count(1)
    assert _devices(live_server, "officer5") == []

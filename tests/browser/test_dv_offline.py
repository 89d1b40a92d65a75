"""The DV task force on a phone with no signal: a delivery of a warning letter (with the photo of the
signed receipt) and a follow-up visit are recorded offline, kept sealed in the outbox (nothing of
them readable on the phone), and arrive once when the signal is back. The demo's first follow-up
visit of a letter issued 7 days ago is on the task force's home on its date."""

from __future__ import annotations

import io

from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.test_offline import (
    INDEXEDDB_JS,
    RAW_OUTBOX_JS,
    _all_sent,
    _controlled,
    _query,
    _wait_db,
    _wait_items,
)

NOTE = "受害人周敏本人签收，情绪稳定"
VISIT_NOTE = "查访周敏住处，前夫未再上门"


def _receipt() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (1200, 900), (235, 235, 225)).save(out, "JPEG", quality=85)
    return out.getvalue()


def test_delivery_and_follow_up_recorded_offline_arrive_once_sealed(new_phone, live_server):
    [letter] = _query(
        live_server, "SELECT id FROM dv_letter WHERE victim_name = ? AND status = 'issued'", ("周敏",)
    )
    [followup] = _query(
        live_server,
        "SELECT id FROM dv_followup WHERE letter_id = ? AND done_at IS NULL ORDER BY due_on LIMIT 1",
        (letter["id"],),
    )
    page = new_phone()
    sign_in(page, "dvteam")
    expect(page).to_have_url(f"{live_server.url}/home/dv-team")
    page.goto(f"/dv/letters/{letter['id']}/deliveries/new")
    _controlled(page)
    page.reload()
    page.context.set_offline(True)

    form = page.locator("#delivery-form")
    form.locator("select[name=recipient]").select_option("victim")
    form.locator("select[name=method]").select_option("in_person")
    form.locator("select[name=outcome]").select_option("signed")
    form.locator("textarea[name=note]").fill(NOTE)
    form.locator("input[name=photo]").set_input_files(
        {"name": "receipt.jpg", "mimeType": "image/jpeg", "buffer": _receipt()}
    )
    page.click("#delivery-form [type=submit]")
    expect(page.locator(".saved-offline")).to_be_visible()

    page.goto(f"/dv/followups/{followup['id']}")  # kept? no: DV pages are never stored
    expect(page.locator("#offline-page")).to_be_visible()
    page.context.set_offline(False)
    page.goto(f"/dv/followups/{followup['id']}")
    page.context.set_offline(True)
    visit = page.locator("#followup-form")
    visit.locator("input[name=recurred][value=no]").check()
    visit.locator("textarea[name=note]").fill(VISIT_NOTE)
    page.click("#followup-form [type=submit]")
    expect(page.locator(".saved-offline")).to_be_visible()

    items = _wait_items(page, "items.length === 2")
    assert {item["kind"] for item in items} == {"dv.delivery", "dv.followup"}
    assert all(set(item["fields"]) == {"uuid"} for item in items)  # the rest is sealed
    delivery_item = next(item for item in items if item["kind"] == "dv.delivery")
    assert delivery_item["photos"] == 1
    for store in page.evaluate(INDEXEDDB_JS):
        for secret in (NOTE, VISIT_NOTE, "周敏"):
            assert secret not in store["json"], f"{secret!r} readable in IndexedDB {store['store']}"
    [photo] = [photo for raw in page.evaluate(RAW_OUTBOX_JS) for photo in raw["photos"]]
    assert photo["head"] != [0xFF, 0xD8, 0xFF] and "JFIF" not in photo["text"]  # the receipt, sealed

    page.context.set_offline(False)
    page.goto("/outbox")
    _wait_items(page, _all_sent(2))
    [stored] = _wait_db(
        page, lambda: _query(live_server, "SELECT * FROM dv_delivery WHERE note = ?", (NOTE,)), "the delivery"
    )
    assert stored["letter_id"] == letter["id"] and stored["recipient"] == "victim" and stored["photo_sha256"]
    [done] = _wait_db(
        page,
        lambda: _query(live_server, "SELECT * FROM dv_followup WHERE note = ?", (VISIT_NOTE,)),
        "the follow-up visit",
    )
    assert done["id"] == followup["id"] and done["recurred"] == 0 and done["uuid"]
    page.evaluate("() => window.dispatchEvent(new Event('online'))")  # any replay changes nothing
    page.wait_for_timeout(1500)
    assert len(_query(live_server, "SELECT id FROM dv_delivery WHERE note = ?", (NOTE,))) == 1


def test_the_first_follow_up_is_on_the_home_on_its_date(new_phone, live_server):
    [due] = _query(
        live_server,
        "SELECT f.id FROM dv_followup f JOIN dv_letter l ON l.id = f.letter_id "
        "WHERE l.victim_name = ? AND f.days_after = 7",
        ("钱桂英",),
    )
    page = new_phone()
    sign_in(page, "dvteam")
    expect(page.locator(f"#dv-due a[href='/dv/followups/{due['id']}']")).to_be_visible()

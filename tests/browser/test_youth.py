"""The youth team on a phone: a session recorded with no signal is kept sealed in the outbox (its
notes, and which profile it belongs to, unreadable on the phone), arrives once when the signal is
back; an officer on another phone finds no trace of the profile."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.test_offline import (
    CACHES_JS,
    INDEXEDDB_JS,
    WAIT_MS,
    _all_sent,
    _controlled,
    _items,
    _query,
    _submit_saved,
    _unique,
    _wait_items,
)


def _sessions(live_server, notes: str) -> list[dict]:
    return _query(live_server, "SELECT * FROM youth_session WHERE notes = ?", (notes,))


def test_a_session_recorded_offline_is_sealed_and_arrives_once(new_phone, live_server):
    profile = _query(live_server, "SELECT id, name FROM youth_profile WHERE status = 'open' ORDER BY id")[0]
    page = new_phone()
    sign_in(page, "youth")
    page.goto(f"/youth/profiles/{profile['id']}/sessions/new")
    _controlled(page)
    page.wait_for_function("() => !!window.BeatbookDB", timeout=WAIT_MS)

    page.context.set_offline(True)
    notes = _unique("离线帮扶：孩子谈到与父亲的矛盾，约定周末亲子沟通")
    form = page.locator("#session-form")
    form.locator("select[name=kind]").select_option("parent_child")
    form.locator("input[name=duration_minutes]").fill("50")
    form.locator("textarea[name=notes]").fill(notes)
    _submit_saved(page, "#session-form")
    items = _items(page)
    assert [(i["kind"], i["state"]) for i in items] == [("youth.session", "waiting")]
    assert set(items[0]["fields"]) == {"uuid"}  # the profile, the notes: sealed
    on_phone = page.evaluate(INDEXEDDB_JS)
    kept = page.evaluate(CACHES_JS)
    for secret in (notes, profile["name"], f"/youth/profiles/{profile['id']}"):
        assert secret not in str(on_phone) and secret not in str(kept)
    assert _sessions(live_server, notes) == []

    page.context.set_offline(False)
    sent = _wait_items(page, _all_sent(1))
    assert sent[0]["url"].endswith(f"/youth/profiles/{profile['id']}")
    rows = _sessions(live_server, notes)
    assert len(rows) == 1 and rows[0]["kind"] == "parent_child" and rows[0]["duration_minutes"] == 50
    page.goto(f"/youth/profiles/{profile['id']}")
    expect(page.locator("#sessions")).to_contain_text(notes)

    officer = new_phone()
    sign_in(officer, "officer")
    for path in (f"/youth/profiles/{profile['id']}", "/youth/", "/home/youth-team"):
        response = officer.goto(path)
        assert response.status == 403, path
        assert notes not in officer.content() and profile["name"] not in officer.content()

"""A whole shift without signal, the way a community officer lives it: a hundred reports (every
fifth with a camera-sized photo), household visits and accepted assignments, the browser closed and
reopened in the middle, the station's server restarted meanwhile — then signal, and the outbox
drains by itself, exactly once, with the phone's times, and nobody touching the phone.

Offline has two forms here (TESTING.md): `set_offline` before the browser is closed, and a stopped
server after it is reopened (Playwright's offline emulation does not reach the service worker that
starts with a reopened profile).
"""

from __future__ import annotations

import io
import random
import re
import time
from datetime import UTC, datetime

from playwright.sync_api import expect

from tests.browser.conftest import CHROMIUM_ARGS, _chromium_candidates, sign_in
from tests.browser.test_offline import (
    GPS,
    _fill_report,
    _items,
    _one_lead,
    _open_report,
    _query,
    _submit_saved,
    _unique,
    _wait_db,
    _wait_items,
)

REPORTS = 100
PHOTO_EVERY = 5
VISITS = 3
DRAIN_LIMIT_S = 10.0  # from signal to an empty outbox, with nobody touching the phone


def camera_photo(seed: int) -> bytes:
    """A 4032×3024 JPEG of about 1.5 MB: shapes, soft edges and sensor noise, as a phone camera
    makes (the phone shrinks it to 1600 px, about 170 KB, before it is kept)."""
    from PIL import Image, ImageDraw, ImageFilter

    rng = random.Random(seed)
    width, height = 4032, 3024
    scene = Image.new("RGB", (width // 4, height // 4), (120, 130, 140))
    draw = ImageDraw.Draw(scene)
    for _ in range(400):
        x, y, size = rng.randrange(width // 4), rng.randrange(height // 4), rng.randrange(5, 120)
        draw.ellipse((x, y, x + size, y + size * rng.random() * 2),
                     fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    scene = scene.filter(ImageFilter.GaussianBlur(2)).resize((width, height), Image.BICUBIC)
    scene = Image.blend(scene, Image.effect_noise((width, height), 40).convert("RGB"), 0.1)
    buffer = io.BytesIO()
    scene.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def _launch(playwright, live_server, profile):
    device = {k: v for k, v in playwright.devices["Pixel 7"].items() if k != "default_browser_type"}
    options = {"args": CHROMIUM_ARGS, **device, "locale": "zh-CN", "timezone_id": "Asia/Shanghai",
               "base_url": live_server.url, **GPS}
    executable = _chromium_candidates()[0]
    if executable:
        options["executable_path"] = executable
    context = playwright.chromium.launch_persistent_context(profile, **options)
    context.set_default_timeout(15_000)
    return context, (context.pages[0] if context.pages else context.new_page())


def _report(page, summary: str, photo: bytes | None) -> None:
    _fill_report(page, summary, photo=photo)
    _submit_saved(page, "#report-form")
    page.goto("/leads/new")  # the next report: the form comes from the phone's cache


def _visit(page, household: str) -> None:
    page.goto("/visits/new")
    page.fill("input[name=household]", household)
    page.fill("textarea[name=findings]", "走访：邻里关系缓和，无新增矛盾")
    _submit_saved(page, "#visit-form")


def test_a_whole_shift_offline_drains_by_itself_within_seconds_of_signal(playwright, live_server, tmp_path):
    profile = tmp_path / "profile"
    shift = _unique("整班离线")
    photo = camera_photo(1)
    assert len(photo) > 1_000_000
    summaries = [f"{shift}第{n + 1}条：楼道堆物引发邻里争执" for n in range(REPORTS)]
    households = [f"{shift}走访{n + 1}号" for n in range(VISITS)]

    context, page = _launch(playwright, live_server, profile)
    try:
        sign_in(page, "officer", remember=True)  # "keep me signed in": only that cookie survives the reopen
        # Two assignments reach the officer before the shift; they are accepted without signal.
        assigned = []
        for n in range(2):
            _open_report(page)
            _fill_report(page, f"{shift}待签收{n + 1}：商铺占道纠纷")
            page.click("#report-form [type=submit]")
            page.wait_for_url(re.compile(r"/leads/\d+$"))
            assigned.append(_one_lead(live_server, f"{shift}待签收{n + 1}：商铺占道纠纷"))
        step_pages = []
        for lead in assigned:
            step_page = context.new_page()
            step_page.goto(f"/leads/{lead['id']}")
            step_pages.append(step_page)
        page.goto("/visits/new")  # opened once with signal: the phone keeps the form
        _open_report(page)

        context.set_offline(True)
        for step_page in step_pages:
            accept = step_page.locator("#actions form[action$='/steps/accept']")
            accept.locator("xpath=..").locator("summary").click()
            accept.locator("[type=submit]").click()
            expect(step_page.locator(".saved-offline")).to_be_visible()
            step_page.close()
        for n in range(REPORTS // 2):
            _report(page, summaries[n], photo if n % PHOTO_EVERY == 0 else None)
        _visit(page, households[0])
        before_close = _items(page)
        assert len(before_close) == REPORTS // 2 + 1 + 2
        assert {i["state"] for i in before_close} == {"waiting"}
    finally:
        context.close()

    live_server.stop()  # still no signal when the browser comes back, and the server restarts
    context, page = _launch(playwright, live_server, profile)
    try:
        cookies = {c["name"] for c in context.cookies()}
        assert "remember_token" in cookies and "session" not in cookies, cookies  # the session died
        page.goto("/leads/new")  # from the phone's cache
        expect(page.locator("#report-form")).to_be_visible()
        for n in range(REPORTS // 2, REPORTS):
            _report(page, summaries[n], photo if n % PHOTO_EVERY == 0 else None)
        for household in households[1:]:
            _visit(page, household)
        page.goto("/outbox")
        total = REPORTS + VISITS + 2
        expect(page.locator("#outbox-list li[data-state=waiting]")).to_have_count(total)
        assert _query(live_server, "SELECT COUNT(*) AS n FROM lead WHERE summary LIKE ?",
                      (f"{shift}第%",))[0]["n"] == 0

        live_server.start()  # signal: from here on nobody touches the phone
        signal = time.monotonic()
        _wait_db(page, lambda: _query(live_server, "SELECT COUNT(*) AS n FROM lead WHERE summary LIKE ?",
                                      (f"{shift}第%",))[0]["n"] == REPORTS,
                 "every report of the shift", timeout_ms=30_000)
        items = _wait_items(page, f"items.length === {total} && items.every((i) => i.state === 'sent')",
                            timeout_ms=30_000)
        drained = time.monotonic() - signal
        print(f"shift of {total} items ({REPORTS // PHOTO_EVERY} photos): empty {drained:.1f} s after signal")
        assert drained <= DRAIN_LIMIT_S, f"the outbox took {drained:.1f} s to drain after signal"
        expect(page.locator("#outbox-badge")).to_be_hidden()
    finally:
        context.close()

    # Exactly once, with the phone's times.
    leads = _query(live_server, "SELECT id, uuid, summary, recorded_at, received_at FROM lead "
                                "WHERE summary LIKE ?", (f"{shift}第%",))
    assert sorted(lead["summary"] for lead in leads) == sorted(summaries)
    by_uuid = {i["uuid"]: i for i in items}
    for lead in leads:
        phone_time = datetime.fromisoformat(by_uuid[lead["uuid"]]["fields"]["recorded_at"])
        assert _utc(lead["recorded_at"]) == phone_time  # the phone's clock, to the millisecond
        assert _utc(lead["received_at"]) > phone_time
    photos = _query(live_server, "SELECT lead_photo.width, lead_photo.height FROM lead_photo JOIN lead "
                    "ON lead.id = lead_photo.lead_id WHERE lead.summary LIKE ?", (f"{shift}第%",))
    assert len(photos) == REPORTS // PHOTO_EVERY
    assert all(max(p["width"], p["height"]) <= 1600 for p in photos)
    visits = _query(live_server, "SELECT household FROM visit WHERE household LIKE ?", (f"{shift}走访%",))
    assert sorted(v["household"] for v in visits) == sorted(households)
    accepted = _query(live_server, "SELECT lead_id FROM lead_event WHERE kind = 'accept' "
                      "AND lead_id IN (?, ?)", tuple(lead["id"] for lead in assigned))
    assert sorted(row["lead_id"] for row in accepted) == sorted(lead["id"] for lead in assigned)


def _utc(value) -> datetime:
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)

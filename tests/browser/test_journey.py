"""A person's first minutes with Beatbook on a phone: sign in, find their home, change language,
sign out — on a Pixel 7 against the real server."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing

from playwright.sync_api import expect

from tests.browser.conftest import sign_in

LOGIN_URL = re.compile(r"/login(\?.*)?$")
PHONE_WIDTH = 412  # Pixel 7, CSS pixels


def _assert_phone_layout(page) -> None:
    """Bottom navigation in thumb reach, nothing wider than the screen."""
    viewport = page.viewport_size
    assert viewport["width"] == PHONE_WIDTH

    tabbar = page.locator("nav.tabbar")
    expect(tabbar).to_be_visible()
    box = tabbar.bounding_box()
    assert box is not None
    # Full width, flush with the bottom edge of the screen, and not taller than a thumb bar.
    assert abs(box["x"]) <= 1 and abs(box["width"] - viewport["width"]) <= 1, box
    assert abs(box["y"] + box["height"] - viewport["height"]) <= 1, (box, viewport)
    assert 44 <= box["height"] <= 0.15 * viewport["height"], box
    # Each tab is a touch target at least 44 px tall.
    for tab_box in (tab.bounding_box() for tab in tabbar.locator("a").all()):
        assert tab_box is not None and tab_box["height"] >= 44, tab_box
    # It stays at the bottom while the page scrolls (fixed), not at the end of the document.
    assert tabbar.evaluate("el => getComputedStyle(el).position") == "fixed"

    overflow = page.evaluate(
        "({scroll: document.scrollingElement.scrollWidth, inner: window.innerWidth})"
    )
    assert overflow["scroll"] <= overflow["inner"], f"horizontal overflow: {overflow}"


def _stored_locale(live_server, username: str) -> str | None:
    """The language stored for a person, read straight from the server's database."""
    uri = f"file:{live_server.db_path}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as connection:
        row = connection.execute(
            'SELECT locale FROM "user" WHERE username = ?', (username,)
        ).fetchone()
    assert row is not None, f"no user {username!r} in the database"
    return row[0]


def test_officer_journey_on_a_phone(phone, live_server, artifacts_dir):
    page = phone

    # Signed out: the start page sends you to sign in, in Chinese by default.
    page.goto("/")
    expect(page).to_have_url(LOGIN_URL)
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("#login-form")).to_be_visible()

    response = sign_in(page, "officer")
    assert response is not None and response.status == 200
    expect(page).to_have_url(re.compile(r"/home/officer$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    _assert_phone_layout(page)

    # Switch to English: the page comes back in English, on the same page.
    with page.expect_navigation():
        page.locator("form.lang button[name=lang][value=en]").click()
    expect(page).to_have_url(re.compile(r"/home/officer$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="My communities")).to_be_visible()
    expect(page.locator("form.lang button[value=en]")).to_have_attribute("aria-pressed", "true")

    # The choice sticks: stored with the person (it follows them to another phone) ...
    assert _stored_locale(live_server, "officer") == "en"
    # ... and survives a reload.
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="My communities")).to_be_visible()
    _assert_phone_layout(page)

    screenshot = artifacts_dir / "home.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.exists()
    assert screenshot.stat().st_size > 10_000, screenshot.stat().st_size

    # Me → sign out on this phone → back at the sign-in page.
    page.locator("nav.tabbar a[href='/account']").click()
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.locator("nav.tabbar a[href='/account']")).to_have_attribute(
        "aria-current", "page"
    )
    with page.expect_navigation():
        page.locator("#sign-out").click()
    expect(page).to_have_url(LOGIN_URL)
    expect(page.locator("nav.tabbar")).to_have_count(0)
    # Signed out, the language cookie still keeps the login page in English.
    expect(page.locator("html")).to_have_attribute("lang", "en")

    # The session (and the remember-me cookie) is really gone.
    page.goto("/home/officer")
    expect(page).to_have_url(LOGIN_URL)
    expect(page.locator("#login-form")).to_be_visible()
    assert not [c for c in page.context.cookies() if c["name"] == "remember_token"]


def test_volunteer_lands_home_and_cannot_open_admin(phone):
    page = phone

    sign_in(page, "volunteer")
    expect(page).to_have_url(re.compile(r"/home/volunteer$"))
    # A volunteer has no Admin tab.
    expect(page.locator("nav.tabbar a[href^='/admin']")).to_have_count(0)

    response = page.goto("/admin/users")
    assert response is not None
    assert response.status == 403
    expect(page.locator("#error h1")).to_have_text("403")
    expect(page.locator("nav.tabbar")).to_be_visible()  # still signed in, can go back home


def test_chinese_is_the_default_language(phone, live_server):
    """zh-CN is the default: the pages must actually be in Chinese, not just say lang=zh-CN."""
    page = phone
    # Someone who never chose a language (the officer journey stores "en" for the officer).
    assert _stored_locale(live_server, "mediator") is None

    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("#login-form button[type=submit]")).to_have_text("登录")

    sign_in(page, "mediator")
    expect(page).to_have_url(re.compile(r"/home/mediation$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("nav.tabbar a[href='/account']")).to_have_text("我的")


def test_content_starts_right_below_the_top_bar(phone):
    """Nothing invisible may push the page down: on a phone every pixel above the fold counts."""
    page = phone

    sign_in(page, "officer")
    expect(page).to_have_url(re.compile(r"/home/officer$"))
    gap = page.evaluate(
        """() => document.querySelector('main').getBoundingClientRect().top
                 - document.querySelector('.topbar').getBoundingClientRect().bottom"""
    )
    assert gap <= 1, f"{gap:.0f} px of empty space between the top bar and the page content"

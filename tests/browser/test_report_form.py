"""The report forms in a hand on patrol: three reports in a row (with signal and without), each
arriving once, and a half-filled desk form that survives the tab being killed — except a DV one,
which is never kept on the phone in the clear."""

from __future__ import annotations

import io
import re

from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.test_offline import (
    GPS,
    _all_sent,
    _controlled,
    _fill_report,
    _one_lead,
    _open_report,
    _poll,
    _query,
    _unique,
    _wait_items,
    _wait_signed_out,
)

DESK_DRAFT_JS = "async () => BeatbookDB.getMeta('draft:lead.desk')"


def test_a_volunteer_files_three_reports_in_a_row_with_signal(new_phone, live_server):
    page = new_phone(**GPS)
    sign_in(page, "volunteer")
    page.goto("/leads/new")
    summaries = [_unique(f"楼道里第{n}次有人吵架") for n in (1, 2, 3)]
    for summary in summaries:
        _fill_report(page, summary)
        page.click("#report-form [type=submit]")
        expect(page.locator("#progress")).to_contain_text(summary)
        # One tap from "saved" to a fresh, empty form.
        page.click("[data-report-another]")
        expect(page).to_have_url(re.compile(r"/leads/new$"))
        expect(page.locator("#report-form textarea[name=summary]")).to_have_value("")
    for summary in summaries:
        _one_lead(live_server, summary)


def test_a_volunteer_files_three_reports_in_a_row_without_signal(new_phone, live_server):
    page = new_phone(**GPS)
    sign_in(page, "volunteer")
    _open_report(page)
    page.context.set_offline(True)
    summaries = [_unique(f"没信号时第{n}次上报") for n in (1, 2, 3)]
    uuids = set()
    for summary in summaries:
        _fill_report(page, summary)
        uuids.add(page.locator("#report-form input[name=uuid]").input_value())
        page.click("#report-form [type=submit]")
        expect(page.locator(".saved-offline")).to_be_visible()
        page.click(".saved-offline [data-report-another]")  # the phone's own copy of the form
        expect(page.locator("#report-form textarea[name=summary]")).to_have_value("")
    assert len(uuids) == 3, "each fresh form must make a new record, not replay the last one"
    page.context.set_offline(False)
    _wait_items(page, _all_sent(3))
    for summary in summaries:
        _one_lead(live_server, summary)


def _fill_half_the_desk_form(page, summary: str) -> None:
    form = page.locator("#desk-form")
    form.locator("select[name=category]").select_option("neighbour")
    form.locator("textarea[name=summary]").fill(summary)
    form.locator("select[name='parties-0-role']").select_option("respondent")
    form.locator("input[name='parties-0-name']").fill("吴大伟")
    count = form.locator("input[name=head_count]")
    expect(count).to_be_hidden()  # asked only with "many people involved"
    form.locator("input[name=flag_many_people]").check()
    expect(count).to_be_visible()
    count.fill("12")


def test_a_half_filled_desk_form_survives_the_tab_being_killed(new_phone, live_server):
    page = new_phone()
    sign_in(page, "officer")
    page.goto("/leads/desk")
    _controlled(page)
    summary = _unique("窗口办理：两户因车位争执")
    _fill_half_the_desk_form(page, summary)
    expect(page.locator("#desk-form[data-draft-state=saved]")).to_have_count(1)

    page.reload()  # what a killed tab or a locked phone's reclaimed memory comes back to
    form = page.locator("#desk-form")
    expect(form.locator("textarea[name=summary]")).to_have_value(summary)
    expect(form.locator("select[name=category]")).to_have_value("neighbour")
    expect(form.locator("select[name='parties-0-role']")).to_have_value("respondent")
    expect(form.locator("input[name='parties-0-name']")).to_have_value("吴大伟")
    expect(form.locator("input[name=flag_many_people]")).to_be_checked()
    expect(form.locator("input[name=head_count]")).to_have_value("12")
    expect(form.locator("input[name=head_count]")).to_be_visible()

    # Sent: the draft is gone, and the next desk form starts empty.
    form.locator("select[name=community_id]").select_option(index=1)
    form.locator("[type=submit]").click()
    expect(page.locator("[data-report-another]")).to_be_visible()
    lead = _one_lead(live_server, summary)
    assert (lead["flag_many_people"], lead["head_count"]) == (1, 12)
    assert page.evaluate(DESK_DRAFT_JS) is None
    page.click("[data-report-another]")
    expect(page.locator("#desk-form textarea[name=summary]")).to_have_value("")


def test_a_draft_does_not_outlive_signing_out(new_phone, live_server):
    """A shared station phone: the next person never finds the last one's half-written report."""
    page = new_phone()
    sign_in(page, "officer")
    page.goto("/leads/desk")
    _controlled(page)
    _fill_half_the_desk_form(page, _unique("交班前没填完的登记"))
    _poll(page, DESK_DRAFT_JS, what="a draft of the desk form")
    page.goto("/account")
    page.click("#sign-out")
    _wait_signed_out(page)
    assert page.evaluate(DESK_DRAFT_JS) is None
    sign_in(page, "supervisor")
    page.goto("/leads/desk")
    expect(page.locator("#desk-form")).to_be_visible()
    assert page.locator("#desk-form textarea[name=summary]").input_value() == ""
    assert page.evaluate(DESK_DRAFT_JS) is None


def test_a_dv_desk_form_is_never_kept_as_a_draft(new_phone, live_server):
    page = new_phone()
    sign_in(page, "officer")
    page.goto("/leads/desk")
    _controlled(page)
    summary = _unique("女方反映丈夫酒后动手")
    _fill_half_the_desk_form(page, summary)
    _poll(page, DESK_DRAFT_JS, what="a draft of the desk form before DV is ticked")

    page.locator("#desk-form input[name=flag_dv]").check()
    expect(page.locator("#desk-form[data-draft-state=saved]")).to_have_count(1)
    assert page.evaluate(DESK_DRAFT_JS) is None  # ticking DV deleted what was kept
    page.locator("#desk-form textarea[name=summary]").fill(summary + "，多次")
    expect(page.locator("#desk-form[data-draft-state=saved]")).to_have_count(1)
    assert page.evaluate(DESK_DRAFT_JS) is None

    page.reload()
    expect(page.locator("#desk-form textarea[name=summary]")).to_have_value("")
    expect(page.locator("#desk-form input[name=flag_dv]")).not_to_be_checked()


def _picture(colour: tuple[int, int, int]) -> dict:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), colour).save(buffer, "JPEG")
    return {"name": f"scene-{colour[0]}.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


def test_photos_picked_one_at_a_time_add_up_and_one_can_be_removed_offline(new_phone, live_server):
    page = new_phone()
    sign_in(page, "officer")
    page.goto("/leads/desk")
    _controlled(page)
    page.context.set_offline(True)
    form = page.locator("#desk-form")
    picker = form.locator("input[name=photos]")
    assert picker.get_attribute("accept") == "image/*" and picker.get_attribute("capture") is not None
    # In the page's language (the journey test may have switched the officer to English).
    in_chinese = page.locator("html").get_attribute("lang") == "zh-CN"
    expect(form.locator("label[for=photos]")).to_have_text("添加照片" if in_chinese else "Add photos")
    for colour in ((200, 40, 40), (40, 200, 40), (40, 40, 200)):  # a camera gives one at a time
        picker.set_input_files(_picture(colour))
    expect(form.locator(".photo-previews img")).to_have_count(3)
    form.locator("[data-remove-photo]").nth(1).click()
    expect(form.locator(".photo-previews img")).to_have_count(2)
    summary = _unique("窗口办理：带两张照片")
    form.locator("select[name=category]").select_option("neighbour")
    form.locator("textarea[name=summary]").fill(summary)
    form.locator("select[name=community_id]").select_option(index=1)
    form.locator("[type=submit]").click()
    expect(page.locator(".saved-offline")).to_be_visible()
    page.context.set_offline(False)
    _wait_items(page, _all_sent(1))
    lead = _one_lead(live_server, summary)
    photos = _query(live_server, "SELECT width FROM lead_photo WHERE lead_id = ?", (lead["id"],))
    assert len(photos) == 2

"""The supervisor's audit log on a phone: long details (a 64-character user name from a failed
sign-in, uuids, hashes) scroll inside the table's box or break, never widen the whole page."""

from __future__ import annotations

from tests.browser.conftest import sign_in

# The page's width against the layout viewport's (the phone's 412 px). Not window.innerWidth: on a
# phone the visual viewport zooms out to fit an overflowing page, so innerWidth grows with it
# (1,170 px measured on the demo's audit log before main's 70ef24c) and a page could never be wider than it.
SIDEWAYS_JS = "() => [document.scrollingElement.scrollWidth, document.documentElement.clientWidth]"


def test_the_audit_log_fits_a_phone_with_long_details(new_phone):
    stranger = new_phone()
    long_name = "x" * 64
    sign_in(stranger, long_name, "not the password")
    supervisor = new_phone()
    sign_in(supervisor, "supervisor")
    supervisor.goto("/audit/")
    assert long_name in supervisor.content()
    page_width, phone_width = supervisor.evaluate(SIDEWAYS_JS)
    assert page_width <= phone_width, f"the audit page is {page_width}px wide on a {phone_width}px phone"

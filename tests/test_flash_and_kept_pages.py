"""A flash message ("Saved", "Report another") belongs to the page the person opens next, not to a
page the service worker fetches ahead to keep (X-Offline-Keep): read by such a background fetch, it
was gone when the person's page came (a browser test caught it: tests/browser/test_report_form.py)."""

from tests.conftest import Browser


def test_a_page_fetched_ahead_leaves_the_flash_for_the_next_page(demo_client):
    assert Browser(demo_client).login("officer", "beatbook-demo").status_code == 303
    demo_client.get("/account")  # the sign-in's own messages, if any, are read here
    with demo_client.session_transaction() as session:
        session["_flashes"] = [("success", "已保存，编号 1234")]

    kept = demo_client.get("/account", headers={"X-Offline-Keep": "1"})
    assert kept.status_code == 200 and "已保存，编号 1234" not in kept.get_data(as_text=True)

    opened = demo_client.get("/account")
    assert "已保存，编号 1234" in opened.get_data(as_text=True)
    assert "已保存，编号 1234" not in demo_client.get("/account").get_data(as_text=True)

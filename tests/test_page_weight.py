"""The first visit to a page downloads at most 40 KB compressed, everything included."""

import gzip
import re

import pytest

from tests.conftest import Browser

BUDGET = 40 * 1024
# Everything a first visit loads: styles, scripts (htmx, ours, the outbox store), icon, manifest.
ASSET = re.compile(r'(?:href|src)="(/(?:static|offline)/[^"]+|/manifest\.webmanifest)"')
TEXT_TYPES = ("text/", "application/javascript", "application/json", "application/manifest+json")


def first_visit_bytes(client, path: str) -> tuple[int, list[str]]:
    page = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert page.status_code == 200
    assert page.headers.get("Content-Encoding") == "gzip"
    total = len(page.data)
    html = page.get_data(as_text=False)
    assets = ASSET.findall(gzip.decompress(html).decode())
    for url in assets:
        with client.get(url, headers={"Accept-Encoding": "gzip"}) as response:
            assert response.status_code == 200, url
            if response.mimetype.startswith(TEXT_TYPES) and len(response.get_data()) > 1024:
                assert response.headers.get("Content-Encoding") == "gzip", url
            total += len(response.get_data())
    return total, assets


@pytest.fixture
def demo(demo_station):
    """The demo station, loaded once for the module: these tests only read pages."""


@pytest.fixture
def client(demo_client):
    return demo_client


@pytest.mark.parametrize(("username", "path"), [(None, "/login"), ("officer", "/home/officer"),
                                                ("admin", "/admin/users"), (None, "/online/"),
                                                (None, "/online/progress"), ("volunteer", "/leads/new"),
                                                ("officer", "/leads/desk"), ("supervisor", "/reports/"),
                                                ("supervisor", "/reports/?period=this_year")])
def test_first_visit_fits_the_budget(client, demo, username, path):
    if username:
        Browser(client).login(username, "beatbook-demo")
    total, assets = first_visit_bytes(client, path)
    assert any("htmx" in a for a in assets) and any(".css" in a for a in assets)
    assert total <= BUDGET, f"{path}: {total} bytes compressed"


def test_assets_are_versioned_and_cached_for_a_long_time(client, demo):
    html = client.get("/login").get_data(as_text=True)
    for url in ASSET.findall(html):
        if url == "/manifest.webmanifest":
            continue  # names follow the person's language: revalidated, not versioned
        assert re.search(r"\?v=[0-9a-f]{10,12}$", url), url
        with client.get(url) as response:
            assert "max-age=31536000" in response.headers["Cache-Control"]
            assert "immutable" in response.headers["Cache-Control"]


@pytest.mark.parametrize("encoding", ["gzip", "identity"])
def test_an_unchanged_worker_is_not_downloaded_again(client, demo, encoding):
    """The browser asks for /sw.js on every page load (no-cache): unchanged, it costs no body."""
    headers = {"Accept-Encoding": encoding}
    first = client.get("/sw.js", headers=headers)
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-cache"
    validator = first.headers["ETag"]
    again = client.get("/sw.js", headers={**headers, "If-None-Match": validator})
    assert again.status_code == 304 and again.get_data() == b""
    other = client.get("/sw.js", headers={**headers, "If-None-Match": '"another-worker"'})
    assert other.status_code == 200 and other.get_data() == first.get_data()


def test_an_unchanged_worker_module_is_answered_without_a_body(client, demo):
    """A new worker's install revalidates its imports (Chromium), db.js right after the page loaded
    it: each module carries a validator, so that costs a 304, not the module again."""
    html = client.get("/login").get_data(as_text=True)
    [db_module] = re.findall(r'src="(/offline/db\.js\?v=[0-9a-f]+)"', html)
    first = client.get(db_module, headers={"Accept-Encoding": "gzip"})
    assert first.status_code == 200 and "immutable" in first.headers["Cache-Control"]
    again = client.get(db_module, headers={"Accept-Encoding": "gzip", "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""


def test_the_app_leaves_the_date_header_to_the_server(client, demo):
    """gunicorn and nginx write Date on every answer; werkzeug's conditional check and Flask-Compress
    wrote a second one on pages and files (~37 bytes each, ten answers on a first visit)."""
    html = client.get("/login").get_data(as_text=True)
    [module] = re.findall(r'src="(/offline/db\.js\?v=[0-9a-f]+)"', html)
    [style] = re.findall(r'href="(/static/css/app\.css\?v=[0-9a-f]+)"', html)
    for path in ("/login", "/outbox", module, style, "/sw.js"):
        response = client.get(path, headers={"Accept-Encoding": "br, gzip"})
        assert response.status_code == 200, path
        assert "Date" not in response.headers, path


def test_the_worker_keeps_one_shell_page_for_offline(client, demo):
    """The outbox page is also the offline answer for a page not kept (it shows its "no signal"
    part then): a first visit downloads one shell page, not an offline page and an outbox page."""
    from tests.conftest import worker_config

    config = worker_config(client.get("/sw.js").get_data(as_text=True))
    assert [url for url in config["shell"] if not url.startswith("/static/")] == ["/outbox"]
    page = client.get("/outbox").get_data(as_text=True)
    assert re.search(r'<section class="card" id="offline-page" data-home="/outbox"[^>]*hidden>', page)
    assert client.get("/offline").status_code == 404

"""First-visit weight in a real Chromium: every byte a phone downloads for a page, service worker
install included (its scripts and precache), compressed as sent. Prints figures; the budget is 40 KB.

Usage: .venv/bin/python -m bench.page_weight [--base-url http://127.0.0.1:5000]
(against a running `make run`; without --base-url it starts its own demo server).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

# Playwright reports the service worker's own requests only with this switch (Chromium).
os.environ.setdefault("PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS", "1")
from playwright.sync_api import sync_playwright  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BUDGET = 40 * 1024
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
PAGES = [(None, "/login"), ("volunteer", "/leads/new"), ("officer", "/home/officer"),
         ("supervisor", "/home/supervisor"), (None, "/online/"), (None, "/experts/public"),
         ("mediator", "/home/mediation"), ("expert", "/experts/mine"), ("dvteam", "/home/dv-team"),
         ("youth", "/home/youth-team"), ("supervisor", "/reports/")]


def start_server() -> tuple[subprocess.Popen, str]:
    work = Path(tempfile.mkdtemp(prefix="beatbook-weight-"))
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{work / 'db.sqlite'}", BEATBOOK_INSTANCE_PATH=str(work))
    bin_dir = Path(sys.executable).parent
    for command in (["db", "upgrade"], ["demo", "load"]):
        subprocess.run([str(bin_dir / "flask"), "--app", "wsgi", *command], cwd=ROOT, env=env, check=True,
                       capture_output=True)
    port = 5099
    command = [str(bin_dir / "gunicorn"), "-b", f"127.0.0.1:{port}", "-w", "1", "--threads", "4", "wsgi:app"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    return server, url


def measure(browser, devices, base_url: str, username: str | None, path: str) -> tuple[int, int, int]:
    """Sign in (if needed) in one context, then measure a fresh first visit in a new one with the
    session cookie copied over: only the page's own downloads count."""
    cookies = []
    if username:
        login = browser.new_context(base_url=base_url)
        page = login.new_page()
        page.goto("/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", "beatbook-demo")
        page.click("#login-form button[type=submit]")
        page.wait_for_load_state()
        cookies = login.cookies()
        login.close()
    context = browser.new_context(**devices["Pixel 7"], base_url=base_url)
    context.add_cookies(cookies)
    seen: list[tuple[str, int, bool]] = []

    def finished(request):
        # Body as sent (compressed) plus headers; requests answered from a cache cost nothing.
        response = request.response()
        if response is None or response.from_service_worker:
            return
        sizes = request.sizes()
        seen.append((request.url, sizes["responseBodySize"] + sizes["responseHeadersSize"],
                     request.service_worker is not None))

    context.on("requestfinished", finished)
    page = context.new_page()
    page.goto(path)
    # Polled from here: wait_for_function evaluates a string in the page, which the strict CSP forbids.
    deadline = time.monotonic() + 15
    while not page.evaluate("navigator.serviceWorker.controller !== null"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path}: the service worker never took control")
        page.wait_for_timeout(100)
    page.wait_for_timeout(2000)  # let the worker finish its precache and prefetches
    context.close()
    total = sum(size for _, size, _ in seen)
    by_worker = sum(size for _, size, worker in seen if worker)
    return total, len(seen), by_worker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-url")
    args = parser.parse_args()
    server = None
    base_url = args.base_url
    if not base_url:
        server, base_url = start_server()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            print(f"{'page':<20}{'bytes':>8}{'of which worker':>17}{'requests':>10}   budget 40 KB")
            for username, path in PAGES:
                total, requests, by_worker = measure(browser, p.devices, base_url, username, path)
                verdict = "OK" if total <= BUDGET else "OVER"
                print(f"{path:<20}{total:>8}{by_worker:>17}{requests:>10}   {total / 1024:.1f} KB {verdict}")
            browser.close()
    finally:
        if server:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()

"""Page weight as the wire carries it, and load times on a throttled phone, beside an empty page.

    .venv/bin/python -m bench.page_weight [--base-url http://127.0.0.1:5000] [--quick] [--verbose]

(against a running `make run`; without --base-url it starts its own demo server).

Real Chromium (Pixel 7 profile) talks to the server through a small TCP proxy that counts every byte
on the socket, both ways, headers included — the page's requests and the service worker's alike
(its module imports, precache and prefetches), whatever the browser's own events report or miss.
The proxy also logs each request line with its answer's status and size, so a file downloaded twice
on one visit is named. The budgets (40 KB first visit, 5 KB repeat visit) are for bytes down — what
the phone downloads; bytes up (request headers, cookies) are printed beside them.

Per page, in one browser profile (signed in by copying a session cookie; cookies are not per port):
- first visit: a fresh profile opens the page; counted until the wire has been quiet for 1.5 s
  after the worker took control (its install and precache are done by then);
- second visit: the tab is closed and the page opened again in a new tab of the same profile; the
  worker now controls the page, and a signed-in home hands it the pages to keep for offline reading
  (fetched this once);
- repeat visit: the same once more, a few seconds later — what every later visit costs when nothing
  changed on the server.

Throttled first load (officer's home and the sign-in page): a fresh profile on Slow 4G as Chrome
DevTools defines it — 562.5 ms round trip, 1.44 Mbit/s down, 675 kbit/s up (DevTools' 150 ms × 3.75,
1.6 Mbit/s × 0.9, 750 kbit/s × 0.9) — applied by the proxy, shared by all connections, so the
worker's requests are slowed like the page's (CDP's Network.emulateNetworkConditions on the page
does not reach the worker's fetches); CPU 4× slower (CDP Emulation.setCPUThrottlingRate on the
page's renderer). Timed: navigation start → the load event's end (Navigation Timing), beside an
empty HTML page (static/empty.html, same server, same link) loaded the same way in the same run.

Offline open: the profile of the visits above goes offline and opens the page in a new tab (CPU 4×
slower): the worker answers from its cache. Timed the same way, ÷ the empty page's throttled first
load.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import sync_playwright

from bench.figures import Figure, table

ROOT = Path(__file__).resolve().parent.parent
FIRST_VISIT_BUDGET = 40 * 1024
REPEAT_VISIT_BUDGET = 5 * 1024
THROTTLED_TARGET = 1.5  # × the empty page's throttled first load
OFFLINE_TARGET = 0.5
EMPTY_PAGE = "/static/empty.html"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
PAGES = [(None, "/login"), ("volunteer", "/leads/new"), ("officer", "/home/officer"),
         ("supervisor", "/home/supervisor"), (None, "/online/"), (None, "/experts/public"),
         ("mediator", "/home/mediation"), ("expert", "/experts/mine"), ("dvteam", "/home/dv-team"),
         ("youth", "/home/youth-team"), ("supervisor", "/reports/")]
QUICK_PAGES = [(None, "/login"), ("officer", "/home/officer")]
TIMED_PAGES = [(None, "/login"), ("officer", "/home/officer")]


@dataclass(frozen=True)
class Link:
    """A shaped link: round trip and rate each way (None: loopback as is)."""
    rtt_s: float = 0.0
    down_bytes_per_s: float | None = None
    up_bytes_per_s: float | None = None


# Chrome DevTools' "Slow 4G" preset (front_end/core/sdk/NetworkManager.ts).
SLOW_4G = Link(rtt_s=0.150 * 3.75, down_bytes_per_s=1.6e6 / 8 * 0.9, up_bytes_per_s=750e3 / 8 * 0.9)
LOOPBACK = Link()
REQUEST_LINE = re.compile(rb"(?:^|\r\n)(GET|POST|HEAD|PUT|DELETE) (\S+) HTTP/1\.[01]\r\n")
STATUS_LINE = re.compile(rb"(?:^|\r\n)HTTP/1\.[01] (\d{3}) ")


class Wire:
    """A TCP proxy in front of the server: counts every byte, logs request lines, shapes the link.

    Each chunk arrives half a round trip after it was read, and each direction's rate is shared by
    all connections, as on a phone's one radio link."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.link = LOOPBACK
        self.down = self.up = 0
        self.requests: list[str] = []  # every request line since the start (connections outlive visits)
        self.first_request = 0
        self.sizes: dict[int, int] = {}  # request's index → bytes of its answer, headers included
        self.last_activity = time.monotonic()
        self._free_at = {True: 0.0, False: 0.0}  # upstream? → when the link is free again
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True).start()
        ready.wait(5)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self, link: Link = LOOPBACK) -> None:
        self.link = link
        self.down = self.up = 0
        self.first_request = len(self.requests)
        self.last_activity = time.monotonic()

    def since_reset(self) -> list[str]:
        """Request lines since the last reset, each with its answer's status once it came."""
        return [f"{line} {self.sizes.get(i, 0)}B"
                for i, line in enumerate(self.requests) if i >= self.first_request]

    def wait_quiet(self, quiet_s: float = 1.5, limit_s: float = 30.0) -> None:
        deadline = time.monotonic() + limit_s
        while time.monotonic() - self.last_activity < quiet_s and time.monotonic() < deadline:
            time.sleep(0.1)

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)

        async def serve():
            server = await asyncio.start_server(self._connection, "127.0.0.1", self.port)
            ready.set()
            async with server:
                await server.serve_forever()

        self.loop.run_until_complete(serve())

    def _count(self, answering: list[int], size: int) -> None:
        if answering:
            self.sizes[answering[0]] = self.sizes.get(answering[0], 0) + size

    async def _pipe(self, reader, writer, upstream: bool, waiting: list[int], answering: list[int]) -> None:
        """`waiting`: this connection's requests not answered yet (indexes into self.requests);
        `answering`: the one whose answer is coming down now."""
        queue: asyncio.Queue = asyncio.Queue()

        async def deliver():
            while (item := await queue.get()) is not None:
                read_at, chunk = item
                link = self.link
                rate = link.up_bytes_per_s if upstream else link.down_bytes_per_s
                leaves = read_at + link.rtt_s / 2
                if rate:
                    leaves = max(leaves, self._free_at[upstream]) + len(chunk) / rate
                    self._free_at[upstream] = leaves
                delay = leaves - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                writer.write(chunk)
                await writer.drain()
                self.last_activity = time.monotonic()
            writer.close()

        sender = asyncio.ensure_future(deliver())
        try:
            while chunk := await reader.read(16384):
                self.last_activity = time.monotonic()
                if upstream:
                    self.up += len(chunk)
                    for m in REQUEST_LINE.finditer(chunk):
                        waiting.append(len(self.requests))
                        self.requests.append(f"{m.group(1).decode()} {m.group(2).decode()}")
                else:
                    self.down += len(chunk)
                    start = 0
                    for m in STATUS_LINE.finditer(chunk):
                        self._count(answering, m.start() - start)
                        start = m.start()
                        if waiting:
                            answering[:] = [waiting.pop(0)]
                            self.requests[answering[0]] += f" {m.group(1).decode()}"
                    self._count(answering, len(chunk) - start)
                await queue.put((time.monotonic(), chunk))
        except (ConnectionError, OSError):
            pass
        await queue.put(None)
        await sender

    async def _connection(self, client_reader, client_writer) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            client_writer.close()
            return
        waiting: list[int] = []
        answering: list[int] = []
        await asyncio.gather(self._pipe(client_reader, server_writer, True, waiting, answering),
                             self._pipe(server_reader, client_writer, False, waiting, answering),
                             return_exceptions=True)


@dataclass
class Visit:
    down: int
    up: int
    requests: list[str]

    def twice(self) -> list[str]:
        """Requests for the same URL answered with a body more than once."""
        bodies = [re.sub(r"( \d{3})? \d+B$", "", r) for r in self.requests if " 304 " not in r]
        return sorted(r for r, n in Counter(bodies).items() if n > 1)


@dataclass
class Weights:
    path: str
    first: Visit
    second: Visit
    repeat: Visit


def start_server() -> tuple[subprocess.Popen, str]:
    work = Path(tempfile.mkdtemp(prefix="beatbook-weight-"))
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{work / 'db.sqlite'}", BEATBOOK_INSTANCE_PATH=str(work),
               REDIS_URL="", BEATBOOK_SECURE_COOKIES="0")
    bin_dir = Path(sys.executable).parent
    for command in (["db", "upgrade"], ["demo", "load"]):
        subprocess.run([str(bin_dir / "flask"), "--app", "wsgi", *command], cwd=ROOT, env=env, check=True,
                       capture_output=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
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


class Bench:
    def __init__(self, browser, devices, wire: Wire):
        self.browser = browser
        self.devices = devices
        self.wire = wire
        self._cookies: dict[str, list] = {}

    def cookies(self, username: str | None) -> list:
        """A session signed in beside the wire (not counted); the same for every visit of a page."""
        if not username:
            return []
        if username not in self._cookies:
            login = self.browser.new_context(base_url=self.wire.url)
            page = login.new_page()
            page.goto("/login")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", "beatbook-demo")
            page.click("#login-form button[type=submit]")
            page.wait_for_load_state()
            self._cookies[username] = login.cookies()
            login.close()
        return self._cookies[username]

    def phone(self, username: str | None):
        context = self.browser.new_context(**self.devices["Pixel 7"], base_url=self.wire.url)
        context.add_cookies(self.cookies(username))
        return context

    def visit(self, context, path: str, link: Link = LOOPBACK) -> Visit:
        self.wire.reset(link)
        page = context.new_page()
        page.goto(path)
        # Polled from here: wait_for_function evaluates a string in the page, which the CSP forbids.
        deadline = time.monotonic() + 30
        while not page.evaluate("navigator.serviceWorker.controller !== null"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{path}: the service worker never took control")
            page.wait_for_timeout(100)
        self.wire.wait_quiet()
        page.close()
        return Visit(self.wire.down, self.wire.up, self.wire.since_reset())

    def weights(self, username: str | None, path: str) -> Weights:
        context = self.phone(username)
        try:
            first = self.visit(context, path)
            second = self.visit(context, path)
            repeat = self.visit(context, path)
        finally:
            context.close()
        return Weights(path, first, second, repeat)

    def load_ms(self, context, path: str, link: Link) -> float:
        """navigation start → load event end, CPU 4× slower, on `link`."""
        self.wire.reset(link)
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
        page.goto(path, wait_until="load", timeout=60_000)
        took = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
        self.wire.wait_quiet(quiet_s=0.5)  # the worker's own work does not spill into the next run
        page.close()
        return took

    def throttled(self, username: str | None, path: str, runs: int) -> tuple[float, float, float]:
        """Medians over `runs`: empty page's first load, this page's first load, its offline open."""
        empty, first, offline = [], [], []
        for _ in range(runs):
            context = self.phone(None)
            empty.append(self.load_ms(context, EMPTY_PAGE, SLOW_4G))
            context.close()
            context = self.phone(username)
            first.append(self.load_ms(context, path, SLOW_4G))
            self.visit(context, path)  # the worker in control keeps the page
            context.set_offline(True)
            offline.append(self.load_ms(context, path, LOOPBACK))
            context.close()
        return statistics.median(empty), statistics.median(first), statistics.median(offline)


def run(quick: bool, base_url: str | None = None, out=None) -> list[Figure]:
    server = None
    if not base_url:
        server, base_url = start_server()
    wire = Wire(int(base_url.rsplit(":", 1)[1]))
    figures: list[Figure] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            bench = Bench(browser, p.devices, wire)
            empty = bench.phone(None)
            wire.reset()
            empty.new_page().goto(EMPTY_PAGE)
            empty_down = wire.down
            empty.close()
            columns = "".join(f"{label:>9}{'↑':>7}" for label in ("first", "second", "repeat"))
            _say(out, f"{'page':<20}{columns}"
                 f"   (bytes down, and ↑ up, on the wire; the empty page: {empty_down} down)")
            for username, path in QUICK_PAGES if quick else PAGES:
                w = bench.weights(username, path)
                visits = (("first", w.first), ("second", w.second), ("repeat", w.repeat))
                _say(out, f"{path:<20}" + "".join(f"{v.down:>9}{v.up:>7}" for _, v in visits))
                for label, visit in visits:
                    if visit.twice():
                        _say(out, f"    downloaded more than once on the {label} visit: {visit.twice()}")
                    if out and out.verbose:
                        _say(out, f"    {label}: {visit.requests}")
                reference = f"empty page ({EMPTY_PAGE}), downloaded"
                figures.append(Figure(
                    f"First visit incl. the worker's downloads, {path}", w.first.down / 1024, "KB", reference,
                    empty_down / 1024, "≤ 40 KB", None, w.first.down <= FIRST_VISIT_BUDGET,
                    f"bytes down on the socket, headers included; {w.first.up / 1024:.1f} KB up"))
                figures.append(Figure(
                    f"Repeat visit, {path}", w.repeat.down / 1024, "KB", reference, empty_down / 1024,
                    "≤ 5 KB", None, w.repeat.down <= REPEAT_VISIT_BUDGET,
                    f"third open in the same profile, {w.repeat.up / 1024:.1f} KB up; the second open "
                    f"(kept pages fetched the first time) {w.second.down / 1024:.1f} KB down"))
            for username, path in TIMED_PAGES:
                empty_ms, first_ms, offline_ms = bench.throttled(username, path, 1 if quick else 3)
                _say(out, f"{path}: throttled first load {first_ms:.0f} ms, "
                     f"offline open {offline_ms:.0f} ms, empty page {empty_ms:.0f} ms")
                reference = "empty page's throttled first load"
                figures.append(Figure(
                    f"Throttled first load (Slow 4G, CPU 4×), {path}", first_ms, "ms", reference, empty_ms,
                    "≤ 1.5×", first_ms / empty_ms, first_ms / empty_ms <= THROTTLED_TARGET,
                    "navigation start → load event end; median of runs"))
                figures.append(Figure(
                    f"Open offline from cache (CPU 4×), {path}", offline_ms, "ms", reference, empty_ms,
                    "≤ 0.5×", offline_ms / empty_ms, offline_ms / empty_ms <= OFFLINE_TARGET,
                    "the worker answers from its per-person cache"))
            browser.close()
    finally:
        if server:
            server.terminate()
            server.wait(timeout=10)
    return figures


def figures(quick: bool) -> list[Figure]:
    return run(quick)


@dataclass(frozen=True)
class _Out:
    verbose: bool


def _say(out: _Out | None, line: str) -> None:
    if out:
        print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url")
    parser.add_argument("--quick", action="store_true", help="sign-in page and officer's home, one timed run")
    parser.add_argument("--verbose", action="store_true", help="list every request of every visit")
    args = parser.parse_args()
    found = run(args.quick, args.base_url, out=_Out(args.verbose))
    print()
    print(table(found))


if __name__ == "__main__":
    main()

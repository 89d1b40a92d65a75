"""Seconds from signal to an empty outbox after a shift without signal, beside the physical floor.

    .venv/bin/python -m bench.outbox_drain [--reports 100] [--photo-every 5] [--visits 3]
                                           [--latency-ms 300] [--kbit 750] [--time-limit 300]

A community officer's phone (headless Chromium, Pixel 7 profile, the real service worker) holds a
shift in its outbox: N reports, every 5th with a camera photo shrunk on the phone to 1600 px (as the
report form does), and a few visits. The items are put into the outbox while the station's server
is down (the worker tries, fails and backs off, as on patrol); then the server starts — "signal" —
and nobody touches the phone until the outbox is empty.

Twice: on a normal link (loopback) and on a weak one (the default of bench/sync_weak_network.py:
300 ms round trip, 750 kbit/s each way). Both go through a small TCP proxy in front of the server
that counts every byte on the wire (both directions, headers included) and, for the weak link,
delays each chunk by half the round trip and paces it at the link's rate — so the page and the
service worker's own requests are slowed alike (CDP's emulation would miss the worker's).

Printed per link: drain time (signal → every item `sent`), of which waiting for the worker's next
try; bytes each way; requests; and the floor — the bytes to send ÷ the rate, plus one round trip per
request — with the ratio. The server's SQLite file is checked: every item stored exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.browser.conftest import CHROMIUM_ARGS, DEMO_PASSWORD, LiveServer, _chromium_candidates, _free_port
from tests.browser.test_shift import camera_photo
from webapp.demo import data

PLAZA_WEST = {"longitude": data.ORIGIN_LON + 0.3 * data.CELL_LON,
              "latitude": data.ORIGIN_LAT + 0.5 * data.CELL_LAT, "accuracy": 8}

PUT_ITEMS_JS = """async ({items, photo}) => {
  const bytes = Uint8Array.from(atob(photo), (c) => c.charCodeAt(0));
  const userId = Number(document.body.dataset.userId);
  for (const item of items) {
    const photos = item.withPhoto ? [{name: "scene.jpg", type: "image/jpeg",
                                      blob: new Blob([bytes], {type: "image/jpeg"})}] : [];
    await BeatbookDB.put({uuid: item.fields.uuid, kind: item.kind, userId, fields: item.fields, photos,
                          label: item.kind, page: "/leads/new", createdAt: item.createdAt, state: "waiting"});
  }
  return (await BeatbookDB.all()).length;
}"""

OUTBOX_JS = """async () => { const all = await BeatbookDB.all();
  return {total: all.length, sent: all.filter((i) => i.state === "sent").length,
          states: [...new Set(all.map((i) => i.state))]}; }"""


# --- the wire ------------------------------------------------------------------------------------


class Link:
    """A TCP proxy on 127.0.0.1 in front of the server: counts bytes, optionally slows them."""

    def __init__(self, target_port: int, rtt_s: float = 0.0, bits_per_s: float | None = None):
        self.target_port = target_port
        self.one_way = rtt_s / 2
        self.bytes_per_s = bits_per_s / 8 if bits_per_s else None
        self.port = _free_port()
        self.up = 0
        self.down = 0
        self.sync_posts = 0
        self.first_sync_at: float | None = None
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()
        self.ready.wait(5)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def serve():
            server = await asyncio.start_server(self._connection, "127.0.0.1", self.port)
            self.ready.set()
            async with server:
                await server.serve_forever()

        self.loop.run_until_complete(serve())

    async def _pipe(self, reader, writer, upstream: bool) -> None:
        """Each chunk arrives one_way later than it was read, and no faster than the rate allows."""
        free_at = 0.0
        queue: asyncio.Queue = asyncio.Queue()

        async def deliver():
            nonlocal free_at
            while (item := await queue.get()) is not None:
                arrived, chunk = item
                start = max(arrived + self.one_way, free_at)
                if self.bytes_per_s:
                    free_at = start + len(chunk) / self.bytes_per_s
                    start = free_at  # the last byte of the chunk leaves at the end of its slot
                delay = start - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                writer.write(chunk)
                await writer.drain()
            writer.close()

        sender = asyncio.ensure_future(deliver())
        try:
            while chunk := await reader.read(16384):
                if upstream:
                    self.up += len(chunk)
                    if chunk.startswith(b"POST /sync "):
                        self.sync_posts += 1
                        self.first_sync_at = self.first_sync_at or time.monotonic()
                else:
                    self.down += len(chunk)
                await queue.put((time.monotonic(), chunk))
        except (ConnectionError, OSError):
            pass
        await queue.put(None)
        await sender

    async def _connection(self, client_reader, client_writer) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            client_writer.close()  # the server is down: refused, as the phone would see it
            return
        await asyncio.gather(self._pipe(client_reader, server_writer, True),
                             self._pipe(server_reader, client_writer, False), return_exceptions=True)

    def reset(self) -> None:
        self.up = self.down = self.sync_posts = 0
        self.first_sync_at = None


# --- one run ---------------------------------------------------------------------------------------


@dataclass
class Drain:
    label: str
    items: int
    photos: int
    seconds: float
    waited: float  # signal → the worker's first POST /sync
    up: int
    down: int
    requests: int
    floor: float
    stored_once: bool


def _items(reports: int, photo_every: int, visits: int, community_id: int) -> list[dict]:
    now = datetime.now(UTC)
    made = []
    for n in range(reports):
        made.append({"kind": "lead.report", "withPhoto": n % photo_every == 0, "fields": {
            "uuid": str(uuid.uuid4()), "category": "neighbour", "community_id": str(community_id),
            "latitude": f"{PLAZA_WEST['latitude']:.6f}", "longitude": f"{PLAZA_WEST['longitude']:.6f}",
            "gps_accuracy_m": "8", "summary": f"整班离线第{n + 1}条：楼道堆物引发邻里争执，双方情绪激动",
            "recorded_at": (now - timedelta(minutes=reports - n)).isoformat()}})
    for n in range(visits):
        made.append({"kind": "visit", "withPhoto": False, "fields": {
            "uuid": str(uuid.uuid4()), "household": f"国购广场{n + 1}栋101",
            "findings": "走访：邻里关系缓和，无新增矛盾", "visited_on": now.date().isoformat(),
            "recorded_at": now.isoformat()}})
    for n, item in enumerate(made):
        item["createdAt"] = int(now.timestamp() * 1000) + n
    return made


def run_link(playwright, label: str, rtt_ms: float, kbit: float | None, args) -> Drain:
    workdir = Path(tempfile.mkdtemp(prefix="beatbook-drain-"))
    server = LiveServer(workdir)
    try:
        server.prepare_database()
        server.start()
        link = Link(server.port, rtt_ms / 1000, kbit * 1000 if kbit else None)
        url = f"http://127.0.0.1:{link.port}"
        with closing(sqlite3.connect(server.db_path)) as connection:
            community_id = connection.execute("SELECT id FROM community WHERE code = 'GGGC'").fetchone()[0]
        device = {k: v for k, v in playwright.devices["Pixel 7"].items() if k != "default_browser_type"}
        options = {"args": CHROMIUM_ARGS, **device, "locale": "zh-CN", "timezone_id": "Asia/Shanghai",
                   "base_url": url, "geolocation": PLAZA_WEST, "permissions": ["geolocation"]}
        executable = _chromium_candidates()[0]
        browser = playwright.chromium.launch(**({"executable_path": executable} if executable else {}),
                                             args=CHROMIUM_ARGS)
        context = browser.new_context(**{k: v for k, v in options.items() if k != "args"})
        context.set_default_timeout(60_000)
        page = context.new_page()
        page.goto("/login")
        page.fill("#login-form input[name=username]", "officer")
        page.fill("#login-form input[name=password]", DEMO_PASSWORD)
        page.click("#login-form button[type=submit]")
        page.wait_for_url("**/home/officer")
        page.goto("/leads/new")
        page.wait_for_function("navigator.serviceWorker.controller !== null")

        from PIL import Image  # the phone's shrink: 1600 px, JPEG quality 0.82 (static/js/offline.js)

        original = Image.open(io.BytesIO(camera_photo(7)))
        original.thumbnail((1600, 1600))
        buffer = io.BytesIO()
        original.save(buffer, "JPEG", quality=82)
        items = _items(args.reports, args.photo_every, args.visits, community_id)

        server.stop()  # no signal
        page.evaluate(PUT_ITEMS_JS, {"items": items, "photo": base64.b64encode(buffer.getvalue()).decode()})
        page.evaluate("navigator.serviceWorker.controller.postMessage({type: 'sync'})")
        page.wait_for_timeout(5000)  # the worker tries, fails, and backs off
        link.reset()
        server.start()
        signal = time.monotonic()
        deadline = signal + args.time_limit
        while True:
            state = page.evaluate(OUTBOX_JS)
            if state["sent"] == state["total"]:
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"{label}: outbox not empty after {args.time_limit} s: {state}")
            page.wait_for_timeout(50)
        seconds = time.monotonic() - signal
        waited = (link.first_sync_at or signal) - signal
        context.close()
        browser.close()

        with closing(sqlite3.connect(server.db_path)) as connection:
            uuids = [i["fields"]["uuid"] for i in items]
            marks = ",".join("?" * len(uuids))
            stored = sum(connection.execute(f"SELECT COUNT(*) FROM {table} WHERE uuid IN ({marks})",
                                            uuids).fetchone()[0] for table in ("lead", "visit"))
        requests = link.sync_posts + 1  # and the session check that renews the token
        rate = kbit * 1000 / 8 if kbit else None
        floor = (max(link.up, link.down) / rate if rate else 0) + requests * rtt_ms / 1000
        return Drain(label, len(items), sum(i["withPhoto"] for i in items), seconds, waited, link.up,
                     link.down, requests, floor, stored == len(items))
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=100)
    parser.add_argument("--photo-every", type=int, default=5)
    parser.add_argument("--visits", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=300)
    parser.add_argument("--kbit", type=float, default=750)
    parser.add_argument("--time-limit", type=float, default=300)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        runs = [run_link(playwright, "normal (loopback)", 0, None, args),
                run_link(playwright, f"weak ({args.latency_ms:.0f} ms, {args.kbit:.0f} kbit/s)",
                         args.latency_ms, args.kbit, args)]
    print(f"\nOutbox drain after a shift: {runs[0].items} items, {runs[0].photos} photos "
          f"(camera photos shrunk on the phone to 1600 px)\n")
    print("| link | signal → empty | of which waiting for the next try | up | down | requests "
          "| floor | ÷ floor | stored once |")
    print("|---|---|---|---|---|---|---|---|---|")
    for run in runs:
        ratio = f"{run.seconds / run.floor:.1f}×" if run.floor > 0.05 else "—"
        print(f"| {run.label} | {run.seconds:.2f} s | {run.waited:.2f} s | {run.up / 1024:.0f} KB "
              f"| {run.down / 1024:.0f} KB | {run.requests} | {run.floor:.2f} s | {ratio} "
              f"| {'yes' if run.stored_once else 'NO'} |")
    return 0 if all(run.stored_once for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())

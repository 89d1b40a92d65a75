"""Time the outbox's batch sync against one request per item, from a phone on a weak network.

    .venv/bin/python -m bench.sync_weak_network [--items 200] [--batch 50] [--latency-ms 300]
                                                [--kbit 750] [--time-limit 600]

Serves the real app with gunicorn (its own SQLite file and instance directory, made with
`flask db upgrade` and `flask demo load`), signs in as the demo volunteer through the login form of a
headless Chromium with a Pixel 7 profile, opens /leads/new and slows the page's network with CDP
(`Network.emulateNetworkConditions`: 300 ms latency, 750 kbit/s each way by default). Service
workers are blocked in this profile, so every fetch is the page's own and the emulation applies to it.

Then, in the page (`fetch`, sequentially, as the outbox sends):
  (a) batch: N quick reports (category neighbour, community GGGC, a 40-80 character Chinese summary,
      the phone's recorded_at) to POST /sync in batches of 25;
  (b) per item: N other reports, one POST /sync each;
  (c) reference: 10 GETs of /healthz under the same emulation (the per-request floor).

Prints wall time per mode, the ratio, the target (batch ≥ 10× faster and under 5 s), the bytes each
way, the server's CPU time per mode (utime+stime of the gunicorn workers from /proc/<pid>/stat), and
checks in the SQLite file that each of the 2N reports was stored exactly once.
Stops after --time-limit seconds. Exit status 0 only when the target is met and every report was
stored once.

CDP's `latency` is a *minimum* time from request to response headers: server time up to that much
is hidden inside it. A real link adds its round trip to the server's time, so the script also prints
an estimate for a real link (requests × latency + bytes ÷ speed + the server's CPU time).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run"]  # as tests/browser/conftest.py
DEMO_PASSWORD = "beatbook-demo"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# Pieces of what volunteers write: who, what, where, how long — combined into 40-80 characters.
WHO = ("楼上住户", "隔壁邻居", "对门老王家", "一楼商铺老板", "三单元业主", "租户小李", "广场摆摊的商贩",
       "物业保安")
WHAT = ("深夜装修噪音扰民", "楼道堆放杂物占用消防通道", "空调外机滴水到楼下阳台", "宠物狗夜间吠叫",
        "私拉电线给电动车充电", "占用公共车位不挪车", "卫生间漏水渗到楼下天花板", "广场舞音响音量过大")
HOW = ("双方在楼道争吵，情绪激动", "已多次协商未果，矛盾有激化苗头", "居民聚集围观，需尽快调解",
       "一方扬言要报复，需要关注", "老人受到惊吓，家属很不满", "物业出面劝说无效")
WHEN = ("持续一周了", "已经半个月", "昨晚又发生", "最近天天如此", "今天上午再次发生")


@dataclass
class Mode:
    label: str
    requests: int
    seconds: float  # wall time in the page, under the emulation
    cpu: float  # server CPU time (gunicorn workers)
    statuses: dict
    bytes_up: int  # request bodies
    bytes_down: int  # response bodies

    def real_link_estimate(self, latency_s: float, bytes_per_s: float) -> float:
        """The same requests on a real link of that latency and speed: round trips + transfer +
        the server's work (its CPU time: what it needs on an idle machine), added up — on a real
        link the server's time comes on top of the round trip, while CDP's latency hides it."""
        transfer = (self.bytes_up + self.bytes_down) / bytes_per_s
        return self.requests * latency_s + transfer + self.cpu


class Bench(Exception):
    """The benchmark cannot go on (a failed step, or the time limit)."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _command(name: str) -> list[str]:
    script = BIN / name
    return [str(script)] if script.exists() else [sys.executable, "-m", name]


def summary(rng: random.Random) -> str:
    while True:
        text = f"{rng.choice(WHO)}{rng.choice(WHAT)}，{rng.choice(WHEN)}，{rng.choice(HOW)}。"
        if rng.random() < 0.6:
            text += f"地点在{rng.randint(1, 12)}栋{rng.randint(1, 6)}单元附近，请社区民警关注。"
        if 40 <= len(text) <= 80:
            return text


def reports(count: int, community_id: int, rng: random.Random) -> list[dict]:
    now = datetime.now(UTC)
    return [{
        "uuid": str(uuid.uuid4()), "kind": "lead.report", "photos": [],
        "fields": {"category": "neighbour", "community_id": str(community_id), "summary": summary(rng),
                   "recorded_at": (now - timedelta(minutes=rng.randint(1, 600))).isoformat()},
    } for _ in range(count)]


# --- the server ----------------------------------------------------------------------------------


class Server:
    def __init__(self, workdir: Path):
        self.db_path = workdir / "bench.db"
        self.log_path = workdir / "server.log"
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        instance = workdir / "instance"
        instance.mkdir()
        self.env = {**os.environ, "DATABASE_URL": f"sqlite:///{self.db_path}",
                    "BEATBOOK_INSTANCE_PATH": str(instance), "SECRET_KEY": "bench-secret",
                    "BEATBOOK_DEMO_PASSWORD": DEMO_PASSWORD, "REDIS_URL": "",
                    "BEATBOOK_SECURE_COOKIES": "0", "PYTHONUNBUFFERED": "1"}

    def flask(self, *args: str) -> None:
        result = subprocess.run([*_command("flask"), "--app", "wsgi", *args], cwd=REPO_ROOT, env=self.env,
                                capture_output=True, text=True, timeout=180)
        if result.returncode != 0:
            raise Bench(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")

    def start(self) -> None:
        self.flask("db", "upgrade")
        self.flask("demo", "load")
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [*_command("gunicorn"), "--bind", f"127.0.0.1:{self.port}", "--workers", "1",
                 "--threads", "4", "--graceful-timeout", "3", "wsgi:app"],
                cwd=REPO_ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise Bench(f"gunicorn exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise Bench(f"{self.url}/healthz did not answer in 30 s:\n{self.log_tail()}")

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-4000:]
        return ""

    def workers(self) -> list[int]:
        """The gunicorn worker processes (children of the master)."""
        assert self.process is not None
        children = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                    if int(fields[1]) == self.process.pid:
                        children.append(int(entry.name))
        if not children:
            raise Bench("no gunicorn worker found")
        return children

    def cpu_seconds(self) -> float:
        total = 0
        for pid in self.workers():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
        return total / CLOCK_TICKS

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def query(self, sql: str, params=()) -> list[tuple]:
        with contextlib.closing(sqlite3.connect(self.db_path)) as connection:
            return connection.execute(sql, params).fetchall()


# --- the phone ----------------------------------------------------------------------------------

SEND = """async ({items, token, batch}) => {
  const statuses = {};
  const encoder = new TextEncoder();
  let requests = 0, up = 0, down = 0;
  const started = performance.now();
  for (let i = 0; i < items.length; i += batch) {
    const body = JSON.stringify({items: items.slice(i, i + batch)});
    const response = await fetch("/sync", {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": token},
      body, signal: AbortSignal.timeout(120000),
    });
    const text = await response.text();
    requests += 1;
    up += encoder.encode(body).length;
    down += encoder.encode(text).length;
    if (!response.ok) return {error: `HTTP ${response.status}: ${text.slice(0, 300)}`};
    for (const result of JSON.parse(text).results) {
      statuses[result.status] = (statuses[result.status] || 0) + 1;
    }
  }
  return {ms: performance.now() - started, requests, statuses, up, down};
}"""

HEALTH = """async (count) => {
  const times = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const response = await fetch(`/healthz?n=${i}`, {cache: "no-store"});
    await response.text();
    times.push(performance.now() - started);
  }
  return times;
}"""


def send(page, server: Server, label: str, items: list[dict], token: str, batch: int) -> Mode:
    cpu = server.cpu_seconds()
    outcome = page.evaluate(SEND, {"items": items, "token": token, "batch": batch})
    cpu = server.cpu_seconds() - cpu
    if "error" in outcome:
        raise Bench(f"{label}: {outcome['error']}")
    return Mode(label, outcome["requests"], outcome["ms"] / 1000, cpu, outcome["statuses"],
                outcome["up"], outcome["down"])


def run(args) -> int:
    from playwright.sync_api import sync_playwright

    workdir = Path(tempfile.mkdtemp(prefix="beatbook-sync-bench-"))
    server = Server(workdir)
    rng = random.Random(args.seed)
    args.load_before = os.getloadavg()[0]
    try:
        server.start()
        community = server.query("SELECT id FROM community WHERE code = 'GGGC'")
        if not community:
            raise Bench("demo community GGGC not found")
        leads_before = server.query("SELECT count(*) FROM lead")[0][0]
        batched_items = reports(args.items, community[0][0], rng)
        single_items = reports(args.items, community[0][0], rng)

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                context = browser.new_context(**playwright.devices["Pixel 7"], locale="zh-CN",
                                              timezone_id="Asia/Shanghai", base_url=server.url,
                                              service_workers="block")
                context.set_default_timeout(30_000)
                page = context.new_page()
                page.goto("/login")
                form = page.locator("#login-form")
                form.locator("input[name=username]").fill("volunteer")
                form.locator("input[name=password]").fill(DEMO_PASSWORD)
                with page.expect_navigation():
                    form.locator("button[type=submit]").click()
                if "/login" in page.url:
                    raise Bench("sign-in as volunteer failed")
                page.goto("/leads/new")
                token = page.locator("input[name=csrf_token]").first.get_attribute("value")

                cdp = context.new_cdp_session(page)
                cdp.send("Network.enable")
                cdp.send("Network.emulateNetworkConditions", {
                    "offline": False, "latency": args.latency_ms,
                    "downloadThroughput": args.kbit * 1000 / 8, "uploadThroughput": args.kbit * 1000 / 8})

                health = page.evaluate(HEALTH, 10)
                batched = send(page, server, "batch", batched_items, token, args.batch)
                single = send(page, server, "per item", single_items, token, 1)
            finally:
                browser.close()

        uuids = [item["uuid"] for item in batched_items + single_items]
        stored = {}
        for start in range(0, len(uuids), 500):
            chunk = uuids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for lead_uuid, times in server.query(
                    f"SELECT uuid, count(*) FROM lead WHERE uuid IN ({marks}) GROUP BY uuid", chunk):
                stored[lead_uuid] = times
        leads_after = server.query("SELECT count(*) FROM lead")[0][0]
        new = leads_after - leads_before
        target, once = report_figures(args, health, batched, single, stored, uuids, new)
        return 0 if target and once else 1
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def report_figures(args, health, batched: Mode, single: Mode, stored: dict, uuids: list[str],
                   new: int) -> tuple[bool, bool]:
    """Print the figures; return (speed target met, every report stored exactly once)."""
    ratio = single.seconds / batched.seconds
    target = ratio >= 10 and batched.seconds < 5
    latency, speed = args.latency_ms / 1000, args.kbit * 1000 / 8
    real_batch, real_single = (m.real_link_estimate(latency, speed) for m in (batched, single))
    real_ratio = real_single / real_batch
    real_target = real_ratio >= 10 and real_batch < 5
    once = len(stored) == len(uuids) and set(stored.values()) == {1} and new == len(uuids)
    floor = statistics.median(health) / 1000
    print(f"\nSync over a weak network: latency {args.latency_ms} ms, {args.kbit} kbit/s each way "
          f"(CDP on the page), Chromium Pixel 7, gunicorn 1 worker × 4 threads, SQLite")
    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} cores, load average {args.load_before:.2f} before, {load:.2f} after "
          "(other work on a shared machine slows the server's share, not the emulated network's)")
    print(f"reference: GET /healthz ×10, median {floor:.3f} s (min {min(health) / 1000:.3f}, "
          f"max {max(health) / 1000:.3f})\n")
    print(f"{'mode':<10} {'items':>6} {'requests':>9} {'total s':>9} {'s/item':>8} {'s/request':>10} "
          f"{'server CPU s':>13} {'CPU ms/item':>12} {'KB up':>7} {'KB down':>8}  statuses")
    for mode in (batched, single):
        print(f"{mode.label:<10} {args.items:>6} {mode.requests:>9} {mode.seconds:>9.2f} "
              f"{mode.seconds / args.items:>8.3f} {mode.seconds / mode.requests:>10.3f} "
              f"{mode.cpu:>13.2f} {mode.cpu * 1000 / args.items:>12.1f} "
              f"{mode.bytes_up / 1000:>7.1f} {mode.bytes_down / 1000:>8.1f}  {mode.statuses}")
    print()
    print(f"{'items':>6} {'batch total s':>14} {'per-item total s':>17} {'ratio':>7}  "
          "target (≥10× and batch < 5 s)")
    print(f"{args.items:>6} {batched.seconds:>14.2f} {single.seconds:>17.2f} {ratio:>6.1f}×  "
          f"{'PASS' if target else 'FAIL'}  (measured under the emulation)")
    print(f"{args.items:>6} {real_batch:>14.2f} {real_single:>17.2f} {real_ratio:>6.1f}×  "
          f"{'PASS' if real_target else 'FAIL'}  (estimate for a real link: requests × latency + "
          "bytes ÷ speed + server CPU s)")
    print(f"\nstored: {new} new leads for {len(uuids)} reports; {len(stored)} uuids found, "
          f"each {sorted(set(stored.values()))} time(s) — {'PASS' if once else 'FAIL'} (exactly once each)")
    print(f"per-item requests / healthz floor: {single.seconds / single.requests / floor:.2f}×; "
          f"batch requests / floor: {batched.seconds / batched.requests / floor:.2f}×")
    return target, once


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--batch", type=int, default=50, help="items per request (the outbox sends 50)")
    parser.add_argument("--latency-ms", type=int, default=300)
    parser.add_argument("--kbit", type=int, default=750, help="download and upload, kbit/s")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=int, default=600, help="stop after this many seconds")
    args = parser.parse_args(argv)

    def out_of_time(signum, frame):
        raise Bench(f"stopped: over the {args.time_limit} s limit")

    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(args.time_limit)
    try:
        return run(args)
    except Bench as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 2
    finally:
        signal.alarm(0)


if __name__ == "__main__":
    sys.exit(main())

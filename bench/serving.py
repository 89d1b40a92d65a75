"""What the server-side figures of `make bench` share: databases, gunicorn, a signed-in client, CPU
read from the worker process, and wrk.

CPU per request is the gunicorn worker's utime+stime from /proc/<pid>/stat (clock ticks, usually
10 ms) before and after a round of requests, divided by the requests: the client's own work and the
machine's other load are not in it, unlike wall time. A round lasts until the worker has used at
least `cpu_seconds` of CPU, so a tick's rounding is at most a few per cent of the figure.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text

REPO_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
DEMO_PASSWORD = "beatbook-demo"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
# Both figures of a ratio run in this same command line; only the app differs.
CPU_CONFIG = ("--workers", "1", "--worker-class", "sync")
# The production command of README.md ("Deploying for a city"): 2 × cores + 1 sync workers.
LOAD_CONFIG = ("--workers", str(2 * (os.cpu_count() or 1) + 1), "--worker-class", "sync")


class BenchFailed(Exception):
    """A step of a benchmark did not work (a server that did not start, a page that did not answer 200)."""


def _command(name: str) -> list[str]:
    script = BIN / name
    return [str(script)] if script.exists() else [sys.executable, "-m", name]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- databases ----------------------------------------------------------------------------------


@dataclass
class Database:
    """A database with the demo station (and maybe many leads), and the environment that serves it."""

    url: str
    workdir: Path  # instance directory and logs

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "DATABASE_URL": self.url, "BEATBOOK_INSTANCE_PATH": str(self.workdir),
                "SECRET_KEY": "bench-secret", "BEATBOOK_DEMO_PASSWORD": DEMO_PASSWORD, "REDIS_URL": "",
                "BEATBOOK_SECURE_COOKIES": "0", "PYTHONUNBUFFERED": "1"}

    @property
    def engine_name(self) -> str:
        return "SQLite" if self.url.startswith("sqlite") else "PostgreSQL"

    def remove_workdir(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)

    def flask(self, *commands: tuple[str, ...], timeout: int = 300) -> None:
        """Run `flask` commands (e.g. ("db", "upgrade"), ("demo", "load")) in one process: starting
        the app once instead of once per command saves seconds on a busy machine."""
        result = subprocess.run([sys.executable, "-c", RUN_FLASK_COMMANDS, json.dumps(commands)],
                                cwd=REPO_ROOT, env=self.env, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise BenchFailed(f"flask {commands} failed:\n{result.stdout}\n{result.stderr}")


RUN_FLASK_COMMANDS = """
import json, sys, traceback
from wsgi import app
runner = app.test_cli_runner()
for command in json.loads(sys.argv[1]):
    with app.app_context():
        result = runner.invoke(args=command)
    if result.exit_code != 0:
        print(result.output, file=sys.stderr)
        if result.exc_info:
            traceback.print_exception(*result.exc_info)
        sys.exit(1)
"""


def _workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="bench-", dir="/tmp"))


def sqlite_demo() -> Database:
    """A fresh SQLite file under /tmp/bench-* with the demo station (`remove_workdir` when done)."""
    workdir = _workdir()
    database = Database(f"sqlite:///{workdir / 'db.sqlite'}", workdir)
    database.flask(("db", "upgrade"), ("demo", "load"))
    return database


def _postgres_admin():
    return create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")


def postgres_demo(name: str) -> Database:
    """A fresh PostgreSQL database `name` (always one of ours: bench_*) with the demo station."""
    assert name.startswith("bench_"), name
    admin = _postgres_admin()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    database = Database(f"{POSTGRES}/{name}", _workdir())
    database.flask(("db", "upgrade"), ("demo", "load"))
    return database


def _generator_version() -> str:
    """The generator's own text: any change to how rows are made regenerates the database."""
    import hashlib

    return hashlib.sha256((REPO_ROOT / "bench" / "generate_leads.py").read_bytes()).hexdigest()[:16]


_CITIES_READY: set[str] = set()  # checked (and upgraded) once per run


def city(name: str, leads: int, seed: int = 1) -> Database:
    """PostgreSQL `name` with the demo station and `leads` generated leads (bench/generate_leads.py).

    Kept between runs: a marker row (generator version, seed, leads) in the table bench_marker says
    what the database holds; when it is missing or differs the database is made again (~2.5 min for
    500k). Migrations added since are applied either way.
    """
    assert name.startswith("bench_"), name
    url = f"{POSTGRES}/{name}"
    if name in _CITIES_READY:
        return Database(url, _workdir())
    database = _city(name, url, {"version": _generator_version(), "seed": seed, "leads": leads})
    _CITIES_READY.add(name)
    return database


def _city(name: str, url: str, wanted: dict) -> Database:
    admin = _postgres_admin()
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}).first()
    marker = None
    if exists:
        engine = create_engine(url)
        with engine.connect() as conn, contextlib.suppress(Exception):
            row = conn.execute(text("SELECT version, seed, leads FROM bench_marker")).first()
            marker = {"version": row[0], "seed": row[1], "leads": row[2]} if row else None
        engine.dispose()
    database = Database(url, _workdir())
    if marker == wanted:
        database.flask(("db", "upgrade"))
        admin.dispose()
        return database
    print(f"  making {name}: {wanted['leads']:,} leads (marker {marker} ≠ {wanted})", flush=True)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    command = [sys.executable, "-m", "bench.generate_leads", "--database-url", url,
               "--leads", str(wanted["leads"]), "--seed", str(wanted["seed"])]
    result = subprocess.run(command, cwd=REPO_ROOT, env=database.env, capture_output=True, text=True,
                            timeout=900)
    if result.returncode != 0:
        raise BenchFailed(f"generate_leads failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE bench_marker (version text, seed integer, leads integer)")
        conn.execute(text("INSERT INTO bench_marker VALUES (:version, :seed, :leads)"), wanted)
    engine.dispose()
    return database


# --- gunicorn -----------------------------------------------------------------------------------


class Gunicorn:
    """One gunicorn master serving `app` ("wsgi:app" or "bench.hello:app") on a free loopback port."""

    def __init__(self, app: str, database: Database, config: tuple[str, ...] = CPU_CONFIG):
        self.app, self.database, self.config = app, database, config
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = database.workdir / f"gunicorn-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [*_command("gunicorn"), "--bind", f"127.0.0.1:{self.port}", *self.config,
                 "--timeout", "120", "--graceful-timeout", "3", self.app],
                cwd=REPO_ROOT, env=self.database.env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True)
        deadline = time.monotonic() + 60
        probe = "/" if self.app.startswith("bench.hello") else "/healthz"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchFailed(f"gunicorn {self.app} exited:\n{self.log_tail()}")
            with contextlib.suppress(OSError), urllib.request.urlopen(self.url + probe, timeout=5) as answer:
                if answer.status == 200 and len(self.workers()) == self.worker_count:
                    return self
            time.sleep(0.1)
        self.__exit__()
        raise BenchFailed(f"gunicorn {self.app} did not answer in 60 s:\n{self.log_tail()}")

    def __exit__(self, *exc) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    @property
    def worker_count(self) -> int:
        return int(self.config[self.config.index("--workers") + 1])

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-3000:]
        return ""

    def workers(self) -> list[int]:
        assert self.process is not None
        children = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError, IndexError):
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                    if int(fields[1]) == self.process.pid:
                        children.append(int(entry.name))
        return children

    def wait_idle(self, limit: float = 120) -> None:
        """Until the workers stop using CPU: after wrk stops, the connections still queued in the
        listen backlog are served, and would otherwise run into the next measurement."""
        deadline = time.monotonic() + limit
        last = self.cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(1)
            now = self.cpu_seconds()
            if now - last < 0.03:
                return
            last = now
        raise BenchFailed(f"gunicorn {self.app} still busy {limit:.0f} s after the load stopped")

    def cpu_seconds(self) -> float:
        """utime + stime of the workers (fields 14 and 15 of /proc/<pid>/stat)."""
        ticks = 0
        for pid in self.workers():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
        return ticks / CLOCK_TICKS


# --- a browser-like client ----------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Client:
    """A cookie jar that signed in through the real login form (CSRF token, known-device cookie)."""

    username: str | None = None
    jar: http.cookiejar.CookieJar = field(default_factory=http.cookiejar.CookieJar)

    def __post_init__(self) -> None:
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect)

    def request(self, url: str, data: bytes | None = None, headers: dict | None = None) -> tuple[int, bytes]:
        request = urllib.request.Request(url, data=data, headers=headers or {})
        try:
            with self.opener.open(request, timeout=120) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def get_ok(self, url: str) -> bytes:
        status, body = self.request(url)
        if status != 200:
            raise BenchFailed(f"GET {url} as {self.username or 'nobody'}: HTTP {status}")
        return body

    def sign_in(self, base_url: str, username: str) -> Client:
        token = CSRF.search(self.get_ok(base_url + "/login").decode())
        if token is None:
            raise BenchFailed("no CSRF token on the login page")
        form = urllib.parse.urlencode({"username": username, "password": DEMO_PASSWORD,
                                       "csrf_token": token.group(1), "remember": "y"}).encode()
        status, _ = self.request(base_url + "/login", form)
        if status != 303:
            raise BenchFailed(f"sign-in as {username}: HTTP {status}")
        self.username = username
        return self

    def cookie_header(self) -> str:
        return "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.jar)

    def sync_token(self, base_url: str) -> str:
        return json.loads(self.get_ok(base_url + "/sync/session"))["csrf"]


_SIGNED_IN: dict[tuple[str, str], Client] = {}


def signed_in(server: Gunicorn, username: str) -> Client:
    """`username` signed in on the server's database, once per run: sign-in is throttled and costs a
    password hash, and the session cookie is good on every server of that database."""
    key = (server.database.url, username)
    if key not in _SIGNED_IN:
        _SIGNED_IN[key] = Client().sign_in(server.url, username)
    return _SIGNED_IN[key]


# --- measurements -------------------------------------------------------------------------------


def cpu_ms_per_request(server: Gunicorn, client: Client, path: str, cpu_seconds: float,
                       min_requests: int = 20) -> float:
    """One round: sequential GETs until the worker used `cpu_seconds` of CPU; its CPU ms per request."""
    url = server.url + path
    started, count = server.cpu_seconds(), 0
    while count < min_requests or server.cpu_seconds() - started < cpu_seconds:
        client.get_ok(url)
        count += 1
    return (server.cpu_seconds() - started) * 1000 / count


def warm_up(server: Gunicorn, client: Client, path: str, requests: int = 5) -> None:
    for _ in range(requests):
        client.get_ok(server.url + path)


@dataclass
class WrkResult:
    p50_ms: float
    p99_ms: float
    requests: int
    errors: str  # wrk's own error lines (non-2xx, socket errors); empty when none


WRK_PERCENTILE = re.compile(r"^\s+(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", re.M)
WRK_REQUESTS = re.compile(r"(\d+) requests in")
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, seconds: int, connections: int = 64, cookie: str | None = None) -> WrkResult:
    """wrk against a loopback URL for `seconds` (bounded: one run, its own time limit)."""
    assert urllib.parse.urlsplit(url).hostname == "127.0.0.1", url
    if shutil.which("wrk") is None:
        raise BenchFailed("wrk is not installed (make bench installs it: apt-get install wrk)")
    command = ["wrk", "--threads", "2", "--connections", str(connections), "--duration", f"{seconds}s",
               "--timeout", "30s", "--latency"]
    if cookie:
        command += ["--header", f"Cookie: {cookie}"]
    result = subprocess.run([*command, url], capture_output=True, text=True, timeout=seconds + 60)
    if result.returncode != 0:
        raise BenchFailed(f"wrk failed: {result.stderr}")
    percentiles = {int(percentile): float(value) * UNITS[unit]
                   for percentile, value, unit in WRK_PERCENTILE.findall(result.stdout)}
    requests = WRK_REQUESTS.search(result.stdout)
    if 99 not in percentiles or requests is None:
        raise BenchFailed(f"no latency distribution in wrk's output:\n{result.stdout}")
    errors = " ".join(line.strip() for line in result.stdout.splitlines()
                      if "Non-2xx" in line or "Socket errors" in line)
    return WrkResult(percentiles[50], percentiles[99], int(requests.group(1)), errors)

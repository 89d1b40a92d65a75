"""Browser tests: the real app served by gunicorn from a subprocess, driven by headless Chromium.

Independent of tests/conftest.py: the server gets its own SQLite file and instance directory, built
with the same commands an operator uses (`flask db upgrade`, `flask demo load`).

Chromium: $BEATBOOK_CHROMIUM, else the system one (/usr/bin/chromium, /usr/bin/chromium-browser),
else Playwright's own managed build. No Chromium → skipped, except in CI ($CI set) or with
BEATBOOK_REQUIRE_BROWSER=1, where it is a failure: a green CI run means the browser tests ran.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
BIN = Path(sys.executable).parent  # the venv running pytest also has flask and gunicorn

DEMO_PASSWORD = "beatbook-demo"
SERVER_START_TIMEOUT = 20.0
SERVER_STOP_TIMEOUT = 10.0
SYSTEM_CHROMIUMS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(config, items):
    # This hook sees every collected item of the session: mark only the ones under tests/browser/.
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


# --- the server ------------------------------------------------------------------------------


def _command(name: str) -> list[str]:
    """A console script of this venv, or `python -m name` when the script is not next to python."""
    script = BIN / name
    return [str(script)] if script.exists() else [sys.executable, "-m", name]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """gunicorn serving wsgi:app on 127.0.0.1:<port>; stop() and start() keep port and database."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.instance_path = workdir / "instance"
        self.instance_path.mkdir(parents=True, exist_ok=True)
        self.db_path = workdir / "beatbook.db"
        self.log_path = workdir / "server.log"
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{self.db_path}",
            "BEATBOOK_INSTANCE_PATH": str(self.instance_path),
            "SECRET_KEY": "browser-tests-secret",
            "BEATBOOK_DEMO_PASSWORD": DEMO_PASSWORD,
            # Empty values beat a developer's .env (load_dotenv never overrides what is set).
            "REDIS_URL": "",
            "BEATBOOK_SECURE_COOKIES": "0",
            "PYTHONUNBUFFERED": "1",
        }

    def flask(self, *args: str) -> str:
        """Run `flask --app wsgi <args>` against this server's database; fail the test on error."""
        result = subprocess.run(
            [*_command("flask"), "--app", "wsgi", *args],
            cwd=REPO_ROOT, env=self.env, capture_output=True, text=True, timeout=120,
        )
        if result.returncode != 0:
            pytest.fail(
                f"`flask {' '.join(args)}` exited with {result.returncode}\n"
                f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}",
                pytrace=False,
            )
        return result.stdout

    def prepare_database(self) -> None:
        self.flask("db", "upgrade")
        self.flask("demo", "load")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def _log_tail(self, chars: int = 8000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no server log)"

    def start(self) -> None:
        if self.running:
            return
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    *_command("gunicorn"),
                    "--bind", f"127.0.0.1:{self.port}",
                    "--workers", "1",
                    "--threads", "4",
                    "--graceful-timeout", "3",
                    "wsgi:app",
                ],
                cwd=REPO_ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True,  # its own process group: stop() reaches the worker too
            )
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                self.process = None
                pytest.fail(
                    f"gunicorn exited with {code} before serving {self.url}\n"
                    f"--- server log ---\n{self._log_tail()}",
                    pytrace=False,
                )
            if self._healthy():
                return
            time.sleep(0.1)  # polling a subprocess, not waiting on the browser
        self.stop()
        pytest.fail(
            f"{self.url}/healthz did not answer 200 within {SERVER_START_TIMEOUT:.0f} s\n"
            f"--- server log ---\n{self._log_tail()}",
            pytrace=False,
        )

    def stop(self) -> None:
        """A real outage: gunicorn's quick shutdown (SIGINT to its process group: open keep-alive
        connections are dropped, no graceful wait); the port refuses connections afterwards."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            _signal_group(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=SERVER_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                # The whole group: an orphaned worker would keep the port.
                _signal_group(process.pid, signal.SIGKILL)
                process.wait(timeout=SERVER_STOP_TIMEOUT)


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


@pytest.fixture(scope="session")
def live_server():
    workdir = Path(tempfile.mkdtemp(prefix="beatbook-browser-"))
    server = LiveServer(workdir)
    try:
        server.prepare_database()
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


# --- the browser -----------------------------------------------------------------------------


def _browser_required() -> bool:
    return bool(os.environ.get("CI")) or os.environ.get("BEATBOOK_REQUIRE_BROWSER") == "1"


def _no_browser(reason: str):
    if _browser_required():
        pytest.fail(
            f"Browser tests are required here (CI or BEATBOOK_REQUIRE_BROWSER=1) but cannot run: "
            f"{reason}",
            pytrace=False,
        )
    pytest.skip(f"browser tests skipped: {reason}")


def _chromium_candidates() -> list[str | None]:
    """Executables to try in order; None = Playwright's own managed Chromium."""
    configured = os.environ.get("BEATBOOK_CHROMIUM")
    if configured:
        return [configured]  # an explicit choice is honoured, never silently replaced
    return [path for path in SYSTEM_CHROMIUMS if Path(path).exists()] + [None]


@pytest.fixture(scope="session")
def playwright():
    """The running sync_playwright instance (for `playwright.devices` and `playwright.chromium`)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        _no_browser(f"the Python package playwright is not installed ({error})")
    instance = sync_playwright().start()
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture(scope="session")
def browser(playwright):
    failures = []
    for executable in _chromium_candidates():
        options = {"args": CHROMIUM_ARGS}
        if executable:
            options["executable_path"] = executable
        try:
            launched = playwright.chromium.launch(**options)
        except Exception as error:  # noqa: BLE001 — every launch failure means "try the next one"
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
            failures.append(f"{executable or 'Playwright-managed chromium'}: {first_line}")
            continue
        try:
            yield launched
        finally:
            launched.close()
        return
    _no_browser(
        "no Chromium could be launched. Install Debian's `chromium` (and fonts-noto-cjk), set "
        "BEATBOOK_CHROMIUM, or run `python -m playwright install chromium`. Tried: "
        + "; ".join(failures)
    )


@pytest.fixture
def new_phone(browser, playwright, live_server):
    """Make fresh Pixel 7 profiles (no cookies, cache or service worker): one per person.

    Extra options go to `browser.new_context`, e.g. a GPS position:
    `new_phone(geolocation={"latitude": 31.86, "longitude": 117.28}, permissions=["geolocation"])`.
    """
    contexts = []

    def make(**options):
        context = browser.new_context(
            **playwright.devices["Pixel 7"],
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            base_url=live_server.url,
            **options,
        )
        context.set_default_timeout(10_000)
        # Shown with a failing test's output: what the pages' scripts threw or logged as errors.
        context.on("weberror", lambda error: print(f"page error: {error.error}"))
        context.on("console", lambda message: message.type == "error" and print(f"console: {message.text}"))
        contexts.append(context)
        return context.new_page()

    try:
        yield make
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def phone(new_phone):
    """A fresh Pixel 7 profile and a page on the live app."""
    return new_phone()


@pytest.fixture
def artifacts_dir(request) -> Path:
    """test-results/<test name>/ in the repository (gitignored), emptied when the test starts."""
    safe_name = "".join(c if c.isalnum() or c in "-_." else "_" for c in request.node.name)
    path = REPO_ROOT / "test-results" / safe_name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def sign_in(page, username: str, password: str = DEMO_PASSWORD, *, remember: bool = True):
    """Sign in through the login form the way a person does; returns the final page's response.

    Waits for the navigation the form submission causes: on success that is the role's home
    (after the 303), on failure the re-rendered login page (422/429).
    """
    page.goto("/login")
    form = page.locator("#login-form")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(password)
    remember_box = form.locator("input[name=remember]")
    if remember:
        remember_box.check()
    else:
        remember_box.uncheck()
    with page.expect_navigation() as navigation:
        form.locator("button[type=submit]").click()
    return navigation.value

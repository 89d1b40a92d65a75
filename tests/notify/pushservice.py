"""A local Web Push service on 127.0.0.1, and the other real parts push tests need.

`PushService` does the protocol work a browser vendor's push service does (RFC 8030/8291/8292):
for each `POST /push/<name>` it verifies the VAPID header (ES256 JWT signed by the key in `k`,
`aud` = this service's origin, `exp` in the future and at most 24 h ahead, `sub` present), checks
that the key is the one the subscription was made with (403 otherwise), requires a TTL, decrypts
the aes128gcm body with the subscription's private key and auth secret (http_ece), and records
what it received. Each endpoint answers from a programmable queue of statuses (201 by default;
e.g. 410, 429 with Retry-After, 500), and a request can be held until the test releases it (a worker
"mid-job").

A request counts as delivered only when the service answered 201 to a client that was still
connected: a held request whose sender was killed in the meantime is recorded as abandoned.

`BrowserSubscription` is what `PushManager.subscribe()` gives a page: a P-256 key pair, a 16-byte
auth secret and an endpoint on this service. `Worker` runs a real `huey_consumer` subprocess.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent
MAX_VAPID_LIFETIME = 24 * 3600  # RFC 8292 §2: exp no more than 24 hours from the request
HOLD_LIMIT = 60.0  # a held request gives up waiting for its release after this long


def b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- the browser's side ---------------------------------------------------------------------------


@dataclass
class BrowserSubscription:
    """A push subscription made as a browser makes one."""

    name: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes
    application_server_key: str | None = None  # the VAPID public key it was made for

    @property
    def p256dh(self) -> str:
        raw = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        return b64url_encode(raw)

    @property
    def auth(self) -> str:
        return b64url_encode(self.auth_secret)

    def as_json(self) -> dict:
        """PushSubscription.toJSON(), as the settings page POSTs it."""
        return {"endpoint": self.endpoint, "expirationTime": None,
                "keys": {"p256dh": self.p256dh, "auth": self.auth}}


# --- what the service saw -------------------------------------------------------------------------


@dataclass
class Received:
    name: str
    status: int  # what the service answered (or would have answered, for an abandoned request)
    headers: dict[str, str]
    at: float  # time.time() when the request was fully read
    payload: dict | None = None
    claims: dict = field(default_factory=dict)
    vapid_key: str = ""
    error: str = ""
    client_alive: bool = True
    delivered: bool = False  # 201 written to a client that was still there

    @property
    def abandoned(self) -> bool:
        return not self.client_alive


class Hold:
    """Keeps the next request to one endpoint waiting until `release()` (a worker mid-job)."""

    def __init__(self):
        self.arrived = threading.Event()
        self._released = threading.Event()

    def release(self) -> None:
        self._released.set()

    def wait_arrived(self, timeout: float) -> bool:
        return self.arrived.wait(timeout)


class VapidError(Exception):
    pass


def _vapid_parameters(authorization: str) -> tuple[str, str]:
    """The JWT (t) and the public key (k) of a `vapid t=…, k=…` header."""
    if not authorization:
        raise VapidError("no Authorization header")
    scheme, _, params = authorization.partition(" ")
    if scheme.lower() != "vapid":
        raise VapidError(f"scheme {scheme!r} is not vapid")
    values = {}
    for part in params.split(","):
        name, _, value = part.strip().partition("=")
        values[name.strip()] = value.strip()
    token, key = values.get("t", ""), values.get("k", "")
    if token.count(".") != 2 or not key:
        raise VapidError("t or k missing")
    return token, key


def _check_vapid_claims(claims: dict, origin: str, now: float) -> None:
    if claims.get("aud") != origin:
        raise VapidError(f"aud {claims.get('aud')!r} is not {origin!r}")
    expires = claims.get("exp")
    if not isinstance(expires, int) or expires <= now:
        raise VapidError("exp missing or past")
    if expires > now + MAX_VAPID_LIFETIME:
        raise VapidError("exp more than 24 h ahead")
    if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
        raise VapidError("sub missing (mailto: or https:)")


def verify_vapid(authorization: str, origin: str, now: float | None = None) -> tuple[dict, str]:
    """Check an RFC 8292 `Authorization: vapid t=<JWT>, k=<key>` header; return (claims, key)."""
    token, key = _vapid_parameters(authorization)
    header_b64, claims_b64, signature_b64 = token.split(".")
    header = json.loads(b64url_decode(header_b64))
    if header.get("alg") != "ES256":
        raise VapidError(f"alg {header.get('alg')!r} is not ES256")
    try:
        public_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(key))
    except ValueError as error:
        raise VapidError("k is not a P-256 point") from error
    signature = b64url_decode(signature_b64)
    if len(signature) != 64:
        raise VapidError("the ES256 signature is not 64 bytes (r || s)")
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    try:
        public_key.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as error:
        raise VapidError("bad signature") from error
    claims = json.loads(b64url_decode(claims_b64))
    _check_vapid_claims(claims, origin, time.time() if now is None else now)
    return claims, key


def _client_gone(connection: socket.socket) -> bool:
    """Has the sender closed (or lost) the connection while we held its request?"""
    try:
        readable, _, _ = select.select([connection], [], [], 0)
        if not readable:
            return False
        return connection.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


# --- the service ----------------------------------------------------------------------------------


class PushService:
    def __init__(self, application_server_key: str | None = None):
        # With a key, a push signed by any other key is refused with 403 (RFC 8292 §4.2).
        self.application_server_key = application_server_key
        self.received: list[Received] = []
        self._subscriptions: dict[str, BrowserSubscription] = {}
        self._answers: dict[str, deque] = defaultdict(deque)
        self._holds: dict[str, deque[Hold]] = defaultdict(deque)
        self._changed = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.origin = ""

    # lifecycle
    def start(self) -> PushService:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 — http.server's naming
                service._handle(self)

            def log_message(self, format, *args):  # noqa: A002 — quiet: tests read `received`
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="push-service", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._changed:
            for holds in self._holds.values():
                for hold in holds:
                    hold.release()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> PushService:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # what tests program
    def subscribe(self, name: str) -> BrowserSubscription:
        """A new browser subscription whose endpoint is on this service."""
        subscription = BrowserSubscription(
            name=name, endpoint=f"{self.origin}/push/{name}",
            private_key=ec.generate_private_key(ec.SECP256R1()), auth_secret=os.urandom(16),
            application_server_key=self.application_server_key,
        )
        with self._changed:
            self._subscriptions[name] = subscription
        return subscription

    def answer(self, name: str, *statuses: int | tuple[int, dict]) -> None:
        """The next requests to `name` get these statuses, in order; then 201 again."""
        with self._changed:
            self._answers[name].extend(statuses)

    def hold_next(self, name: str) -> Hold:
        hold = Hold()
        with self._changed:
            self._holds[name].append(hold)
        return hold

    # what tests read
    def requests(self, name: str | None = None) -> list[Received]:
        with self._changed:
            return [r for r in self.received if name is None or r.name == name]

    def deliveries(self, name: str | None = None) -> list[Received]:
        return [r for r in self.requests(name) if r.delivered]

    def wait_for(self, count: int, name: str | None = None, timeout: float = 15.0,
                 delivered: bool = True) -> list[Received]:
        """Wait until `count` requests (delivered ones by default) have been recorded."""
        def seen():
            return [r for r in self.received if (name is None or r.name == name)
                    and (r.delivered or not delivered)]

        with self._changed:
            self._changed.wait_for(lambda: len(seen()) >= count, timeout=timeout)
            return seen()

    # the protocol
    def _accept(self, subscription, headers: dict, body: bytes, record: Received, now: float) -> dict:
        """Check a push request as a push service does, and decrypt it; raise _Refusal if not."""
        if subscription is None:
            raise _Refusal(404, "no such subscription")
        try:
            authorization = headers.get("authorization", "")
            record.claims, record.vapid_key = verify_vapid(authorization, self.origin, now)
        except VapidError as error:
            raise _Refusal(401, f"VAPID: {error}") from error
        expected = subscription.application_server_key
        if expected and record.vapid_key != expected:
            raise _Refusal(403, "VAPID key is not the subscription's applicationServerKey")
        if "ttl" not in headers:
            raise _Refusal(400, "TTL header missing")
        if headers.get("content-encoding") != "aes128gcm":
            raise _Refusal(400, f"content-encoding {headers.get('content-encoding')!r}")
        try:
            plain = http_ece.decrypt(body, private_key=subscription.private_key,
                                     auth_secret=subscription.auth_secret, version="aes128gcm")
        except Exception as error:  # noqa: BLE001 — any decryption failure is the sender's
            raise _Refusal(400, f"cannot decrypt: {error!r}") from error
        return json.loads(plain)

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        body = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        now = time.time()
        headers = {k.lower(): v for k, v in request.headers.items()}
        match = re.fullmatch(r"/push/([\w.-]+)", request.path)
        name = match.group(1) if match else ""
        record = Received(name=name, status=201, headers=headers, at=now)
        with self._changed:
            subscription = self._subscriptions.get(name)
        try:
            record.payload = self._accept(subscription, headers, body, record, now)
        except _Refusal as refusal:
            record.status, record.error = refusal.status, refusal.reason
            self._respond(request, record, {})
            return
        with self._changed:
            queued = self._answers[name].popleft() if self._answers[name] else 201
            hold = self._holds[name].popleft() if self._holds[name] else None
        status, extra = queued if isinstance(queued, tuple) else (queued, {})
        if status == 429 and "Retry-After" not in extra:
            extra = {**extra, "Retry-After": "1"}
        if status == 201:
            extra = {**extra, "Location": f"{self.origin}/message/{len(self.received) + 1}"}
        record.status = status
        if hold is not None:
            hold.arrived.set()
            hold._released.wait(HOLD_LIMIT)
            record.client_alive = not _client_gone(request.connection)
        self._respond(request, record, extra)

    def _respond(self, request: BaseHTTPRequestHandler, record: Received, headers: dict) -> None:
        # Recorded before the answer is written, so a sender that got its answer sees the record.
        with self._changed:
            record.delivered = record.client_alive and record.status == 201
            self.received.append(record)
            self._changed.notify_all()
        if not record.client_alive:
            with contextlib.suppress(OSError):  # nobody is listening: a real service would not accept
                request.send_error(500)
            return
        try:
            request.send_response(record.status)
            for key, value in headers.items():
                request.send_header(key, value)
            request.send_header("Content-Length", "0")
            request.end_headers()
            request.wfile.flush()
        except OSError:
            with self._changed:
                record.delivered = False
                self._changed.notify_all()


class _Refusal(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


# --- registering a subscription with the app ------------------------------------------------------

_META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def register_device(client, subscription: BrowserSubscription, user_agent: str = "Pixel 7 test phone"):
    """POST the subscription to /inbox/devices the way the settings page's script does."""
    page = client.get("/inbox/devices").get_data(as_text=True)
    match = _META_CSRF.search(page)
    assert match, "the devices page has no csrf-token meta"
    return client.post("/inbox/devices", json=subscription.as_json(),
                       headers={"X-CSRFToken": match.group(1), "User-Agent": user_agent})


def store_device(user_id: int, subscription: BrowserSubscription):
    """Insert the subscription row directly (when the HTTP path is not what a test is about)."""
    from webapp.extensions import db
    from webapp.notify.models import PushSubscription
    from webapp.notify.push import endpoint_hash

    device = PushSubscription(user_id=user_id, endpoint=subscription.endpoint,
                              endpoint_hash=endpoint_hash(subscription.endpoint),
                              p256dh=subscription.p256dh, auth=subscription.auth, device="test")
    db.session.add(device)
    db.session.flush()
    return device


# --- a real job worker ----------------------------------------------------------------------------


def subprocess_database_url(app) -> str:
    """DATABASE_URL for a subprocess that must see this app's database (and PostgreSQL schema)."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    options = app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}).get("connect_args", {}).get("options")
    if options:
        url += ("&" if "?" in url else "?") + "options=" + quote(options, safe="")
    return url


def worker_env(database_url: str, instance_path: str | Path, redis_url: str = "", **extra: str) -> dict:
    env = {**os.environ, "DATABASE_URL": database_url, "BEATBOOK_INSTANCE_PATH": str(instance_path),
           # An empty value beats a developer's .env, and selects the SQLite queue.
           "REDIS_URL": redis_url, "PYTHONUNBUFFERED": "1",
           # Test-only: the worker pushes to this local service (http, 127.0.0.1).
           "BEATBOOK_PUSH_ALLOW_INSECURE_LOCAL": "1", **extra}
    env.pop("BEATBOOK_JOBS_IMMEDIATE", None)
    return env


class Worker:
    """`huey_consumer webapp.worker.huey` in its own process group; its queue is chosen by `env`."""

    def __init__(self, env: dict, log_path: Path, threads: int = 1, periodic: bool = False,
                 delay: float | None = 0.05, extra_args: tuple[str, ...] = ()):
        self.env, self.log_path = env, log_path
        self.args = ["webapp.worker.huey", "--workers", str(threads), "--worker-type", "thread", *extra_args]
        if delay is not None:  # polling interval of the SQLite queue; None = huey's default (0.1 s)
            self.args += ["--delay", str(delay)]
        if not periodic:
            self.args.append("--no-periodic")  # tests run the sweep themselves
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 20.0) -> Worker:
        command = [str(BIN / "huey_consumer")] if (BIN / "huey_consumer").exists() else \
            [sys.executable, "-m", "huey.bin.huey_consumer"]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen([*command, *self.args], cwd=REPO_ROOT, env=self.env,
                                            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                            start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:  # bounded polling of a subprocess
            if self.process.poll() is not None:
                raise RuntimeError(f"huey_consumer exited with {self.process.returncode}:\n{self.log()}")
            if "consumer started" in self.log().lower():
                return self
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"huey_consumer did not start within {timeout} s:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def kill(self) -> None:
        """SIGKILL the whole process group: no cleanup, no graceful shutdown."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        self._signal(signal.SIGINT, wait=10)

    def _signal(self, sig: int, wait: float = 10) -> None:
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, sig)
            try:
                process.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=wait)
        self.process = None


# --- the app side: a small station, assignments, the in-process queue ------------------------------


@dataclass
class Cast:
    """Ids of a small station: officer `en` (English) and `zh` (default Chinese), each the officer
    of one community, two supervisors and a volunteer who reports."""

    station: int
    officer_en: int
    officer_zh: int
    supervisors: tuple[int, int]
    volunteer: int
    community_en: int
    community_zh: int


def make_cast(code: str = "PUSH-PS") -> Cast:
    from tests.factories import make_community, make_station, make_user
    from webapp.extensions import db
    from webapp.org.models import Role

    station = make_station(code)
    officer_en = make_user(station, Role.OFFICER, username=f"{code.lower()}_off_en")
    officer_en.locale = "en"
    officer_zh = make_user(station, Role.OFFICER, username=f"{code.lower()}_off_zh")
    supervisors = (make_user(station, Role.SUPERVISOR, username=f"{code.lower()}_sup1"),
                   make_user(station, Role.SUPERVISOR, username=f"{code.lower()}_sup2"))
    community_en = make_community(station, code=f"{code}-EN", officer=officer_en)
    community_zh = make_community(station, code=f"{code}-ZH", officer=officer_zh)
    volunteer = make_user(station, Role.VOLUNTEER, username=f"{code.lower()}_vol", community=community_en)
    db.session.commit()
    return Cast(station.id, officer_en.id, officer_zh.id, (supervisors[0].id, supervisors[1].id),
                volunteer.id, community_en.id, community_zh.id)


# Personal data an assignment carries: none of it may reach a push service.
PARTY_NAME, PARTY_PHONE, PARTY_ID = "王小明", "13912345678", "34010219800101123X"
SUMMARY = "楼上漏水，两家争吵，邻居王小明情绪激动"
ADDRESS = "幸福路88号3栋502"


def register_assignment(app, reporter_id: int, community_id: int, *, risk=None, commit: bool = True) -> int:
    """A lead reported in `community`, routed to its officer by the intake rules; returns its id."""
    from webapp.extensions import db
    from webapp.leads.codes import Source
    from webapp.leads.deadlines import parse_deadlines
    from webapp.leads.services import LeadInput, PartyInput, register_lead
    from webapp.org.models import Community, User

    data = LeadInput(source=Source.WALK_IN, category="neighbour", summary=SUMMARY, risk=risk,
                     community=db.session.get(Community, community_id), address=ADDRESS,
                     parties=[PartyInput(role="applicant", name=PARTY_NAME, phone=PARTY_PHONE,
                                         id_number=PARTY_ID)])
    lead = register_lead(db.session.get(User, reporter_id), data,
                         parse_deadlines(app.config["BEATBOOK_DEADLINES"]), 10 << 20).lead
    if commit:
        db.session.commit()
    return lead.id


def run_queued_jobs() -> list:
    """Do what a worker does, in this process: take each job from the queue and execute it."""
    from webapp.jobs import huey

    results = []
    while (task := huey.dequeue()) is not None:
        result = huey.execute(task)
        if result is not None:  # None: a job for later (Retry-After), put on huey's schedule
            results.append(result)
    return results


def queued_jobs() -> list[tuple[str, tuple]]:
    """(task name, args) of every job waiting in this process's queue."""
    from webapp.jobs import huey

    return [(task.name, tuple(task.args)) for task in huey.pending()]


def produce_assignment() -> None:
    """`python -c` entry for a producer subprocess: register one assignment in the database and the
    queue its environment selects (DATABASE_URL, REDIS_URL, BEATBOOK_INSTANCE_PATH), as a web
    process would; prints {"lead": id, "queue": backend class, "committed_at": time.time()}."""
    arguments = json.loads(sys.argv[1])
    from webapp import create_app
    from webapp.jobs import huey

    app = create_app()
    with app.app_context():
        lead_id = register_assignment(app, arguments["reporter"], arguments["community"])
        print(json.dumps({"lead": lead_id, "queue": type(huey).__name__, "committed_at": time.time()}))


def run_producer(env: dict, reporter: int, community: int) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", "from tests.notify.pushservice import produce_assignment as p; p()",
         json.dumps({"reporter": reporter, "community": community})],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"producer failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


REDIS_CLAIM_KEY = "beatbook-test-claim"


def claim_redis_database(host: str = "127.0.0.1", port: int = 6379):
    """A Redis database number nobody uses (only our claim key in it), and a client on it."""
    import redis

    for number in range(15, 7, -1):
        client = redis.Redis(host=host, port=port, db=number)
        if client.set(REDIS_CLAIM_KEY, str(os.getpid()), nx=True, ex=1800):
            if client.dbsize() == 1:
                return f"redis://{host}:{port}/{number}", client
            client.delete(REDIS_CLAIM_KEY)
        client.close()
    raise RuntimeError("no free Redis database among 8-15")

"""Several nodes as deployed: gunicorn nodes on their own ports, one PostgreSQL, one Redis, a job worker.

`Cluster` builds a private PostgreSQL schema (in the TEST_DATABASE_URL database, as tests/conftest.py
does), migrates it and loads the demo station with the same commands an operator uses, then starts
the nodes. Each node has its own instance directory, as on its own machine: everything they must
agree on comes from the environment (docs/architecture.md, "Several nodes"). Each node's database
connections carry its name (`application_name`), so a test can watch one node's open transaction in
`pg_stat_activity`/`pg_locks`.

`Phone` is the outbox's side of the protocol over plain HTTP (requests): the sign-in form, the
token from `GET /sync/session`, JSON batches to `POST /sync`. Cookies are per host, not per port,
so one phone's session reaches every node, as behind a load balancer.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid as uuid_module
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from PIL import Image
from sqlalchemy import create_engine, text

from tests.notify.pushservice import REDIS_CLAIM_KEY, Worker

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent
DEMO_PASSWORD = "beatbook-demo"
START_TIMEOUT = 30.0  # a busy 2-core machine imports the app slowly
HTTP_TIMEOUT = 60.0  # one request; a batch of 50 waits behind the others on a busy machine
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class ClusterError(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pem(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def postgres_url(raw: str) -> str:
    return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+psycopg://", raw)


def _with_query(url: str, **params: str) -> str:
    query = "&".join(f"{name}={quote(value, safe='')}" for name, value in params.items())
    return url + ("&" if "?" in url else "?") + query


class Node:
    """One gunicorn (its own process group, port and instance directory) serving wsgi:app."""

    def __init__(self, name: str, env: dict, workdir: Path, workers: int = 2, threads: int = 2):
        self.name = name
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.instance_path = workdir / f"instance-{name}"
        self.instance_path.mkdir(parents=True, exist_ok=True)
        self.log_path = workdir / f"node-{name}.log"
        self.env = {**env, "BEATBOOK_INSTANCE_PATH": str(self.instance_path)}
        self.workers, self.threads = workers, threads
        self.process: subprocess.Popen | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self, chars: int = 6000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def health(self) -> dict | None:
        try:
            response = requests.get(f"{self.url}/healthz", timeout=2)
        except requests.RequestException:
            return None
        return response.json() if response.status_code == 200 else None

    def start(self, timeout: float = START_TIMEOUT) -> Node:
        self.launch()
        return self.wait_ready(timeout)

    def launch(self) -> None:
        if self.running:
            return
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
                 "--threads", str(self.threads), "--graceful-timeout", "3", "wsgi:app"],
                cwd=REPO_ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True)  # its own process group: kill() reaches its workers too

    def wait_ready(self, timeout: float = START_TIMEOUT) -> Node:
        """Wait (bounded) until /healthz answers 200; a node that exits or stays silent is an error."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:  # bounded polling of a subprocess
            if self.process is None or self.process.poll() is not None:
                code = self.process.returncode if self.process else None
                self.process = None
                raise ClusterError(f"node {self.name}: gunicorn exited with {code}\n{self.log()}")
            if self.health() is not None:
                return self
            time.sleep(0.1)
        self.kill()
        raise ClusterError(f"node {self.name}: /healthz not 200 within {timeout:.0f} s\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL the whole node (master and workers): no graceful shutdown, no answer to anyone."""
        self.signal(signal.SIGKILL)
        self.reap()

    def stop(self) -> None:
        self.signal(signal.SIGINT)  # gunicorn's quick shutdown
        self.reap()

    def signal(self, sig: int) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, sig)

    def reap(self, wait: float = 10.0) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=wait)


@dataclass
class Cluster:
    """Two nodes, one worker, one PostgreSQL schema, one Redis database."""

    nodes: list[Node]
    worker: Worker
    engine: object  # SQLAlchemy engine on the cluster's schema, for the test's own checks
    schema: str
    redis_url: str

    @property
    def a(self) -> Node:
        return self.nodes[0]

    @property
    def b(self) -> Node:
        return self.nodes[1]

    def scalar(self, sql: str, **params):
        with self.engine.connect() as connection:
            return connection.execute(text(sql), params).scalar()

    def rows(self, sql: str, **params) -> list:
        with self.engine.connect() as connection:
            return list(connection.execute(text(sql), params))


def _flask(env: dict, *args: str) -> None:
    result = subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=180)
    if result.returncode != 0:
        raise ClusterError(f"`flask {' '.join(args)}` exited with {result.returncode}\n"
                           f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


@contextlib.contextmanager
def running_cluster(database_url: str, redis_url: str, workdir: Path):
    """Start the cluster on a fresh schema of `database_url` and the Redis db `redis_url`; stop it after."""
    import redis

    queue = redis.Redis.from_url(redis_url)
    # The claim other tests take on a Redis database (tests/notify/pushservice.py): never flush
    # a database another run is using; then start empty, as jobs left by a crashed run are not ours.
    if not queue.set(REDIS_CLAIM_KEY, str(os.getpid()), nx=True, ex=1800):
        raise ClusterError(f"{redis_url} is in use by another test run ({REDIS_CLAIM_KEY} is set)")
    queue.flushdb()
    queue.set(REDIS_CLAIM_KEY, str(os.getpid()), ex=1800)
    url = postgres_url(database_url)
    schema = f"beatbook_nodes_{os.getpid()}_{secrets.token_hex(4)}"
    admin = create_engine(url)
    try:
        with admin.begin() as connection:  # raises when PostgreSQL is unreachable: the test fails
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception:
        queue.delete(REDIS_CLAIM_KEY)
        raise
    engine = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    nodes: list[Node] = []
    worker = None
    try:
        shared = {
            **os.environ,
            "DATABASE_URL": _with_query(url, options=f"-csearch_path={schema}"),
            "REDIS_URL": redis_url,
            # What every node must agree on, from the environment (not generated per machine).
            "SECRET_KEY": secrets.token_hex(32),
            "BEATBOOK_SEAL_PRIVATE_KEY": _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
            "VAPID_PRIVATE_KEY": _pem(ec.generate_private_key(ec.SECP256R1())),
            # A cheap hash, as the rest of the suite uses: 200 phones sign in (production: scrypt).
            "BEATBOOK_PASSWORD_METHOD": "pbkdf2:sha256:1000",
            "BEATBOOK_DEMO_PASSWORD": DEMO_PASSWORD,
            "BEATBOOK_AUDIT_ANCHORS": "",
            "PYTHONUNBUFFERED": "1",
        }
        shared.pop("BEATBOOK_JOBS_IMMEDIATE", None)
        setup_env = {**shared, "BEATBOOK_INSTANCE_PATH": str(workdir / "instance-setup")}
        _flask(setup_env, "db", "upgrade")
        _flask(setup_env, "demo", "load")
        for name in ("a", "b"):
            node_env = {**shared, "DATABASE_URL": _with_query(shared["DATABASE_URL"],
                                                              application_name=f"beatbook-node-{name}")}
            nodes.append(Node(name, node_env, workdir))
        for node in nodes:  # started together: each waits for the app's import, not for the other
            node.launch()
        worker_env = {**shared, "BEATBOOK_INSTANCE_PATH": str(workdir / "instance-worker")}
        worker = Worker(worker_env, workdir / "worker.log", threads=2, delay=None)
        worker.start(timeout=START_TIMEOUT)
        for node in nodes:
            node.wait_ready()
        yield Cluster(nodes, worker, engine, schema, redis_url)
    finally:
        for node in nodes:  # all told first, then waited for: their shutdowns overlap
            node.signal(signal.SIGINT)
        if worker is not None:
            worker.stop()
        for node in nodes:
            node.reap()
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
        queue.flushdb()
        queue.close()


# --- the phone ------------------------------------------------------------------------------------


def new_uuid() -> str:
    return str(uuid_module.uuid4())


def small_jpeg() -> str:
    """A photo as the outbox keeps it: base64 of a small JPEG."""
    image = Image.new("RGB", (320, 240), (40, 110, 170))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return base64.b64encode(out.getvalue()).decode()


def report(community_id: int, summary: str = "楼上邻居深夜装修，噪音扰民，双方在楼道争吵。",
           photo: str | None = None, **fields) -> dict:
    """A quick report (`lead.report`) as the outbox sends it."""
    item = {"uuid": new_uuid(), "kind": "lead.report", "fields": {
        "category": "neighbour", "summary": summary, "community_id": str(community_id),
        "recorded_at": "2026-05-01T06:30:00.000Z", **fields}}
    if photo is not None:
        item["photos"] = [{"name": "scene.jpg", "type": "image/jpeg", "data": photo}]
    return item


def _b64url_int(text: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), "big")


def seal(item: dict, jwk: dict) -> dict:
    """What static/js/offline.js does to a DV or minor item: AES-GCM with the uuid bound in, the
    content key wrapped with RSA-OAEP-256 for the station's public key (the service worker's JWK)."""
    public_key = rsa.RSAPublicNumbers(_b64url_int(jwk["e"]), _b64url_int(jwk["n"])).public_key()
    content_key = AESGCM.generate_key(bit_length=256)
    iv = os.urandom(12)
    plain = json.dumps({"fields": item["fields"]}).encode()
    data = AESGCM(content_key).encrypt(iv, plain, item["uuid"].encode())
    wrapped = public_key.encrypt(content_key, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()),
                                                           algorithm=hashes.SHA256(), label=None))
    parts = {"key": wrapped, "iv": iv, "data": data}
    encoded = {name: base64.b64encode(raw).decode() for name, raw in parts.items()}
    return {"uuid": item["uuid"], "kind": item["kind"], "fields": {"uuid": item["uuid"]}, "photos": [],
            "sealed": encoded}


class Phone:
    """One phone's browser: its own cookies (session, remember-me, device) and sync token."""

    def __init__(self):
        self.http = requests.Session()
        self.token = ""

    def sign_in(self, node: Node, username: str, password: str = DEMO_PASSWORD) -> requests.Response:
        """The sign-in form, as a person fills it: read the page's token, post the form."""
        page = self.http.get(f"{node.url}/login", timeout=HTTP_TIMEOUT)
        match = _CSRF.search(page.text)
        if page.status_code != 200 or not match:
            raise ClusterError(f"{node.name} /login: {page.status_code} without a form token")
        return self.http.post(f"{node.url}/login", allow_redirects=False, timeout=HTTP_TIMEOUT, data={
            "csrf_token": match.group(1), "username": username, "password": password, "remember": "y"})

    def renew_token(self, node: Node) -> None:
        """What the service worker does before its first send: `GET /sync/session`."""
        response = self.http.get(f"{node.url}/sync/session", timeout=HTTP_TIMEOUT)
        if response.status_code != 200:
            raise ClusterError(f"{node.name} /sync/session: {response.status_code} {response.text[:300]}")
        self.token = response.json()["csrf"]

    def send(self, node: Node, items: list[dict]) -> requests.Response:
        return self.http.post(f"{node.url}/sync", json={"items": items}, timeout=HTTP_TIMEOUT,
                              headers={"X-CSRFToken": self.token})

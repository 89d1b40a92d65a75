"""Entries per second the feed's webhook pushes out of a backlog, to a receiver on 127.0.0.1.

    .venv/bin/python -m bench.webhook_backlog [--entries 10000] [--postgres URL]

The demo station is loaded into a fresh database (a SQLite file, or a private schema on the
PostgreSQL server at URL, dropped afterwards); N feed entries (the demo leads' de-identified
payloads, round robin) are added and numbered; a webhook to a local http.server (a thread, answers
200 at once) is saved; then the clock runs while the sweep's step cuts the batches and the job's
loop sends them (`webhook.webhooks_due`, `webhook.send_due`: the same calls the worker makes, in
this one process). Printed: batches, entries, seconds, entries/s, batches/s, bytes POSTed; the
receiver's seqs are checked: every entry once, in order.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

os.environ.setdefault("BEATBOOK_INSTANCE_PATH", tempfile.mkdtemp(prefix="beatbook-bench-webhook-"))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import create_engine, select, text  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.govfeed import webhook  # noqa: E402
from webapp.govfeed.models import FeedEntry  # noqa: E402
from webapp.govfeed.services import number_new_entries  # noqa: E402
from webapp.org.models import Role, User  # noqa: E402
from webapp.timeutil import utcnow  # noqa: E402


class Receiver:
    def __init__(self):
        self.seqs: list[int] = []
        self.bytes = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 — http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.bytes += len(body)
                receiver.seqs += [entry["seq"] for entry in json.loads(body)["entries"]]
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/feed"


def _database(postgres: str | None) -> tuple[dict, callable]:
    if not postgres:
        path = os.path.join(tempfile.mkdtemp(prefix="beatbook-bench-webhook-db-"), "bench.db")
        return {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"}, lambda: None
    schema = f"beatbook_bench_{secrets.token_hex(4)}"
    admin = create_engine(postgres)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))

    return {"SQLALCHEMY_DATABASE_URI": postgres,
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": f"-csearch_path={schema}"}}}, drop


def _backlog(count: int) -> None:
    """`count` entries copied round robin from the demo's own (numbered, like the sweep does)."""
    number_new_entries()
    db.session.commit()
    models = list(db.session.scalars(select(FeedEntry).order_by(FeedEntry.id)))
    db.session.execute(FeedEntry.__table__.delete())
    rows = [{"station_id": e.station_id, "lead_id": e.lead_id, "event": e.event, "at": e.at,
             "payload": e.payload} for e in models]
    db.session.execute(FeedEntry.__table__.insert(), [rows[i % len(rows)] for i in range(count)])
    number_new_entries()
    db.session.commit()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--postgres", help="a PostgreSQL URL (postgresql+psycopg://…); SQLite otherwise")
    args = parser.parse_args()
    config, drop = _database(args.postgres)
    app = create_app({"SECRET_KEY": "bench", "BEATBOOK_PUSH_ALLOW_INSECURE_LOCAL": True,
                      "BEATBOOK_AUDIT_ANCHORS": "", **config})
    try:
        with app.app_context():
            upgrade()
            result = app.test_cli_runner().invoke(args=["demo", "load"])
            assert result.exit_code == 0, result.output
            _backlog(args.entries)
            liaison = db.session.scalar(select(User).where(User.username == "liaison"))
            assert Role.LIAISON in liaison.roles
            receiver = Receiver()
            hook, _ = webhook.save_webhook(liaison.station, receiver.url, True, liaison, utcnow())
            db.session.commit()
            started = time.perf_counter()
            sent = 0
            while True:
                now = utcnow()
                due = webhook.webhooks_due(now)
                db.session.commit()
                if hook.id not in due:
                    break
                sent += webhook.send_due(hook.id, now, limit=10**6)
            seconds = time.perf_counter() - started
            receiver.server.shutdown()
            assert receiver.seqs == sorted(set(receiver.seqs)) and len(receiver.seqs) == args.entries
            engine = db.engine.dialect.name
            print(f"{engine}: {sent} batches, {len(receiver.seqs)} entries in {seconds:.2f} s: "
                  f"{len(receiver.seqs) / seconds:.0f} entries/s, {sent / seconds:.1f} batches/s, "
                  f"{receiver.bytes / 1e6:.1f} MB POSTed")
            db.engine.dispose()
    finally:
        drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

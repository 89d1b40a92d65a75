"""p99 at 64 clients (wrk), PostgreSQL with 500k leads: the officer's "my work" and the supervisor's
lead list, with Flask's hello-world under the same gunicorn command and the same load as reference.

    .venv/bin/python -m bench.latency [--quick]

gunicorn runs the production command of README.md ("Deploying for a city": 2 × cores + 1 sync workers).
wrk (2 threads, 64 connections, loopback only, a fixed duration, 30 s request timeout so a slow
answer counts as slow rather than vanishing as a timeout) sends the signed-in session's cookies in
a header. Each URL gets a warm-up run first (every worker loads its templates and caches), then the
measured run. Any non-2xx answer or socket error fails the figure: wrk would count it as fast.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections import Counter

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

from bench.cpu_per_request import city_database
from bench.figures import Figure, cli
from bench.serving import LOAD_CONFIG, BenchFailed, Gunicorn, WrkResult, signed_in, wrk

CONNECTIONS = 64
TARGET_MS = 100


class LockWatch:
    """Samples pg_stat_activity of one database while wrk runs: how often a query of the app waited
    for a lock, and which — the measured cause when requests queue behind each other."""

    def __init__(self, database_url: str):
        self.engine = create_engine(database_url, poolclass=NullPool)
        self.name = make_url(database_url).database
        self.samples = 0
        self.waiting: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> LockWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.engine.dispose()

    def _watch(self) -> None:
        with self.engine.connect() as conn:
            while not self._stop.wait(0.5):
                rows = conn.execute(text(
                    "SELECT query FROM pg_stat_activity WHERE datname = :name AND wait_event_type = 'Lock' "
                    "AND pid <> pg_backend_pid()"), {"name": self.name}).scalars().all()
                conn.rollback()
                self.samples += 1
                self.waiting.update({" ".join(query.split())[:60] for query in rows})

    def summary(self) -> str:
        if not self.waiting:
            return f" No query waited for a lock ({self.samples} samples of pg_stat_activity)."
        query, seen = self.waiting.most_common(1)[0]
        return (f" Cause seen: requests waiting for a lock in {seen} of {self.samples} samples of "
                f"pg_stat_activity, on `{query}…`.")


def _run(server: Gunicorn, path: str, seconds: int, warm_up: int, connections: int, cookie: str | None = None,
         watch: str | None = None) -> tuple[WrkResult, str]:
    """(wrk's result, the lock waits seen during the measured run when `watch` is a database URL)."""
    wrk(server.url + path, warm_up, connections, cookie)
    server.wait_idle()
    with contextlib.ExitStack() as stack:
        watcher = stack.enter_context(LockWatch(watch)) if watch else None
        result = wrk(server.url + path, seconds, connections, cookie)
    server.wait_idle()
    if result.errors:
        raise BenchFailed(f"wrk {server.url + path}: {result.errors}")
    return result, watcher.summary() if watcher else ""


def _censored(result: WrkResult, connections: int) -> str:
    """wrk counts only answers that came back within the run: fewer than one per client means most
    took longer than the run, and the percentiles describe only the lucky ones."""
    if result.requests >= connections:
        return ""
    return f" ONLY {result.requests} answers for {connections} clients: p99 understated."


def figures(quick: bool) -> list[Figure]:
    # Quick mode only shows that the harness works: 8 clients, so the 2-core machine answers in time.
    seconds, warm_up, connections = (3, 2, 8) if quick else (30, 5, CONNECTIONS)
    database = city_database(quick)
    leads = "2k" if quick else "500k"
    pages = (("officer's my work", "officer", "/home/officer"),
             ("supervisor's lead list", "supervisor", "/leads/"))
    try:
        with Gunicorn("bench.hello:app", database, LOAD_CONFIG) as hello, \
                Gunicorn("wsgi:app", database, LOAD_CONFIG) as app:
            cookies = {user: signed_in(app, user).cookie_header() for _, user, _ in pages}
            reference, _ = _run(hello, "/", seconds, warm_up, connections)
            results = [_run(app, path, seconds, warm_up, connections, cookies[user], database.url)
                       for _, user, path in pages]
    finally:
        database.remove_workdir()
    workers = LOAD_CONFIG[LOAD_CONFIG.index("--workers") + 1]
    return [Figure(
        name=f"p99 at {connections} clients, {name} (PostgreSQL, {leads} leads)", measured=result.p99_ms,
        unit="ms", reference_name="Flask hello-world p99, same gunicorn and load", reference=reference.p99_ms,
        target=f"≤ {TARGET_MS} ms", ratio=result.p99_ms / reference.p99_ms,
        met=result.p99_ms <= TARGET_MS and not _censored(result, connections),
        note=f"GET {path}; wrk {seconds} s after {warm_up} s warm-up, {result.requests:,} requests "
             f"(p50 {result.p50_ms:.1f} ms; hello {reference.requests:,} requests, "
             f"p50 {reference.p50_ms:.1f} ms); "
             f"gunicorn {workers} sync workers; every client is the same signed-in session."
             f"{_censored(result, connections)}{locks}")
        for (name, _, path), (result, locks) in zip(pages, results, strict=True)]


if __name__ == "__main__":
    sys.exit(cli(figures, __doc__))

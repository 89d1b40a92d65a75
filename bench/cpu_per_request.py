"""CPU per request of the real app ÷ Flask's hello-world, both in the same gunicorn command, same run.

    .venv/bin/python -m bench.cpu_per_request [--quick]

gunicorn runs 1 worker of the sync class: it handles one request at a time on one thread, so the
worker's CPU between two readings is the requests' work and nothing else (no keep-alive poller or
thread hand-off, which a gthread worker would add to both sides). The client is sequential urllib
with a cookie jar that signed in through the real login form. Rounds alternate hello-world and the
pages; each figure is the median of 3 rounds (bench/serving.py tells how a round is read).

Databases: the demo station in a fresh SQLite file, and PostgreSQL with 500k generated leads
(`bench_city500k`, kept between runs; `--quick`: `bench_city2k`, 2,000 leads).
"""

from __future__ import annotations

import statistics
import sys

from bench.figures import Figure, cli
from bench.serving import (
    Client,
    Database,
    Gunicorn,
    city,
    cpu_ms_per_request,
    signed_in,
    sqlite_demo,
    warm_up,
)

ROUNDS = 3
HELLO = "Flask hello-world, same gunicorn"


def city_database(quick: bool) -> Database:
    return city("bench_city2k", 2_000) if quick else city("bench_city500k", 500_000)


Page = tuple[str, str | None, str, float]  # figure name, user (None: not signed in), path, target ratio


def _measure(database: Database, pages: list[Page], quick: bool) -> list[Figure]:
    try:
        return _measure_pages(database, pages, quick)
    finally:
        database.remove_workdir()


def _measure_pages(database: Database, pages: list[Page], quick: bool) -> list[Figure]:
    cpu_seconds = 0.2 if quick else 1.0
    with Gunicorn("bench.hello:app", database) as hello, Gunicorn("wsgi:app", database) as app:
        hello_client = Client()
        clients = [signed_in(app, user) if user else Client() for _, user, _, _ in pages]
        warm_up(hello, hello_client, "/")
        for client, (_, _, path, _) in zip(clients, pages, strict=True):
            warm_up(app, client, path)
        reference: list[float] = []
        samples: list[list[float]] = [[] for _ in pages]
        for _ in range(ROUNDS):
            reference.append(cpu_ms_per_request(hello, hello_client, "/", cpu_seconds))
            for sample, client, (_, _, path, _) in zip(samples, clients, pages, strict=True):
                sample.append(cpu_ms_per_request(app, client, path, cpu_seconds))
    hello_ms = statistics.median(reference)
    figures = []
    for sample, (name, _, path, target) in zip(samples, pages, strict=True):
        measured = statistics.median(sample)
        ratio = measured / hello_ms
        figures.append(Figure(
            name=f"CPU per request, {name} ({database.engine_name})", measured=measured, unit="ms",
            reference_name=HELLO, reference=hello_ms, target=f"≤ {target:g}×", ratio=ratio,
            met=ratio <= target,
            note=f"GET {path}; worker utime+stime, 1 sync worker, median of {ROUNDS} rounds "
                 f"(rounds: {', '.join(f'{ms:.2f}' for ms in sample)} ms; "
                 f"hello {', '.join(f'{ms:.2f}' for ms in reference)} ms)"))
    return figures


def sqlite_figures(quick: bool) -> list[Figure]:
    """The demo station on a fresh SQLite file: "my work", the sign-in page, the report form."""
    return _measure(sqlite_demo(), [
        ("officer's my work", "officer", "/home/officer", 3),
        ("sign-in page (no database)", None, "/login", 2),
        ("report form", "volunteer", "/leads/new", 3),
    ], quick)


def postgres_figures(quick: bool) -> list[Figure]:
    """ "My work" on PostgreSQL with 500k leads (2k in quick mode)."""
    leads = "2k" if quick else "500k"
    page = (f"officer's my work, {leads} leads", "officer", "/home/officer", 3)
    return _measure(city_database(quick), [page], quick)


def figures(quick: bool) -> list[Figure]:
    return sqlite_figures(quick) + postgres_figures(quick)


if __name__ == "__main__":
    sys.exit(cli(figures, __doc__))

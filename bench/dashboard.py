"""Time the dashboard (/reports/) on a big database (made by bench/generate_leads.py).

    .venv/bin/python -m bench.dashboard --database-url URL [--repeat 10]

Signs in as the demo supervisor, officer and liaison with Flask's test client (the time is the
server's whole handling of the request: routing, session, every figure's query, the SVG and the
tables), warms each page up twice, then times `--repeat` requests: "warm" reuses the figures
(webapp/reports/cache.py), "after a change" restamps the station before each request, as any
committed change to a lead does, so every figure is counted afresh. GET /healthz is timed in the
same run as the reference (shared machines swing: compare the ratio too). Prints the statements of
the supervisor's this-year page after a change, grouped by the figure function that ran them.

`figures(quick)` gives `make bench` its rows: the supervisor's this-month and this-year pages, warm
and after a change, on the PostgreSQL city of bench/cpu_per_request.py (500k leads; quick: 2k).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import traceback

from sqlalchemy import event, func, select, update

from bench.figures import Figure
from bench.list_pages import PageFailed, _get, _measure, _sign_in

PAGES = (
    ("supervisor, this month", "supervisor", "/reports/"),
    ("supervisor, last month", "supervisor", "/reports/?period=last_month"),
    ("supervisor, this year", "supervisor", "/reports/?period=this_year"),
    ("officer, this year", "officer", "/reports/?period=this_year"),
    ("liaison, this month", "liaison", "/reports/"),
)


WARM_TARGET_MS = 100  # what the dashboard's 500k work reached warm (this README, "Dashboard server time")


def figures(quick: bool) -> list[Figure]:
    from bench.cpu_per_request import city_database
    from webapp import create_app

    database = city_database(quick)
    try:
        return _figures(create_app, database, quick)
    finally:
        database.remove_workdir()


def _figures(create_app, database, quick: bool) -> list[Figure]:
    os.environ["BEATBOOK_INSTANCE_PATH"] = str(database.workdir)
    app = create_app({"SQLALCHEMY_DATABASE_URI": database.url})
    repeat = 3 if quick else 7
    client = _sign_in(app, "supervisor", app.config["BEATBOOK_DEMO_PASSWORD"])
    anonymous = app.test_client()
    reference = _measure(anonymous, "/healthz", repeat)
    rows = []
    for label, url in (("this month", "/reports/"), ("this year", "/reports/?period=this_year")):
        warm = statistics.median(_measure(client, url, repeat))
        changed = statistics.median(_after_a_change(app, client, url) for _ in range(3))
        rows.append((label, url, warm, changed))
    healthz = statistics.median(reference + _measure(anonymous, "/healthz", repeat))
    leads = "2k" if quick else "500k"
    how = (f"in-process test client (no network), wall time, median of {repeat} warm / 3 after a change; "
           "PostgreSQL's own work included")
    figures = []
    for label, url, warm, changed in rows:
        name = f"dashboard, supervisor {label} (PostgreSQL, {leads} leads)"
        figures.append(Figure(f"{name}, warm", warm, "ms", "GET /healthz, same client", healthz,
                              f"≤ {WARM_TARGET_MS} ms", warm / healthz, warm <= WARM_TARGET_MS,
                              f"GET {url}, figures reused (webapp/reports/cache.py); {how}"))
        figures.append(Figure(f"{name}, after a change", changed, "ms", "GET /healthz, same client", healthz,
                              "report only (no target set)", changed / healthz, True,
                              f"GET {url}, station restamped before each request: every figure counted "
                              f"afresh; {how}"))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args(argv)

    from webapp import create_app
    from webapp.extensions import db
    from webapp.leads.models import Lead

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url})
    with app.app_context():
        total = db.session.scalar(select(func.count()).select_from(Lead))
        engine = db.engine
    print(f"{engine.dialect.name}: {total} leads")
    password = app.config["BEATBOOK_DEMO_PASSWORD"]
    clients = {user: _sign_in(app, user, password) for user in sorted({user for _, user, _ in PAGES})}
    anonymous = app.test_client()
    reference = _measure(anonymous, "/healthz", args.repeat)
    results = []
    failed = False
    for label, user, url in PAGES:
        try:
            warm = _measure(clients[user], url, args.repeat)
            cold = [_after_a_change(app, clients[user], url) for _ in range(max(3, args.repeat // 2))]
            results.append((label, warm, cold))
        except PageFailed as error:
            print(f"{label}: {error}")
            failed = True
    reference += _measure(anonymous, "/healthz", args.repeat)
    healthz = statistics.median(reference)
    print(f"reference GET /healthz: median {healthz:.2f} ms")
    print(f"{'page':<26} {'warm':>8} {'max':>8} {'x healthz':>10} {'after a change':>15} {'max':>8}")
    for label, warm, cold in results:
        median = statistics.median(warm)
        print(f"{label:<26} {median:8.1f} {max(warm):8.1f} {median / healthz:10.0f} "
              f"{statistics.median(cold):15.1f} {max(cold):8.1f}")
    _statements_by_figure(app, engine, clients["supervisor"], "/reports/?period=this_year")
    return 1 if failed else 0


def _after_a_change(app, client, url: str) -> float:
    """One request after the station's figures were restamped (what a committed lead change does)."""
    from webapp.extensions import db
    from webapp.org.models import Station, new_figures_stamp

    with app.app_context():
        db.session.execute(update(Station).values(figures_stamp=new_figures_stamp()))
        db.session.commit()
    return _get(client, url)[0]


def _statements_by_figure(app, engine, client, url: str) -> None:
    """Time every statement of one page after a change, grouped by the figures.py function that ran it."""
    statements: list[tuple[float, str, str]] = []

    def caller() -> str:
        for frame in traceback.extract_stack()[::-1]:
            if "/webapp/" in frame.filename and "/reports/cache.py" not in frame.filename \
                    and "sqlalchemy" not in frame.filename:
                return f"{frame.filename.rsplit('/webapp/', 1)[1]}:{frame.name}"
        return "?"

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info["started"] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        statements.append(((time.perf_counter() - conn.info["started"]) * 1000, caller(), statement))

    _after_a_change(app, client, "/healthz")
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    client.get(url)
    event.remove(engine, "before_cursor_execute", before)
    event.remove(engine, "after_cursor_execute", after)
    by_figure: dict[str, list[float]] = {}
    for ms, where, _statement in statements:
        by_figure.setdefault(where, []).append(ms)
    in_sql = sum(ms for ms, _where, _statement in statements)
    print(f"\n{url} after a change: {len(statements)} statements, {in_sql:.0f} ms in SQL")
    for where, times in sorted(by_figure.items(), key=lambda item: -sum(item[1])):
        print(f"  {sum(times):8.1f} ms  {len(times):3} statements  {where}")
    print("the slowest:")
    for ms, where, statement in sorted(statements, reverse=True)[:4]:
        print(f"  {ms:8.1f} ms  {where}  {' '.join(statement.split())[:140]}")


if __name__ == "__main__":
    sys.exit(main())

"""Time the dashboard (/reports/) on a big database (made by bench/generate_leads.py).

    .venv/bin/python -m bench.dashboard --database-url URL [--repeat 10]

Signs in as the demo supervisor, officer and liaison with Flask's test client (the time is the
server's whole handling of the request: routing, session, every figure's query, the SVG and the
tables), warms each page up twice, then times `--repeat` requests. GET /healthz is timed in the
same run as the reference (shared machines swing: compare the ratio too). Prints the slowest SQL
statements of the supervisor's this-year page.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from sqlalchemy import event, func, select

from bench.list_pages import PageFailed, _measure, _sign_in

PAGES = (
    ("supervisor, this month", "supervisor", "/reports/"),
    ("supervisor, last month", "supervisor", "/reports/?period=last_month"),
    ("supervisor, this year", "supervisor", "/reports/?period=this_year"),
    ("officer, this year", "officer", "/reports/?period=this_year"),
    ("liaison, this month", "liaison", "/reports/"),
)


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
            results.append((label, _measure(clients[user], url, args.repeat)))
        except PageFailed as error:
            print(f"{label}: {error}")
            failed = True
    reference += _measure(anonymous, "/healthz", args.repeat)
    healthz = statistics.median(reference)
    print(f"reference GET /healthz: median {healthz:.2f} ms")
    print(f"{'page':<26} {'median':>8} {'max':>8} {'x healthz':>10}")
    for label, samples in results:
        median = statistics.median(samples)
        print(f"{label:<26} {median:8.1f} {max(samples):8.1f} {median / healthz:10.0f}")

    statements: list[tuple[float, str]] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info["started"] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        statements.append(((time.perf_counter() - conn.info["started"]) * 1000, statement))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    clients["supervisor"].get("/reports/?period=this_year")
    event.remove(engine, "before_cursor_execute", before)
    event.remove(engine, "after_cursor_execute", after)
    print(f"\nsupervisor, this year: {len(statements)} statements; the slowest:")
    for ms, statement in sorted(statements, reverse=True)[:4]:
        print(f"  {ms:8.1f} ms  {' '.join(statement.split())[:160]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

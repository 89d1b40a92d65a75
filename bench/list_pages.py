"""Time the list pages on a big database (made by bench/generate_leads.py), as real users see them.

    .venv/bin/python -m bench.list_pages --database-url URL [--repeat 20]

Signs in through the login form with Flask's test client (no network: the time is the server's
whole handling of the request — routing, session, queries, templates), warms each page up twice,
then times `--repeat` requests. A reference (GET /healthz) is timed in the same run, because these
machines are shared and absolute times swing: compare the ratio, not only the milliseconds.
Finally prints the slowest SQL statement of the slowest page (and of every page over
`--explain-ms`) with its plan: EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL, EXPLAIN QUERY PLAN on SQLite.
"""

from __future__ import annotations

import argparse
import html
import math
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from sqlalchemy import event, func, select

from bench.generate_leads import COMMON_WORD, MISSING_WORD, RARE_WORD

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
NEXT_PAGE = re.compile(r'<nav class="pager"><a href="([^"]+)"')
ROW = '<li class="lead'
# The statement that reads a list page's leads (the rest count queues, load the viewer, ...).
LIST_STATEMENT = re.compile(r"SELECT lead\.id, lead\.uuid, .* LIMIT ", re.DOTALL)


class PageFailed(Exception):
    """The page did not answer 200."""


@dataclass
class Page:
    label: str
    user: str
    url: str
    samples: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # this process's CPU time per request
    rows: int = 0
    error: str = ""
    statements: list[tuple[float, str, object]] = field(default_factory=list)  # (ms, sql, params)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def _sign_in(app, username: str, password: str):
    client = app.test_client()
    page = client.get("/login")
    token = CSRF.search(page.get_data(as_text=True))
    if token is None:
        raise SystemExit("no CSRF token on the login page")
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": token.group(1), "remember": "y"})
    if response.status_code != 303:
        raise SystemExit(f"sign-in as {username} failed: HTTP {response.status_code}")
    return client


def _get(client, url: str, cpu: list[float] | None = None) -> tuple[float, str]:
    started, cpu_started = time.perf_counter(), time.process_time()
    response = client.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    if cpu is not None:
        cpu.append((time.process_time() - cpu_started) * 1000)
    if response.status_code != 200:
        raise PageFailed(f"HTTP {response.status_code}")
    return elapsed, response.get_data(as_text=True)


def _next_url(body: str) -> str | None:
    found = NEXT_PAGE.search(body)
    return html.unescape(found.group(1)) if found else None


def _follow(client, url: str, pages: int) -> str:
    """The URL of page `pages` (1 = `url` itself), following the "Older" links."""
    for number in range(1, pages):
        _, body = _get(client, url)
        following = _next_url(body)
        if following is None:
            raise SystemExit(f"the list ends at page {number}")
        url = following
    return url


def _parameters(db) -> dict:
    """Real values from the data: the officer's community, a deep cursor, an existing phone."""
    from webapp.leads.models import Lead, LeadParty
    from webapp.org.models import Community, User

    officer = db.session.scalar(select(User).where(User.username == "officer"))
    community_id = db.session.scalar(
        select(Community.id).where(Community.officer_id == officer.id).order_by(Community.id))
    in_community = db.session.scalar(select(func.count()).where(Lead.community_id == community_id)) or 0
    deep_cursor = db.session.scalar(
        select(Lead.id).where(Lead.community_id == community_id).order_by(Lead.id.desc())
        .offset(in_community // 2).limit(1))
    middle = (db.session.scalar(select(func.max(Lead.id))) or 0) // 2

    def phone(length: int) -> str | None:
        return db.session.scalar(
            select(LeadParty.phone).where(LeadParty.lead_id >= middle, func.length(LeadParty.phone) == length)
            .order_by(LeadParty.lead_id).limit(1))

    mobile, landline = phone(11), phone(8)
    if deep_cursor is None or mobile is None or landline is None:
        raise SystemExit("no leads (or no parties with phones): run bench.generate_leads first")
    return {"community_id": community_id, "deep_cursor": deep_cursor, "mobile": mobile,
            "landline": landline, "community_leads": in_community}


def _pages(values: dict) -> list[Page]:
    def leads(**query) -> str:
        return "/leads/?" + urlencode(query) if query else "/leads/"

    return [
        Page("officer: my work", "officer", "/home/officer"),
        Page("officer: leads", "officer", leads()),
        Page("officer: community, deep cursor", "officer",
             leads(community_id=values["community_id"], before=values["deep_cursor"])),
        Page("supervisor: home (queue counts)", "supervisor", "/home/supervisor"),
        Page("supervisor: leads", "supervisor", leads()),
        Page("supervisor: queue overdue", "supervisor", leads(queue="overdue")),
        Page("supervisor: queue ungraded", "supervisor", leads(queue="ungraded")),
        Page("supervisor: queue unroutable", "supervisor", leads(queue="unroutable")),
        Page("supervisor: queue returned", "supervisor", leads(queue="returned")),
        Page("supervisor: queue supervised", "supervisor", leads(queue="supervised")),
        Page("supervisor: risk red", "supervisor", leads(risk="red")),
        Page("supervisor: search common word", "supervisor", leads(q=COMMON_WORD)),
        Page("supervisor: search rare word", "supervisor", leads(q=RARE_WORD)),
        Page("supervisor: search missing word", "supervisor", leads(q=MISSING_WORD)),
        Page("supervisor: search party mobile (11 digits)", "supervisor", leads(q=values["mobile"])),
        Page("supervisor: search party landline (8 digits)", "supervisor", leads(q=values["landline"])),
        Page("supervisor: leads keyset page 10", "supervisor", ""),
        Page("supervisor: leads keyset page 200", "supervisor", ""),
        Page("dvteam: leads", "dvteam", leads()),
    ]


def _capture(engine) -> tuple[list, Callable[[], None]]:
    """Record every statement's time until the returned `stop` is called."""
    captured: list[tuple[float, str, object]] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def after(conn, cursor, statement, parameters, context, executemany):
        started = conn.info["bench_started"].pop()
        captured.append(((time.perf_counter() - started) * 1000, statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)

    def stop() -> None:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)

    return captured, stop


def _measure(client, url: str, repeat: int, cpu: list[float] | None = None) -> list[float]:
    for _ in range(2):
        _get(client, url)
    return [_get(client, url, cpu)[0] for _ in range(repeat)]


def _explain(engine, statement: str, parameters) -> list[str]:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).all()
            return [row[0] for row in rows]
        plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
        depth = {0: -1}
        lines = []
        for node, parent, _unused, detail in plan:
            depth[node] = depth.get(parent, -1) + 1
            lines.append("  " * depth[node] + detail)
        started = time.perf_counter()
        conn.exec_driver_sql(statement, parameters).all()
        lines.append(f"(executed once more: {(time.perf_counter() - started) * 1000:.1f} ms)")
        return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--explain-ms", type=float, default=100.0,
                        help="also explain every page whose median is above this (ms)")
    parser.add_argument("--only", default="",
                        help="measure only pages whose label contains one of these comma-separated words")
    args = parser.parse_args(argv)

    from webapp import create_app
    from webapp.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url})
    with app.app_context():
        engine = db.engine
        from webapp.leads.models import Lead

        total = db.session.scalar(select(func.count()).select_from(Lead))
        values = _parameters(db)
        db.session.remove()
    print(f"engine: {engine.dialect.name}  leads: {total:,}  repeat: {args.repeat}  "
          f"officer's community {values['community_id']} has {values['community_leads']:,} leads; "
          f"deep cursor {values['deep_cursor']}")

    password = app.config["BEATBOOK_DEMO_PASSWORD"]
    pages = _pages(values)
    if args.only:
        wanted = [word.strip() for word in args.only.split(",") if word.strip()]
        pages = [p for p in pages if any(word in p.label for word in wanted)]
        if not pages:
            raise SystemExit(f"no page label contains any of {wanted}")
    clients = {user: _sign_in(app, user, password) for user in sorted({p.user for p in pages})}
    anonymous = app.test_client()
    for page in pages:
        if "keyset page" in page.label:
            depth = int(page.label.rsplit(" ", 1)[1])
            page.url = _follow(clients[page.user], "/leads/", depth)

    reference = _measure(anonymous, "/healthz", args.repeat)
    for page in pages:
        client = clients[page.user]
        try:
            _get(client, page.url)  # warm-up 1 of 2
        except PageFailed as failure:
            page.error = str(failure)
            print(f"  FAILED {page.label}: {page.url} answers {failure}", file=sys.stderr, flush=True)
            continue
        captured, stop = _capture(engine)
        try:
            _, body = _get(client, page.url)  # warm-up 2 of 2, with every statement timed
        finally:
            stop()
        page.rows = body.count(ROW)
        page.statements = captured
        page.samples = [_get(client, page.url, page.cpu)[0] for _ in range(args.repeat)]
        print(f"  measured {page.label}: {page.median:.1f} ms", file=sys.stderr, flush=True)
    reference += _measure(anonymous, "/healthz", args.repeat)
    healthz = statistics.median(reference)

    width = max(len(p.label) for p in pages)
    print(f"\nreference GET /healthz: median {healthz:.2f} ms (p95 "
          f"{sorted(reference)[math.ceil(0.95 * len(reference)) - 1]:.2f} ms)\n")
    print(f"{'page':<{width}}  {'median':>7}  {'p95':>7}  {'max':>7}  {'x healthz':>9}  {'cpu':>6}  "
          f"{'rows':>4}  {'queries':>7}  {'sql':>6}  {'slowest':>7}  {'list':>6}")
    for page in pages:
        if page.error:
            print(f"{page.label:<{width}}  FAILED: {page.error}")
            continue
        times = [ms for ms, _, _ in page.statements]
        listing = [ms for ms, statement, _ in page.statements if LIST_STATEMENT.match(statement)]
        print(f"{page.label:<{width}}  {page.median:7.1f}  {page.p95:7.1f}  {max(page.samples):7.1f}  "
              f"{page.median / healthz:9.1f}  {statistics.median(page.cpu):6.1f}  {page.rows:>4}  "
              f"{len(times):>7}  {sum(times):6.1f}  {max(times, default=0):7.1f}  "
              f"{sum(listing):6.1f}")
    print("(ms. median/p95/max: wall time of the whole request; cpu: median CPU time of this process per\n"
          " request (Python + SQLite; PostgreSQL's own work is not in it); rows: leads listed on the page;\n"
          " queries, sql, slowest: SQL statements of the 2nd warm-up request, their total and slowest time;\n"
          " list: of those, the statement that reads the page's leads, where a search does its work)")
    for page in pages:
        print(f"  {page.label}: {page.url}")

    measured = [p for p in pages if not p.error]
    slowest_page = max(measured, key=lambda p: p.median)
    to_explain = [slowest_page] + [p for p in measured
                                   if p.median > args.explain_ms and p is not slowest_page]
    for page in to_explain:
        ms, statement, parameters = max(page.statements, key=lambda s: s[0])
        print(f"\n=== {page.label} (median {page.median:.1f} ms) — slowest statement, {ms:.1f} ms ===")
        print(statement)
        print(f"-- parameters: {parameters!r}")
        print("\n".join(_explain(engine, statement, parameters)))
    failed = [p for p in pages if p.error]
    if failed:
        print(f"\n{len(failed)} page(s) failed: " + "; ".join(f"{p.url} → {p.error}" for p in failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""/sync ingestion, items per second, ÷ a raw SQLAlchemy Core insert of the same rows, same run.

    .venv/bin/python -m bench.sync_ingest [--quick]

The real app in gunicorn (the CPU figures' command: 1 sync worker) on a fresh database with the
demo station, SQLite and PostgreSQL (`bench_sync`, made anew each run). The demo volunteer, signed in
through the login form, POSTs quick reports (bench/sync_weak_network.py's items: category, community,
a 40-80 character summary, recorded_at) in batches of 50, as the outbox sends them, one after the
other. After each batch the reference copies that batch's rows — its leads, their parties and their
timeline events, read back from the database, with new uuids — with Core `insert()` executemany
through the app's own engine, one transaction per 50 leads, as /sync commits once per request.
Interleaving the two keeps both under the same load of a shared machine. Both figures are wall time
from this process (the reference has no HTTP, session, form or rules: that is the overhead measured).

Also printed: SQL statements per synced item, counted with a SQLAlchemy event in a test-client
request of one batch of 50 on the same database.
"""

from __future__ import annotations

import json
import random
import sys
import time
import uuid

from sqlalchemy import event, insert, select

from bench.figures import Figure, cli
from bench.serving import (
    BenchFailed,
    Database,
    Gunicorn,
    postgres_demo,
    signed_in,
    sqlite_demo,
)
from bench.sync_weak_network import reports

BATCH = 50
TARGET = 0.25


def _app(database: Database):
    import os

    from webapp import create_app

    os.environ["BEATBOOK_INSTANCE_PATH"] = str(database.workdir)
    return create_app({"SQLALCHEMY_DATABASE_URI": database.url, "SECRET_KEY": "bench-secret"})


def _post_batch(server: Gunicorn, token: str, items: list[dict]) -> None:
    client = signed_in(server, "volunteer")
    status, body = client.request(server.url + "/sync", json.dumps({"items": items}).encode(),
                                  {"Content-Type": "application/json", "X-CSRFToken": token})
    if status != 200:
        raise BenchFailed(f"POST /sync: HTTP {status} {body[:300]!r}")
    statuses = {result["status"] for result in json.loads(body)["results"]}
    if statuses != {"created"}:
        raise BenchFailed(f"POST /sync answered {statuses}, expected every item created")


def _copy_rows(engine, uuids: list[str]) -> float:
    """Insert copies of these leads (and their parties and events) with Core; the seconds it took
    (reading the originals back is not timed)."""
    from webapp.leads.models import Lead, LeadEvent, LeadParty

    lead, party, lead_event = Lead.__table__, LeadParty.__table__, LeadEvent.__table__

    def insertable(table, row) -> dict:
        return {column.name: row[column.name] for column in table.columns
                if not column.primary_key and column.computed is None}

    with engine.connect() as conn:
        leads = conn.execute(select(lead).where(lead.c.uuid.in_(uuids)).order_by(lead.c.id)).mappings().all()
        ids = [row["id"] for row in leads]
        parties = conn.execute(select(party).where(party.c.lead_id.in_(ids))).mappings().all()
        events = conn.execute(select(lead_event).where(lead_event.c.lead_id.in_(ids))).mappings().all()
    lead_rows = [{**insertable(lead, row), "uuid": str(uuid.uuid4())} for row in leads]
    started = time.perf_counter()
    with engine.begin() as conn:
        new_ids = conn.execute(insert(lead).returning(lead.c.id, sort_by_parameter_order=True),
                               lead_rows).scalars().all()
        new_id = dict(zip(ids, new_ids, strict=True))
        if parties:
            conn.execute(insert(party), [{**insertable(party, row), "lead_id": new_id[row["lead_id"]]}
                                         for row in parties])
        if events:
            conn.execute(insert(lead_event), [
                {**insertable(lead_event, row), "lead_id": new_id[row["lead_id"]],
                 "uuid": str(uuid.uuid4()) if row["uuid"] else None} for row in events])
    return time.perf_counter() - started


def _statements_per_item(app, community_id: int, rng: random.Random) -> float:
    from bench.list_pages import _sign_in
    from webapp.extensions import db

    client = _sign_in(app, "volunteer", app.config["BEATBOOK_DEMO_PASSWORD"])
    token = client.get("/sync/session").get_json()["csrf"]
    with app.app_context():
        engine = db.engine
    statements = 0

    def count(*_args) -> None:
        nonlocal statements
        statements += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.post("/sync", json={"items": reports(BATCH, community_id, rng)},
                               headers={"X-CSRFToken": token})
    finally:
        event.remove(engine, "before_cursor_execute", count)
    if response.status_code != 200:
        raise BenchFailed(f"test client POST /sync: HTTP {response.status_code}")
    return statements / BATCH


def _figure(database: Database, items: int) -> Figure:
    try:
        return _measure(database, items)
    finally:
        database.remove_workdir()


def _measure(database: Database, items: int) -> Figure:
    from webapp.extensions import db
    from webapp.org.models import Community

    app = _app(database)
    with app.app_context():
        engine = db.engine
        community_id = db.session.scalar(select(Community.id).where(Community.code == "GGGC"))
        db.session.remove()
    rng = random.Random(1)
    sync_seconds = core_seconds = 0.0
    with Gunicorn("wsgi:app", database) as server:
        token = signed_in(server, "volunteer").sync_token(server.url)
        _post_batch(server, token, reports(BATCH, community_id, rng))  # warm-up, not counted
        cpu = server.cpu_seconds()
        for _ in range(items // BATCH):
            batch = reports(BATCH, community_id, rng)
            started = time.perf_counter()
            _post_batch(server, token, batch)
            sync_seconds += time.perf_counter() - started
            core_seconds += _copy_rows(engine, [item["uuid"] for item in batch])
        cpu_ms = (server.cpu_seconds() - cpu) * 1000 / items
    statements = _statements_per_item(app, community_id, rng)
    engine.dispose()
    synced, reference = items / sync_seconds, items / core_seconds
    ratio = synced / reference
    print(f"  {database.engine_name}: /sync {synced:,.0f} items/s, Core insert {reference:,.0f} items/s, "
          f"{statements:.1f} SQL statements per synced item", flush=True)
    return Figure(
        name=f"/sync ingestion ({database.engine_name})", measured=synced, unit="items/s",
        reference_name="SQLAlchemy Core insert of the same rows", reference=reference,
        target=f"≥ {TARGET:g}× ({TARGET:.0%})", ratio=ratio, met=ratio >= TARGET,
        note=f"{items} quick reports in batches of {BATCH} through gunicorn (1 sync worker), wall time; "
             f"worker CPU {cpu_ms:.1f} ms per item; {statements:.1f} SQL statements per synced item "
             "(test client, one batch)")


def figures(quick: bool) -> list[Figure]:
    items = 100 if quick else 500
    return [_figure(sqlite_demo(), items), _figure(postgres_demo("bench_sync"), items)]


if __name__ == "__main__":
    sys.exit(cli(figures, __doc__))

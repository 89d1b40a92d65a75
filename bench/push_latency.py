"""Push latency: from the commit of an assignment to the push service receiving the push.

Usage: .venv/bin/python -m bench.push_latency [--n 100] [--idle 3] [--idle-gap 90] [--backend both]

For each queue backend (SQLite in instance/, then Redis on a free database of 127.0.0.1:6379), a
child process gets its own SQLite database with the demo station and its own instance directory.
It starts the local push service from tests/notify/pushservice.py and gives the GGGC officer a
subscription on it. It also starts a real worker with the flags `make run` uses
(`huey_consumer webapp.jobs.huey --workers 4 --worker-type thread`, polling defaults), with no
periodic tasks. It then commits assignments through `register_lead`: GGGC leads reported by a
volunteer and routed to the officer by the intake rules. The web process and the worker choose
their queue from the same environment.

Phases, each timed from just before `commit()` (the commit enqueues the job) to the moment the push
service has read and decrypted the request:
- cold: the first push; the worker creates its app on its first job.
- paced: `--n` assignments, each committed once the previous push has arrived.
- burst: `--n` assignments committed back to back; then every push is awaited.
- after idle: `--idle` assignments, each after `--idle-gap` seconds with nothing to do. An idle
  worker polls the SQLite queue with exponential back-off up to 10 s; Redis blocks on BRPOP.
Reference, same run: a direct `webpush()` from the bench process to the same push service, with no
queue and no database.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PUSH_TIMEOUT = 30.0


def summary(values: list[float]) -> dict:
    ordered = sorted(values)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return {"n": len(values), "median": statistics.median(values), "p95": p95, "worst": ordered[-1],
            "best": ordered[0]}


# --- the child: one backend ----------------------------------------------------------------------


def run_backend(n: int, idle: int, idle_gap: float, max_delay: float | None) -> dict:
    """Runs with DATABASE_URL, BEATBOOK_INSTANCE_PATH and REDIS_URL already in the environment."""
    from flask_migrate import upgrade
    from pywebpush import webpush
    from sqlalchemy import func, select

    from tests.notify.pushservice import PushService, Worker, store_device
    from webapp import create_app
    from webapp.demo.leads import load_demo_leads
    from webapp.demo.services import load_demo_station
    from webapp.extensions import db
    from webapp.jobs import huey
    from webapp.leads.codes import Risk, Source
    from webapp.leads.deadlines import parse_deadlines
    from webapp.leads.services import LeadInput, register_lead
    from webapp.notify.models import Notification
    from webapp.notify.services import Kind
    from webapp.org.models import Community, User

    app = create_app()
    instance = Path(os.environ["BEATBOOK_INSTANCE_PATH"])
    with app.app_context():
        upgrade()
        load_demo_station(app.config["BEATBOOK_DEMO_PASSWORD"])
        deadlines = parse_deadlines(app.config["BEATBOOK_DEADLINES"])
        load_demo_leads(deadlines, 10 << 20)
        db.session.commit()
        huey.flush()  # the demo leads' own notification jobs: not part of the measurement

        officer = db.session.scalar(select(User).where(User.username == "officer"))
        volunteer = db.session.scalar(select(User).where(User.username == "volunteer"))
        community = db.session.scalar(select(Community).where(Community.code == "GGGC"))
        assert community.officer_id == officer.id and volunteer.community_id == community.id
        keys = app.extensions["beatbook_vapid"]
        service = PushService(application_server_key=keys.public_key).start()
        phone = service.subscribe("officer-phone")
        store_device(officer.id, phone)
        db.session.commit()

        # Reference: the push itself, from this process, no queue, no database.
        vapid = keys.private_key
        reference = []
        for _ in range(20):
            started = time.time()
            webpush(phone.as_json(), data=json.dumps({"title": "新派单", "body": "线索 #1", "url": "/leads/1",
                                                      "tag": "lead-1", "id": 0}),
                    vapid_private_key=vapid, vapid_claims={"sub": keys.subject}, ttl=60, timeout=10)
            reference.append((time.time() - started) * 1000)

        arrived: dict[int, float] = {}
        changed = threading.Condition()

        def collect():
            seen = 0
            while not stop.is_set():
                records = service.wait_for(seen + 1, timeout=0.5)
                with changed:
                    for record in records[seen:]:
                        if record.payload and record.payload.get("id"):
                            arrived[record.payload["id"]] = record.at
                    seen = len(records)
                    changed.notify_all()

        stop = threading.Event()
        collector = threading.Thread(target=collect, daemon=True)
        collector.start()
        counter = iter(range(1_000_000))

        def commit_one() -> tuple[int, float]:
            # As the desk form's POST does it (a POST takes SQLite's write lock up front).
            with app.test_request_context("/leads/new", method="POST"):
                return _commit_one()

        def _commit_one() -> tuple[int, float]:
            lead = register_lead(volunteer, LeadInput(
                source=Source.VOLUNTEER, category="neighbour", risk=Risk.YELLOW, community=community,
                summary=f"楼道堆物争吵（测速 {next(counter)}）"), deadlines, 10 << 20).lead
            [note_id] = db.session.scalars(select(Notification.id).where(
                Notification.lead_id == lead.id, Notification.kind == Kind.ASSIGNED.value))
            started = time.time()
            db.session.commit()
            return note_id, started

        def wait(note_ids: list[int]) -> None:
            with changed:
                if not changed.wait_for(lambda: all(i in arrived for i in note_ids), timeout=PUSH_TIMEOUT):
                    missing = [i for i in note_ids if i not in arrived]
                    raise SystemExit(f"pushes {missing[:5]}… never arrived; worker log:\n"
                                     f"{worker.log()[-3000:]}")

        def latency(note_id: int, started: float) -> float:
            return (arrived[note_id] - started) * 1000

        extra = ("--max-delay", str(max_delay)) if max_delay is not None else ()
        worker = Worker(dict(os.environ), instance / "worker.log", threads=4, periodic=False, delay=None,
                        extra_args=extra)
        worker.start()
        try:
            note_id, started = commit_one()
            wait([note_id])
            cold = latency(note_id, started)

            paced = []
            for _ in range(n):
                note_id, started = commit_one()
                wait([note_id])
                paced.append(latency(note_id, started))

            burst_started = time.time()
            committed = [commit_one() for _ in range(n)]
            commit_seconds = time.time() - burst_started
            wait([note_id for note_id, _ in committed])
            burst = [latency(note_id, started) for note_id, started in committed]
            drain_seconds = max(arrived[i] for i, _ in committed) - burst_started

            after_idle = []
            for _ in range(idle):
                time.sleep(idle_gap)  # the worker has nothing to do: its polling backs off
                note_id, started = commit_one()
                wait([note_id])
                after_idle.append(latency(note_id, started))
        finally:
            worker.stop()
            stop.set()
            service.stop()
        assert not [r for r in service.requests() if not r.delivered], "a push was refused"
        # Correctness alongside speed: every measured notification pushed once and marked sent.
        db.session.rollback()
        statuses = dict(db.session.execute(
            select(Notification.push_status, func.count()).where(Notification.kind == Kind.ASSIGNED.value,
                                                                 Notification.id.in_(list(arrived)))
            .group_by(Notification.push_status)).all())
        pushes = [r.payload["id"] for r in service.deliveries() if r.payload["id"]]
        errors = worker.log().count("Traceback")
        return {"backend": type(huey).__name__, "statuses": statuses, "worker_errors": errors,
                "duplicates": len(pushes) - len(set(pushes)), "reference": summary(reference), "cold": cold,
                "paced": summary(paced), "burst": summary(burst), "burst_commit_s": commit_seconds,
                "burst_drain_s": drain_seconds, "after_idle": after_idle}


# --- the parent: both backends -------------------------------------------------------------------


def child(backend: str, args) -> dict:
    from tests.notify.pushservice import claim_redis_database

    work = Path(tempfile.mkdtemp(prefix=f"beatbook-push-latency-{backend}-"))
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{work / 'beatbook.db'}",
           "BEATBOOK_INSTANCE_PATH": str(work / "instance"), "REDIS_URL": "", "PYTHONUNBUFFERED": "1",
           # Bench-only: its push service is the tests' local one, http on 127.0.0.1.
           "BEATBOOK_PUSH_ALLOW_INSECURE_LOCAL": "1"}
    env.pop("BEATBOOK_JOBS_IMMEDIATE", None)
    client = None
    if backend == "redis":
        env["REDIS_URL"], client = claim_redis_database()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "bench.push_latency", "--child", "--n", str(args.n),
             "--idle", str(args.idle), "--idle-gap", str(args.idle_gap),
             *(["--max-delay", str(args.max_delay)] if args.max_delay is not None else [])],
            cwd=ROOT, env=env, capture_output=True, text=True)
    finally:
        if client is not None:
            client.flushdb()
            client.close()
    if result.returncode != 0:
        raise SystemExit(f"{backend} run failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def report(results: list[dict], args) -> None:
    print(f"Push latency, commit → push service received (ms); n={args.n}, "
          f"idle {args.idle}×{args.idle_gap:.0f} s, worker --max-delay {args.max_delay or 'default (10)'}")
    print(f"{'queue':<11} {'phase':<22} {'n':>4} {'median':>8} {'p95':>8} {'worst':>8}")
    for result in results:
        queue = result["backend"]
        ref = result["reference"]
        print(f"{queue:<11} {'reference: webpush()':<22} {ref['n']:>4} {ref['median']:>8.1f} "
              f"{ref['p95']:>8.1f} {ref['worst']:>8.1f}")
        print(f"{queue:<11} {'cold (first job)':<22} {1:>4} {result['cold']:>8.1f}")
        for phase in ("paced", "burst"):
            row = result[phase]
            print(f"{queue:<11} {phase:<22} {row['n']:>4} {row['median']:>8.1f} {row['p95']:>8.1f} "
                  f"{row['worst']:>8.1f}")
        if result["after_idle"]:
            idle = result["after_idle"]
            print(f"{queue:<11} {'after idle':<22} {len(idle):>4} {statistics.median(idle):>8.1f} "
                  f"{'':>8} {max(idle):>8.1f}   each: {', '.join(f'{v:.0f}' for v in idle)}")
        print(f"{queue:<11} burst: {args.n} commits in {result['burst_commit_s']:.2f} s, "
              f"all pushed {result['burst_drain_s']:.2f} s after the first commit")
        print(f"{queue:<11} rows: {result['statuses']}; duplicate pushes: {result['duplicates']}; "
              f"worker tracebacks: {result['worker_errors']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="assignments per phase (paced, burst)")
    parser.add_argument("--idle", type=int, default=3, help="assignments after an idle worker")
    parser.add_argument("--idle-gap", type=float, default=90.0, help="seconds of idle before each")
    parser.add_argument("--backend", choices=("sqlite", "redis", "both"), default="both")
    parser.add_argument("--max-delay", type=float, default=None,
                        help="the worker's --max-delay (longest SQLite queue poll); default huey's 10 s")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_backend(args.n, args.idle, args.idle_gap, args.max_delay)))
        return
    backends = ["sqlite", "redis"] if args.backend == "both" else [args.backend]
    report([child(backend, args) for backend in backends], args)


if __name__ == "__main__":
    main()

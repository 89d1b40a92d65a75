"""The job queue: huey on SQLite in `instance/` by default, on Redis when REDIS_URL is set.

The queue is created at import so the worker (`huey_consumer webapp.worker.huey`) and the web
processes share one definition; features define their own tasks on it (e.g. notify's push) and
their steps of the minute sweep. This module knows no feature. Durable state lives in our
database (a notification's push status), not in the queue: jobs are idempotent, enqueued only
after the commit, and a periodic sweep re-enqueues whatever is still pending — a worker may die
mid-job.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import nullcontext
from datetime import timedelta
from functools import cache, wraps
from pathlib import Path
from typing import TypeVar

from dotenv import load_dotenv
from flask import current_app, has_app_context, has_request_context
from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab
from sqlalchemy import event
from sqlalchemy.orm import Session

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The worker imports this module before any app exists: read .env here too, or the web and the
# worker could pick different queues.
load_dotenv(PROJECT_ROOT / ".env")
STALE_AFTER = timedelta(seconds=30)
T = TypeVar("T")  # a pending push older than this was lost with its worker


def _make_queue():
    if os.environ.get("BEATBOOK_JOBS_IMMEDIATE") == "1":  # unit tests only: run jobs in-process
        return MemoryHuey("beatbook", immediate=True)
    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        return RedisHuey("beatbook", url=redis_url)
    instance = Path(os.environ.get("BEATBOOK_INSTANCE_PATH", PROJECT_ROOT / "instance"))
    instance.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("beatbook", filename=str(instance / "jobs.db"))


huey = _make_queue()


def queue_status() -> dict:
    backend = {RedisHuey: "redis", SqliteHuey: "sqlite"}.get(type(huey), "memory")
    try:
        pending = huey.pending_count()
    except Exception as error:  # noqa: BLE001 — health reports any failure, it never raises
        return {"ok": False, "backend": backend, "error": type(error).__name__}
    return {"ok": True, "backend": backend, "pending": pending}


@cache
def _worker_app():
    """The worker's own app (web requests already have theirs)."""
    # Flask's factory, imported when the worker first needs it: `webapp` imports every feature
    # (and features import this module), so a module-level import would be a loop.
    from webapp import create_app

    return create_app()


@huey.on_startup()
def _warm_up() -> None:
    """Build the worker's app before the first job: the first push is not half a second late."""
    _worker_app()


def _app_context():
    if has_app_context():
        return current_app.app_context()  # immediate mode inside a request or a test
    return _worker_app().app_context()


def in_app(function: Callable[..., T]) -> Callable[..., T]:
    """Run a job's body inside the app (and a request context: links need one)."""

    @wraps(function)
    def wrapped(*args, **kwargs):
        with _app_context(), _request_context():
            return function(*args, **kwargs)

    return wrapped


def _request_context():
    # url_for needs a request context; the worker has none of its own.
    return nullcontext() if has_request_context() else current_app.test_request_context()


# --- the minute sweep: features register their steps ----------------------------------------------
# Each step is idempotent and commits its own work; `stale_after` says when a pending job counts
# as lost with its worker. Steps run in the order they were registered (see webapp.PLUGINS).

_SWEEP_STEPS: dict[str, Callable[[timedelta], int]] = {}


def sweep_step(name: str) -> Callable[[Callable[[timedelta], int]], Callable[[timedelta], int]]:
    """Register a step of the minute sweep; its count is reported under `name`."""

    def register(step: Callable[[timedelta], int]) -> Callable[[timedelta], int]:
        _SWEEP_STEPS[name] = step
        return step

    return register


def run_sweep(stale_after: timedelta) -> dict[str, int]:
    return {name: step(stale_after) for name, step in _SWEEP_STEPS.items()}


@huey.periodic_task(crontab(minute="*"))
@in_app
def sweep() -> dict:
    """Every minute: each feature's sweep step (escalations, due warnings, lost pushes)."""
    return run_sweep(STALE_AFTER)


# --- enqueue after the commit, never before -------------------------------------------------------
# A job enqueued before the commit could run before its row exists, or for a row that is then
# rolled back. Services note the jobs on the session; they are enqueued once it commits.

AFTER_COMMIT = "beatbook_after_commit_jobs"


def after_commit_enqueue(task: Callable, *args, session: Session) -> None:
    """Enqueue `task(*args)` when `session` commits (never if it rolls back)."""
    session.info.setdefault(AFTER_COMMIT, []).append((task, args))


# task of one id → task of a list of them: one queue write for a commit's many jobs of that task
# (a /sync batch of 50 reports tells 50 officers; a write to the SQLite queue costs ~5 ms).
_GROUPED: dict[Callable, Callable] = {}


def grouped_as(task: Callable, group_task: Callable) -> None:
    """Jobs of `task(x)` noted in one commit are enqueued as one `group_task([x, …])`."""
    _GROUPED[task] = group_task


_SAVEPOINT_MARKS = "beatbook_after_commit_savepoints"  # savepoint → how many jobs were noted before it


@event.listens_for(Session, "after_transaction_create")
def _mark_savepoint(session: Session, transaction) -> None:
    if transaction.nested:
        marks = session.info.setdefault(_SAVEPOINT_MARKS, {})
        marks[transaction] = len(session.info.get(AFTER_COMMIT, []))


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous_transaction) -> None:
    if previous_transaction.nested:
        # One bad sync item: forget its jobs, keep the jobs of the items before it.
        mark = session.info.get(_SAVEPOINT_MARKS, {}).pop(previous_transaction, None)
        if mark is not None:
            del session.info.get(AFTER_COMMIT, [])[mark:]
        return
    session.info.pop(AFTER_COMMIT, None)
    session.info.pop(_SAVEPOINT_MARKS, None)


@event.listens_for(Session, "after_commit")
def _enqueue_committed(session: Session) -> None:
    if session.in_nested_transaction():
        # A savepoint (one sync item) was released, not the transaction: a job enqueued now could
        # run in a worker before the batch commits and find its row missing.
        return
    session.info.pop(_SAVEPOINT_MARKS, None)
    groups: dict[Callable, list] = {}
    for task, args in session.info.pop(AFTER_COMMIT, []):
        if task in _GROUPED:
            groups.setdefault(task, []).append(args[0])
        else:
            task(*args)
    for task, firsts in groups.items():
        if len(firsts) == 1:
            task(firsts[0])
        else:
            _GROUPED[task](firsts)

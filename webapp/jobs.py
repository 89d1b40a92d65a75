"""The job queue: huey on SQLite in `instance/` by default, on Redis when REDIS_URL is set.

The queue is created at import so the worker (`huey_consumer webapp.jobs.huey`) and the web
processes share one definition. Durable state lives in our database (a notification's push
status), not in the queue: jobs are idempotent, enqueued only after the commit, and a periodic
sweep re-enqueues whatever is still pending — a worker may die mid-job.
"""

from __future__ import annotations

import os
from datetime import timedelta
from functools import cache
from pathlib import Path

from dotenv import load_dotenv
from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab
from sqlalchemy import event
from sqlalchemy.orm import Session

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The worker imports this module before any app exists: read .env here too, or the web and the
# worker could pick different queues.
load_dotenv(PROJECT_ROOT / ".env")
STALE_AFTER = timedelta(seconds=30)  # a pending push older than this was lost with its worker


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
    from webapp import create_app

    return create_app()


@huey.on_startup()
def _warm_up() -> None:
    """Build the worker's app before the first job: the first push is not half a second late."""
    _worker_app()


def _app_context():
    from flask import current_app, has_app_context

    if has_app_context():
        return current_app.app_context()  # immediate mode inside a request or a test
    return _worker_app().app_context()


@huey.task(retries=2, retry_delay=5)
def push_notification(notification_id: int) -> str:
    from webapp.notify.push import deliver

    with _app_context(), _request_context():
        return deliver(notification_id)


def _request_context():
    from contextlib import nullcontext

    from flask import current_app, has_request_context

    # url_for in the push payload needs a request context; the worker has none of its own.
    return nullcontext() if has_request_context() else current_app.test_request_context()


@huey.periodic_task(crontab(minute="*"))
def sweep() -> dict:
    """Every minute: re-send lost pushes, escalate unaccepted work, warn of due and overdue work."""
    from webapp.notify.sweep import run_sweep

    with _app_context(), _request_context():
        return run_sweep(STALE_AFTER)


# --- enqueue after the commit, never before -------------------------------------------------------
# A job enqueued before the commit could run before its row exists, or for a row that is then
# rolled back. Services note new notifications on the session; they are enqueued once it commits.

NEW_NOTIFICATIONS = "beatbook_new_notifications"


def after_commit_enqueue(notification_id: int, session: Session) -> None:
    session.info.setdefault(NEW_NOTIFICATIONS, []).append(notification_id)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous_transaction) -> None:
    # Only the outer transaction's rollback: a savepoint's (one bad sync item) keeps the others'.
    if not previous_transaction.nested:
        session.info.pop(NEW_NOTIFICATIONS, None)


@event.listens_for(Session, "after_commit")
def _enqueue_committed(session: Session) -> None:
    # An id whose row was rolled back is harmless: the job finds nothing pending and stops.
    for notification_id in session.info.pop(NEW_NOTIFICATIONS, []):
        push_notification(notification_id)

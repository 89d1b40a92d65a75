"""The job queue: huey on SQLite in `instance/` by default, on Redis when REDIS_URL is set.

The queue is created at import so the worker (`huey_consumer webapp.jobs.huey`) and the web
processes share one definition. Durable state lives in our database, not in the queue.
"""

from __future__ import annotations

import os
from pathlib import Path

from huey import RedisHuey, SqliteHuey

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _make_queue():
    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        return RedisHuey("beatbook", url=redis_url)
    instance = Path(os.environ.get("BEATBOOK_INSTANCE_PATH", PROJECT_ROOT / "instance"))
    instance.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("beatbook", filename=str(instance / "jobs.db"))


huey = _make_queue()


def queue_status() -> dict:
    backend = "redis" if isinstance(huey, RedisHuey) else "sqlite"
    try:
        pending = huey.pending_count()
    except Exception as error:  # noqa: BLE001 — health reports any failure, it never raises
        return {"ok": False, "backend": backend, "error": type(error).__name__}
    return {"ok": True, "backend": backend, "pending": pending}

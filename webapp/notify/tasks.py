"""Notify's jobs: push one notification (idempotent; the row is the durable state)."""

from __future__ import annotations

from datetime import timedelta

from webapp.jobs import huey, in_app
from webapp.notify.push import deliver


@huey.task(retries=2, retry_delay=5)
@in_app
def push_notification(notification_id: int) -> str:
    return deliver(notification_id, _retry_later)


def _retry_later(notification_id: int, delay: timedelta) -> None:
    push_notification.schedule(args=(notification_id,), delay=delay.total_seconds())

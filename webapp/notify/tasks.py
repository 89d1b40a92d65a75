"""Notify's jobs: push notifications (idempotent; the row is the durable state)."""

from __future__ import annotations

from datetime import timedelta

from webapp.jobs import grouped_as, huey, in_app
from webapp.notify.push import deliver


@huey.task(retries=2, retry_delay=5)
@in_app
def push_notification(notification_id: int) -> str:
    return deliver(notification_id, _retry_later)


@huey.task(retries=2, retry_delay=5)
@in_app
def push_notifications(notification_ids: list[int]) -> list[str]:
    """One commit's pushes in one job; each is delivered (or retried) on its own, as above."""
    return [deliver(notification_id, _retry_later) for notification_id in notification_ids]


grouped_as(push_notification, push_notifications)


def _retry_later(notification_id: int, delay: timedelta) -> None:
    push_notification.schedule(args=(notification_id,), delay=delay.total_seconds())

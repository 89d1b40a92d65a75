"""Notify's part of the minute sweep: pushes whose worker died mid-job (stuck "sending") go back
to pending, and pending ones that are due are enqueued again. Idempotent: claiming a row is atomic."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from webapp.extensions import db
from webapp.jobs import sweep_step
from webapp.notify.models import Notification, PushStatus
from webapp.notify.tasks import push_notification
from webapp.timeutil import utcnow

CLAIM_LOST_AFTER = timedelta(minutes=2)


@sweep_step("requeued")
def requeue_lost_pushes(stale_after: timedelta) -> int:
    now = utcnow()
    db.session.execute(
        update(Notification)
        .where(Notification.push_status == PushStatus.SENDING,
               Notification.push_claimed_at < now - CLAIM_LOST_AFTER)
        .values(push_status=PushStatus.PENDING.value)
    )
    due = list(db.session.scalars(
        select(Notification.id).where(Notification.push_status == PushStatus.PENDING,
                                      Notification.push_next_at <= now,
                                      Notification.created_at <= now - stale_after)
    ))
    db.session.commit()
    for notification_id in due:
        push_notification(notification_id)
    return len(due)

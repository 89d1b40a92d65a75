"""The webhook's job and its part of the minute sweep (after the feed's numbering)."""

from __future__ import annotations

from datetime import timedelta

from webapp.extensions import db
from webapp.govfeed import webhook
from webapp.jobs import huey, in_app, sweep_step
from webapp.timeutil import utcnow

JOB_BATCHES = 50  # then the job queues itself again, so other jobs get their turn in a long backlog


@huey.task()
@in_app
def deliver_webhook(webhook_id: int) -> int:
    """Send the webhook's due batches in order (idempotent: each batch is claimed before it is sent)."""
    sent = webhook.send_due(webhook_id, utcnow(), limit=JOB_BATCHES)
    if sent == JOB_BATCHES:
        deliver_webhook(webhook_id)
    return sent


@sweep_step("webhooks_due")
def sweep_webhooks(stale_after: timedelta) -> int:
    """New batches from newly numbered entries, lost claims released, a job per webhook with a batch due."""
    now = utcnow()
    webhook.release_lost_claims(now)
    due = webhook.webhooks_due(now)
    db.session.commit()
    for webhook_id in due:
        deliver_webhook(webhook_id)
    return len(due)

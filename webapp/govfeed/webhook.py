"""The feed pushed to the liaison system's URL: batches of numbered entries, signed, retried.

The rows are the durable state (docs/architecture.md, jobs): the minute sweep cuts new batches
from entries numbered after the webhook's `batched_through` and enqueues a job per webhook whose
line has a batch due; the job claims the line's oldest open batch with a conditional UPDATE (two
workers never send one batch at once), POSTs it, and records the attempt. A web request never
talks to the receiver.

Order: a webhook's batches go strictly one after another, oldest first. A later batch waits while
an earlier one is retrying, and a batch that gave up stops the line until the liaison resends it:
the receiver sees `seq` only increase, with no gap. A resent batch goes first (it is the oldest
open one), with the same delivery id and seqs as before: the receiver can tell what it already has.

Every function takes `now`: tests move time forward by passing it, never by sleeping.
"""

from __future__ import annotations

import json
import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from flask import current_app
from sqlalchemy import select, update

from webapp.extensions import db
from webapp.govfeed.models import DeliveryAttempt, DeliveryStatus, FeedEntry, FeedWebhook, WebhookDelivery
from webapp.govfeed.services import entry_json, sign
from webapp.notify.endpoints import (
    EndpointRefused,
    PushPolicy,
    UnsafeConnection,
    check_endpoint,
    guarded_session,
)
from webapp.org.models import Station, User

SECRET_PREFIX = "bbw_"
BATCH_SIZE = 100  # entries per POST
MAX_ATTEMPTS = 10  # 1+2+4+…+60 min: about five hours of trying before "gave up"
FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY = timedelta(hours=1)
MAX_RETRY_AFTER = timedelta(hours=6)  # a receiver's Retry-After is honoured up to this
CONNECT_TIMEOUT, READ_TIMEOUT = 5, 10  # seconds: a dead receiver must not hold the worker
CLAIM_LOST_AFTER = timedelta(minutes=2)  # far longer than one POST may take (timeouts above)
OPEN = (DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value, DeliveryStatus.RETRYING.value,
        DeliveryStatus.GAVE_UP.value)  # the line's head is the oldest of these
DUE = (DeliveryStatus.PENDING.value, DeliveryStatus.RETRYING.value)


# --- the subscription ------------------------------------------------------------------------------


def webhook_of(station: Station) -> FeedWebhook | None:
    return db.session.scalar(select(FeedWebhook).where(FeedWebhook.station_id == station.id))


def check_url(url: str) -> None:
    """Raise EndpointRefused unless the feed may be pushed to `url` (https, public addresses only)."""
    check_endpoint(url, PushPolicy.for_webhooks(current_app.config))


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def save_webhook(station: Station, url: str, enabled: bool, by: User,
                 now: datetime) -> tuple[FeedWebhook, str | None]:
    """Create or change the station's webhook (the URL must have passed `check_url`). A new
    webhook gets a secret, returned this once, and starts from the feed's first entry (全量推送)."""
    webhook = webhook_of(station)
    secret = None
    if webhook is None:
        secret = new_secret()
        webhook = FeedWebhook(station_id=station.id, secret=secret, batched_through=0,
                              created_by_id=by.id, created_at=now)
        db.session.add(webhook)
    webhook.url = url
    webhook.enabled = enabled
    webhook.updated_at = now
    db.session.flush()
    return webhook, secret


def rotate_secret(webhook: FeedWebhook, now: datetime) -> str:
    webhook.secret = new_secret()
    webhook.updated_at = now
    db.session.flush()
    return webhook.secret


def remove_webhook(webhook: FeedWebhook) -> None:
    """The webhook, its deliveries and their attempts (the audit keeps that it existed)."""
    attempts = select(WebhookDelivery.id).where(WebhookDelivery.webhook_id == webhook.id)
    db.session.execute(DeliveryAttempt.__table__.delete()
                       .where(DeliveryAttempt.delivery_id.in_(attempts)))
    db.session.execute(WebhookDelivery.__table__.delete().where(WebhookDelivery.webhook_id == webhook.id))
    db.session.delete(webhook)
    db.session.flush()


# --- batches ---------------------------------------------------------------------------------------


def make_batches(webhook: FeedWebhook, now: datetime) -> int:
    """New deliveries for the station's numbered entries after `batched_through`, BATCH_SIZE each.

    Numbering gives an entry committed later a seq after every seq already given
    (services.number_new_entries), so nothing numbered later can fall behind `batched_through`:
    no entry is skipped, none is batched twice. The webhook row is locked (UPDATE) first, so two
    sweeps cut batches one after the other, the second from where the first stopped."""
    table = FeedWebhook.__table__
    db.session.execute(update(table).where(table.c.id == webhook.id)
                       .values(batched_through=table.c.batched_through))
    db.session.refresh(webhook)
    seqs = list(db.session.scalars(
        select(FeedEntry.seq).where(FeedEntry.station_id == webhook.station_id, FeedEntry.seq.is_not(None),
                                    FeedEntry.seq > webhook.batched_through).order_by(FeedEntry.seq)))
    for start in range(0, len(seqs), BATCH_SIZE):
        chunk = seqs[start:start + BATCH_SIZE]
        db.session.add(WebhookDelivery(webhook_id=webhook.id, first_seq=chunk[0], last_seq=chunk[-1],
                                       entry_count=len(chunk), status=DeliveryStatus.PENDING.value,
                                       next_attempt_at=now, created_at=now, updated_at=now))
    if seqs:
        webhook.batched_through = seqs[-1]
    db.session.flush()
    return (len(seqs) + BATCH_SIZE - 1) // BATCH_SIZE


def batch_body(delivery: WebhookDelivery, station_id: int) -> bytes:
    """The POST body: the shape of an /api/feed page, for exactly this batch's entries."""
    entries = list(db.session.scalars(
        select(FeedEntry).where(FeedEntry.station_id == station_id, FeedEntry.seq >= delivery.first_seq,
                                FeedEntry.seq <= delivery.last_seq).order_by(FeedEntry.seq)))
    page = {"entries": [entry_json(e) for e in entries], "next_cursor": str(delivery.last_seq), "more": False}
    return json.dumps(page, ensure_ascii=False, separators=(",", ":")).encode()


# --- sending ---------------------------------------------------------------------------------------


def line_head(webhook_id: int) -> WebhookDelivery | None:
    """The oldest batch not yet delivered: the only one that may be sent."""
    return db.session.scalar(select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id,
                                                           WebhookDelivery.status.in_(OPEN))
                             .order_by(WebhookDelivery.id).limit(1))


def claim(delivery_id: int, now: datetime) -> bool:
    """Take the batch for this worker, atomically: of two workers, one gets it."""
    table = WebhookDelivery.__table__
    claimed = db.session.execute(
        update(table).where(table.c.id == delivery_id, table.c.status.in_(DUE),
                            table.c.next_attempt_at <= now)
        .values(status=DeliveryStatus.SENDING.value, claimed_at=now, attempts=table.c.attempts + 1,
                updated_at=now)).rowcount
    db.session.commit()
    return claimed == 1


@dataclass(frozen=True)
class Answer:
    """What one POST came to: the receiver's status, or an error (short, no secret, no URL)."""

    http_status: int | None = None
    error: str = ""
    retry_after: timedelta | None = None

    @property
    def delivered(self) -> bool:
        return self.http_status is not None and 200 <= self.http_status < 300


def _retry_after(header: str | None) -> timedelta | None:
    header = (header or "").strip()
    if header.isascii() and header.isdigit() and len(header) <= 8:
        return min(timedelta(seconds=int(header)), MAX_RETRY_AFTER)
    return None


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST the batch through the guarded session (the address checked before and on connecting)."""
    policy = PushPolicy.for_webhooks(current_app.config)
    try:
        check_endpoint(url, policy)
    except EndpointRefused as refused:
        return Answer(error=f"refused: {refused.reason}")
    try:
        with guarded_session(policy) as session:
            response = session.post(url, data=body, headers=headers, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                                    allow_redirects=False)
            return Answer(http_status=response.status_code,
                          retry_after=_retry_after(response.headers.get("Retry-After")))
    except UnsafeConnection:
        return Answer(error="refused: not_public")
    except requests.RequestException as error:
        return Answer(error=type(error).__name__)


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 … minutes after the 1st, 2nd, 3rd … failure, capped at an hour, plus up to 10% jitter
    (many stations' retries do not all land on the same minute)."""
    delay = min(FIRST_RETRY * 2 ** (attempts - 1), MAX_RETRY)
    return delay + delay * random.uniform(0, 0.1)  # noqa: S311 — spreading retries, not a secret


def _record(delivery: WebhookDelivery, answer: Answer, now: datetime) -> None:
    db.session.add(DeliveryAttempt(delivery_id=delivery.id, number=delivery.attempts, at=now,
                                   http_status=answer.http_status, error=answer.error[:200],
                                   delivered=answer.delivered))
    delivery.last_http_status = answer.http_status
    delivery.last_error = answer.error[:200]
    delivery.updated_at = now
    delivery.claimed_at = None
    if answer.delivered:
        delivery.status = DeliveryStatus.DELIVERED.value
        delivery.delivered_at = now
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.GAVE_UP.value
    else:
        delivery.status = DeliveryStatus.RETRYING.value
        delivery.next_attempt_at = now + max(backoff(delivery.attempts), answer.retry_after or timedelta(0))


def send_next(webhook_id: int, now: datetime) -> WebhookDelivery | None:
    """Send the line's head if it is due and this worker wins it; the delivery sent, else None."""
    webhook = db.session.get(FeedWebhook, webhook_id)
    if webhook is None or not webhook.enabled:
        return None
    head = line_head(webhook_id)
    if head is None or not claim(head.id, now):
        return None  # nothing due, a gave-up batch stops the line, or another worker has it
    delivery = db.session.get(WebhookDelivery, head.id)
    db.session.refresh(delivery)
    body = batch_body(delivery, webhook.station_id)
    headers = {"Content-Type": "application/json", "X-Beatbook-Signature": sign(body, webhook.secret),
               "X-Beatbook-Delivery": str(delivery.id), "X-Beatbook-Attempt": str(delivery.attempts)}
    url, delivery_id = webhook.url, delivery.id
    db.session.commit()  # no transaction stays open while the receiver answers
    answer = post(url, body, headers)
    delivery = db.session.get(WebhookDelivery, delivery_id, populate_existing=True)
    if delivery is None:
        return None  # the webhook was removed while the batch was on its way
    _record(delivery, answer, now)
    db.session.commit()
    return delivery


def send_due(webhook_id: int, now: datetime, limit: int = 50) -> int:
    """Send the line's due batches one after another (a backlog drains in one job); how many went."""
    sent = 0
    while sent < limit:
        delivery = send_next(webhook_id, now)
        if delivery is None or delivery.status != DeliveryStatus.DELIVERED:
            break
        sent += 1
    return sent


# --- the sweep's part ------------------------------------------------------------------------------


WORKER_LOST = "worker lost"


def release_lost_claims(now: datetime) -> int:
    """A batch claimed by a worker that died is a failed attempt (in the log, with backoff);
    how many were released."""
    lost = list(db.session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.status == DeliveryStatus.SENDING.value,
                                      WebhookDelivery.claimed_at < now - CLAIM_LOST_AFTER)
        .with_for_update(skip_locked=True)))
    for delivery in lost:
        _record(delivery, Answer(error=WORKER_LOST), now)
    db.session.flush()
    return len(lost)


def webhooks_due(now: datetime) -> list[int]:
    """Enabled webhooks whose line's head is due now."""
    due = []
    for webhook in db.session.scalars(select(FeedWebhook).where(FeedWebhook.enabled.is_(True))):
        make_batches(webhook, now)
        head = line_head(webhook.id)
        if head is not None and head.status in DUE and head.next_attempt_at <= now:
            due.append(webhook.id)
    return due


# --- the log ---------------------------------------------------------------------------------------

PAGE_SIZE = 30


def deliveries_of(webhook: FeedWebhook, page: int) -> tuple[list[WebhookDelivery], bool]:
    """One page of the log, newest first, and whether an older page exists."""
    rows = list(db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id)
                                   .order_by(WebhookDelivery.id.desc())
                                   .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)))
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def attempts_of(deliveries: list[WebhookDelivery]) -> dict[int, list[DeliveryAttempt]]:
    ids = [d.id for d in deliveries]
    found: dict[int, list[DeliveryAttempt]] = {i: [] for i in ids}
    for attempt in db.session.scalars(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(ids))
                                      .order_by(DeliveryAttempt.number)):
        found[attempt.delivery_id].append(attempt)
    return found


def recent_deliveries(station: Station, count: int = 5) -> list[WebhookDelivery]:
    webhook = webhook_of(station)
    return deliveries_of(webhook, 1)[0][:count] if webhook else []


def resend(delivery: WebhookDelivery, now: datetime) -> bool:
    """Queue a delivered or gave-up batch again (from its first attempt); False for any other state."""
    if delivery.status not in (DeliveryStatus.DELIVERED, DeliveryStatus.GAVE_UP):
        return False
    delivery.status = DeliveryStatus.PENDING.value
    delivery.attempts = 0
    delivery.next_attempt_at = now
    delivery.updated_at = now
    db.session.flush()
    return True

"""Web Push delivery of one notification (a job: idempotent, safe to run twice).

Pushes carry no personal data: a neutral title, a short text and a link, in the person's
language. 404/410 from a push service means the device is gone (its subscription is deleted);
429 and 5xx are retried after Retry-After; every request has a TTL and a timeout. Every endpoint
is checked again before a push and on the connection itself (webapp/notify/endpoints.py).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import requests
from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from pywebpush import WebPushException, webpush
from requests import RequestException
from sqlalchemy import select, update

from webapp.extensions import db
from webapp.notices import title_of
from webapp.notify.endpoints import (
    TRANSIENT,
    EndpointRefused,
    PushPolicy,
    UnsafeConnection,
    check_endpoint,
    guarded_session,
)
from webapp.notify.models import Notification, PushStatus, PushSubscription
from webapp.org.models import User
from webapp.timeutil import utcnow

log = logging.getLogger(__name__)

TTL_SECONDS = 24 * 3600  # a phone off for the night still gets it in the morning
TIMEOUT_SECONDS = 10  # a dead push service must not hang the worker
MAX_ATTEMPTS = 8
DEFAULT_RETRY = timedelta(minutes=1)


def endpoint_hash(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode()).hexdigest()


def _unbase64url(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def valid_keys(p256dh: str, auth: str) -> bool:
    """A browser's subscription keys: a P-256 public point and a 16-byte secret."""
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _unbase64url(p256dh))
        return len(_unbase64url(auth)) == 16
    except (ValueError, TypeError, binascii.Error):
        return False


def payload_for(notification: Notification, user: User) -> dict:
    """The push message: the kind's title in the person's language, the neutral text and link
    stored with the notification, and a tag so a newer message about the same subject replaces it."""
    locale = user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        title = str(title_of(notification.kind))
        body = notification.text or _("Open Beatbook to see it.")
    url = notification.link or url_for("notify.index")
    tag = f"{notification.subject_kind}-{notification.subject_id}" if notification.subject_id \
        else f"beatbook-{notification.kind}"
    return {"title": title, "body": body, "url": url, "tag": tag, "id": notification.id}


def _retry_after(exception: WebPushException) -> timedelta:
    header = exception.response.headers.get("Retry-After", "") if exception.response is not None else ""
    return timedelta(seconds=int(header)) if header.isdigit() else DEFAULT_RETRY


def claim(notification_id: int) -> bool:
    """Take the notification for this job, atomically: two jobs for one row never both push."""
    now = utcnow()
    claimed = db.session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.push_status == PushStatus.PENDING,
               Notification.push_next_at <= now)
        .values(push_status=PushStatus.SENDING.value, push_claimed_at=now)
    ).rowcount
    db.session.commit()
    return claimed == 1


@dataclass
class _Attempt:
    """What one round of pushes to a person's devices came to."""

    delivered: int = 0
    retry_in: timedelta | None = None  # some push service asked to come back later

    def retry(self, after: timedelta) -> None:
        self.retry_in = max(self.retry_in or timedelta(0), after)


def _safe_to_push(device: PushSubscription, policy: PushPolicy, attempt: _Attempt) -> bool:
    """Check the endpoint again before sending: the allow-list may have changed (or the row predates
    it), and DNS may now point the name inside the network."""
    try:
        check_endpoint(device.endpoint, policy)
    except EndpointRefused as refused:
        log.warning("push endpoint refused (%s): device %s", refused, device.id)
        if refused.reason in TRANSIENT:
            attempt.retry(DEFAULT_RETRY)  # DNS may be right again later; the retries are bounded
        else:
            db.session.delete(device)  # never a push service Beatbook may send to
        return False
    return True


def _push_to(device: PushSubscription, data: str, attempt: _Attempt, now, policy: PushPolicy,
             session: requests.Session) -> None:
    keys = current_app.extensions["beatbook_vapid"]
    if not _safe_to_push(device, policy, attempt):
        return
    try:
        webpush(
            subscription_info={"endpoint": device.endpoint,
                               "keys": {"p256dh": device.p256dh, "auth": device.auth}},
            data=data, vapid_private_key=keys.private_key,
            # pywebpush writes aud/exp into this dict: a fresh one every call.
            vapid_claims={"sub": keys.subject}, ttl=TTL_SECONDS, timeout=TIMEOUT_SECONDS,
            requests_session=session,  # checks the address each connection really reached
        )
    except WebPushException as error:
        status = error.response.status_code if error.response is not None else None
        if status in (404, 410):
            db.session.delete(device)  # the browser unsubscribed or the device is gone
        elif status == 429 or (status is not None and status >= 500):
            attempt.retry(_retry_after(error))
        return
    except UnsafeConnection as error:
        log.warning("push connection refused (%s): device %s", error, device.id)
        attempt.retry(DEFAULT_RETRY)
        return
    except RequestException:
        attempt.retry_in = attempt.retry_in or DEFAULT_RETRY  # refused or timed out: the service may be down
        return
    except (ValueError, TypeError):
        db.session.delete(device)  # keys that cannot encrypt: this device can never be reached
        return
    device.last_success_at = now
    attempt.delivered += 1


def _outcome(notification: Notification, attempt: _Attempt, now) -> str:
    if attempt.delivered:
        notification.pushed_at = now
        return PushStatus.SENT.value
    if attempt.retry_in is not None and notification.push_attempts < MAX_ATTEMPTS:
        notification.push_next_at = now + attempt.retry_in
        return PushStatus.PENDING.value
    if attempt.retry_in is not None:
        return PushStatus.FAILED.value
    return PushStatus.NO_DEVICE.value  # every device was gone


def deliver(notification_id: int, schedule_retry: Callable[[int, timedelta], None]) -> str:
    """Push one notification to every device of its person. Returns the resulting status;
    `schedule_retry(id, delay)` is called (after the commit) when a push service asked to wait."""
    if not claim(notification_id):
        return "skipped"  # done already, claimed by another job, or not due yet
    notification = db.session.get(Notification, notification_id)
    now = utcnow()
    user = db.session.get(User, notification.user_id)
    devices = list(db.session.scalars(select(PushSubscription).where(PushSubscription.user_id == user.id)))
    if not devices or not user.is_enabled:
        notification.push_status = PushStatus.NO_DEVICE.value
        db.session.commit()
        return notification.push_status
    data = json.dumps(payload_for(notification, user), ensure_ascii=False)
    notification.push_attempts += 1
    attempt = _Attempt()
    policy = PushPolicy.from_config(current_app.config)
    with guarded_session(policy) as session:
        for device in devices:
            _push_to(device, data, attempt, now, policy, session)
    notification.push_status = _outcome(notification, attempt, now)
    db.session.commit()
    if notification.push_status == PushStatus.PENDING:
        schedule_retry(notification.id, attempt.retry_in)
    return notification.push_status

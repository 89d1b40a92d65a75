"""Web Push delivery of one notification (a job: idempotent, safe to run twice).

Pushes carry no personal data: a neutral title, a short text and a link, in the person's
language. 404/410 from a push service means the device is gone (its subscription is deleted);
429 and 5xx are retried after Retry-After; every request has a TTL and a timeout.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from pywebpush import WebPushException, webpush
from requests import RequestException
from sqlalchemy import select, update

from webapp.extensions import db
from webapp.notify.models import Notification, PushStatus, PushSubscription
from webapp.notify.services import KIND_TITLES, Kind
from webapp.org.models import User
from webapp.timeutil import utcnow

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
    locale = user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        title = str(KIND_TITLES.get(Kind(notification.kind), notification.kind))
        body = _("Lead #%(id)s — open Beatbook to see it.", id=notification.lead_id) \
            if notification.lead_id else _("Open Beatbook to see it.")
    url = url_for("leads.detail", lead_id=notification.lead_id) if notification.lead_id \
        else url_for("notify.index")
    tag = f"lead-{notification.lead_id}" if notification.lead_id else f"beatbook-{notification.kind}"
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


def deliver(notification_id: int) -> str:
    """Push one notification to every device of its person. Returns the resulting status."""
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
    keys = current_app.extensions["beatbook_vapid"]
    data = json.dumps(payload_for(notification, user), ensure_ascii=False)
    delivered, retry_in = 0, None
    notification.push_attempts += 1
    for device in devices:
        try:
            webpush(
                subscription_info={"endpoint": device.endpoint,
                                   "keys": {"p256dh": device.p256dh, "auth": device.auth}},
                data=data, vapid_private_key=keys.private_key,
                # pywebpush writes aud/exp into this dict: a fresh one every call.
                vapid_claims={"sub": keys.subject}, ttl=TTL_SECONDS, timeout=TIMEOUT_SECONDS,
            )
        except WebPushException as error:
            status = error.response.status_code if error.response is not None else None
            if status in (404, 410):
                db.session.delete(device)  # the browser unsubscribed or the device is gone
            elif status == 429 or (status is not None and status >= 500):
                retry_in = max(retry_in or timedelta(0), _retry_after(error))
            continue
        except RequestException:
            retry_in = retry_in or DEFAULT_RETRY  # refused or timed out: the service may be down
            continue
        except (ValueError, TypeError):
            db.session.delete(device)  # keys that cannot encrypt: this device can never be reached
            continue
        device.last_success_at = now
        delivered += 1
    if delivered:
        notification.push_status = PushStatus.SENT.value
        notification.pushed_at = now
    elif retry_in is not None and notification.push_attempts < MAX_ATTEMPTS:
        notification.push_status = PushStatus.PENDING.value
        notification.push_next_at = now + retry_in
        db.session.commit()
        from webapp.jobs import push_notification

        push_notification.schedule(args=(notification.id,), delay=retry_in.total_seconds())
        return notification.push_status
    elif retry_in is not None:
        notification.push_status = PushStatus.FAILED.value
    else:
        notification.push_status = PushStatus.NO_DEVICE.value  # every device was gone
    db.session.commit()
    return notification.push_status

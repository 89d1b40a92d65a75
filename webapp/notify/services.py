"""Create notifications (inbox entries) from the notices features raise. Push delivery (jobs)
reads the same rows. Notify knows people and subjects (a kind and an id), never what they are."""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import delete, func, or_, select

from webapp.auth.events import sessions_revoked
from webapp.extensions import db, gathered, insert_for
from webapp.jobs import after_commit_enqueue
from webapp.notices import Notice, notice_raised
from webapp.notify.endpoints import EndpointRefused, PushPolicy, check_endpoint
from webapp.notify.models import Notification, PushSubscription
from webapp.notify.push import endpoint_hash, valid_keys
from webapp.notify.tasks import push_notification
from webapp.org.events import person_disabled
from webapp.org.models import User
from webapp.timeutil import utcnow


def notify(users: Iterable[User], notice: Notice) -> int:
    """Add one inbox entry per person for this notice; repeats of the same event are ignored.
    Returns how many entries were added."""
    key = f"{notice.kind}:{notice.subject_id}:{notice.occurrence}"
    rows = []
    for user in {u.id: u for u in users}.values():
        with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
            text = str(notice.text)  # the reader's language, fixed now: the push says the same
        rows.append({"user_id": user.id, "kind": notice.kind, "subject_kind": notice.subject_kind,
                     "subject_id": notice.subject_id, "link": notice.link, "text": text[:200],
                     "dedupe_key": key})
    if not rows:
        return 0
    if gathered("notifications", rows, _store):
        return len(rows)  # a /sync batch's announcements: stored with the others, by one statement
    return _store(rows)


# SQLite takes up to 32,766 values in a statement; an inbox entry is 7.
_ROWS_PER_STATEMENT = 1000


def _store(rows: list[dict]) -> int:
    """Add the entries; a repeat is skipped by the unique (person, event) index, so two nodes raising
    the same notice at once still make one entry. One statement per thousand entries."""
    added: list[int] = []
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        added += db.session.scalars(
            insert_for(db.session.get_bind().dialect.name)(Notification)
            .values(rows[start:start + _ROWS_PER_STATEMENT])
            .on_conflict_do_nothing(index_elements=["user_id", "dedupe_key"])
            .returning(Notification.id)
        ).all()
    for notification_id in added:
        after_commit_enqueue(push_notification, notification_id, session=db.session())
    return len(added)


@notice_raised.connect
def _on_notice(notice: Notice, recipients: list[User]) -> int:
    return notify(recipients, notice)


@person_disabled.connect
def _forget_devices(user: User) -> None:
    # A disabled person gets no more alerts on any phone.
    db.session.execute(delete(PushSubscription).where(PushSubscription.user_id == user.id))


@sessions_revoked.connect
def _forget_devices_of_ended_sessions(user: User, session_ids=(), everywhere: bool = False,
                                      kept: int | None = None, **_) -> None:
    # A revoked session's phone gets no more alerts; "everywhere" (sign out everywhere, a new
    # password) takes every device but the one kept, unlinked old rows included.
    statement = delete(PushSubscription).where(PushSubscription.user_id == user.id)
    if everywhere:
        if kept is not None:
            statement = statement.where(or_(PushSubscription.session_id.is_(None),
                                            PushSubscription.session_id != kept))
    elif session_ids:
        statement = statement.where(PushSubscription.session_id.in_(list(session_ids)))
    else:
        return
    db.session.execute(statement)


def unread_count(user: User) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
    ) or 0


def inbox(user: User, limit: int = 50) -> list[Notification]:
    return list(db.session.scalars(
        select(Notification).where(Notification.user_id == user.id)
        .order_by(Notification.id.desc()).limit(limit)
    ))


def mark_read(user: User, notification_id: int) -> Notification | None:
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != user.id:
        return None
    if notification.read_at is None:
        notification.read_at = utcnow()
    db.session.flush()
    return notification


# --- a person's devices (push subscriptions) ------------------------------------------------------


def devices_of(user: User) -> list[PushSubscription]:
    return list(db.session.scalars(
        select(PushSubscription).where(PushSubscription.user_id == user.id).order_by(PushSubscription.id)))


class SubscriptionRefused(Exception):
    """A subscription Beatbook will not keep; `reason` says why (see the subscribe view)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


BAD_SUBSCRIPTION = "bad_subscription"
DEVICE_TAKEN = "device_taken"


def subscribe_device(user: User, endpoint: str, p256dh: str, auth: str, device_name: str,
                     policy: PushPolicy, session_id: int | None = None) -> PushSubscription:
    """Keep this browser's push subscription for `user`.

    Raises SubscriptionRefused: keys that cannot encrypt (`bad_subscription`), an endpoint that is
    not a public push service (the reasons of `webapp.notify.endpoints`), or a subscription that
    belongs to someone else (`device_taken`): a device is never moved to another person by posting
    its endpoint. A phone handed over is freed when its person signs out (`forget_devices`)."""
    if not valid_keys(p256dh, auth):
        raise SubscriptionRefused(BAD_SUBSCRIPTION)
    try:
        check_endpoint(endpoint, policy)
    except EndpointRefused as refused:
        raise SubscriptionRefused(refused.reason) from refused
    device = db.session.scalar(select(PushSubscription).where(
        PushSubscription.endpoint_hash == endpoint_hash(endpoint)))
    if device is not None and device.user_id != user.id:
        raise SubscriptionRefused(DEVICE_TAKEN)
    if device is None:
        device = PushSubscription(user_id=user.id, endpoint=endpoint, endpoint_hash=endpoint_hash(endpoint))
        db.session.add(device)
    device.p256dh, device.auth = p256dh, auth
    device.device = device_name[:120]
    device.session_id = session_id  # the signed-in session (device) it belongs to now
    db.session.flush()
    return device


def forget_devices(user: User, device_ids: Iterable[int]) -> int:
    """Remove these devices of `user` (others' are left alone). Returns how many went."""
    ids = [int(i) for i in device_ids]
    if not ids:
        return 0
    removed = db.session.execute(delete(PushSubscription).where(
        PushSubscription.user_id == user.id, PushSubscription.id.in_(ids))).rowcount
    db.session.flush()
    return removed


def forget_device(user: User, device_id: int) -> bool:
    """Remove one of `user`'s devices; False when it is not theirs (or gone)."""
    device = db.session.get(PushSubscription, device_id)
    if device is None or device.user_id != user.id:
        return False
    db.session.delete(device)
    db.session.flush()
    return True

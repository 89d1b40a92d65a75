"""Create notifications (inbox entries). Push delivery (jobs) reads the same rows."""

from __future__ import annotations

import enum
from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.jobs import after_commit_enqueue
from webapp.notify.models import Notification
from webapp.org.models import User
from webapp.timeutil import utcnow


class Kind(enum.StrEnum):
    ASSIGNED = "assigned"
    RED_LEAD = "red_lead"
    RETURNED = "returned"
    UNROUTABLE = "unroutable"
    SUPERVISED = "supervised"
    COMPARTMENT = "compartment"  # a DV / minor lead for the task force or youth team
    ESCALATED = "escalated"  # an assignment nobody accepted in time
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


# Neutral words only: a notification never carries personal data, it links to the lead.
KIND_TITLES = {
    Kind.ASSIGNED: _l("New assignment"),
    Kind.RED_LEAD: _l("Red lead in your area"),
    Kind.RETURNED: _l("An assignment was returned"),
    Kind.UNROUTABLE: _l("A lead needs routing"),
    Kind.SUPERVISED: _l("Supervised work (督办)"),
    Kind.COMPARTMENT: _l("A lead for your team"),
    Kind.ESCALATED: _l("An assignment was not accepted in time"),
    Kind.DUE_SOON: _l("Work due within a day"),
    Kind.OVERDUE: _l("Work is overdue"),
}


def notify(users: Iterable[User], kind: Kind, lead_id: int, occurrence: str = "") -> int:
    """Add one inbox entry per person for this event; repeats of the same event are ignored."""
    key = f"{kind.value}:{lead_id}:{occurrence}"
    added = 0
    for user in {u.id: u for u in users}.values():
        exists = db.session.scalar(
            select(Notification.id).where(Notification.user_id == user.id,
                                          Notification.dedupe_key == key)
        )
        if exists is None:
            notification = Notification(user_id=user.id, kind=kind.value, lead_id=lead_id, dedupe_key=key)
            db.session.add(notification)
            db.session.flush()
            after_commit_enqueue(notification.id, db.session())
            added += 1
    return added


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

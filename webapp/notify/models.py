"""Notifications: an inbox entry per person and event, and its push delivery state.

A notification points at a subject (a kind and an id: a lead, later a case or a letter) and carries
the link and the neutral text its feature made when it was raised, in the reader's language;
only the kind's title is translated when shown.
The row is the durable truth for delivery: a job that dies mid-way leaves it pending, and the
periodic sweep sends it again.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.timeutil import UTCDateTime, utcnow


class PushStatus(enum.StrEnum):
    PENDING = "pending"  # to be pushed (again, from push_next_at on)
    SENDING = "sending"  # claimed by a job; back to pending if its worker died
    SENT = "sent"  # accepted by at least one device's push service
    NO_DEVICE = "no_device"  # nobody subscribed: the inbox is all there is
    FAILED = "failed"  # gave up after the retries; still in the inbox


class Notification(db.Model):
    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_user_unread", "user_id", "read_at", "id"),
        # One notification per person, event and subject: a repeated sweep cannot alert twice.
        Index("uq_notification_dedupe", "user_id", "dedupe_key", unique=True),
        Index("ix_notification_push_due", "push_status", "push_next_at"),
        Index("ix_notification_subject", "subject_kind", "subject_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    subject_kind: Mapped[str] = mapped_column(String(32), default="")  # e.g. "lead"
    subject_id: Mapped[int | None] = mapped_column(Integer)
    link: Mapped[str] = mapped_column(String(200), default="")
    text: Mapped[str] = mapped_column(String(200), default="")
    dedupe_key: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    push_status: Mapped[str] = mapped_column(String(16), default=PushStatus.PENDING.value)
    push_attempts: Mapped[int] = mapped_column(Integer, default=0)
    push_next_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    push_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PushSubscription(db.Model):
    """One device of one person (a person may have several)."""

    __tablename__ = "push_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(Text)
    endpoint_hash: Mapped[str] = mapped_column(String(64), unique=True)  # endpoints are long URLs
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(64))
    device: Mapped[str] = mapped_column(String(120), default="")
    # The signed-in session (device) that registered it: revoking that session removes it.
    # NULL for subscriptions made before sessions were linked.
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_session.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

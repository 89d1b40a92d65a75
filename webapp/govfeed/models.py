"""Feed entries (one per lead change, de-identified when made), the feed counter, pull tokens, and the
webhook push with its deliveries and their attempts."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.org.models import User
from webapp.timeutil import UTCDateTime, utcnow


class FeedEntry(db.Model):
    """A de-identified snapshot of a lead after an event. `seq` stays NULL until the single
    numbering writer (services.number_new_entries) gives it its place; readers read numbered rows only."""

    __tablename__ = "feed_entry"
    __table_args__ = (Index("ix_feed_entry_station_seq", "station_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"))
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int | None] = mapped_column(Integer, unique=True)
    event: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    payload: Mapped[str] = mapped_column(Text)  # JSON: deidentify(lead) at the time of the event


class FeedCounter(db.Model):
    """One row: the last sequence number given. Taken with UPDATE … RETURNING (a row lock)."""

    __tablename__ = "feed_counter"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


class FeedToken(db.Model):
    """A bearer token for one liaison system. Only its SHA-256 is stored; revocable."""

    __tablename__ = "feed_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by: Mapped[User | None] = relationship()


class FeedWebhook(db.Model):
    """The station's push of the feed to the liaison system's URL (one per station).

    The signing secret is stored as given (an HMAC needs it) and shown only when made.
    `batched_through` is the last feed seq put into a delivery: new batches start after it."""

    __tablename__ = "feed_webhook"

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), unique=True)
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    batched_through: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # not tried yet (or queued again by a resend)
    SENDING = "sending"  # claimed by one worker; back to retrying if that worker died
    RETRYING = "retrying"  # failed; tried again from next_attempt_at on
    DELIVERED = "delivered"  # the receiver answered 2xx
    GAVE_UP = "gave_up"  # failed MAX_ATTEMPTS times: the line stops here until it is resent


class WebhookDelivery(db.Model):
    """One batch of numbered feed entries (the station's entries with first_seq ≤ seq ≤ last_seq)
    and what became of sending it. The row is the durable truth; the job only acts on it."""

    __tablename__ = "webhook_delivery"
    # The line: a webhook's open batches, oldest first (also serves the log, by webhook).
    __table_args__ = (Index("ix_webhook_delivery_line", "webhook_id", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("feed_webhook.id", ondelete="CASCADE"))
    first_seq: Mapped[int] = mapped_column(Integer)
    last_seq: Mapped[int] = mapped_column(Integer)
    entry_count: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_http_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DeliveryAttempt(db.Model):
    """One try of a delivery: when, the HTTP status or error. The log shows every attempt."""

    __tablename__ = "webhook_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_delivery.id", ondelete="CASCADE"),
                                             index=True)
    number: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    http_status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(String(200), default="")
    delivered: Mapped[bool] = mapped_column(Boolean, default=False)

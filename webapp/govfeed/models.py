"""Feed entries (one per lead change, de-identified when made), the feed counter and pull tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
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

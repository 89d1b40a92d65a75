"""The on-duty roster (mediators', lawyers' shifts) and dispatches of dispute calls (调解员随警出动)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.leads.models import Lead
from webapp.org.models import User
from webapp.timeutil import UTCDateTime, utcnow


class DutyShift(db.Model):
    """One person on duty from `starts_at` to `ends_at` (UTC; shown in station time)."""

    __tablename__ = "duty_shift"
    __table_args__ = (Index("ix_duty_shift_station_window", "station_id", "starts_at", "ends_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[User] = relationship(foreign_keys=[user_id])


class CallState(enum.StrEnum):
    OFFERING = "offering"  # an offer waits for a mediator's answer
    ACCEPTED = "accepted"  # a mediator goes with the police
    SUPERVISORS = "supervisors"  # nobody (left) on duty: the supervisors were told


class OfferState(enum.StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    TIMED_OUT = "timed_out"


class DispatchCall(db.Model):
    """A dispute call (a 110 transfer) that needs a mediator on site: one per lead."""

    __tablename__ = "dispatch_call"

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), index=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"), unique=True)
    state: Mapped[str] = mapped_column(String(16), default=CallState.OFFERING.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    offers: Mapped[list[DispatchOffer]] = relationship(
        back_populates="call", cascade="all, delete-orphan", order_by="DispatchOffer.id")
    accepted_by: Mapped[User | None] = relationship(foreign_keys=[accepted_by_id])
    lead: Mapped[Lead] = relationship()


class DispatchOffer(db.Model):
    """The call offered to one person; at most one offer per call is open ("offered") at a time."""

    __tablename__ = "dispatch_offer"
    __table_args__ = (
        # Exactly one active offer per call, whatever races (a decline and the sweep's timeout).
        Index("uq_dispatch_offer_active", "call_id", unique=True,
              sqlite_where=text("state = 'offered'"), postgresql_where=text("state = 'offered'")),
        Index("ix_dispatch_offer_state_offered_at", "state", "offered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("dispatch_call.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 1 for the first person tried, then 2, …
    state: Mapped[str] = mapped_column(String(16), default=OfferState.OFFERED.value)
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(200), default="")

    call: Mapped[DispatchCall] = relationship(back_populates="offers")
    person: Mapped[User] = relationship()

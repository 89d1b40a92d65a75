"""A return visit: one attempt to check, after a lead was settled, that it stays settled."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.leads.models import Lead
from webapp.org.models import User
from webapp.timeutil import UTCDateTime, utcnow


class Result(enum.StrEnum):
    HOLDING = "holding"  # the settlement holds: the lead is closed
    RELAPSED = "relapsed"  # the dispute is back: the lead is reopened
    UNREACHABLE = "unreachable"  # nobody reached: another attempt, up to MAX_ATTEMPTS


class State(enum.StrEnum):
    PENDING = "pending"
    RECORDED = "recorded"
    CANCELLED = "cancelled"  # the lead moved on without it (reopened or closed another way)


class ReturnVisit(db.Model):
    __tablename__ = "return_visit"
    __table_args__ = (
        # One attempt of each number per settlement (cycle = the lead's reopen count then).
        UniqueConstraint("lead_id", "cycle", "attempt", name="uq_return_visit_attempt"),
        # "my work": a person's pending visits by due time; the sweep: pending ones by due time.
        Index("ix_return_visit_assignee_state_due", "assignee_id", "state", "due_at"),
        Index("ix_return_visit_state_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"))
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"), index=True)
    cycle: Mapped[int] = mapped_column(Integer, default=0)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    assignee_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16), default=State.PENDING.value)
    result: Mapped[str] = mapped_column(String(16), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    # Made on the phone when the visit is recorded: a replay of the same recording is applied once.
    uuid: Mapped[str | None] = mapped_column(String(36), unique=True)
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the phone's clock
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the server's
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lead: Mapped[Lead] = relationship()
    assignee: Mapped[User] = relationship(foreign_keys=[assignee_id])
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])

    @property
    def is_pending(self) -> bool:
        return self.state == State.PENDING.value

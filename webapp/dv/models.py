"""Warning letters, their deliveries and follow-up visits, and the per-station letter counter.

An issued letter is court evidence: no column of it changes after issue. A correction is a new
letter that names the one it supersedes (`supersedes_id`, unique: one correction per letter), so
whether a letter is superseded is read from its successor, never written on it.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.leads.models import Lead
from webapp.org.models import User
from webapp.timeutil import UTCDateTime, utcnow


class LetterStatus(enum.StrEnum):
    REQUESTED = "requested"
    REFUSED = "refused"
    APPROVED = "approved"
    ISSUED = "issued"


class LetterCounter(db.Model):
    """The last letter number given per station and year; taken with UPDATE … RETURNING in the
    issuing transaction, so numbers never repeat and a rolled-back issue gives its number back."""

    __tablename__ = "dv_letter_counter"

    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class WarningLetter(db.Model):
    __tablename__ = "dv_letter"
    __table_args__ = (
        UniqueConstraint("station_id", "number_year", "number_seq", name="uq_dv_letter_number"),
        # One issued correction per letter (two raced: the second issue fails and gives its number back).
        Index(
            "uq_dv_letter_supersedes_issued",
            "supersedes_id",
            unique=True,
            sqlite_where=text("status = 'issued'"),
            postgresql_where=text("status = 'issued'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), index=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=LetterStatus.REQUESTED.value)

    # The request: what the letter will say.
    abuser_name: Mapped[str] = mapped_column(String(64))
    abuser_id_number: Mapped[str] = mapped_column(String(32), default="")
    relationship_to_victim: Mapped[str] = mapped_column(String(32))
    victim_name: Mapped[str] = mapped_column(String(64))
    minors_in_household: Mapped[int] = mapped_column(Integer, default=0)
    police_ref: Mapped[str] = mapped_column(String(32), default="")  # the linked 110 number
    facts: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(String(255))  # comma-separated evidence codes
    evidence_note: Mapped[str] = mapped_column(String(1000), default="")
    # A correction: the issued letter this one replaces (kept, both linked).
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("dv_letter.id"), index=True)

    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refusal_reason: Mapped[str] = mapped_column(String(500), default="")

    # The issue: number, time and the stored PDF with its SHA-256.
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    number_year: Mapped[int | None] = mapped_column(Integer)
    number_seq: Mapped[int | None] = mapped_column(Integer)
    pdf_sha256: Mapped[str] = mapped_column(String(64), default="")
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)

    lead: Mapped[Lead] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])
    supersedes: Mapped[WarningLetter | None] = relationship(remote_side=[id], foreign_keys=[supersedes_id])
    deliveries: Mapped[list[Delivery]] = relationship(back_populates="letter", order_by="Delivery.id")
    followups: Mapped[list[FollowUp]] = relationship(back_populates="letter", order_by="FollowUp.due_on")

    @property
    def number(self) -> str:
        if self.number_seq is None:
            return ""
        return f"〔{self.number_year}〕第{self.number_seq:04d}号"

    @property
    def evidence_codes(self) -> list[str]:
        return [code for code in self.evidence.split(",") if code]

    @property
    def is_issued(self) -> bool:
        return self.status == LetterStatus.ISSUED


class Recipient(enum.StrEnum):
    ABUSER = "abuser"
    VICTIM = "victim"
    COMMITTEE = "committee"  # the residents' committee, notified


class Delivery(db.Model):
    """One delivery of an issued letter (or the residents' committee's notification)."""

    __tablename__ = "dv_delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)  # phone-made: a replay is one delivery
    letter_id: Mapped[int] = mapped_column(ForeignKey("dv_letter.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(16))  # in_person / with_witness / left_at_address
    outcome: Mapped[str] = mapped_column(String(16))  # signed / refused
    witness: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str] = mapped_column(String(1000), default="")
    delivered_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the phone's clock
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    photo: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)  # the signed receipt
    photo_sha256: Mapped[str] = mapped_column(String(64), default="")

    letter: Mapped[WarningLetter] = relationship(back_populates="deliveries")
    recorded_by: Mapped[User] = relationship()


class FollowUp(db.Model):
    """A scheduled follow-up visit (查访) after a letter, and what it found."""

    __tablename__ = "dv_followup"

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("dv_letter.id"), index=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"))
    due_on: Mapped[date] = mapped_column(Date, index=True)
    days_after: Mapped[int] = mapped_column(Integer)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)  # None: the task force
    by_committee: Mapped[bool] = mapped_column(Boolean, default=False)  # the residents' committee visits
    uuid: Mapped[str | None] = mapped_column(String(36), unique=True)  # of the recording, phone-made
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    recurred: Mapped[bool | None] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(1000), default="")

    letter: Mapped[WarningLetter] = relationship(back_populates="followups")
    lead: Mapped[Lead] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    done_by: Mapped[User | None] = relationship(foreign_keys=[done_by_id])

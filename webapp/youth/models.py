"""Sealed assistance profiles of at-risk minors, their assistance sessions, and outreach events.

Profiles and sessions are sealed: only the youth team and supervisors of the station ever reach
them (webapp/access/youth.py builds every query's WHERE clause). Outreach events hold no
personal data.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Date, ForeignKey, Index, Integer, SmallInteger, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.leads.models import Lead
from webapp.org.models import User
from webapp.timeutil import UTCDateTime, utcnow

# The minor leads a profile grew out of (a lead may concern several children, a child several leads).
profile_lead = Table(
    "youth_profile_lead",
    db.metadata,
    Column("profile_id", ForeignKey("youth_profile.id", ondelete="CASCADE"), primary_key=True),
    Column("lead_id", ForeignKey("lead.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class YouthProfile(db.Model):
    __tablename__ = "youth_profile"
    __table_args__ = (Index("ix_youth_profile_station_status", "station_id", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"))
    name: Mapped[str] = mapped_column(String(50))
    birth_year: Mapped[int] = mapped_column(SmallInteger)
    school: Mapped[str] = mapped_column(String(100), default="")
    grade: Mapped[str] = mapped_column(String(30), default="")
    guardian_name: Mapped[str] = mapped_column(String(50), default="")
    guardian_relation: Mapped[str] = mapped_column(String(30), default="")
    guardian_phone: Mapped[str] = mapped_column(String(20), default="")
    situation: Mapped[str] = mapped_column(Text)
    risk_factors: Mapped[str] = mapped_column(String(255), default="")  # comma-separated codes
    counsellor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    next_session_on: Mapped[date | None] = mapped_column(Date)

    status: Mapped[str] = mapped_column(String(16), default="open")  # open / closed
    closed_reason: Mapped[str] = mapped_column(String(16), default="")
    closed_note: Mapped[str] = mapped_column(String(500), default="")
    closed_on: Mapped[date | None] = mapped_column(Date)

    opened_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    counsellor: Mapped[User | None] = relationship(foreign_keys=[counsellor_id])
    opened_by: Mapped[User] = relationship(foreign_keys=[opened_by_id])
    leads: Mapped[list[Lead]] = relationship(secondary=profile_lead, order_by=Lead.id)
    sessions: Mapped[list[YouthSession]] = relationship(
        back_populates="profile", order_by="(YouthSession.held_on.desc(), YouthSession.id.desc())",
        cascade="all, delete-orphan")

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    @property
    def factor_codes(self) -> list[str]:
        return [code for code in self.risk_factors.split(",") if code]


class YouthSession(db.Model):
    """One assistance session: counselling, family education or a parent–child talk."""

    __tablename__ = "youth_session"
    __table_args__ = (Index("ix_youth_session_profile_held", "profile_id", "held_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)  # phone-made: a replay is one session
    profile_id: Mapped[int] = mapped_column(ForeignKey("youth_profile.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))
    counsellor_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    held_on: Mapped[date] = mapped_column(Date)
    duration_minutes: Mapped[int] = mapped_column(SmallInteger)
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    profile: Mapped[YouthProfile] = relationship(back_populates="sessions")
    counsellor: Mapped[User] = relationship(foreign_keys=[counsellor_id])


class OutreachEvent(db.Model):
    """A talk at a school or in the community (法治进校园 …): no personal data, only numbers."""

    __tablename__ = "outreach_event"
    __table_args__ = (Index("ix_outreach_event_station_held", "station_id", "held_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"))
    topic: Mapped[str] = mapped_column(String(24))
    held_on: Mapped[date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(200))
    audience: Mapped[int] = mapped_column(Integer)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

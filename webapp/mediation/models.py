"""Mediation cases (one case, one file), their people, sessions, guides, ticks and agreements."""

from __future__ import annotations

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
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.leads.models import Lead
from webapp.mediation.codes import CaseStatus
from webapp.org.models import User
from webapp.timeutil import UTCDateTime, utcnow


class MediatorProfile(db.Model):
    """What kind of mediator a person is. A prosecutor-mediator is a mediator with this flag, not a role."""

    __tablename__ = "mediator_profile"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    prosecutor: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship()


class MediationCase(db.Model):
    __tablename__ = "mediation_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), index=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id"), unique=True)  # one case, one file
    origin: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.OPEN.value)
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the parties agreed to mediate
    consent_note: Mapped[str] = mapped_column(String(500), default="")
    concluded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The method guide version shown in this case: its ticks count against this version.
    guide_id: Mapped[int | None] = mapped_column(ForeignKey("method_guide.id"))

    lead: Mapped[Lead] = relationship()
    opened_by: Mapped[User] = relationship()
    guide: Mapped[MethodGuide | None] = relationship()
    members: Mapped[list[CaseMember]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseMember.id"
    )
    refusals: Mapped[list[MediatorRefusal]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="MediatorRefusal.id"
    )
    sessions: Mapped[list[MediationSession]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="MediationSession.starts_at"
    )
    outcomes: Mapped[list[CaseOutcome]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseOutcome.id"
    )
    agreement: Mapped[Agreement | None] = relationship(back_populates="case", cascade="all, delete-orphan")

    @property
    def is_open(self) -> bool:
        return self.status == CaseStatus.OPEN


class CaseMember(db.Model):
    """A person of the station on the case: mediator, prosecutor-mediator, lawyer or officer."""

    __tablename__ = "mediation_member"
    __table_args__ = (
        UniqueConstraint("case_id", "user_id", "role"),
        Index("ix_mediation_member_user", "user_id", "case_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("mediation_case.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    role: Mapped[str] = mapped_column(String(16))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[MediationCase] = relationship(back_populates="members")
    # Members are listed with their names on every case view: load them together, not one by one.
    user: Mapped[User] = relationship(lazy="selectin")


class MediatorRefusal(db.Model):
    """A party refused this mediator: recorded, and they are never put on the case's sessions."""

    __tablename__ = "mediator_refusal"
    __table_args__ = (UniqueConstraint("case_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("mediation_case.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    party: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(500), default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[MediationCase] = relationship(back_populates="refusals")
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class MediationSession(db.Model):
    __tablename__ = "mediation_session"
    __table_args__ = (Index("ix_mediation_session_case", "case_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("mediation_case.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    place: Mapped[str] = mapped_column(String(16))
    place_detail: Mapped[str] = mapped_column(String(200), default="")
    video_url: Mapped[str] = mapped_column(String(500), default="")
    # 两官一律: the officer, the prosecutor-mediator and the lawyer named for this session.
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    prosecutor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    lawyer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    attendees: Mapped[str] = mapped_column(Text, default="")
    statements: Mapped[str] = mapped_column(Text, default="")
    private: Mapped[bool] = mapped_column(Boolean, default=False)  # a party asked to be heard alone
    result: Mapped[str] = mapped_column(String(16))
    terms: Mapped[str] = mapped_column(Text, default="")
    failure_reason: Mapped[str] = mapped_column(String(1000), default="")
    next_step: Mapped[str] = mapped_column(String(500), default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[MediationCase] = relationship(back_populates="sessions")
    officer: Mapped[User | None] = relationship(foreign_keys=[officer_id])
    prosecutor: Mapped[User | None] = relationship(foreign_keys=[prosecutor_id])
    lawyer: Mapped[User | None] = relationship(foreign_keys=[lawyer_id])


class CaseOutcome(db.Model):
    """Each conclusion of the case (a relapse reopens the lead, and the case with it): never edited."""

    __tablename__ = "mediation_outcome"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("mediation_case.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))  # resolved / failed / transferred
    code: Mapped[str] = mapped_column(String(32))  # how resolved, the route told, or where to
    note: Mapped[str] = mapped_column(String(500), default="")
    actor_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    case: Mapped[MediationCase] = relationship(back_populates="outcomes")


class MethodGuide(db.Model):
    """One version of a category's method guide. An edit adds a row; a version is never changed."""

    __tablename__ = "method_guide"
    __table_args__ = (UniqueConstraint("station_id", "category", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"))
    category: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(100))
    items: Mapped[str] = mapped_column(Text)  # one checklist item per line
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User] = relationship()

    @property
    def item_list(self) -> list[str]:
        return [line for line in self.items.splitlines() if line.strip()]


class GuideTick(db.Model):
    """A checklist item the mediator ticked in a case, against the guide version shown."""

    __tablename__ = "guide_tick"
    __table_args__ = (UniqueConstraint("case_id", "guide_id", "item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("mediation_case.id", ondelete="CASCADE"))
    guide_id: Mapped[int] = mapped_column(ForeignKey("method_guide.id"))
    item: Mapped[int] = mapped_column(Integer)  # index in that version's list
    ticked_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    ticked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Agreement(db.Model):
    """The written agreement (人民调解协议书). Once signed it is never changed; its PDF is kept."""

    __tablename__ = "mediation_agreement"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("mediation_case.id", ondelete="CASCADE"), unique=True)
    parties: Mapped[str] = mapped_column(Text)
    facts: Mapped[str] = mapped_column(Text)
    issues: Mapped[str] = mapped_column(Text)
    responsibilities: Mapped[str] = mapped_column(Text)
    terms: Mapped[str] = mapped_column(Text)
    performance: Mapped[str] = mapped_column(Text)  # how the terms are performed
    perform_by: Mapped[date] = mapped_column(Date)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    pdf_sha256: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[MediationCase] = relationship(back_populates="agreement")
    signatures: Mapped[list[AgreementSignature]] = relationship(
        back_populates="agreement", cascade="all, delete-orphan", order_by="AgreementSignature.id"
    )
    copies: Mapped[list[AgreementCopy]] = relationship(
        back_populates="agreement", cascade="all, delete-orphan", order_by="AgreementCopy.id"
    )
    performance_terms: Mapped[list[PerformanceTerm]] = relationship(
        back_populates="agreement", cascade="all, delete-orphan", order_by="PerformanceTerm.due_on"
    )

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None


class AgreementSignature(db.Model):
    __tablename__ = "agreement_signature"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("mediation_agreement.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(64))
    capacity: Mapped[str] = mapped_column(String(16))  # party / mediator
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)

    agreement: Mapped[Agreement] = relationship(back_populates="signatures")


class AgreementCopy(db.Model):
    """A copy handed to someone (each party gets one)."""

    __tablename__ = "agreement_copy"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("mediation_agreement.id", ondelete="CASCADE"), index=True
    )
    recipient: Mapped[str] = mapped_column(String(64))
    handed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    handed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))

    agreement: Mapped[Agreement] = relationship(back_populates="copies")


class PerformanceTerm(db.Model):
    """One thing a party must do by a date (履行监督): due and overdue ones reach the officer's work."""

    __tablename__ = "performance_term"
    __table_args__ = (Index("ix_performance_term_due", "done_at", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("mediation_agreement.id", ondelete="CASCADE"), index=True
    )
    description: Mapped[str] = mapped_column(String(500))
    due_on: Mapped[date] = mapped_column(Date)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_note: Mapped[str] = mapped_column(String(500), default="")

    agreement: Mapped[Agreement] = relationship(back_populates="performance_terms")

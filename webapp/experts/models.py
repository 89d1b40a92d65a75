"""The joint-mediation expert pool (联调智库): profiles, conflicts of interest per lead, a resident's
choice of expert, and invitations to a lead's mediation."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.leads.models import Lead
from webapp.org.models import User
from webapp.timeutil import UTCDateTime, utcnow


class Availability(enum.StrEnum):
    AVAILABLE = "available"
    BUSY = "busy"
    AWAY = "away"


class ConflictKind(enum.StrEnum):
    DECLARED = "declared"  # the expert declared it
    SAME_EMPLOYER = "same_employer"  # works for the same employer as a party
    RELATED = "related"  # related to a party


class Expert(db.Model):
    """A member of the pool: with an account (role expert) or a person without one."""

    __tablename__ = "expert"

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), unique=True)
    # Public profile: name, fields, short bio — nothing private.
    name: Mapped[str] = mapped_column(String(64))
    fields: Mapped[str] = mapped_column(String(400), default="")  # comma-separated category codes
    languages: Mapped[str] = mapped_column(String(100), default="")  # comma-separated language codes
    bio: Mapped[str] = mapped_column(String(300), default="")
    availability: Mapped[str] = mapped_column(String(16), default=Availability.AVAILABLE.value)
    # Private notes: supervisors only, phone masked.
    employer: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User | None] = relationship()

    @property
    def field_codes(self) -> list[str]:
        return [code for code in self.fields.split(",") if code]

    @property
    def language_codes(self) -> list[str]:
        return [code for code in self.languages.split(",") if code]


class ExpertConflict(db.Model):
    """A conflict of interest of one expert on one lead: that expert is never suggested for it."""

    __tablename__ = "expert_conflict"
    __table_args__ = (
        UniqueConstraint("expert_id", "lead_id", "kind", name="uq_expert_conflict_expert_lead_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("expert.id", ondelete="CASCADE"), index=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(200), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    expert: Mapped[Expert] = relationship()


class ExpertChoice(db.Model):
    """The expert a resident chose for their dispute (one per lead; a new choice replaces it)."""

    __tablename__ = "expert_choice"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"), unique=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("expert.id", ondelete="CASCADE"), index=True)
    chosen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    expert: Mapped[Expert] = relationship()


class ExpertInvitation(db.Model):
    """An expert invited to a lead's mediation (one case per lead), joining by a video link."""

    __tablename__ = "expert_invitation"
    __table_args__ = (UniqueConstraint("lead_id", "expert_id", name="uq_expert_invitation_lead_expert"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"), index=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("expert.id", ondelete="CASCADE"), index=True)
    video_link: Mapped[str] = mapped_column(String(300))
    meets_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the session time, if set
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lead: Mapped[Lead] = relationship()
    expert: Mapped[Expert] = relationship()

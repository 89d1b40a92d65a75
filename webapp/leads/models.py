"""Leads (dispute hazards) with their parties, photos and timeline."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.leads.codes import OPEN_STATUSES, UNGRADED_RANK, Status
from webapp.org.models import Community, Grid, User
from webapp.timeutil import UTCDateTime, utcnow


class Lead(db.Model):
    __tablename__ = "lead"
    __table_args__ = (
        # "my work": an assignee's active leads by risk and due time.
        Index("ix_lead_assignee_work", "assignee_id", "status", "risk_rank", "due_at"),
        # lists: newest first within a station / community (keyset pagination on id).
        Index("ix_lead_station_id_id", "station_id", "id"),
        Index("ix_lead_community_id_id", "community_id", "id"),
        Index("ix_lead_reporter_id_id", "reporter_id", "id"),
        # Queues and overdue counts within a station (measured at 500k leads: bench/README.md).
        Index("ix_lead_station_status_due", "station_id", "status", "due_at"),
        Index("ix_lead_supervised", "station_id", sqlite_where=text("supervised_until IS NOT NULL"),
              postgresql_where=text("supervised_until IS NOT NULL")),
        Index("ix_lead_source_ref", "source_ref"),
        # The dashboard's figures count a station's leads received in a period (bench/dashboard.py).
        Index("ix_lead_station_received", "station_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Made on the phone (or by the server for desk entries): replays of one report are one lead.
    # Unique and always set before the INSERT: SQLite's many-row INSERT returns the ids in order by
    # it, so a /sync batch's leads are one statement there too (docs/architecture.md, Sync in bulk).
    uuid: Mapped[str] = mapped_column(String(36), unique=True, insert_sentinel=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    source: Mapped[str] = mapped_column(String(32))
    source_ref: Mapped[str] = mapped_column(String(64), default="")
    category: Mapped[str] = mapped_column(String(32))
    subtype: Mapped[str] = mapped_column(String(32), default="")
    summary: Mapped[str] = mapped_column(Text)

    flag_dv: Mapped[bool] = mapped_column(Boolean, default=False)
    flag_minor: Mapped[bool] = mapped_column(Boolean, default=False)
    flag_watched: Mapped[bool] = mapped_column(Boolean, default=False)
    flag_repeat: Mapped[bool] = mapped_column(Boolean, default=False)
    flag_many_people: Mapped[bool] = mapped_column(Boolean, default=False)
    head_count: Mapped[int | None] = mapped_column(Integer)

    risk: Mapped[str | None] = mapped_column(String(8))
    risk_rank: Mapped[int] = mapped_column(SmallInteger, default=UNGRADED_RANK)
    # A grade made by the intake rules waits for a person's assessment (研判); this says it happened.
    risk_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    risk_factors: Mapped[str] = mapped_column(String(255), default="")  # comma-separated codes

    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id"))
    address: Mapped[str] = mapped_column(String(200), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    gps_accuracy_m: Mapped[float | None] = mapped_column(Float)

    reporter_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the phone's clock
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # the server's
    # Deadlines count from here: the receipt, or the last reopening.
    cycle_started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    status: Mapped[str] = mapped_column(String(16), default=Status.REGISTERED.value)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    returned_reason: Mapped[str] = mapped_column(String(500), default="")
    extension_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    extension_reason: Mapped[str] = mapped_column(String(500), default="")
    supervised_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    supervision_comment: Mapped[str] = mapped_column(String(500), default="")
    reopened_count: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str] = mapped_column(String(32), default="")  # how it was resolved / failed / moved
    outcome_note: Mapped[str] = mapped_column(String(500), default="")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("lead.id"), index=True)

    community: Mapped[Community | None] = relationship()
    grid: Mapped[Grid | None] = relationship()
    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    duplicate_of: Mapped[Lead | None] = relationship(remote_side=[id])
    parties: Mapped[list[LeadParty]] = relationship(
        back_populates="lead", cascade="all, delete-orphan", order_by="LeadParty.id"
    )
    photos: Mapped[list[LeadPhoto]] = relationship(
        back_populates="lead", cascade="all, delete-orphan", order_by="LeadPhoto.id"
    )
    events: Mapped[list[LeadEvent]] = relationship(
        back_populates="lead", cascade="all, delete-orphan", order_by="LeadEvent.id"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_compartmented(self) -> bool:
        return self.flag_dv or self.flag_minor

    @property
    def is_open(self) -> bool:
        return Status(self.status) in OPEN_STATUSES

    def is_overdue(self, now: datetime) -> bool:
        return self.is_open and self.due_at is not None and self.due_at < now

    @property
    def factor_codes(self) -> list[str]:
        return [code for code in self.risk_factors.split(",") if code]


class LeadParty(db.Model):
    """A person involved. Names, phones and ID numbers are masked unless a rule allows more."""

    __tablename__ = "lead_party"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64), default="", index=True)
    phone: Mapped[str] = mapped_column(String(32), default="", index=True)
    id_number: Mapped[str] = mapped_column(String(32), default="", index=True)
    relation: Mapped[str] = mapped_column(String(64), default="")

    lead: Mapped[Lead] = relationship(back_populates="parties")


class LeadPhoto(db.Model):
    """A downscaled JPEG with metadata stripped; kept in the database so every node serves it."""

    __tablename__ = "lead_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"), index=True)
    content_type: Mapped[str] = mapped_column(String(32), default="image/jpeg")
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the one EXIF fact a case needs
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)  # loaded only to serve it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lead: Mapped[Lead] = relationship(back_populates="photos")


class LeadEvent(db.Model):
    """The timeline: who did what, when. Never edited."""

    __tablename__ = "lead_event"
    # The dashboard counts leads that reached an outcome (resolved, failed, transferred) in a period.
    __table_args__ = (Index("ix_lead_event_to_status_at", "to_status", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"), index=True)
    # Set when the step came from a phone (online or replayed from its outbox): applied once.
    uuid: Mapped[str | None] = mapped_column(String(36), unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # None: the system
    kind: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str] = mapped_column(String(16), default="")
    to_status: Mapped[str] = mapped_column(String(16), default="")
    detail: Mapped[str] = mapped_column(Text, default="")  # JSON

    lead: Mapped[Lead] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class LeadSearch(db.Model):
    """The search tokens of a lead's summary and address (webapp/leads/search.py writes them).
    The migration adds what indexes them: a GIN index on PostgreSQL, an FTS5 table on SQLite."""

    __tablename__ = "lead_search"

    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"), primary_key=True,
                                         autoincrement=False)
    grams: Mapped[str] = mapped_column(Text().with_variant(TSVECTOR(), "postgresql"))


def compartmented(leads) -> list[int]:
    """The ids of the DV or minor leads among `leads`: what a list that shows them must audit."""
    return [lead.id for lead in leads if lead.is_compartmented]

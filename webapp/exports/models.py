"""A prepared export file: made by a job for one person, kept until it expires."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.timeutil import UTCDateTime, utcnow


class ExportFile(db.Model):
    """One large export: queued, built by the worker, downloadable by its owner only until `expires_at`."""

    __tablename__ = "export_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    fmt: Mapped[str] = mapped_column(String(8))  # xlsx or csv
    filters: Mapped[str] = mapped_column(Text, default="")  # JSON of the lead list's filters
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued, running, done, failed
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    data: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)  # loaded only to serve it

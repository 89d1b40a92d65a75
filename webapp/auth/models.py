"""Sign-in bookkeeping kept in the database, so every web node sees the same sessions and throttle."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.timeutil import UTCDateTime, utcnow


class UserSession(db.Model):
    """One signed-in browser (a phone, a desk PC): revocable on its own, or all of a person's at once.

    The session cookie and the remember cookie both carry this row's token (through flask-login's
    user id), so revoking the row ends both. Only a hash of the token is stored.
    """

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(64), default="")
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Revoked as a lost phone: when it next reaches the server it sends what it recorded before
    # `revoked_at`, then deletes everything Beatbook kept on it (see docs/architecture.md).
    wipe_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginThrottle(db.Model):
    """Failed sign-ins per key ("account:<name>", "device:<id>", "address:<ip>").

    Updated with one conditional UPDATE … RETURNING per attempt, so parallel guesses each see the
    count the others left and none gets past the limit.
    """

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    blocked_until: Mapped[datetime] = mapped_column(UTCDateTime)

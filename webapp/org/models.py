"""Organisation: the station, its communities and grids, and the people who work in them."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.extensions import db
from webapp.timeutil import UTCDateTime, utcnow


class Role(enum.StrEnum):
    """What a person does at the station. A person may hold several roles."""

    VOLUNTEER = "volunteer"
    OFFICER = "officer"
    MEDIATOR = "mediator"
    LAWYER = "lawyer"
    EXPERT = "expert"
    DV_TEAM = "dv_team"
    YOUTH_TEAM = "youth_team"
    SUPERVISOR = "supervisor"
    LIAISON = "liaison"
    ADMIN = "admin"


class CommunityKind(enum.StrEnum):
    PLAZA = "plaza"
    PEDESTRIAN_STREET = "pedestrian_street"
    NIGHT_MARKET = "night_market"
    RESIDENTIAL = "residential"
    MARKET = "market"
    OTHER = "other"


def new_figures_stamp() -> str:
    return uuid.uuid4().hex


class Station(db.Model):
    __tablename__ = "station"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    # Changes whenever a commit writes something the station's figures count (webapp/reports/cache.py).
    figures_stamp: Mapped[str] = mapped_column(String(32), default=new_figures_stamp,
                                               server_default="")

    communities: Mapped[list[Community]] = relationship(
        back_populates="station", order_by="Community.code"
    )


class Community(db.Model):
    """An area with one responsible community officer; its leads are routed to that officer."""

    __tablename__ = "community"

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    kind: Mapped[str] = mapped_column(String(32), default=CommunityKind.OTHER.value)
    # GeoJSON Polygon/MultiPolygon geometry (WGS84 lon/lat), used to route a GPS point.
    boundary: Mapped[str | None] = mapped_column(Text)
    officer_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", use_alter=True, ondelete="SET NULL"), index=True
    )

    station: Mapped[Station] = relationship(back_populates="communities")
    officer: Mapped[User | None] = relationship(foreign_keys=[officer_id])
    grids: Mapped[list[Grid]] = relationship(back_populates="community", order_by="Grid.code")


class Grid(db.Model):
    """A sub-area of a community (~300 households), looked after by a grid worker."""

    __tablename__ = "grid"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    boundary: Mapped[str | None] = mapped_column(Text)

    community: Mapped[Community] = relationship(back_populates="grids")


class User(UserMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), index=True)
    # Volunteers and grid workers belong to one community (and usually one grid).
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("community.id", ondelete="SET NULL"), index=True
    )
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id", ondelete="SET NULL"))
    in_volunteer_branch: Mapped[bool] = mapped_column(Boolean, default=False)
    # The volunteer-police party branch's secretary sees the branch's contribution figures.
    is_branch_secretary: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    title: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    locale: Mapped[str | None] = mapped_column(String(8))
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Counts "sign out everywhere"; the user_session rows are what ends sessions.
    session_generation: Mapped[int] = mapped_column(Integer, default=0)
    # Second factor (TOTP, RFC 6238) for supervisors and admins who enrolled; None = not enrolled.
    totp_secret: Mapped[str | None] = mapped_column(String(128))  # sealed: webapp/auth/totp.py
    # The last time step accepted: each code works once, even within its 30 seconds.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the person last opened their home: what arrived after it is shown as new (webapp/home).
    home_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    station: Mapped[Station] = relationship()
    community: Mapped[Community | None] = relationship(foreign_keys=[community_id])
    grid: Mapped[Grid | None] = relationship()
    role_grants: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(Role(grant.role) for grant in self.role_grants)

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    def set_roles(self, roles: set[Role]) -> None:
        current = {Role(g.role): g for g in self.role_grants}
        for role, grant in current.items():
            if role not in roles:
                self.role_grants.remove(grant)
        for role in roles - current.keys():
            self.role_grants.append(UserRole(role=role.value))

    def set_password(self, password: str) -> None:
        # scrypt with a per-password salt unless configured otherwise (the test suite uses a cheap
        # method: it creates hundreds of people, and the hash's cost is not what it tests).
        self.password_hash = generate_password_hash(
            password, method=current_app.config.get("BEATBOOK_PASSWORD_METHOD", "scrypt"))

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    # flask-login keeps this id in the session and remember cookies: it names the server-side
    # session (webapp.auth.services.start_session), so revoking that row ends both cookies.
    session_token = None  # set per request, never stored
    session_row_id = None

    def get_id(self) -> str:
        # Without a started session the id names none, and the loader refuses it.
        return f"{self.id}.{self.session_token or ''}"

    @property
    def is_active(self) -> bool:  # flask-login refuses sign-in for disabled accounts
        return self.is_enabled


class UserRole(db.Model):
    __tablename__ = "user_role"
    __table_args__ = (UniqueConstraint("user_id", "role", name="uq_user_role_user_id_role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32), index=True)

    user: Mapped[User] = relationship(back_populates="role_grants")


class GrantStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


class RoleGrant(db.Model):
    """A request to give someone a role that opens a compartment; a second person decides it."""

    __tablename__ = "role_grant"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default=GrantStatus.PENDING.value, index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

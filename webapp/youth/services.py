"""The youth team's work: open, keep and close sealed profiles, record sessions, keep outreach events.

Services flush, never commit (the request commits once). Every change to a sealed record is
written to the audit log in the same transaction; opening one is audited by the view.
"""

from __future__ import annotations

import uuid as uuid_module
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import selectinload

from webapp.access.leads import case_scope
from webapp.access.youth import outreach_scope, profile_scope
from webapp.audit.services import record as audit
from webapp.extensions import db
from webapp.leads.codes import ACTIVE_STATUSES
from webapp.leads.models import Lead
from webapp.org import services as org
from webapp.org.models import Role, Station, User
from webapp.timeutil import CLOCK_TOLERANCE, STATION_TZ, utcnow
from webapp.youth.codes import ClosedReason, SessionKind, Topic
from webapp.youth.models import OutreachEvent, YouthProfile, YouthSession

# A profile shows as "session due" this many days ahead.
DUE_WITHIN_DAYS = 7


class YouthError(ValueError):
    """A rule of the youth team's work refused the change; `field` names the form field (or "")."""

    def __init__(self, field: str, code: str):
        super().__init__(code)
        self.field = field
        self.code = code


def station_today() -> date:
    return utcnow().astimezone(STATION_TZ).date()


def counsellors(station: Station) -> list[User]:
    """Who may be named as a profile's or a session's counsellor: the station's youth team."""
    return org.people_with_role(station, Role.YOUTH_TEAM)


def _counsellor(station_id: int, counsellor_id: int | None) -> User | None:
    if counsellor_id is None:
        return None
    person = db.session.get(User, counsellor_id)
    if (person is None or person.station_id != station_id or not person.is_enabled
            or not person.has_role(Role.YOUTH_TEAM)):
        raise YouthError("counsellor_id", "not_a_counsellor")
    return person


# --- profiles ----------------------------------------------------------------------------------------


@dataclass
class ProfileInput:
    name: str
    birth_year: int
    situation: str
    school: str = ""
    grade: str = ""
    guardian_name: str = ""
    guardian_relation: str = ""
    guardian_phone: str = ""
    risk_factors: set[str] = field(default_factory=set)
    counsellor_id: int | None = None
    next_session_on: date | None = None


def _apply(profile: YouthProfile, data: ProfileInput) -> None:
    profile.name = data.name.strip()
    profile.birth_year = data.birth_year
    profile.school = data.school.strip()
    profile.grade = data.grade.strip()
    profile.guardian_name = data.guardian_name.strip()
    profile.guardian_relation = data.guardian_relation.strip()
    profile.guardian_phone = data.guardian_phone.strip()
    profile.situation = data.situation.strip()
    profile.risk_factors = ",".join(sorted(data.risk_factors))
    profile.counsellor = _counsellor(profile.station_id, data.counsellor_id)
    profile.next_session_on = data.next_session_on


def open_profile(actor: User, data: ProfileInput) -> YouthProfile:
    profile = YouthProfile(station_id=actor.station_id, opened_by=actor, opened_at=utcnow(), status="open")
    _apply(profile, data)
    db.session.add(profile)
    db.session.flush()
    audit(actor, "open", "youth_profile", profile.id)
    return profile


def update_profile(actor: User, profile: YouthProfile, data: ProfileInput, version: int | None) -> None:
    """Change a profile's facts; a form made from an older version is refused (never overwrites)."""
    if version != profile.version:
        raise YouthError("", "stale")
    _apply(profile, data)
    profile.version += 1
    db.session.flush()
    audit(actor, "update", "youth_profile", profile.id)


def close_profile(actor: User, profile: YouthProfile, reason: str, note: str, closed_on: date) -> None:
    if not profile.is_open:
        raise YouthError("", "closed_already")
    if reason not in set(ClosedReason):
        raise YouthError("reason", "unknown_reason")
    profile.status = "closed"
    profile.closed_reason = reason
    profile.closed_note = note.strip()
    profile.closed_on = closed_on
    profile.next_session_on = None
    profile.version += 1
    db.session.flush()
    audit(actor, "close", "youth_profile", profile.id, reason=reason)


def link_lead(actor: User, profile: YouthProfile, lead_id: int) -> Lead:
    """Link a minor lead the actor may open as a case (anything else: "no such minor lead")."""
    lead = db.session.scalar(select(Lead).where(Lead.id == lead_id, Lead.flag_minor, case_scope(actor)))
    if lead is None or lead.station_id != profile.station_id:
        raise YouthError("lead_id", "no_such_lead")
    if lead not in profile.leads:
        profile.leads.append(lead)
        db.session.flush()
        audit(actor, "link_lead", "youth_profile", profile.id, lead=lead.id)
    return lead


# --- sessions ----------------------------------------------------------------------------------------


@dataclass
class SessionInput:
    kind: str
    counsellor_id: int | None
    held_on: date
    duration_minutes: int
    notes: str = ""
    next_session_on: date | None = None
    uuid: str | None = None
    recorded_at: datetime | None = None


def record_session(actor: User, profile: YouthProfile, data: SessionInput) -> tuple[YouthSession, bool]:
    """Return (session, created). A replay of the same phone-made id on the same profile is the
    same session; the id used for anything else is refused."""
    if data.uuid:
        existing = db.session.scalar(select(YouthSession).where(YouthSession.uuid == data.uuid))
        if existing is not None:
            if existing.profile_id != profile.id or existing.recorded_by_id != actor.id:
                raise YouthError("uuid", "uuid_taken")
            return existing, False
    if not profile.is_open:
        raise YouthError("", "closed_already")
    if data.kind not in set(SessionKind):
        raise YouthError("kind", "unknown_kind")
    counsellor = _counsellor(profile.station_id, data.counsellor_id) or actor
    now = utcnow()
    session = YouthSession(
        uuid=data.uuid or str(uuid_module.uuid4()), profile=profile, kind=data.kind, counsellor=counsellor,
        held_on=data.held_on, duration_minutes=data.duration_minutes, notes=data.notes.strip(),
        recorded_by_id=actor.id, recorded_at=min(data.recorded_at or now, now + CLOCK_TOLERANCE),
        received_at=now)
    db.session.add(session)
    if data.next_session_on is not None:
        profile.next_session_on = data.next_session_on
    elif profile.next_session_on is not None and profile.next_session_on <= data.held_on:
        profile.next_session_on = None  # the session that was due took place
    profile.version += 1
    db.session.flush()
    audit(actor, "record_session", "youth_profile", profile.id, session=session.id)
    return session, True


# --- outreach events ---------------------------------------------------------------------------------


@dataclass
class OutreachInput:
    topic: str
    held_on: date
    place: str
    audience: int


def save_outreach(actor: User, event: OutreachEvent | None, data: OutreachInput) -> OutreachEvent:
    if data.topic not in set(Topic):
        raise YouthError("topic", "unknown_topic")
    if event is None:
        event = OutreachEvent(station_id=actor.station_id, created_by_id=actor.id, created_at=utcnow())
        db.session.add(event)
    event.topic, event.held_on = data.topic, data.held_on
    event.place, event.audience = data.place.strip(), data.audience
    db.session.flush()
    return event


def delete_outreach(event: OutreachEvent) -> None:
    db.session.delete(event)
    db.session.flush()


# --- lists, all from the viewer's scope ------------------------------------------------------------


def profile_list(viewer: User, q: str = "", status: str = "open", limit: int = 200) -> list[YouthProfile]:
    statement = select(YouthProfile).where(profile_scope(viewer))
    if status in ("open", "closed"):
        statement = statement.where(YouthProfile.status == status)
    words = q.strip()
    if words:
        pattern = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(or_(YouthProfile.name.like(pattern, escape="\\"),
                                        YouthProfile.school.like(pattern, escape="\\")))
    return list(db.session.scalars(
        statement.options(selectinload(YouthProfile.counsellor))
        .order_by(YouthProfile.next_session_on.is_(None), YouthProfile.next_session_on,
                  YouthProfile.id.desc())
        .limit(limit)))


def sessions_due(viewer: User, today: date, within_days: int = DUE_WITHIN_DAYS) -> list[YouthProfile]:
    """Open profiles whose next session is due within `within_days` (or overdue), soonest first."""
    return list(db.session.scalars(
        select(YouthProfile).where(profile_scope(viewer), YouthProfile.status == "open",
                                   YouthProfile.next_session_on <= today + timedelta(days=within_days))
        .options(selectinload(YouthProfile.counsellor))
        .order_by(YouthProfile.next_session_on, YouthProfile.id)))


def minor_leads_to_act_on(viewer: User, now: datetime, limit: int = 50) -> list[Lead]:
    """Minor leads the viewer may open as a case that still need someone: overdue first."""
    overdue_first = case((Lead.due_at < now, 0), else_=1)
    return list(db.session.scalars(
        select(Lead).where(case_scope(viewer), Lead.flag_minor,
                           Lead.status.in_([status.value for status in ACTIVE_STATUSES]))
        .options(selectinload(Lead.community))
        .order_by(overdue_first, Lead.risk_rank, Lead.due_at.is_(None), Lead.due_at, Lead.id)
        .limit(limit)))


def outreach_list(viewer: User, limit: int = 200) -> list[OutreachEvent]:
    return list(db.session.scalars(
        select(OutreachEvent).where(outreach_scope(viewer))
        .order_by(OutreachEvent.held_on.desc(), OutreachEvent.id.desc()).limit(limit)))


def upcoming_outreach(viewer: User, today: date, limit: int = 10) -> list[OutreachEvent]:
    return list(db.session.scalars(
        select(OutreachEvent).where(outreach_scope(viewer), OutreachEvent.held_on >= today)
        .order_by(OutreachEvent.held_on, OutreachEvent.id).limit(limit)))


def open_profile_count(viewer: User) -> int:
    return db.session.scalar(select(func.count()).select_from(YouthProfile)
                             .where(profile_scope(viewer), YouthProfile.status == "open")) or 0

"""Lead intake: register in full, grade, route, detect repeats, announce. One path for every channel.

The desk form, the volunteer's quick form and the phone's outbox replay all call `register_lead`;
replaying the same UUID any number of times yields the one lead it made first.
"""

from __future__ import annotations

import re
import uuid as uuid_module
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import g
from sqlalchemy import func, or_, select

from webapp.extensions import db, is_staging, once_flushed
from webapp.leads.codes import (
    SOURCES_WITH_REFERENCE,
    UNGRADED_RANK,
    Risk,
    Source,
    Status,
)
from webapp.leads.deadlines import Deadline, due_at
from webapp.leads.events import lead_registered
from webapp.leads.grading import bump, factors_from_flags, set_risk, suggest_grade
from webapp.leads.models import Lead, LeadParty, LeadPhoto
from webapp.leads.photos import CleanPhoto, clean_photo
from webapp.leads.routing import Route, route
from webapp.leads.timeline import add_event
from webapp.org.models import Community, Grid, Role, Station, User
from webapp.timeutil import CLOCK_TOLERANCE, utcnow

# A report about the same household or person within this window counts towards "repeat calls".
REPEAT_WINDOW = timedelta(days=30)
REPEAT_THRESHOLD = 3  # the third lead on the same household or party
__all__ = ["CLOCK_TOLERANCE", "IntakeError", "IntakeResult", "LeadInput", "PartyInput", "register_lead",
           "possible_duplicates", "look_up_uuids", "lead_with_uuid"]
_BY_UUID = "beatbook_leads_by_uuid"  # g: phone-made id → the lead it made (None: none yet)


class IntakeError(ValueError):
    """The input breaks an intake rule; `field` names the form field to show it on."""

    def __init__(self, field: str, code: str):
        super().__init__(code)
        self.field = field
        self.code = code


@dataclass
class PartyInput:
    role: str
    name: str = ""
    phone: str = ""
    id_number: str = ""
    relation: str = ""


@dataclass
class LeadInput:
    source: Source
    category: str
    summary: str
    uuid: str | None = None
    source_ref: str = ""
    subtype: str = ""
    flag_dv: bool = False
    flag_minor: bool = False
    flag_watched: bool = False
    flag_many_people: bool = False
    head_count: int | None = None
    risk: Risk | None = None  # chosen at the desk; None lets the intake rules grade
    risk_factors: set[str] = field(default_factory=set)
    community: Community | None = None
    grid: Grid | None = None
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    gps_accuracy_m: float | None = None
    recorded_at: datetime | None = None
    visit_id: int | None = None
    parties: list[PartyInput] = field(default_factory=list)
    photos: list[bytes] = field(default_factory=list)


@dataclass(frozen=True)
class IntakeResult:
    lead: Lead
    created: bool  # False: this UUID was registered before (a replay)


def normalise_address(address: str) -> str:
    return re.sub(r"[\s,，.。#号-]+", "", address).lower()


def count_related_leads(station: Station, data: LeadInput, since: datetime) -> int:
    """Leads in the window about the same household (address) or the same party (phone, ID)."""
    conditions = []
    household = normalise_address(data.address)
    if household and data.community is not None:
        same_place = select(Lead.id, Lead.address).where(
            Lead.station_id == station.id, Lead.community_id == data.community.id,
            Lead.received_at >= since, Lead.duplicate_of_id.is_(None),
        )
        matching = [row.id for row in db.session.execute(same_place)
                    if normalise_address(row.address) == household]
        if matching:
            conditions.append(Lead.id.in_(matching))
    phones = {p.phone for p in data.parties if p.phone}
    ids = {p.id_number for p in data.parties if p.id_number}
    if phones or ids:
        party_match = select(LeadParty.lead_id).where(
            or_(LeadParty.phone.in_(phones), LeadParty.id_number.in_(ids))
        )
        conditions.append(Lead.id.in_(party_match))
    stored = 0
    if conditions:
        stored = db.session.scalar(
            select(func.count(Lead.id.distinct())).where(
                Lead.station_id == station.id, Lead.received_at >= since,
                Lead.duplicate_of_id.is_(None), or_(*conditions),
            )
        ) or 0
    return stored + _related_in_batch(station, data, household, phones, ids, since)


def _related_in_batch(station: Station, data: LeadInput, household: str, phones: set[str], ids: set[str],
                      since: datetime) -> int:
    """Leads this /sync batch registered before this one, not written yet (one flush per batch):
    three reports on one household in one batch are a repeat as in three batches."""
    if not is_staging():
        return 0
    count = 0
    for other in db.session.new:
        if (not isinstance(other, Lead) or other.station_id != station.id or other.received_at < since
                or other.duplicate_of_id is not None):
            continue
        same_household = (household and data.community is not None and other.community is not None
                          and other.community.id == data.community.id
                          and normalise_address(other.address) == household)
        same_party = any(p.phone in phones or p.id_number in ids for p in other.parties)
        count += bool(same_household or same_party)
    return count


def validate(data: LeadInput) -> None:
    if data.source in SOURCES_WITH_REFERENCE and not data.source_ref.strip():
        raise IntakeError("source_ref", "reference_required")
    if data.flag_many_people and not data.head_count:
        raise IntakeError("head_count", "head_count_required")
    if data.grid is not None and data.community is not None and data.grid.community_id != data.community.id:
        raise IntakeError("grid", "grid_outside_community")
    if (data.latitude is None) != (data.longitude is None):
        raise IntakeError("latitude", "incomplete_position")


def register_lead(reporter: User, data: LeadInput, deadlines: dict[Risk, Deadline],
                  max_photo_bytes: int) -> IntakeResult:
    """Register a lead in full, grade it, route it and announce it (leads' alerts tell the people
    who must know). Idempotent on `data.uuid`. Raises IntakeError (or PhotoError) and stores
    nothing when the input breaks a rule.
    """
    earlier = _registered_before(reporter, data.uuid)
    if earlier is not None:
        return IntakeResult(earlier, created=False)
    validate(data)
    photos = [clean_photo(raw, max_photo_bytes) for raw in data.photos]
    now = utcnow()
    destination = route(reporter.station, data.community, data.grid, data.longitude, data.latitude)
    lead = _register_in_full(reporter, data, destination, photos, now)
    _grade_on_intake(lead, reporter, data, deadlines, now)
    _route(lead, destination, now)
    _share_with_teams(lead, now)
    db.session.add(lead)
    if (known := g.get(_BY_UUID)) is not None:  # a /sync batch's look-up: a replay in it finds this
        known[lead.uuid] = lead
    # One INSERT with the lead as routed; the listeners need its id: they run after the flush (in a
    # /sync batch, after the batch's one flush).
    once_flushed(lambda: lead_registered.send(lead, routed=destination.routable, at=now))
    return IntakeResult(lead, created=True)


def look_up_uuids(uuids: list[str]) -> None:
    """Read (again) the leads these phone-made ids made, in one query: a /sync batch asks for 50."""
    found = {lead.uuid: lead for lead in db.session.scalars(select(Lead).where(Lead.uuid.in_(uuids)))}
    known = g.setdefault(_BY_UUID, {})
    for uuid in uuids:
        known[uuid] = found.get(uuid)


def lead_with_uuid(uuid: str) -> Lead | None:
    """The lead this phone-made id made, if any (from this request's look-up when it had one)."""
    known = g.get(_BY_UUID, {})
    if uuid in known:
        return known[uuid]
    return db.session.scalar(select(Lead).where(Lead.uuid == uuid))


def _registered_before(reporter: User, uuid: str | None) -> Lead | None:
    """The lead this phone-made UUID already made (a replay), if any; another person's is refused."""
    if not uuid:
        return None
    existing = lead_with_uuid(uuid)
    if existing is not None and existing.reporter_id != reporter.id:
        raise IntakeError("uuid", "uuid_taken")
    return existing


def _register_in_full(reporter: User, data: LeadInput, destination: Route,
                      photos: list[CleanPhoto], now: datetime) -> Lead:
    """Everything reported, as reported (全量登记): nothing is discarded."""
    lead = Lead(
        uuid=data.uuid or str(uuid_module.uuid4()), station_id=reporter.station_id, source=data.source.value,
        source_ref=data.source_ref.strip(), category=data.category, subtype=data.subtype,
        summary=data.summary.strip(), flag_dv=data.flag_dv, flag_minor=data.flag_minor,
        flag_watched=data.flag_watched, flag_many_people=data.flag_many_people,
        head_count=data.head_count if data.flag_many_people else None,
        community=destination.community, grid=destination.grid, address=data.address.strip(),
        latitude=data.latitude, longitude=data.longitude, gps_accuracy_m=data.gps_accuracy_m,
        reporter_id=reporter.id, visit_id=data.visit_id,
        recorded_at=min(data.recorded_at or now, now + CLOCK_TOLERANCE),
        received_at=now, cycle_started_at=now, status=Status.REGISTERED.value,
        risk_rank=UNGRADED_RANK,
    )
    # Assigned even when empty: a new lead's untouched list is read back from the database after
    # the flush (the feed's entry lists the parties), one statement per synced report.
    lead.parties = [LeadParty(role=party.role, name=party.name.strip(), phone=party.phone.strip(),
                              id_number=party.id_number.strip().upper(), relation=party.relation.strip())
                    for party in data.parties]
    for photo in photos:
        lead.photos.append(LeadPhoto(width=photo.width, height=photo.height, size=len(photo.data),
                                     sha256=photo.sha256, taken_at=photo.taken_at, data=photo.data))
    add_event(lead, reporter, "registered", to_status=Status.REGISTERED.value, at=now,
              source=data.source.value)
    return lead


def _grade_on_intake(lead: Lead, reporter: User, data: LeadInput, deadlines: dict[Risk, Deadline],
                     now: datetime) -> None:
    """The desk's choice is an assessment; otherwise the intake rules give a first grade, so the
    deadline starts at once. A third lead on the same household or party raises it one level."""
    factors = set(data.risk_factors) | factors_from_flags(
        dv=data.flag_dv, minor=data.flag_minor, watched=data.flag_watched,
        many_people=data.flag_many_people, head_count=data.head_count,
    )
    grade = data.risk or suggest_grade(data.category, data.subtype, factors)
    if _is_repeat(reporter.station, data, lead.community, now):
        lead.flag_repeat = True
        factors.add("repeat_calls")
        grade = bump(grade)
    confirmed = data.risk is not None
    set_risk(lead, grade, factors, confirmed)
    lead.status = Status.GRADED.value
    add_event(lead, reporter if confirmed else None, "graded", Status.REGISTERED.value,
              Status.GRADED.value, at=now, risk=grade.value, factors=sorted(factors),
              repeat=lead.flag_repeat, by_rules=not confirmed)
    lead.due_at = due_at(deadlines, lead.risk, now)


def _is_repeat(station: Station, data: LeadInput, community: Community | None, now: datetime) -> bool:
    """Is this the third lead on the same household or party within the window?"""
    if community is None and not data.parties:
        return False
    return count_related_leads(station, data, now - REPEAT_WINDOW) + 1 >= REPEAT_THRESHOLD


def _route(lead: Lead, destination: Route, now: datetime) -> None:
    """To the responsible officer, or into the supervisors' intake queue."""
    if not destination.routable:
        add_event(lead, None, "unroutable", at=now, matched_by=destination.matched_by)
        return
    lead.status = Status.ASSIGNED.value
    lead.assignee = destination.officer
    lead.assigned_at = now
    add_event(lead, None, "assigned", Status.GRADED.value, Status.ASSIGNED.value, at=now,
              assignee=destination.officer.display_name, matched_by=destination.matched_by)


def _share_with_teams(lead: Lead, now: datetime) -> None:
    """DV leads are the task force's too, minors' the youth team's (their compartments)."""
    if lead.flag_dv:
        add_event(lead, None, "shared_with_team", at=now, team=Role.DV_TEAM.value)
    if lead.flag_minor:
        add_event(lead, None, "shared_with_team", at=now, team=Role.YOUTH_TEAM.value)


def possible_duplicates(lead: Lead, scope, window: timedelta = REPEAT_WINDOW, limit: int = 5) -> list[Lead]:
    """Other recent leads the viewer may see (`scope`) that may be the same matter:
    the same party phone or name, or the same address in the same community."""
    since = lead.received_at - window
    conditions = []
    phones = {p.phone for p in lead.parties if p.phone}
    names = {p.name for p in lead.parties if len(p.name) >= 2}
    if phones or names:
        conditions.append(Lead.id.in_(select(LeadParty.lead_id).where(
            or_(LeadParty.phone.in_(phones), LeadParty.name.in_(names)))))
    if lead.address and lead.community_id:
        conditions.append((Lead.community_id == lead.community_id) & (Lead.address == lead.address))
    if not conditions:
        return []
    return list(db.session.scalars(
        select(Lead).where(
            Lead.station_id == lead.station_id, Lead.id != lead.id, Lead.received_at >= since,
            Lead.duplicate_of_id.is_(None), or_(*conditions), scope,
        ).order_by(Lead.id.desc()).limit(limit)
    ))

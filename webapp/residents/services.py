"""Online acceptance: a resident's dispute becomes a lead through the same intake as every other
channel (source "online"), and the resident gets a case code to follow it in plain words.

The code is long and random (192 bits, URL-safe); only its SHA-256 is stored, so the database
cannot give codes away. Progress shows a plain state and a date — nothing else of the case.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db
from webapp.leads.codes import Source, Status
from webapp.leads.deadlines import parse_deadlines
from webapp.leads.models import Lead, LeadEvent
from webapp.leads.services import LeadInput, PartyInput, register_lead
from webapp.org import services as org
from webapp.org.models import Community, Station, User
from webapp.residents.models import OnlineSubmission
from webapp.timeutil import STATION_TZ

CODE_BYTES = 24  # 192 bits of randomness; 32 URL-safe characters
DESK_NAME = "网上受理"


class State(enum.StrEnum):
    """What a resident sees of their case."""

    RECEIVED = "received"
    BEING_HANDLED = "being_handled"
    MEDIATION = "mediation"
    RESOLVED = "resolved"
    REFERRED = "referred"  # mediation failed or moved to another body: the resident is told where
    CLOSED = "closed"


STATE_OF_STATUS = {
    Status.REGISTERED: State.RECEIVED, Status.GRADED: State.RECEIVED, Status.ASSIGNED: State.RECEIVED,
    Status.ACCEPTED: State.BEING_HANDLED, Status.IN_MEDIATION: State.MEDIATION,
    Status.RESOLVED: State.RESOLVED, Status.MONITORING: State.RESOLVED, Status.RETURN_VISIT: State.RESOLVED,
    Status.FAILED: State.REFERRED, Status.TRANSFERRED: State.REFERRED, Status.CLOSED: State.CLOSED,
}


@dataclass(frozen=True)
class Submission:
    category: str
    description: str
    name: str
    phone: str
    community: Community | None = None
    address: str = ""
    expert_id: int | None = None  # the seam for the expert pool: not stored yet


@dataclass(frozen=True)
class ProgressView:
    state: State
    on: date  # the day the case last changed state


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8", "replace")).hexdigest()


def online_desk(station: Station) -> User:
    """The station's online-acceptance desk: the "reporter" of online leads. It has no role and
    cannot sign in (disabled); it only names the channel on the lead's timeline."""
    username = f"online-desk-{station.id}"
    desk = db.session.scalar(select(User).where(User.username == username))
    if desk is not None:
        return desk
    try:
        with db.session.begin_nested():
            desk = org.create_user(station, username=username, display_name=DESK_NAME,
                                   password=secrets.token_urlsafe(32), roles=set())
            desk.is_enabled = False
            db.session.flush()
    except IntegrityError:  # made a moment ago by a parallel submission
        desk = db.session.scalar(select(User).where(User.username == username))
    return desk


def submit(station: Station, data: Submission, code: str | None = None) -> tuple[Lead, str]:
    """Register the resident's dispute as a lead (routed like any other); returns it and the code
    (shown once). Raises IntakeError and stores nothing when an intake rule is broken.
    `code` is for the demo station's published sample codes only; residents always get a fresh one."""
    community = data.community
    if community is not None and community.station_id != station.id:
        community = None
    phone = data.phone.replace(" ", "").replace("-", "")
    result = register_lead(online_desk(station), LeadInput(
        source=Source.ONLINE, category=data.category, summary=data.description,
        community=community, address=data.address,
        parties=[PartyInput(role="applicant", name=data.name, phone=phone)],
    ), parse_deadlines(current_app.config["BEATBOOK_DEADLINES"]), 0)
    code = code or secrets.token_urlsafe(CODE_BYTES)
    db.session.add(OnlineSubmission(lead_id=result.lead.id, code_hash=code_hash(code)))
    db.session.flush()
    return result.lead, code


def looks_like_code(code: str) -> bool:
    return 20 <= len(code) <= 64 and all(c.isascii() and (c.isalnum() or c in "-_") for c in code)


def progress(code: str) -> ProgressView | None:
    """The plain state of the case with this code, or None for an unknown code."""
    if not looks_like_code(code):
        return None
    submission = db.session.scalar(
        select(OnlineSubmission).where(OnlineSubmission.code_hash == code_hash(code)))
    if submission is None:
        return None
    lead = submission.lead
    state = State.BEING_HANDLED if lead.duplicate_of_id is not None else STATE_OF_STATUS[Status(lead.status)]
    changed: datetime = db.session.scalar(
        select(LeadEvent.at).where(LeadEvent.lead_id == lead.id, LeadEvent.to_status != "")
        .order_by(LeadEvent.id.desc()).limit(1)) or lead.received_at
    return ProgressView(state, changed.astimezone(STATION_TZ).date())

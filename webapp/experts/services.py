"""The expert pool's rules: profiles, search and suggestion (never an expert with a conflict on
the lead), conflicts of interest, a resident's choice, and invitations to a lead's mediation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, literal, or_, select
from sqlalchemy.orm import selectinload

from webapp import notices
from webapp.experts.models import (
    Availability,
    ConflictKind,
    Expert,
    ExpertChoice,
    ExpertConflict,
    ExpertInvitation,
)
from webapp.extensions import db
from webapp.leads.codes import CATEGORY_LABELS
from webapp.leads.models import Lead
from webapp.org.models import Role, Station, User
from webapp.timeutil import utcnow

LANGUAGE_LABELS = {
    "mandarin": _l("Mandarin"),
    "dialect": _l("Local dialect"),
    "english": _l("English"),
    "japanese": _l("Japanese"),
    "korean": _l("Korean"),
    "sign": _l("Sign language"),
}
AVAILABILITY_LABELS = {
    Availability.AVAILABLE: _l("Available"),
    Availability.BUSY: _l("Busy"),
    Availability.AWAY: _l("Away"),
}
CONFLICT_LABELS = {
    ConflictKind.DECLARED: _l("Declared by the expert"),
    ConflictKind.SAME_EMPLOYER: _l("Same employer as a party"),
    ConflictKind.RELATED: _l("Related to a party"),
}

INVITED = "expert_invited"
notices.register_kinds({INVITED: _l("You are invited to a mediation")})


class ExpertError(Exception):
    """A rule of the pool was broken; the message is shown to the person (field: the form field)."""

    def __init__(self, field: str, message: object):
        super().__init__(str(message))
        self.field = field
        self.message = message


@dataclass
class ExpertInput:
    name: str
    fields: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    bio: str = ""
    availability: str = Availability.AVAILABLE.value
    employer: str = ""
    phone: str = ""
    user: User | None = None


def _check(station: Station, data: ExpertInput, expert: Expert | None) -> None:
    if not data.name.strip():
        raise ExpertError("name", _l("A name is required."))
    if not data.fields or set(data.fields) - set(CATEGORY_LABELS):
        raise ExpertError("fields", _l("Choose at least one field of expertise from the list."))
    if set(data.languages) - set(LANGUAGE_LABELS):
        raise ExpertError("languages", _l("Choose languages from the list."))
    if data.availability not in {a.value for a in Availability}:
        raise ExpertError("availability", _l("Choose an availability from the list."))
    if data.user is not None:
        if data.user.station_id != station.id or not data.user.has_role(Role.EXPERT):
            raise ExpertError("user_id", _l("The account must be an expert of this station."))
        taken = db.session.scalar(select(Expert.id).where(Expert.user_id == data.user.id))
        if taken is not None and (expert is None or taken != expert.id):
            raise ExpertError("user_id", _l("This account already has a profile."))


def save_expert(station: Station, expert: Expert | None, data: ExpertInput) -> Expert:
    """Create (expert None) or update a profile."""
    _check(station, data, expert)
    if expert is None:
        expert = Expert(station_id=station.id)
        db.session.add(expert)
    expert.name = data.name.strip()
    expert.fields = ",".join(sorted(set(data.fields)))
    expert.languages = ",".join(sorted(set(data.languages)))
    expert.bio = data.bio.strip()
    expert.availability = data.availability
    expert.employer = data.employer.strip()
    expert.phone = data.phone.strip()
    expert.user_id = data.user.id if data.user is not None else None
    db.session.flush()
    return expert


def _has(column, code: str):
    # Codes are stored comma-separated; wrapping both in commas matches whole codes only.
    return (literal(",") + column + ",").like(f"%,{code},%")


def search_experts(station: Station, *, category: str | None = None, language: str | None = None,
                   availability: str | None = None, lead: Lead | None = None, query: str = "",
                   limit: int = 100) -> list[Expert]:
    """The station's experts matching every filter given, available ones first. With `lead`, an
    expert with any conflict of interest on it is left out — the one rule suggestion never breaks."""
    conditions = [Expert.station_id == station.id]
    if category:
        conditions.append(_has(Expert.fields, category))
    if language:
        conditions.append(_has(Expert.languages, language))
    if availability:
        conditions.append(Expert.availability == availability)
    if query:
        like = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(or_(Expert.name.like(like, escape="\\"), Expert.bio.like(like, escape="\\")))
    if lead is not None:
        conflicted = select(ExpertConflict.expert_id).where(ExpertConflict.lead_id == lead.id)
        conditions.append(Expert.id.not_in(conflicted))
    rank = case((Expert.availability == Availability.AVAILABLE.value, 0),
                (Expert.availability == Availability.BUSY.value, 1), else_=2)
    return list(db.session.scalars(select(Expert).where(*conditions).order_by(rank, Expert.name, Expert.id)
                                   .limit(limit)))


def suggest_for(lead: Lead, language: str | None = None, limit: int = 10) -> list[Expert]:
    """Experts to suggest for a lead: its category, available now, no conflict on it."""
    station = db.session.get(Station, lead.station_id)
    return search_experts(station, category=lead.category, language=language,
                          availability=Availability.AVAILABLE.value, lead=lead, limit=limit)


def record_conflict(lead: Lead, expert: Expert, kind: str, note: str, actor: User | None) -> ExpertConflict:
    """Record a conflict of interest (once per expert, lead and kind; a repeat updates the note)."""
    if expert.station_id != lead.station_id:
        raise ExpertError("expert_id", _l("Choose an expert of this station."))
    if kind not in {k.value for k in ConflictKind}:
        raise ExpertError("kind", _l("Choose a kind of conflict from the list."))
    conflict = db.session.scalar(select(ExpertConflict).where(
        ExpertConflict.expert_id == expert.id, ExpertConflict.lead_id == lead.id,
        ExpertConflict.kind == kind))
    if conflict is None:
        conflict = ExpertConflict(expert_id=expert.id, lead_id=lead.id, kind=kind,
                                  recorded_by_id=actor.id if actor else None)
        db.session.add(conflict)
    conflict.note = note.strip()
    db.session.flush()
    return conflict


def has_conflict(lead: Lead, expert: Expert) -> bool:
    return db.session.scalar(select(ExpertConflict.id).where(
        ExpertConflict.expert_id == expert.id, ExpertConflict.lead_id == lead.id).limit(1)) is not None


def record_resident_choice(lead: Lead, expert: Expert) -> ExpertChoice:
    """Store the expert a resident chose for their dispute (the residents' page calls this); a
    later choice replaces the earlier one. The handler sees it next to the suggestions."""
    if expert.station_id != lead.station_id:
        raise ExpertError("expert_id", _l("Choose an expert of this station."))
    choice = db.session.scalar(select(ExpertChoice).where(ExpertChoice.lead_id == lead.id))
    if choice is None:
        choice = ExpertChoice(lead_id=lead.id, expert_id=expert.id)
        db.session.add(choice)
    choice.expert_id = expert.id
    choice.chosen_at = utcnow()
    db.session.flush()
    return choice


def choice_for(lead: Lead) -> ExpertChoice | None:
    return db.session.scalar(select(ExpertChoice).where(ExpertChoice.lead_id == lead.id))


def invite(lead: Lead, expert: Expert, video_link: str, meets_at: datetime | None,
           actor: User | None) -> ExpertInvitation:
    """Invite an expert (with an account, no conflict) to the lead's mediation by a video link;
    they get an inbox entry. Inviting again updates the link and time."""
    if expert.station_id != lead.station_id:
        raise ExpertError("expert_id", _l("Choose an expert of this station."))
    if lead.is_compartmented:
        # An outside expert would learn that a DV or minor's matter exists, and where.
        raise ExpertError("expert_id",
                          _l("Outside experts are not invited to domestic-violence or minors' matters."))
    if has_conflict(lead, expert):
        raise ExpertError("expert_id", _l("This expert has a conflict of interest on this lead."))
    if expert.user is None or not expert.user.is_enabled:
        raise ExpertError("expert_id", _l("This expert has no account: invite them by phone instead."))
    if not video_link.startswith("https://") or len(video_link) > 300:
        raise ExpertError("video_link", _l("The video link must start with https://."))
    invitation = db.session.scalar(select(ExpertInvitation).where(
        ExpertInvitation.lead_id == lead.id, ExpertInvitation.expert_id == expert.id))
    if invitation is None:
        invitation = ExpertInvitation(lead_id=lead.id, expert_id=expert.id,
                                      invited_by_id=actor.id if actor else None)
        db.session.add(invitation)
    invitation.video_link = video_link
    invitation.meets_at = meets_at
    db.session.flush()
    notices.announce([expert.user], notices.Notice(
        kind=INVITED, subject_kind="invitation", subject_id=invitation.id,
        link=notices.link_to("experts.invitation", invitation_id=invitation.id),
        text=_l("Invitation #%(id)s — open Beatbook to see when and how to join.", id=invitation.id),
        occurrence=str(meets_at.timestamp()) if meets_at else ""))
    return invitation


def invitations_of(user: User, now: datetime) -> list[ExpertInvitation]:
    """The invitations of the expert profile linked to `user`, what they must attend first: meetings
    to come, soonest first; then those whose time is still to be agreed; past meetings last, latest first."""
    to_come, to_agree, past = 0, 1, 2
    when = case((ExpertInvitation.meets_at.is_(None), to_agree), (ExpertInvitation.meets_at >= now, to_come),
                else_=past)
    return list(db.session.scalars(
        select(ExpertInvitation).join(Expert).where(Expert.user_id == user.id)
        .options(selectinload(ExpertInvitation.lead).selectinload(Lead.community))
        .order_by(when, case((when == to_come, ExpertInvitation.meets_at)),
                  ExpertInvitation.meets_at.desc(), ExpertInvitation.id.desc())))


def invitations_for(lead: Lead) -> list[ExpertInvitation]:
    return list(db.session.scalars(select(ExpertInvitation).where(ExpertInvitation.lead_id == lead.id)
                                   .order_by(ExpertInvitation.id)))


def conflicts_for(lead: Lead) -> list[ExpertConflict]:
    return list(db.session.scalars(select(ExpertConflict).where(ExpertConflict.lead_id == lead.id)
                                   .order_by(ExpertConflict.id)))


def station_experts(station: Station) -> list[Expert]:
    return list(db.session.scalars(select(Expert).where(Expert.station_id == station.id)
                                   .order_by(Expert.name, Expert.id)))

"""Mediation's rules: open a case from an accepted lead, put people on it, record sessions, keep
method guides, write and sign the agreement, conclude. Typed functions that flush, never commit.

The outcome reaches the lead through `events.case_concluded` (leads takes its own step); opening a
case takes the lead's `start_mediation` step through the leads' lifecycle service.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app, g
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import selectinload

from webapp import access, notices
from webapp.duty.services import on_duty
from webapp.extensions import db
from webapp.leads.codes import (
    CATEGORY_LABELS,
    FAILURE_ROUTE_LABELS,
    RESOLUTION_LABELS,
    TRANSFER_TARGET_LABELS,
    Status,
)
from webapp.leads.deadlines import parse_deadlines
from webapp.leads.lifecycle import LifecycleError, perform
from webapp.leads.models import Lead
from webapp.mediation import pdf
from webapp.mediation.codes import CaseStatus, MemberRole, Origin, Place, SessionResult
from webapp.mediation.events import case_concluded, session_recorded
from webapp.mediation.models import (
    Agreement,
    AgreementCopy,
    AgreementSignature,
    CaseMember,
    CaseOutcome,
    GuideTick,
    MediationCase,
    MediationSession,
    MediatorProfile,
    MediatorRefusal,
    MethodGuide,
    PerformanceTerm,
)
from webapp.org.models import Role, Station, User
from webapp.org.services import people_with_role
from webapp.timeutil import utcnow

SESSION_INVITE = "mediation_session"
TERM_OVERDUE = "performance_overdue"
CONFIRMATION_DUE = "court_confirmation"

# Neutral words only: a notice links to the case, it never says whose dispute it is.
notices.register_kinds(
    {
        SESSION_INVITE: _l("You are on a mediation session"),
        TERM_OVERDUE: _l("An agreement term is overdue"),
        CONFIRMATION_DUE: _l("Court confirmation window closing"),
    }
)

# Who may hold each place on a case: the station role a person needs (a prosecutor-mediator is a
# mediator whose profile says so).
ROLE_FOR_MEMBER = {
    MemberRole.MEDIATOR: Role.MEDIATOR,
    MemberRole.PROSECUTOR: Role.MEDIATOR,
    MemberRole.LAWYER: Role.LAWYER,
    MemberRole.OFFICER: Role.OFFICER,
}
OUTCOME_CODES = {
    CaseStatus.RESOLVED: RESOLUTION_LABELS,
    CaseStatus.FAILED: FAILURE_ROUTE_LABELS,
    CaseStatus.TRANSFERRED: TRANSFER_TARGET_LABELS,
}


def deadlines() -> dict:
    return parse_deadlines(current_app.config["BEATBOOK_DEADLINES"])


class MediationError(ValueError):
    """A refused change: `code` picks the message, `field` the form field it belongs to."""

    def __init__(self, code: str, field: str | None = None, status: int = 422):
        super().__init__(code)
        self.code = code
        self.field = field
        self.status = status


# --- people ------------------------------------------------------------------------------------------


def is_prosecutor(person: User | None) -> bool:
    if person is None:
        return False
    profile = db.session.get(MediatorProfile, person.id)
    return profile is not None and profile.prosecutor and person.has_role(Role.MEDIATOR)


def prosecutors(station: Station) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(MediatorProfile, MediatorProfile.user_id == User.id)
            .where(User.station_id == station.id, User.is_enabled.is_(True), MediatorProfile.prosecutor)
            .order_by(User.display_name)
        )
    )


def set_prosecutor(person: User, prosecutor: bool) -> None:
    profile = db.session.get(MediatorProfile, person.id) or MediatorProfile(user_id=person.id)
    profile.prosecutor = prosecutor
    db.session.add(profile)
    db.session.flush()


def refused_ids(case: MediationCase) -> set[int]:
    return {refusal.user_id for refusal in case.refusals}


def people_for(case: MediationCase, role: MemberRole) -> list[User]:
    """Who may take `role` on this case's sessions: the right station role, never a refused person."""
    if role == MemberRole.PROSECUTOR:
        prosecutor_ids = {p.id for p in prosecutors(db.session.get(Station, case.station_id))}
        return [p for p in candidates(case) if p.id in prosecutor_ids]
    return [p for p in candidates(case) if p.has_role(ROLE_FOR_MEMBER[role])]


def candidates(case: MediationCase) -> list[User]:
    """Everyone who may take some part on this case's sessions (prosecutor-mediators are mediators),
    read once per request: a session form asks role by role, which cost a dozen statements a view."""
    refused = frozenset(refused_ids(case))
    key = (case.id, refused)  # a refusal recorded in this request changes the list
    found = g.setdefault("beatbook_case_candidates", {})
    if key not in found:
        station = db.session.get(Station, case.station_id)
        found[key] = [p for p in people_with_role(station, *set(ROLE_FOR_MEMBER.values()))
                      if p.id not in refused and _may_join(case, p)]
    return found[key]


def _may_join(case: MediationCase, person: User) -> bool:
    # A DV or minor lead's case stays in its compartment: only people who may open the lead join.
    return not case.lead.is_compartmented or access.is_case_for(person, case.lead)


def _check_person(case: MediationCase, person: User | None, role: MemberRole, field: str) -> User:
    if person is None or person.station_id != case.station_id or not person.is_enabled:
        raise MediationError("bad_person", field)
    if person.id in refused_ids(case):
        raise MediationError("refused_person", field)
    if not person.has_role(ROLE_FOR_MEMBER[role]) or (
        role == MemberRole.PROSECUTOR and not is_prosecutor(person)
    ):
        raise MediationError("wrong_role", field)
    if not _may_join(case, person):
        raise MediationError("compartment", field)
    return person


def _ensure_member(case: MediationCase, person: User, role: MemberRole) -> None:
    if not any(m.user_id == person.id and m.role == role for m in case.members):
        case.members.append(CaseMember(user_id=person.id, role=role.value))


def add_member(case: MediationCase, person: User | None, role: MemberRole) -> CaseMember:
    _check_open(case)
    person = _check_person(case, person, role, "user_id")
    _ensure_member(case, person, role)
    db.session.flush()
    return next(m for m in case.members if m.user_id == person.id and m.role == role)


def propose_panel(case: MediationCase, at: datetime) -> tuple[User | None, User | None, User | None]:
    """两官一律 for a session at `at`: (officer, prosecutor-mediator, lawyer).

    The case's community officer (else the lead's assignee); for the other two, the station's
    prosecutor-mediators and lawyers, preferring whoever is on duty at `at` (the roster), then whoever
    is already on the case, then by name — never anyone a party refused, never outside a compartment.
    """
    community = case.lead.community
    officer = (
        community.officer if community is not None and community.officer is not None else case.lead.assignee
    )
    if officer is not None and (officer.id in refused_ids(case) or not _may_join(case, officer)):
        officer = None
    on_duty_now = {person.id for person in on_duty(db.session.get(Station, case.station_id), at)}

    def first(role: MemberRole) -> User | None:
        on_case = {m.user_id for m in case.members if m.role == role}
        ranked = sorted(people_for(case, role), key=lambda p: (p.id not in on_duty_now, p.id not in on_case))
        return ranked[0] if ranked else None

    return officer, first(MemberRole.PROSECUTOR), first(MemberRole.LAWYER)


# --- the case ----------------------------------------------------------------------------------------


def case_of_lead(lead: Lead) -> MediationCase | None:
    return db.session.scalar(select(MediationCase).where(MediationCase.lead_id == lead.id))


def latest_guide(station_id: int, category: str) -> MethodGuide | None:
    return db.session.scalar(
        select(MethodGuide)
        .where(MethodGuide.station_id == station_id, MethodGuide.category == category)
        .order_by(MethodGuide.version.desc())
        .limit(1)
    )


def open_case(lead: Lead, actor: User, origin: str, now: datetime | None = None) -> MediationCase:
    """Open the lead's case (or take up its concluded case again after the lead was reopened) and
    take the lead's `start_mediation` step. Refused unless the lead is accepted and `actor` handles it."""
    now = now or utcnow()
    if origin not in Origin.__members__.values():
        raise MediationError("bad_choice", "origin")
    case = case_of_lead(lead)
    if case is not None and case.is_open:
        raise MediationError("case_exists", status=409)
    try:
        perform(lead, actor, "start_mediation", deadlines(), now=now)
    except LifecycleError as error:
        raise MediationError("lead_not_ready", status=403 if error.forbidden else 409) from error
    if case is None:
        case = MediationCase(
            station_id=lead.station_id, lead=lead, origin=origin, opened_by=actor, opened_at=now
        )
        db.session.add(case)
    else:  # one case, one file: the same file continues
        case.status = CaseStatus.OPEN.value
        case.concluded_at = None
    guide = latest_guide(lead.station_id, lead.category)
    if case.guide_id is None and guide is not None:
        case.guide = guide
    if lead.assignee is not None and lead.assignee.has_role(Role.OFFICER):
        _ensure_member(case, lead.assignee, MemberRole.OFFICER)
    db.session.flush()
    return case


def _check_open(case: MediationCase) -> None:
    if not case.is_open:
        raise MediationError("case_closed", status=409)


def record_consent(case: MediationCase, note: str, now: datetime | None = None) -> None:
    _check_open(case)
    case.consent_at = now or utcnow()
    case.consent_note = note.strip()[:500]
    db.session.flush()


def record_refusal(
    case: MediationCase, person: User | None, party: str, reason: str, actor: User
) -> MediatorRefusal:
    """A party refuses a mediator: recorded; the person leaves the case and cannot be named again."""
    _check_open(case)
    if person is None or person.station_id != case.station_id or not person.has_role(*access.MEDIATION_ROLES):
        raise MediationError("bad_person", "user_id")
    if person.id in refused_ids(case):
        raise MediationError("already_refused", "user_id")
    if not party.strip():
        raise MediationError("required", "party")
    refusal = MediatorRefusal(
        user_id=person.id, party=party.strip()[:64], reason=reason.strip()[:500], recorded_by_id=actor.id
    )
    case.refusals.append(refusal)
    for member in [m for m in case.members if m.user_id == person.id]:
        case.members.remove(member)
    db.session.flush()
    return refusal


# --- sessions ------------------------------------------------------------------------------------------


@dataclass
class SessionInput:
    starts_at: datetime
    place: str
    place_detail: str = ""
    video_url: str = ""
    officer: User | None = None
    prosecutor: User | None = None
    lawyer: User | None = None
    attendees: str = ""
    statements: str = ""
    private: bool = False
    result: str = SessionResult.CONTINUING.value
    terms: str = ""
    failure_reason: str = ""
    next_step: str = ""


def _check_session(case: MediationCase, data: SessionInput) -> None:
    if data.place not in Place.__members__.values():
        raise MediationError("bad_choice", "place")
    if data.place == Place.VIDEO and not data.video_url.startswith(("https://", "http://")):
        raise MediationError("video_url", "video_url")
    if data.result not in SessionResult.__members__.values():
        raise MediationError("bad_choice", "result")
    if data.result == SessionResult.AGREEMENT and not data.terms.strip():
        raise MediationError("required", "terms")
    if data.result == SessionResult.FAILED and not data.failure_reason.strip():
        raise MediationError("required", "failure_reason")
    for role, person, name in (
        (MemberRole.OFFICER, data.officer, "officer_id"),
        (MemberRole.PROSECUTOR, data.prosecutor, "prosecutor_id"),
        (MemberRole.LAWYER, data.lawyer, "lawyer_id"),
    ):
        if person is not None:
            _check_person(case, person, role, name)


def record_session(case: MediationCase, data: SessionInput, actor: User) -> MediationSession:
    """Record a session (planned or held) with its panel; each person named hears of it."""
    _check_open(case)
    _check_session(case, data)
    session = MediationSession(
        case=case,
        starts_at=data.starts_at,
        place=data.place,
        place_detail=data.place_detail.strip(),
        video_url=data.video_url.strip() if data.place == Place.VIDEO else "",
        officer=data.officer,
        prosecutor=data.prosecutor,
        lawyer=data.lawyer,
        attendees=data.attendees.strip(),
        statements=data.statements.strip(),
        private=data.private,
        result=data.result,
        terms=data.terms.strip(),
        failure_reason=data.failure_reason.strip(),
        next_step=data.next_step.strip(),
        recorded_by_id=actor.id,
    )
    db.session.add(session)
    named = [
        (p, r)
        for p, r in (
            (data.officer, MemberRole.OFFICER),
            (data.prosecutor, MemberRole.PROSECUTOR),
            (data.lawyer, MemberRole.LAWYER),
        )
        if p is not None
    ]
    for person, role in named:
        _ensure_member(case, person, role)
    db.session.flush()
    people = [p for p, _r in named]
    notices.announce(
        people,
        notices.Notice(
            kind=SESSION_INVITE,
            subject_kind="mediation",
            subject_id=case.id,
            link=notices.link_to("mediation.case", case_id=case.id),
            text=_l("Mediation case #%(id)s has a session — open Beatbook to see it.", id=case.id),
            occurrence=f"session-{session.id}",
        ),
    )
    session_recorded.send(session, named=people, at=session.recorded_at)
    return session


def upcoming_sessions(person: User, now: datetime, limit: int = 50) -> list[MediationSession]:
    """Sessions `person` is named on or whose case they are on, from a few hours ago on."""
    on_case = select(CaseMember.case_id).where(CaseMember.user_id == person.id)
    return list(
        db.session.scalars(
            select(MediationSession)
            .join(MediationCase)
            .where(
                MediationSession.starts_at >= now - timedelta(hours=6),
                or_(
                    MediationSession.officer_id == person.id,
                    MediationSession.prosecutor_id == person.id,
                    MediationSession.lawyer_id == person.id,
                    MediationSession.case_id.in_(on_case),
                ),
                access.mediation_case_scope(person),
            )
            .order_by(MediationSession.starts_at)
            .limit(limit)
        )
    )


def cases_of(person: User, limit: int = 100) -> list[MediationCase]:
    """The cases `person` may see, open ones first, newest first."""
    return list(
        db.session.scalars(
            select(MediationCase)
            .where(access.mediation_case_scope(person))
            .options(selectinload(MediationCase.lead))
            .order_by((MediationCase.status == CaseStatus.OPEN.value).desc(), MediationCase.id.desc())
            .limit(limit)
        )
    )


def compartmented_cases(cases: list[MediationCase]) -> list[int]:
    """The cases of DV or minor leads among `cases` (their leads loaded): what a list must audit."""
    return [case.id for case in cases if case.lead.is_compartmented]


# --- method guides --------------------------------------------------------------------------------------


def save_guide(station: Station, category: str, title: str, items: str, author: User) -> MethodGuide:
    """A new version of the category's guide (the old ones stay, and cases keep theirs)."""
    if category not in CATEGORY_LABELS:
        raise MediationError("bad_choice", "category")
    lines = [line.strip() for line in items.splitlines() if line.strip()]
    if not lines:
        raise MediationError("required", "items")
    if len(lines) > 30:
        raise MediationError("too_many_items", "items")
    latest = latest_guide(station.id, category)
    guide = MethodGuide(
        station_id=station.id,
        category=category,
        version=(latest.version + 1) if latest else 1,
        title=title.strip(),
        items="\n".join(lines),
        author_id=author.id,
    )
    db.session.add(guide)
    db.session.flush()
    return guide


def guide_versions(station: Station, category: str) -> list[MethodGuide]:
    return list(
        db.session.scalars(
            select(MethodGuide)
            .where(MethodGuide.station_id == station.id, MethodGuide.category == category)
            .order_by(MethodGuide.version.desc())
        )
    )


def guides(station: Station) -> list[MethodGuide]:
    """The latest version of each category's guide."""
    latest = (
        select(MethodGuide.category, func.max(MethodGuide.version).label("version"))
        .where(MethodGuide.station_id == station.id)
        .group_by(MethodGuide.category)
        .subquery()
    )
    return list(
        db.session.scalars(
            select(MethodGuide)
            .join(
                latest,
                (MethodGuide.category == latest.c.category) & (MethodGuide.version == latest.c.version),
            )
            .where(MethodGuide.station_id == station.id)
            .order_by(MethodGuide.category)
        )
    )


def ticked(case: MediationCase) -> set[int]:
    if case.guide_id is None:
        return set()
    return set(
        db.session.scalars(
            select(GuideTick.item).where(GuideTick.case_id == case.id, GuideTick.guide_id == case.guide_id)
        )
    )


def tick_guide(case: MediationCase, guide_id: int | None, items: Iterable[int], actor: User) -> set[int]:
    """The items ticked now, against the version shown (a form from another version is refused)."""
    _check_open(case)
    if case.guide is None or guide_id != case.guide_id:
        raise MediationError("guide_changed", status=409)
    wanted = set(items)
    if any(i < 0 or i >= len(case.guide.item_list) for i in wanted):
        raise MediationError("bad_choice", "items")
    before = ticked(case)
    if before - wanted:
        db.session.execute(
            delete(GuideTick).where(
                GuideTick.case_id == case.id,
                GuideTick.guide_id == case.guide_id,
                GuideTick.item.in_(sorted(before - wanted)),
            )
        )
    for item in sorted(wanted - before):
        db.session.add(GuideTick(case_id=case.id, guide_id=case.guide_id, item=item, ticked_by_id=actor.id))
    db.session.flush()
    return wanted


# --- the agreement --------------------------------------------------------------------------------------


@dataclass
class AgreementInput:
    parties: str
    facts: str
    issues: str
    responsibilities: str
    terms: str
    performance: str
    perform_by: date
    performance_terms: list[tuple[date, str]] = field(default_factory=list)


def parse_terms(text: str) -> list[tuple[date, str]]:
    """Performance terms, one a line: `YYYY-MM-DD what is to be done`. Raises ValueError(line no.)."""
    terms = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        day, _sep, what = line.strip().partition(" ")
        try:
            due = date.fromisoformat(day)
        except ValueError as error:
            raise ValueError(number) from error
        if not what.strip() or len(what.strip()) > 500:
            raise ValueError(number)
        terms.append((due, what.strip()))
    return terms


def save_agreement(case: MediationCase, data: AgreementInput) -> Agreement:
    """Write or rewrite the draft. A signed agreement is never changed."""
    agreement = case.agreement
    if agreement is not None and agreement.is_signed:
        raise MediationError("signed", status=409)
    _check_open(case)
    if len(data.performance_terms) > 20:
        raise MediationError("too_many_items", "term_lines")
    if agreement is None:
        agreement = Agreement(case=case)
        db.session.add(agreement)
    for name in ("parties", "facts", "issues", "responsibilities", "terms", "performance"):
        setattr(agreement, name, getattr(data, name).strip())
    agreement.perform_by = data.perform_by
    agreement.updated_at = utcnow()
    agreement.performance_terms = [
        PerformanceTerm(due_on=due, description=what) for due, what in data.performance_terms
    ]
    db.session.flush()
    return agreement


def sign_agreement(
    case: MediationCase, parties: list[str], mediator: User | None, now: datetime | None = None
) -> Agreement:
    """The parties and the mediator sign: the PDF is made once and kept with its SHA-256."""
    agreement = case.agreement
    if agreement is None:
        raise MediationError("no_agreement", status=409)
    if agreement.is_signed:
        raise MediationError("signed", status=409)
    _check_open(case)
    names = [name.strip() for name in parties if name.strip()]
    if len(names) < 2:
        raise MediationError("two_parties", "parties")
    if any(len(name) > 64 for name in names) or len(names) > 20:
        raise MediationError("too_long", "parties")
    mediators = {m.user_id for m in case.members if m.role in (MemberRole.MEDIATOR, MemberRole.PROSECUTOR)}
    if mediator is None or mediator.id not in mediators:
        raise MediationError("bad_person", "mediator_id")
    now = (now or utcnow()).replace(microsecond=0)
    agreement.signed_at = now
    agreement.signatures = [AgreementSignature(name=name, capacity="party", signed_at=now) for name in names]
    agreement.signatures.append(
        AgreementSignature(name=mediator.display_name, capacity="mediator", signed_at=now)
    )
    db.session.flush()
    agreement.pdf = pdf.agreement_pdf(agreement)
    agreement.pdf_sha256 = hashlib.sha256(agreement.pdf).hexdigest()
    db.session.flush()
    return agreement


def hand_copy(case: MediationCase, recipient: str, actor: User) -> AgreementCopy:
    agreement = case.agreement
    if agreement is None or not agreement.is_signed:
        raise MediationError("not_signed", status=409)
    if not recipient.strip():
        raise MediationError("required", "recipient")
    copy = AgreementCopy(recipient=recipient.strip()[:64], handed_by_id=actor.id)
    agreement.copies.append(copy)
    db.session.flush()
    return copy


def mark_term_done(
    case: MediationCase, term_id: int | None, note: str, now: datetime | None = None
) -> PerformanceTerm:
    """履行监督: a term was performed (recorded against the signed agreement; the agreement stays)."""
    agreement = case.agreement
    if agreement is None or not agreement.is_signed:
        raise MediationError("not_signed", status=409)
    term = next((t for t in agreement.performance_terms if t.id == term_id), None)
    if term is None:
        raise MediationError("bad_choice", "term_id")
    if term.done_at is not None:
        raise MediationError("already_done", "term_id", status=409)
    term.done_at = now or utcnow()
    term.done_note = note.strip()[:500]
    db.session.flush()
    return term


def terms_for(officer: User, today: date, limit: int = 100) -> list[PerformanceTerm]:
    """Open performance terms of signed agreements on the officer's leads, due today or before."""
    return list(
        db.session.scalars(
            select(PerformanceTerm)
            .join(Agreement)
            .join(MediationCase)
            .join(Lead, Lead.id == MediationCase.lead_id)
            .where(
                PerformanceTerm.done_at.is_(None),
                PerformanceTerm.due_on <= today,
                Agreement.signed_at.is_not(None),
                Lead.assignee_id == officer.id,
                Lead.station_id == officer.station_id,
            )
            .options(selectinload(PerformanceTerm.agreement))
            .order_by(PerformanceTerm.due_on)
            .limit(limit)
        )
    )


# --- the conclusion ------------------------------------------------------------------------------------


def conclude_case(
    case: MediationCase, outcome: str, code: str, note: str, actor: User, now: datetime | None = None
) -> CaseOutcome:
    """Resolved (with how), failed (with the route the parties were told) or transferred (where).

    Announces `case_concluded`; leads takes the lead's step. Refused as a whole if leads refuses.
    """
    _check_open(case)
    try:
        status = CaseStatus(outcome)
    except ValueError as error:
        raise MediationError("bad_choice", "outcome") from error
    if status == CaseStatus.OPEN or code not in OUTCOME_CODES[status]:
        raise MediationError("bad_choice", "code")
    if (
        status == CaseStatus.RESOLVED
        and code == "written"
        and not (case.agreement and case.agreement.is_signed)
    ):
        raise MediationError("written_needs_agreement", "code")
    now = now or utcnow()
    result = CaseOutcome(status=status.value, code=code, note=note.strip()[:500], actor_id=actor.id, at=now)
    try:
        with db.session.begin_nested():
            case.outcomes.append(result)
            case.status = status.value
            case.concluded_at = now
            db.session.flush()
            case_concluded.send(
                case.id,
                lead_id=case.lead_id,
                outcome=status.value,
                code=code,
                note=result.note,
                actor=actor,
                at=now,
            )
    except LifecycleError as error:
        raise MediationError("lead_refused", status=403 if error.forbidden else 409) from error
    return result


def lead_can_open_case(lead: Lead) -> bool:
    return lead.status == Status.ACCEPTED

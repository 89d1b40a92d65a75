"""Lead lists. Every query starts from the viewer's scope (webapp/access/leads.py), so a lead a person
may not see is absent from every list, count and search — not just hidden in a template.

Lists use keyset pagination on the lead id (newest first): page N costs the same as page 1,
which keeps them fast at 500k leads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import selectinload

from webapp.access import case_scope, lead_scope
from webapp.extensions import db
from webapp.leads import search
from webapp.leads.codes import ACTIVE_STATUSES, OPEN_STATUSES, Status
from webapp.leads.models import Lead, LeadEvent, LeadParty
from webapp.org.models import User
from webapp.timeutil import STATION_TZ

PAGE_SIZE = 25
REACHABLE = (Status.RESOLVED.value, Status.FAILED.value, Status.TRANSFERRED.value)
QUEUES = ("ungraded", "unroutable", "returned", "overdue", "supervised")


@dataclass
class LeadFilters:
    q: str = ""
    category: str = ""
    risk: str = ""
    status: str = ""
    community_id: int | None = None
    flag: str = ""  # dv, minor, watched, repeat, many_people
    queue: str = ""
    source: str = ""
    grid_id: int | None = None
    # Station-local days, both included: when the lead was received, or when it reached `reached` if
    # that is set. The dashboard's links pass its period, so the list holds the leads it counted.
    received_from: date | None = None
    received_to: date | None = None
    originals: bool = False  # leave out duplicates, as the dashboard's lead figures do
    reached: str = ""  # resolved, failed or transferred: leads that reached it (at least once)
    mine: bool = False  # the viewer's own work ("my work" on the home shows only its most urgent rows)


@dataclass
class LeadPage:
    leads: list[Lead]
    next_cursor: int | None
    filters: LeadFilters = field(default_factory=LeadFilters)


def _values(statuses) -> list[str]:
    return [s.value for s in statuses]


def _apply_filters(statement, filters: LeadFilters, now: datetime):
    equal = ((Lead.category, filters.category), (Lead.risk, filters.risk), (Lead.status, filters.status),
             (Lead.community_id, filters.community_id), (Lead.grid_id, filters.grid_id),
             (Lead.source, filters.source))
    statement = statement.where(*(column == value for column, value in equal if value))
    flag_columns = {"dv": Lead.flag_dv, "minor": Lead.flag_minor, "watched": Lead.flag_watched,
                    "repeat": Lead.flag_repeat, "many_people": Lead.flag_many_people}
    if filters.flag in flag_columns:
        statement = statement.where(flag_columns[filters.flag].is_(True))
    statement = _apply_received(statement, filters)
    return _apply_queue(statement, filters.queue, now)


def _apply_received(statement, filters: LeadFilters):
    """The date filters: on receipt, or on the step that reached `reached` (the dashboard's outcomes)."""
    at = LeadEvent.at if filters.reached else Lead.received_at
    within = []
    if filters.received_from:
        within.append(at >= _local_midnight(filters.received_from))
    if filters.received_to:
        within.append(at < _local_midnight(filters.received_to + timedelta(days=1)))
    if filters.reached:
        statement = statement.where(Lead.id.in_(
            select(LeadEvent.lead_id).where(LeadEvent.to_status == filters.reached, *within)))
    else:
        statement = statement.where(*within)
    if filters.originals:
        statement = statement.where(Lead.duplicate_of_id.is_(None))
    return statement


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), STATION_TZ)


def _apply_search(statement, q: str):
    """The search box's matches, and the lead id column to page by (newest first)."""
    if not q:
        return statement, Lead.id
    exact = [Lead.source_ref == q, Lead.uuid == q]
    # A lead number (longer would overflow an integer column); isdecimal, as int() reads it ("²" is
    # a digit that int() refuses).
    lead_number = int(q) if q.isdecimal() and len(q) <= 9 else None
    if lead_number is not None:
        exact.append(Lead.id == lead_number)
    if re.fullmatch(r"\d{7,}|\d{17}[\dXx]", q):
        # A phone or ID number: exact matches only (a partial one would leak who is on file), looked
        # up first and passed as values so PostgreSQL can use each index (a subquery and the word
        # search below made it scan every lead: 0.5-1.2 s at 500k leads).
        party_leads = db.session.scalars(select(LeadParty.lead_id).where(
            or_(LeadParty.phone == q, LeadParty.id_number == q.upper()))).all()
        return statement.where(or_(*exact, Lead.id.in_(party_leads))), Lead.id
    like = f"%{q}%"
    matches = or_(*exact, Lead.summary.ilike(like), Lead.address.ilike(like))
    candidates = search.candidates(q, db.engine.dialect.name, lead_number)
    if candidates is None:  # no letter or digit to look up (e.g. only punctuation): every lead is read
        return statement.where(matches), Lead.id
    # The word index narrows to the leads holding all the word's characters and pairs, or the number,
    # reference or uuid it names; the exact and substring matches then keep exactly the right ones.
    # Joined, and paged by the index's id: each planner finds its way in (from the index for a rare
    # word, along the newest leads for a common one; docs/architecture.md, "Word search").
    candidates = candidates.subquery("word_candidates")
    return statement.join(candidates, candidates.c.lead_id == Lead.id).where(matches), candidates.c.lead_id


def _apply_queue(statement, queue: str, now: datetime):
    open_ = Lead.status.in_(_values(OPEN_STATUSES))
    if queue == "ungraded":
        return statement.where(open_, Lead.risk_confirmed.is_(False), Lead.duplicate_of_id.is_(None))
    if queue == "unroutable":
        return statement.where(open_, Lead.assignee_id.is_(None), Lead.returned_reason == "")
    if queue == "returned":
        return statement.where(open_, Lead.assignee_id.is_(None), Lead.returned_reason != "")
    if queue == "overdue":
        return statement.where(open_, Lead.due_at < now)
    if queue == "supervised":
        return statement.where(Lead.status.in_(_values(ACTIVE_STATUSES)),
                               Lead.supervised_until.is_not(None))
    return statement


def lead_list(viewer: User, filters: LeadFilters, now: datetime, before: int | None = None,
              per_page: int = PAGE_SIZE) -> LeadPage:
    """Cases the viewer may open, newest first, filtered; `before` is the keyset cursor."""
    statement = select(Lead).where(case_scope(viewer))
    statement = _apply_filters(statement, filters, now)
    statement, lead_id = _apply_search(statement, filters.q.strip())
    if filters.mine:
        statement = statement.where(*_my_work(viewer))
    if before:
        statement = statement.where(lead_id < before)
    rows = list(db.session.scalars(
        statement.options(selectinload(Lead.community), selectinload(Lead.assignee))
        .order_by(lead_id.desc()).limit(per_page + 1)
    ))
    next_cursor = rows[per_page - 1].id if len(rows) > per_page else None
    return LeadPage(rows[:per_page], next_cursor, filters)


def _my_work(viewer: User) -> tuple:
    return (lead_scope(viewer), Lead.assignee_id == viewer.id, Lead.status.in_(_values(ACTIVE_STATUSES)))


def count_my_work(viewer: User) -> int:
    return db.session.scalar(select(func.count()).select_from(Lead).where(*_my_work(viewer))) or 0


def my_work(viewer: User, now: datetime, limit: int = 200) -> list[Lead]:
    """Leads assigned to the viewer that still need them: overdue first, then by risk and due time."""
    overdue_first = case((Lead.status.in_(_values(OPEN_STATUSES)) & (Lead.due_at < now), 0), else_=1)
    return list(db.session.scalars(
        select(Lead)
        .where(*_my_work(viewer))
        .options(selectinload(Lead.community))
        .order_by(overdue_first, Lead.risk_rank, Lead.due_at.is_(None), Lead.due_at, Lead.id)
        .limit(limit)
    ))


def queue_counts(viewer: User, now: datetime) -> dict[str, int]:
    counts = {}
    for queue in QUEUES:
        statement = _apply_queue(select(func.count()).select_from(Lead).where(case_scope(viewer)),
                                 queue, now)
        counts[queue] = db.session.scalar(statement) or 0
    return counts


def my_reports(viewer: User, before: int | None = None, per_page: int = PAGE_SIZE) -> LeadPage:
    statement = select(Lead).where(Lead.reporter_id == viewer.id,
                                   Lead.station_id == viewer.station_id)
    if before:
        statement = statement.where(Lead.id < before)
    rows = list(db.session.scalars(statement.order_by(Lead.id.desc()).limit(per_page + 1)))
    next_cursor = rows[per_page - 1].id if len(rows) > per_page else None
    return LeadPage(rows[:per_page], next_cursor)


@dataclass(frozen=True)
class BranchMember:
    user: User
    reports: int
    confirmed: int


def branch_contributions(station_id: int) -> list[BranchMember]:
    """Each volunteer-police party branch member's reports, and how many proved real leads
    (taken on by an officer — accepted or further along — and not a duplicate)."""
    not_yet_taken = _values({Status.REGISTERED, Status.GRADED, Status.ASSIGNED})
    confirmed = func.sum(case((Lead.status.not_in(not_yet_taken) & Lead.duplicate_of_id.is_(None), 1),
                              else_=0))
    rows = db.session.execute(
        select(User, func.count(Lead.id), confirmed)
        .outerjoin(Lead, Lead.reporter_id == User.id)
        .where(User.station_id == station_id, User.in_volunteer_branch.is_(True))
        .group_by(User.id)
        .order_by(func.count(Lead.id).desc(), User.display_name)
    ).all()
    return [BranchMember(user, reports, int(done or 0)) for user, reports, done in rows]

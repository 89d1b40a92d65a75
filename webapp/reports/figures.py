"""The station's figures for a period, and the same figures for the period before it.

A period is a pair of station-local dates, both included. Every count is one SQL statement with
GROUP BY (or a plain COUNT); nothing loops over leads in Python. Definitions: docs/domain.md
("The station's figures").

Scope: a supervisor and the liaison count the whole station; an officer counts the leads of their
own communities that they may open (no DV or minor leads: those stay in their compartment).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, case, distinct, func, select

from webapp.dv.figures import DvFigures, dv_figures
from webapp.experts.models import ExpertInvitation
from webapp.extensions import db
from webapp.leads.codes import ACTIVE_STATUSES, OPEN_STATUSES, Status
from webapp.leads.models import Lead, LeadEvent
from webapp.mediation.figures import SuccessRate, success_rate
from webapp.mediation.models import MediationCase, MediationSession
from webapp.org.models import Community, Station, User
from webapp.reports.cache import cached
from webapp.returnvisits.models import Result, ReturnVisit, State
from webapp.timeutil import STATION_TZ
from webapp.youth.figures import Period as YouthPeriod
from webapp.youth.figures import YouthFigures, youth_figures

OUTCOME_STATUSES = (Status.RESOLVED.value, Status.FAILED.value, Status.TRANSFERRED.value)
UNGRADED = "ungraded"
# Not yet taken on by an officer: a volunteer's report counts as confirmed once it is further along.
NOT_YET_TAKEN = (Status.REGISTERED.value, Status.GRADED.value, Status.ASSIGNED.value)


def _a_year_earlier(day: date) -> date:
    if (day.month, day.day) == (2, 29):
        return day.replace(year=day.year - 1, day=28)
    return day.replace(year=day.year - 1)


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # included

    def __post_init__(self):
        if self.end < self.start:
            raise ValueError("a period ends on or after its start")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """What a reader compares this period with (docs/domain.md, Figures).

        A year so far (from 1 January, within one year) → the same dates a year earlier; a month
        so far or a whole month (from the 1st, within one month) → the same days of the month
        before, cut at its end; anything else → the period of equal length just before."""
        if self.start.month == 1 and self.start.day == 1 and self.end.year == self.start.year:
            return Period(_a_year_earlier(self.start), _a_year_earlier(self.end))
        if self.start.day == 1 and (self.end.year, self.end.month) == (self.start.year, self.start.month):
            last = self.start - timedelta(days=1)
            return Period(last.replace(day=1), last.replace(day=min(self.end.day, last.day)))
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def bounds(self) -> tuple[datetime, datetime]:
        """[since, until) in UTC."""
        return (datetime.combine(self.start, time(), STATION_TZ).astimezone(UTC),
                datetime.combine(self.end + timedelta(days=1), time(), STATION_TZ).astimezone(UTC))


@dataclass(frozen=True)
class Scope:
    """Whose leads are counted: the station's, or only those of some communities (no compartments)."""

    station_id: int
    community_ids: tuple[int, ...] | None = None  # None: the whole station

    @property
    def whole_station(self) -> bool:
        return self.community_ids is None

    def leads(self):
        """A WHERE clause on Lead."""
        if self.community_ids is None:
            return Lead.station_id == self.station_id
        return and_(Lead.station_id == self.station_id, Lead.community_id.in_(self.community_ids),
                    Lead.flag_dv.is_(False), Lead.flag_minor.is_(False))


def scope_for(user: User) -> Scope:
    from webapp.org.models import Role

    if user.has_role(Role.SUPERVISOR, Role.LIAISON):
        return Scope(user.station_id)
    ids = db.session.scalars(select(Community.id).where(Community.officer_id == user.id,
                                                        Community.station_id == user.station_id)).all()
    return Scope(user.station_id, tuple(sorted(ids)))


@dataclass
class LeadCounts:
    """Leads received in the period (duplicates not counted), by each dimension."""

    total: int = 0
    by_source: dict[str, int] = field(default_factory=dict)
    by_category: dict[str, int] = field(default_factory=dict)
    by_risk: dict[str, int] = field(default_factory=dict)  # "ungraded" for no grade
    by_community: dict[int | None, int] = field(default_factory=dict)
    by_grid: dict[int | None, int] = field(default_factory=dict)
    dv: int = 0
    minor: int = 0


@dataclass(frozen=True)
class ReturnVisitFigures:
    due: int  # return visits due in the period (cancelled ones not counted)
    recorded: int  # of them, recorded (any result)
    holding: int  # of them, recorded as holding

    @property
    def completion(self) -> float | None:
        return self.recorded / self.due if self.due else None


@dataclass(frozen=True)
class MediationActivity:
    cases_opened: int
    sessions: int
    invitations: int


@dataclass(frozen=True)
class VolunteerFigures:
    reports: int  # leads reported in the period by members of the volunteer-police party branch
    confirmed: int  # of them, taken on by an officer (accepted or further) and not duplicates
    members_reporting: int


@dataclass
class Figures:
    period: Period
    leads: LeadCounts
    outcomes: dict[str, int]  # resolved / failed / transferred: leads that reached it in the period
    return_visits: ReturnVisitFigures
    success: SuccessRate | None = None  # whole station only
    mediation: MediationActivity | None = None
    volunteers: VolunteerFigures | None = None
    dv: DvFigures | None = None
    youth: YouthFigures | None = None


@dataclass(frozen=True)
class WorkNow:
    """Snapshot at `now`, not a period: open work past its deadline, and work under supervision."""

    overdue: int
    supervised: int
    open_by_community: dict[int | None, int]
    open_by_grid: dict[int | None, int]
    open_red_by_community: dict[int | None, int]
    open_red_by_grid: dict[int | None, int]


def _in(column, period: Period):
    since, until = period.bounds()
    return and_(column >= since, column < until)


def lead_counts(scope: Scope, period: Period) -> LeadCounts:
    base = and_(scope.leads(), _in(Lead.received_at, period), Lead.duplicate_of_id.is_(None))
    counts = LeadCounts()
    # One grouped statement: (source, category, risk, community, grid) → count, and the flags summed.
    rows = db.session.execute(
        select(Lead.source, Lead.category, Lead.risk, Lead.community_id,
               Lead.grid_id, func.count(), func.sum(case((Lead.flag_dv, 1), else_=0)),
               func.sum(case((Lead.flag_minor, 1), else_=0)))
        .where(base)
        .group_by(Lead.source, Lead.category, Lead.risk, Lead.community_id, Lead.grid_id)
    ).all()
    for source, category, risk, community_id, grid_id, n, dv, minor in rows:
        counts.total += n
        counts.by_source[source] = counts.by_source.get(source, 0) + n
        counts.by_category[category] = counts.by_category.get(category, 0) + n
        risk = risk or UNGRADED
        counts.by_risk[risk] = counts.by_risk.get(risk, 0) + n
        counts.by_community[community_id] = counts.by_community.get(community_id, 0) + n
        counts.by_grid[grid_id] = counts.by_grid.get(grid_id, 0) + n
        counts.dv += int(dv or 0)
        counts.minor += int(minor or 0)
    return counts


def outcomes(scope: Scope, period: Period) -> dict[str, int]:
    """Leads that were resolved, failed or transferred in the period (a lead counts once per outcome)."""
    rows = db.session.execute(
        select(LeadEvent.to_status, func.count(distinct(LeadEvent.lead_id)))
        .join(Lead, Lead.id == LeadEvent.lead_id)
        .where(scope.leads(), LeadEvent.to_status.in_(OUTCOME_STATUSES), _in(LeadEvent.at, period))
        .group_by(LeadEvent.to_status)
    ).all()
    found = dict(rows)
    return {status: int(found.get(status, 0)) for status in OUTCOME_STATUSES}


def return_visit_figures(scope: Scope, period: Period) -> ReturnVisitFigures:
    due, recorded, holding = db.session.execute(
        select(func.count(ReturnVisit.id),
               func.coalesce(func.sum(case((ReturnVisit.state == State.RECORDED.value, 1), else_=0)), 0),
               func.coalesce(func.sum(case((ReturnVisit.result == Result.HOLDING.value, 1), else_=0)), 0))
        .join(Lead, Lead.id == ReturnVisit.lead_id)
        .where(scope.leads(), ReturnVisit.state != State.CANCELLED.value, _in(ReturnVisit.due_at, period))
    ).one()
    return ReturnVisitFigures(due=int(due), recorded=int(recorded), holding=int(holding))


def mediation_activity(station_id: int, period: Period) -> MediationActivity:
    opened = db.session.scalar(select(func.count(MediationCase.id)).where(
        MediationCase.station_id == station_id, _in(MediationCase.opened_at, period))) or 0
    sessions = db.session.scalar(
        select(func.count(MediationSession.id))
        .join(MediationCase, MediationCase.id == MediationSession.case_id)
        .where(MediationCase.station_id == station_id, _in(MediationSession.starts_at, period))) or 0
    invitations = db.session.scalar(
        select(func.count(ExpertInvitation.id)).join(Lead, Lead.id == ExpertInvitation.lead_id)
        .where(Lead.station_id == station_id, _in(ExpertInvitation.created_at, period))) or 0
    return MediationActivity(cases_opened=opened, sessions=sessions, invitations=invitations)


def volunteer_figures(station_id: int, period: Period) -> VolunteerFigures:
    reports, confirmed, members = db.session.execute(
        select(func.count(Lead.id),
               func.coalesce(func.sum(case(
                   (Lead.status.not_in(NOT_YET_TAKEN) & Lead.duplicate_of_id.is_(None), 1), else_=0)), 0),
               func.count(distinct(Lead.reporter_id)))
        .join(User, User.id == Lead.reporter_id)
        .where(Lead.station_id == station_id, User.in_volunteer_branch.is_(True),
               _in(Lead.received_at, period))
    ).one()
    return VolunteerFigures(reports=int(reports), confirmed=int(confirmed), members_reporting=int(members))


def figures(scope: Scope, period: Period, station: Station | None = None) -> Figures:
    """Every figure of the period; reused while nothing they count has changed (cache.py)."""
    return cached(scope.station_id, ("figures", scope, period, station is not None),
                  lambda: count_figures(scope, period, station))


def count_figures(scope: Scope, period: Period, station: Station | None = None) -> Figures:
    """Every figure of the period, counted now."""
    result = Figures(period=period, leads=lead_counts(scope, period), outcomes=outcomes(scope, period),
                     return_visits=return_visit_figures(scope, period))
    if scope.whole_station and station is not None:
        since, until = period.bounds()
        result.success = success_rate(station.id, since, until)
        result.mediation = mediation_activity(station.id, period)
        result.volunteers = volunteer_figures(station.id, period)
        result.dv = dv_figures(station, (period.start, period.end))
        result.youth = youth_figures(station, YouthPeriod(period.start, period.end))
    return result


def work_now(scope: Scope, now: datetime) -> WorkNow:
    """Overdue is counted at `now` (time alone changes it); the rest only changes with a write, so
    it is reused while the station's figures stamp holds (cache.py)."""
    open_ = Lead.status.in_([s.value for s in OPEN_STATUSES])
    overdue = db.session.scalar(select(func.count()).select_from(Lead).where(
        scope.leads(), open_, Lead.due_at < now)) or 0
    return replace(cached(scope.station_id, ("work", scope), lambda: count_open_work(scope)), overdue=overdue)


def count_open_work(scope: Scope) -> WorkNow:
    """Work under supervision and open leads by community and grid (overdue left at 0: see work_now)."""
    open_ = Lead.status.in_([s.value for s in OPEN_STATUSES])
    supervised = db.session.scalar(select(func.count()).select_from(Lead).where(
        scope.leads(), Lead.status.in_([s.value for s in ACTIVE_STATUSES]),
        Lead.supervised_until.is_not(None))) or 0
    rows = db.session.execute(
        select(Lead.community_id, Lead.grid_id, func.count(),
               func.sum(case((Lead.risk == "red", 1), else_=0)))
        .where(scope.leads(), open_, Lead.duplicate_of_id.is_(None))
        .group_by(Lead.community_id, Lead.grid_id)
    ).all()
    by_c: dict[int | None, int] = {}
    by_g: dict[int | None, int] = {}
    red_c: dict[int | None, int] = {}
    red_g: dict[int | None, int] = {}
    for community_id, grid_id, n, red in rows:
        by_c[community_id] = by_c.get(community_id, 0) + n
        by_g[grid_id] = by_g.get(grid_id, 0) + n
        red_c[community_id] = red_c.get(community_id, 0) + int(red or 0)
        red_g[grid_id] = red_g.get(grid_id, 0) + int(red or 0)
    return WorkNow(overdue=0, supervised=supervised, open_by_community=by_c, open_by_grid=by_g,
                   open_red_by_community=red_c, open_red_by_grid=red_g)


def _local_day(column):
    """The station-local calendar day of a UTC timestamp column, on either engine."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("Asia/Shanghai", column))
    return func.date(column, "+8 hours")  # Asia/Shanghai keeps +08:00 all year


def daily_counts(scope: Scope, period: Period) -> dict[date, int]:
    """Leads received per station-local day; reused while nothing they count has changed (cache.py)."""
    return cached(scope.station_id, ("daily", scope, period), lambda: count_daily(scope, period))


def count_daily(scope: Scope, period: Period) -> dict[date, int]:
    day = _local_day(Lead.received_at)
    rows = db.session.execute(
        select(day, func.count())
        .where(scope.leads(), _in(Lead.received_at, period), Lead.duplicate_of_id.is_(None))
        .group_by(day)
    ).all()
    result: dict[date, int] = {}
    for value, n in rows:
        key = value if isinstance(value, date) else date.fromisoformat(str(value))
        result[key] = result.get(key, 0) + n
    return result


def weekly_trend(scope: Scope, period: Period) -> list[tuple[date, int]]:
    """Leads received per week (weeks start on Monday) over the period; the first and last may be partial."""
    days = {d: n for d, n in daily_counts(scope, trend_days(period)).items() if d >= period.start}
    first = period.start - timedelta(days=period.start.weekday())
    weeks: list[tuple[date, int]] = []
    monday = first
    while monday <= period.end:
        weeks.append((monday, sum(n for d, n in days.items() if monday <= d < monday + timedelta(days=7))))
        monday += timedelta(days=7)
    return weeks


def trend_days(period: Period, count: int = 12) -> Period:
    """The days both trends draw from: the period's and those of the `count` months up to its end
    (one count serves both charts)."""
    return Period(min(period.start, months_back(period.end, count).start), period.end)


def months_back(end: date, count: int = 12) -> Period:
    """The `count` calendar months ending with the month of `end` (the last one to `end`)."""
    year, month = end.year, end.month - (count - 1)
    while month < 1:
        month += 12
        year -= 1
    return Period(date(year, month, 1), end)


def monthly_trend(scope: Scope, end: date, count: int = 12,
                  beside: Period | None = None) -> list[tuple[date, int]]:
    """Leads received per calendar month over the `count` months ending with `end`'s month.

    beside: the period (ending on `end`) whose weekly trend is drawn too: one count of days serves both.
    """
    period = months_back(end, count)
    days = daily_counts(scope, trend_days(beside or period, count))
    totals: dict[date, int] = {}
    for d, n in days.items():
        if d < period.start:
            continue  # a day of the weekly trend's longer period
        key = d.replace(day=1)
        totals[key] = totals.get(key, 0) + n
    months = []
    cursor = period.start
    while cursor <= end:
        months.append((cursor, totals.get(cursor, 0)))
        cursor = date(cursor.year + (cursor.month == 12), cursor.month % 12 + 1, 1)
    return months

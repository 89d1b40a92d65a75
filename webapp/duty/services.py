"""The on-duty roster: who is on duty when, and who the app proposes for a mediation panel.

Shifts are stored in UTC and entered and shown in station time. One person's shifts never
overlap. `on_duty` is the order dispatch tries people in: who came on duty first, then who was
put on the roster first.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from webapp.duty.models import DutyShift
from webapp.extensions import db
from webapp.org.models import Role, Station, User, UserRole
from webapp.timeutil import STATION_TZ

# Who can be on the roster: mediators (incl. the prosecutor-mediator) and lawyers.
DUTY_ROLES = (Role.MEDIATOR, Role.LAWYER)
MAX_SHIFT = timedelta(hours=24)


class DutyError(Exception):
    """A roster rule was broken; the message is shown to the person (field: the form field)."""

    def __init__(self, field: str, message: object):
        super().__init__(message)
        self.field = field
        self.message = message


def week_start(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


def station_time(day: date, at: time) -> datetime:
    """A station-local day and time as an aware datetime (store it as UTC)."""
    return datetime.combine(day, at, tzinfo=STATION_TZ)


def shift_window(day: date, starts: time, ends: time) -> tuple[datetime, datetime]:
    """A shift from a day and two clock times; an end at or before the start is the next day."""
    start = station_time(day, starts)
    end_day = day if ends > starts else day + timedelta(days=1)
    return start, station_time(end_day, ends)


def duty_people(station: Station) -> list[User]:
    """Who may be put on the roster (enabled mediators and lawyers of the station)."""
    return list(db.session.scalars(
        select(User).join(UserRole)
        .where(User.station_id == station.id, User.is_enabled.is_(True),
               UserRole.role.in_([role.value for role in DUTY_ROLES]))
        .distinct().order_by(User.display_name)))


def shifts_between(station: Station, start: datetime, end: datetime) -> list[DutyShift]:
    """Shifts of the station that overlap [start, end), in time order."""
    return list(db.session.scalars(
        select(DutyShift).where(DutyShift.station_id == station.id, DutyShift.starts_at < end,
                                DutyShift.ends_at > start)
        .order_by(DutyShift.starts_at, DutyShift.id)))


def week_days(monday: date) -> list[date]:
    return [monday + timedelta(days=offset) for offset in range(7)]


def week_roster(station: Station, monday: date) -> dict[date, list[DutyShift]]:
    """Each day of the week (station time) with the shifts that start or run in it."""
    start = station_time(monday, time())
    shifts = shifts_between(station, start, start + timedelta(days=7))
    roster: dict[date, list[DutyShift]] = {}
    for day in week_days(monday):
        day_start = station_time(day, time())
        day_end = day_start + timedelta(days=1)
        roster[day] = [s for s in shifts if s.starts_at < day_end and s.ends_at > day_start]
    return roster


def add_shift(station: Station, person: User, starts_at: datetime, ends_at: datetime,
              actor: User | None) -> DutyShift:
    """Put `person` on duty; refuses people who cannot be on the roster and overlapping shifts."""
    if person.station_id != station.id or not person.is_enabled or not person.has_role(*DUTY_ROLES):
        raise DutyError("person_id", _l("Only the station's mediators and lawyers can be on duty."))
    if ends_at <= starts_at:
        raise DutyError("ends", _l("A shift must end after it starts."))
    if ends_at - starts_at > MAX_SHIFT:
        raise DutyError("ends", _l("A shift is at most 24 hours."))
    clash = db.session.scalar(
        select(DutyShift.id).where(DutyShift.user_id == person.id, DutyShift.starts_at < ends_at,
                                   DutyShift.ends_at > starts_at).limit(1))
    if clash is not None:
        raise DutyError("starts", _l("This person is already on duty during part of this time."))
    shift = DutyShift(station_id=station.id, person=person, starts_at=starts_at, ends_at=ends_at,
                      created_by_id=actor.id if actor else None)
    db.session.add(shift)
    db.session.flush()
    return shift


def remove_shift(shift: DutyShift) -> None:
    db.session.delete(shift)
    db.session.flush()


def on_duty(station: Station, at: datetime, *roles: Role) -> list[User]:
    """Who is on duty at `at` (of `roles`, default any), in the order dispatch tries them:
    who came on duty first, then who was put on the roster first. Disabled people are left out."""
    query = (select(User).join(DutyShift, DutyShift.user_id == User.id)
             .where(DutyShift.station_id == station.id, DutyShift.starts_at <= at, DutyShift.ends_at > at,
                    User.is_enabled.is_(True))
             .order_by(DutyShift.starts_at, DutyShift.id))
    people = list(db.session.scalars(query))
    if roles:
        people = [person for person in people if person.has_role(*roles)]
    return people

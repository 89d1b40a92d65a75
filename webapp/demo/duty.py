"""Demo roster: this week's duty (and last Sunday night's, so Monday morning is covered).

Days 08:00–20:00: the retired prosecutor (钱德厚, `mediator`) and 吴桂兰 (`mediator2`); nights
20:00–08:00: 郑国平 (`mediator3`). Lawyers 09:00–18:00: 冯晓 on weekdays, 陈思远 at weekends.
Loading twice adds nothing (a shift is known by its person and start).
"""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import select

from webapp.duty.models import DutyShift
from webapp.duty.services import shift_window, week_start
from webapp.extensions import db
from webapp.org.models import Station, User
from webapp.timeutil import STATION_TZ, utcnow

DAY, NIGHT, OFFICE = (time(8), time(20)), (time(20), time(8)), (time(9), time(18))


def _plan(day) -> list[tuple[str, tuple[time, time]]]:
    lawyer = "lawyer" if day.weekday() < 5 else "lawyer2"
    return [("mediator", DAY), ("mediator2", DAY), ("mediator3", NIGHT), (lawyer, OFFICE)]


def load_demo_roster(station: Station, users: dict[str, User]) -> int:
    """Add this week's shifts that are missing; returns how many were added."""
    db.session.flush()
    monday = week_start(utcnow().astimezone(STATION_TZ).date())
    added = 0
    for offset in range(-1, 7):
        day = monday + timedelta(days=offset)
        for username, (starts, ends) in _plan(day):
            person = users.get(username)
            if person is None or (offset == -1 and (starts, ends) != NIGHT):
                continue
            starts_at, ends_at = shift_window(day, starts, ends)
            known = db.session.scalar(select(DutyShift.id).where(
                DutyShift.user_id == person.id, DutyShift.starts_at < ends_at, DutyShift.ends_at > starts_at))
            if known is None:
                db.session.add(DutyShift(station_id=station.id, person=person, starts_at=starts_at,
                                         ends_at=ends_at))
                db.session.flush()
                added += 1
    return added

"""The youth team's counts, as the station reports them ("82 talks, 48 counselling sessions,
15 minors helped").

Definitions (one period = station-local calendar days, both ends included):

- **talks**: outreach events of the station held in the period (any topic); `audience` adds up
  their audience counts.
- **counselling sessions**: assistance sessions of kind *counselling* held in the period, on the
  station's profiles. Family-education and parent–child sessions are not counselling; they are
  counted in `sessions` (all kinds).
- **minors helped**: distinct profiles of the station that, in the period, either were closed as
  *helped*, or had at least one assistance session of any kind. A minor counts once however
  many sessions they had; a profile closed as "moved away" or "aged out" counts only through a
  session held in the period.

Counts only, no names: the numbers may be shown beyond the youth team; the profiles behind them
stay sealed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, or_, select

from webapp.extensions import db
from webapp.org.models import Station
from webapp.youth.codes import ClosedReason, SessionKind
from webapp.youth.models import OutreachEvent, YouthProfile, YouthSession


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # included

    def __post_init__(self):
        if self.end < self.start:
            raise ValueError("a period ends on or after its start")


def last_twelve_months(today: date) -> Period:
    """The 365 days up to and including `today` (what the youth team's home counts)."""
    return Period(today - timedelta(days=364), today)


@dataclass(frozen=True)
class YouthFigures:
    talks: int
    audience: int
    counselling_sessions: int
    sessions: int
    minors_helped: int


def youth_figures(station: Station, period: Period) -> YouthFigures:
    talks, audience = db.session.execute(
        select(func.count(OutreachEvent.id), func.coalesce(func.sum(OutreachEvent.audience), 0))
        .where(OutreachEvent.station_id == station.id,
               OutreachEvent.held_on.between(period.start, period.end))).one()
    in_period = YouthSession.held_on.between(period.start, period.end)
    station_sessions = (select(func.count(YouthSession.id)).join(YouthProfile)
                        .where(YouthProfile.station_id == station.id, in_period))
    sessions = db.session.scalar(station_sessions) or 0
    counselling = db.session.scalar(
        station_sessions.where(YouthSession.kind == SessionKind.COUNSELLING.value)) or 0
    with_session = select(YouthSession.profile_id).where(in_period)
    helped = db.session.scalar(
        select(func.count(YouthProfile.id)).where(
            YouthProfile.station_id == station.id,
            or_((YouthProfile.status == "closed") & (YouthProfile.closed_reason == ClosedReason.HELPED.value)
                & YouthProfile.closed_on.between(period.start, period.end),
                YouthProfile.id.in_(with_session)))) or 0
    return YouthFigures(talks=talks, audience=int(audience), counselling_sessions=counselling,
                        sessions=sessions, minors_helped=helped)

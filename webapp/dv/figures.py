"""The DV task force's figures for one station and period — one function, each figure defined here.

A period is a pair of station-local dates, both included (e.g. the year: 1 Jan – 31 Dec).

- **letters_issued**: warning letters issued in the period (a correction has its own number and
  counts as a letter).
- **deliveries_completed**: deliveries to the abuser or the victim made in the period (by the
  phone's clock when recorded at the door), signed or refused — a recorded refusal is a completed
  delivery; the residents' committee's notification is not a delivery.
- **followups_due**: follow-up visits scheduled within the period; **followups_on_time**: those of
  them recorded on or before their due date (station-local).
- **households**: distinct leads with an issued letter whose last scheduled follow-up visit falls in
  the period and is done; **households_no_repeat**: those of them where no follow-up visit of any of
  the lead's letters recorded recurrence; **no_repeat_share**: households_no_repeat / households
  (None when there are no households).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from webapp.dv.models import Delivery, FollowUp, LetterStatus, Recipient, WarningLetter
from webapp.extensions import db
from webapp.org.models import Station
from webapp.timeutil import STATION_TZ


@dataclass(frozen=True)
class DvFigures:
    letters_issued: int
    deliveries_completed: int
    followups_due: int
    followups_on_time: int
    households: int
    households_no_repeat: int
    no_repeat_share: float | None


def _bounds(period: tuple[date, date]) -> tuple[datetime, datetime]:
    start, end = period
    return (
        datetime.combine(start, time(), STATION_TZ).astimezone(UTC),
        datetime.combine(end + timedelta(days=1), time(), STATION_TZ).astimezone(UTC),
    )


def dv_figures(station: Station, period: tuple[date, date]) -> DvFigures:
    start, end = period
    since, until = _bounds(period)
    letters_issued = (
        db.session.scalar(
            select(func.count())
            .select_from(WarningLetter)
            .where(
                WarningLetter.station_id == station.id,
                WarningLetter.status == LetterStatus.ISSUED.value,
                WarningLetter.issued_at >= since,
                WarningLetter.issued_at < until,
            )
        )
        or 0
    )
    deliveries = (
        db.session.scalar(
            select(func.count())
            .select_from(Delivery)
            .join(WarningLetter)
            .where(
                WarningLetter.station_id == station.id,
                Delivery.recipient.in_([Recipient.ABUSER.value, Recipient.VICTIM.value]),
                Delivery.delivered_at >= since,
                Delivery.delivered_at < until,
            )
        )
        or 0
    )
    due = list(
        db.session.scalars(
            select(FollowUp).where(
                FollowUp.station_id == station.id, FollowUp.due_on >= start, FollowUp.due_on <= end
            )
        )
    )
    on_time = sum(
        1 for f in due if f.done_at is not None and f.done_at.astimezone(STATION_TZ).date() <= f.due_on
    )
    households, no_repeat = _households(station, start, end)
    return DvFigures(
        letters_issued=letters_issued,
        deliveries_completed=deliveries,
        followups_due=len(due),
        followups_on_time=on_time,
        households=households,
        households_no_repeat=no_repeat,
        no_repeat_share=(no_repeat / households) if households else None,
    )


def _households(station: Station, start: date, end: date) -> tuple[int, int]:
    followups = list(db.session.scalars(select(FollowUp).where(FollowUp.station_id == station.id)))
    last: dict[int, FollowUp] = {}
    recurred: set[int] = set()
    for followup in followups:
        if followup.lead_id not in last or followup.due_on > last[followup.lead_id].due_on:
            last[followup.lead_id] = followup
        if followup.recurred:
            recurred.add(followup.lead_id)
    counted = [lead_id for lead_id, f in last.items() if start <= f.due_on <= end and f.done_at is not None]
    return len(counted), sum(1 for lead_id in counted if lead_id not in recurred)

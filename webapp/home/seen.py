"""What is new since the person last opened their home: one stored time per person (User.home_seen_at),
moved on by each visit with a single UPDATE. Rows compare their own time with it, so marking them new
costs no query."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update

from webapp.extensions import db
from webapp.leads.models import Lead
from webapp.org.models import User


@dataclass(frozen=True)
class Since:
    """The previous visit (None on the first one) and how many of the home's rows arrived after it."""

    then: datetime | None
    count: int


def previous_visit(person: User, now: datetime, *, record: bool = True) -> datetime | None:
    """When `person` last opened their home; with `record`, the visit at `now` becomes the last one.
    An htmx refresh of a list is not a visit: the caller passes record=False for it."""
    then = person.home_seen_at
    if record:
        # In its own short transaction, not the request's: the person's row stayed locked from here
        # to the end of the page, so one person's pages (two tabs, a refresh) waited for each other
        # (bench/README.md, p99). And not through the ORM: an ORM UPDATE tells the figures' cache that
        # any station may have changed (webapp/reports/cache.py), and a visit changes no figure.
        with db.engine.begin() as connection:
            connection.execute(update(User).where(User.id == person.id).values(home_seen_at=now))
    return then


def is_new(when: datetime | None, then: datetime | None) -> bool:
    """Arrived after the previous visit. On the first visit nothing is marked: all of it would be."""
    return then is not None and when is not None and when > then


def since(then: datetime | None, times: Iterable[datetime | None]) -> Since:
    return Since(then, sum(1 for when in times if is_new(when, then)))


def arrived_at(lead: Lead) -> datetime:
    """When a lead reached the person's work: its assignment, or its arrival at the station."""
    return lead.assigned_at or lead.received_at


def progress_changed_at(lead: Lead) -> datetime:
    """When the reporter's view of a lead last moved: received, taken on, concluded."""
    return max(when for when in (lead.received_at, lead.accepted_at, lead.closed_at) if when is not None)

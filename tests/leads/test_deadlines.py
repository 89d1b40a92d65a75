"""Deadlines and overdue work on the station's calendar (Asia/Shanghai, UTC+8, no summer time).

Hours are exact; days run to the end of the local day. The dangerous moments are the eight hours
each night when the UTC date and the Shanghai date differ (16:00–24:00 UTC).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.factories import commit, make_community, make_station, make_user
from webapp.extensions import db
from webapp.leads.codes import Risk, Source, Status
from webapp.leads.deadlines import DEFAULT_DEADLINES, Deadline, due_at, parse_deadlines
from webapp.leads.lifecycle import perform
from webapp.leads.models import Lead
from webapp.leads.queries import LeadFilters, lead_list, my_work, queue_counts
from webapp.leads.services import LeadInput, register_lead
from webapp.org.models import Role
from webapp.timeutil import STATION_TZ

MAX_PHOTO = 10 * 1024 * 1024


def shanghai(*args) -> datetime:
    return datetime(*args, tzinfo=STATION_TZ)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


class Desk:
    def __init__(self):
        self.station = make_station()
        self.wang = make_user(self.station, Role.OFFICER, username="wang")
        self.zhao = make_user(self.station, Role.OFFICER, username="zhao")
        self.chief = make_user(self.station, Role.SUPERVISOR, username="chief")
        self.li = make_user(self.station, Role.VOLUNTEER, username="li")
        self.na = make_community(self.station, "NA", officer=self.wang)
        self.nb = make_community(self.station, "NB", officer=self.zhao)
        self.deadlines = parse_deadlines(DEFAULT_DEADLINES)

    def lead(self, risk: Risk | None = None, received_at: datetime | None = None,
             due: datetime | None = None, community=None, summary: str = "楼道堆物纠纷") -> Lead:
        data = LeadInput(source=Source.WALK_IN, category="neighbour", summary=summary, risk=risk,
                         community=community or self.na)
        lead = register_lead(self.li, data, self.deadlines, MAX_PHOTO).lead
        if received_at is not None:
            lead.received_at = received_at
            lead.cycle_started_at = received_at  # the deadline clock starts at the receipt
            lead.recorded_at = received_at
            # As if it had arrived then: intake computes the deadline from the receipt.
            lead.due_at = due_at(self.deadlines, lead.risk, received_at)
        if due is not None:
            lead.due_at = due
        db.session.flush()
        return lead


@pytest.fixture
def desk(app_ctx):
    made = Desk()
    commit()
    return made


def reload(lead: Lead) -> Lead:
    """The lead as stored (SQLite keeps no offset; the app must restore aware UTC values)."""
    commit()
    db.session.expire_all()
    return db.session.get(Lead, lead.id)


# --- computing a deadline -----------------------------------------------------------------------

DUE = [
    # spec, risk, received (UTC), due (Shanghai wall time)
    pytest.param(DEFAULT_DEADLINES, "red", utc(2026, 3, 3, 15, 30), shanghai(2026, 3, 4, 23, 30),
                 id="red-24h-from-23:30-local"),
    pytest.param(DEFAULT_DEADLINES, "orange", utc(2026, 3, 2, 17, 0), shanghai(2026, 3, 9, 0, 0),
                 id="orange-5d-from-01:00-local-on-the-3rd-is-end-of-the-8th-not-the-7th"),
    pytest.param(DEFAULT_DEADLINES, "orange", utc(2026, 3, 3, 15, 59, 59), shanghai(2026, 3, 9, 0, 0),
                 id="orange-5d-from-a-second-before-local-midnight"),
    pytest.param(DEFAULT_DEADLINES, "orange", utc(2026, 3, 3, 16, 0), shanghai(2026, 3, 10, 0, 0),
                 id="orange-5d-from-local-midnight-counts-the-new-day"),
    pytest.param(DEFAULT_DEADLINES, "yellow", utc(2026, 3, 31, 20, 0), shanghai(2026, 5, 2, 0, 0),
                 id="yellow-30d-across-a-month-end-from-the-local-date"),
    pytest.param(DEFAULT_DEADLINES, "blue", utc(2026, 12, 31, 18, 0), shanghai(2027, 2, 1, 0, 0),
                 id="blue-30d-received-on-new-years-day-local"),
    pytest.param("red=2h,orange=1d,yellow=1d,blue=1d", "red", utc(2026, 3, 3, 15, 30),
                 shanghai(2026, 3, 4, 1, 30), id="hours-cross-local-midnight-exactly"),
    pytest.param("red=2h,orange=1d,yellow=1d,blue=1d", "orange", utc(2026, 3, 3, 15, 30),
                 shanghai(2026, 3, 5, 0, 0), id="one-day-is-the-end-of-tomorrow-local"),
    pytest.param("red=2h,orange=1d,yellow=0d,blue=1d", "yellow", utc(2026, 3, 3, 1, 0),
                 shanghai(2026, 3, 4, 0, 0), id="zero-days-is-end-of-today-local"),
]


@pytest.mark.parametrize(("spec", "risk", "received", "due"), DUE)
def test_due_time_on_the_station_calendar(spec, risk, received, due):
    computed = due_at(parse_deadlines(spec), risk, received)
    assert computed == due
    assert computed.tzinfo is not None and computed.utcoffset() == timedelta(0)  # stored as UTC


def test_ungraded_lead_is_timed_as_yellow():
    deadlines = parse_deadlines("red=1h,orange=2d,yellow=7d,blue=30d")
    start = utc(2026, 3, 2, 17, 0)
    assert due_at(deadlines, None, start) == due_at(deadlines, "yellow", start) == shanghai(2026, 3, 11)


@pytest.mark.parametrize(("risk", "received", "due"), [
    pytest.param(Risk.RED, utc(2026, 3, 3, 15, 30), shanghai(2026, 3, 4, 23, 30), id="red"),
    pytest.param(Risk.ORANGE, utc(2026, 3, 2, 17, 0), shanghai(2026, 3, 9, 0, 0), id="orange"),
])
def test_grading_a_received_lead_sets_the_local_deadline(desk, risk, received, due):
    """The grade step recomputes the deadline from when the station received the lead."""
    lead = desk.lead(risk=Risk.BLUE, received_at=received)
    perform(lead, desk.chief, "grade", desk.deadlines, risk=risk.value)
    lead = reload(lead)
    assert lead.due_at == due
    assert lead.due_at.astimezone(STATION_TZ).replace(tzinfo=None) == due.replace(tzinfo=None)


@pytest.mark.parametrize("spec", [
    pytest.param("red=24h,orange=5d,yellow=30d", id="blue-missing"),
    pytest.param("orange=5d,yellow=30d,blue=30d", id="red-missing"),
    pytest.param("red=24h,orange=5d,yellow=30d,blue=30w", id="weeks-are-not-a-unit"),
    pytest.param("red=24m,orange=5d,yellow=30d,blue=30d", id="minutes-are-not-a-unit"),
    pytest.param("red=24,orange=5d,yellow=30d,blue=30d", id="no-unit"),
    pytest.param("red=h,orange=5d,yellow=30d,blue=30d", id="no-amount"),
    pytest.param("red=-1h,orange=5d,yellow=30d,blue=30d", id="negative"),
    pytest.param("red=1.5h,orange=5d,yellow=30d,blue=30d", id="fraction"),
    pytest.param("red:24h,orange=5d,yellow=30d,blue=30d", id="colon"),
    pytest.param("red=24h,orange=5d,yellow=30d,blue=30d,purple=1d", id="unknown-grade"),
    pytest.param("red=24h;orange=5d;yellow=30d;blue=30d", id="semicolons"),
    pytest.param("", id="empty"),
])
def test_bad_deadline_config_is_refused(spec):
    with pytest.raises(ValueError, match=r"deadline"):
        parse_deadlines(spec)


def test_deadline_config_parses_in_any_order_with_spaces():
    parsed = parse_deadlines(" blue = 30d , yellow=30d,orange= 5d ,red=24h ")
    assert parsed == parse_deadlines(DEFAULT_DEADLINES) == {
        Risk.RED: Deadline(24, "h"), Risk.ORANGE: Deadline(5, "d"), Risk.YELLOW: Deadline(30, "d"),
        Risk.BLUE: Deadline(30, "d")}


def test_the_app_deadline_config_is_valid(app):
    assert set(parse_deadlines(app.config["BEATBOOK_DEADLINES"])) == set(Risk)


def test_regrading_a_reopened_lead_keeps_it_in_time(desk):
    lead = desk.lead(risk=Risk.ORANGE, received_at=shanghai(2026, 1, 5, 10, 0))
    for step, params in (("accept", {}), ("resolve", {"outcome": "oral"})):
        perform(lead, desk.wang, step, desk.deadlines, now=shanghai(2026, 1, 6, 10, 0), **params)
    reopened = shanghai(2026, 3, 3, 9, 0)
    perform(lead, desk.wang, "reopen", desk.deadlines, now=reopened, reason="又吵起来了")
    assert lead.due_at == shanghai(2026, 3, 9, 0, 0)  # five days from the reopening
    perform(lead, desk.chief, "grade", desk.deadlines, now=reopened + timedelta(hours=1), risk="red")
    assert not lead.is_overdue(reopened + timedelta(hours=2))  # a red lead gets 24 h from the reopening


def test_confirming_the_grade_keeps_a_granted_extension(desk):
    lead = desk.lead(risk=Risk.YELLOW)
    perform(lead, desk.wang, "accept", desk.deadlines)
    perform(lead, desk.wang, "request_extension", desk.deadlines, reason="当事人在外地打工")
    granted = lead.due_at + timedelta(days=15)
    perform(lead, desk.chief, "grant_extension", desk.deadlines, new_due=granted)
    perform(lead, desk.chief, "grade", desk.deadlines, risk="yellow", note="研判确认")
    assert lead.due_at == granted


# --- overdue -----------------------------------------------------------------------------------

DUE_AT = shanghai(2026, 3, 9, 0, 0)  # = 2026-03-08 16:00 UTC: orange, received 03-03 01:00 local


@pytest.mark.parametrize(("now", "overdue"), [
    pytest.param(DUE_AT - timedelta(seconds=1), False, id="a-second-before"),
    pytest.param(DUE_AT, False, id="at-the-due-time"),
    pytest.param(DUE_AT + timedelta(seconds=1), True, id="a-second-after"),
    pytest.param(shanghai(2026, 3, 8, 23, 0), False, id="23:00-on-the-8th-local"),
    pytest.param(utc(2026, 3, 8, 17, 0), True, id="01:00-on-the-9th-local-though-still-the-8th-utc"),
])
def test_is_overdue_around_the_due_time(desk, now, overdue):
    lead = desk.lead(risk=Risk.ORANGE, received_at=shanghai(2026, 3, 3, 1, 0))
    perform(lead, desk.chief, "grade", desk.deadlines, risk="orange")  # the real computation
    lead = reload(lead)
    assert lead.due_at == DUE_AT
    assert lead.is_overdue(now) is overdue
    assert lead.is_overdue(now.astimezone(UTC)) is overdue  # the zone of `now` does not matter


def test_finished_work_is_never_overdue(desk):
    late = DUE_AT + timedelta(days=3)
    resolved = desk.lead(risk=Risk.ORANGE, due=DUE_AT)
    perform(resolved, desk.wang, "accept", desk.deadlines)
    perform(resolved, desk.wang, "resolve", desk.deadlines, outcome="written")
    monitoring = desk.lead(risk=Risk.ORANGE, due=DUE_AT)
    for step, params in (("accept", {}), ("resolve", {"outcome": "oral"}), ("monitor", {})):
        perform(monitoring, desk.wang, step, desk.deadlines, **params)
    still_open = desk.lead(risk=Risk.ORANGE, due=DUE_AT)
    for lead in (resolved, monitoring, still_open):
        lead = reload(lead)
        assert lead.is_overdue(late) is (lead.status == Status.ASSIGNED), lead.status
    ids = [x.id for x in lead_list(desk.chief, LeadFilters(queue="overdue"), late).leads]
    assert ids == [still_open.id]


def test_overdue_queue_turns_at_local_midnight(desk):
    """One orange lead due at 24:00 on the 8th (Shanghai); a red one due the next evening."""
    orange = desk.lead(risk=Risk.ORANGE, received_at=shanghai(2026, 3, 3, 1, 0))
    perform(orange, desk.chief, "grade", desk.deadlines, risk="orange")
    red = desk.lead(risk=Risk.RED, received_at=shanghai(2026, 3, 8, 21, 0), community=desk.nb)
    perform(red, desk.chief, "grade", desk.deadlines, risk="red")
    commit()
    assert (orange.due_at, red.due_at) == (DUE_AT, shanghai(2026, 3, 9, 21, 0))

    def overdue(now):
        page = lead_list(desk.chief, LeadFilters(queue="overdue"), now)
        assert queue_counts(desk.chief, now)["overdue"] == len(page.leads)
        return [lead.id for lead in page.leads]

    assert overdue(shanghai(2026, 3, 8, 23, 59, 59)) == []
    assert overdue(shanghai(2026, 3, 9, 0, 0, 1)) == [orange.id]
    assert overdue(utc(2026, 3, 8, 16, 0, 1)) == [orange.id]  # the same instant, given in UTC
    assert overdue(shanghai(2026, 3, 9, 21, 0, 1)) == [red.id, orange.id]  # newest first
    # An officer sees only the overdue work of their own community.
    assert [x.id for x in lead_list(desk.zhao, LeadFilters(queue="overdue"),
                                     shanghai(2026, 3, 10)).leads] == [red.id]


# --- "my work" ----------------------------------------------------------------------------------

def test_my_work_puts_overdue_first_then_risk_then_due_time(desk):
    now = shanghai(2026, 3, 9, 8, 0)
    hour = timedelta(hours=1)
    made = {
        # Overdue: red before blue, although the blue one is later by far.
        "blue_overdue": desk.lead(Risk.BLUE, due=now - 48 * hour),
        "red_overdue": desk.lead(Risk.RED, due=now - hour),
        # Not overdue: by risk, then by due time.
        "red_later": desk.lead(Risk.RED, due=now + 20 * hour),
        "orange_soon": desk.lead(Risk.ORANGE, due=now + 2 * hour),
        "red_sooner": desk.lead(Risk.RED, due=now + 5 * hour),
        "yellow_no_due": desk.lead(Risk.YELLOW),
        "yellow": desk.lead(Risk.YELLOW, due=now + 100 * hour),
        # Follow-up work (performance monitoring) is never overdue, whatever its old due time.
        "yellow_monitoring": desk.lead(Risk.YELLOW, due=now - 72 * hour),
        "blue": desk.lead(Risk.BLUE, due=now + hour),
        # Not in wang's work at all: finished, or someone else's.
        "resolved": desk.lead(Risk.RED, due=now - hour),
        "zhaos": desk.lead(Risk.RED, due=now - hour, community=desk.nb),
    }
    made["yellow_no_due"].due_at = None  # setup: how an undated lead sorts, on both engines
    for step, params in (("accept", {}), ("resolve", {"outcome": "oral"}), ("monitor", {})):
        perform(made["yellow_monitoring"], desk.wang, step, desk.deadlines, **params)
    perform(made["resolved"], desk.wang, "accept", desk.deadlines)
    perform(made["resolved"], desk.wang, "resolve", desk.deadlines, outcome="written")
    commit()
    names = {lead.id: name for name, lead in made.items()}
    expected = ["red_overdue", "blue_overdue", "red_sooner", "red_later", "orange_soon",
                "yellow_monitoring", "yellow", "yellow_no_due", "blue"]
    assert [names[lead.id] for lead in my_work(desk.wang, now)] == expected
    assert [names[lead.id] for lead in my_work(desk.wang, now.astimezone(UTC))] == expected
    # An hour earlier the red one was not overdue yet: it drops back among the reds by due time.
    earlier = [names[lead.id] for lead in my_work(desk.wang, now - 2 * hour)]
    assert earlier[:4] == ["blue_overdue", "red_overdue", "red_sooner", "red_later"]
    assert [names[lead.id] for lead in my_work(desk.zhao, now)] == ["zhaos"]


def test_my_work_is_only_the_viewers(desk):
    lead = desk.lead(Risk.ORANGE)
    commit()
    assert [x.id for x in my_work(desk.wang, lead.received_at)] == [lead.id]
    assert my_work(desk.chief, lead.received_at) == []  # a supervisor sees it, but it is not their work
    assert db.session.scalar(select(Lead.assignee_id).where(Lead.id == lead.id)) == desk.wang.id

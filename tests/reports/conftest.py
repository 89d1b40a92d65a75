"""A station small enough to count by hand (the numbers in each test are worked out in its comments)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from tests.factories import commit, make_community, make_grid, make_station, make_user
from webapp.experts.models import Expert, ExpertInvitation
from webapp.extensions import db
from webapp.leads.models import Lead, LeadEvent
from webapp.mediation.models import MediationCase, MediationSession
from webapp.org.models import Community, Grid, Role, Station, User
from webapp.returnvisits.models import ReturnVisit
from webapp.timeutil import STATION_TZ

MARCH = (date(2026, 3, 1), date(2026, 3, 31))
SQUARE = ('{"type":"Polygon","coordinates":'
          '[[[120.0,30.0],[120.01,30.0],[120.01,30.01],[120.0,30.01],[120.0,30.0]]]}')
EAST = ('{"type":"Polygon","coordinates":'
        '[[[120.01,30.0],[120.02,30.0],[120.02,30.01],[120.01,30.01],[120.01,30.0]]]}')


def local(y, m, d, hh=12, mm=0) -> datetime:
    """A station-local wall time, as the aware UTC datetime the database keeps."""
    return datetime(y, m, d, hh, mm, tzinfo=STATION_TZ).astimezone(UTC)


def make_lead(
    station: Station,
    reporter: User,
    received: datetime,
    *,
    source="walk_in",
    category="neighbour",
    risk: str | None = None,
    community: Community | None = None,
    grid: Grid | None = None,
    status="registered",
    **extra,
) -> Lead:
    lead = Lead(
        uuid=str(uuid.uuid4()),
        station_id=station.id,
        source=source,
        category=category,
        summary="纠纷",
        risk=risk,
        community_id=community.id if community else None,
        grid_id=grid.id if grid else None,
        reporter_id=reporter.id,
        recorded_at=received,
        received_at=received,
        cycle_started_at=received,
        status=status,
        **extra,
    )
    db.session.add(lead)
    db.session.flush()
    return lead


@dataclass
class Station1:
    station: Station
    a: Community
    b: Community
    grid_a: Grid
    supervisor: User
    officer: User
    liaison: User
    volunteer: User
    dv_team: User
    leads: dict[str, Lead]


@pytest.fixture
def hand(app_ctx) -> Station1:
    """March 2026 at one station; the previous period of equal length is 29 Jan – 28 Feb.

    Leads (station-local receipt):
      l1  A, grid GA, walk-in, neighbour, red, 1 Mar 00:30 (28 Feb 16:30 UTC: still March locally);
          open (assigned) and overdue; failed on 20 Mar
      l2  A, 12345 hotline, neighbour, yellow, 15 Mar; resolved on 16 Mar; in monitoring, supervised
      l3  B, volunteer report by a branch member, debt, ungraded, 31 Mar 23:30; accepted (confirmed);
          transferred on 1 Apr (outside March)
      l4  B, walk-in, debt, orange, DV, 1 Apr 00:10 — April, not counted
      l5  A, walk-in, neighbour, blue, 10 Feb — the previous period
      l6  A, duplicate of l1, 2 Mar — duplicates are not counted
      l7  another station, March — not counted
      l8  A, walk-in, neighbour, yellow, minor involved, 5 Mar; accepted and overdue
    """
    station, other = make_station("HAND-1"), make_station("HAND-2")
    supervisor = make_user(station, Role.SUPERVISOR)
    officer = make_user(station, Role.OFFICER)
    liaison = make_user(station, Role.LIAISON)
    dv_team = make_user(station, Role.DV_TEAM)
    a = make_community(station, officer=officer, boundary=SQUARE)
    b = make_community(station, boundary=EAST)
    grid_a = make_grid(a)
    grid_a.boundary = SQUARE  # the grid covers all of A
    volunteer = make_user(station, Role.VOLUNTEER, community=b, in_volunteer_branch=True)
    stranger = make_user(other, Role.OFFICER)
    past = datetime(2020, 1, 1, tzinfo=UTC)
    leads = {
        "l1": make_lead(
            station,
            officer,
            local(2026, 3, 1, 0, 30),
            community=a,
            grid=grid_a,
            risk="red",
            status="assigned",
            due_at=past,
        ),
        "l2": make_lead(
            station,
            officer,
            local(2026, 3, 15),
            source="hotline_12345",
            community=a,
            risk="yellow",
            status="monitoring",
            supervised_until=local(2026, 12, 31),
        ),
        "l3": make_lead(
            station,
            volunteer,
            local(2026, 3, 31, 23, 30),
            source="volunteer",
            category="debt",
            community=b,
            status="accepted",
        ),
        "l4": make_lead(
            station,
            officer,
            local(2026, 4, 1, 0, 10),
            category="debt",
            community=b,
            risk="orange",
            flag_dv=True,
        ),
        "l5": make_lead(station, officer, local(2026, 2, 10), community=a, risk="blue"),
        "l8": make_lead(
            station,
            officer,
            local(2026, 3, 5),
            community=a,
            risk="yellow",
            flag_minor=True,
            status="accepted",
            due_at=past,
        ),
    }
    leads["l6"] = make_lead(station, officer, local(2026, 3, 2), community=a, duplicate_of_id=leads["l1"].id)
    leads["l7"] = make_lead(other, stranger, local(2026, 3, 10))
    for key, status, at in (
        ("l1", "failed", local(2026, 3, 20)),
        ("l2", "resolved", local(2026, 3, 16)),
        ("l3", "transferred", local(2026, 4, 1, 9)),
    ):
        db.session.add(LeadEvent(lead_id=leads[key].id, kind="step", to_status=status, at=at))
    # Return visits of l2: due 10 Mar (recorded, holding), 20 Mar (pending), 25 Mar (cancelled: not
    # counted), 2 Apr (outside March) → due 2, recorded 1, holding 1.
    for attempt, (due, state, result) in enumerate(
        (
            (local(2026, 3, 10), "recorded", "holding"),
            (local(2026, 3, 20), "pending", ""),
            (local(2026, 3, 25), "cancelled", ""),
            (local(2026, 4, 2), "pending", ""),
        ),
        start=1,
    ):
        db.session.add(
            ReturnVisit(
                station_id=station.id,
                lead_id=leads["l2"].id,
                assignee_id=officer.id,
                attempt=attempt,
                due_at=due,
                state=state,
                result=result,
            )
        )
    # Mediation: a case opened 5 Mar with sessions on 6 Mar and 2 Apr; one expert invited 7 Mar, one 1 Apr.
    case = MediationCase(
        station_id=station.id,
        lead_id=leads["l2"].id,
        origin="officer",
        opened_by_id=supervisor.id,
        opened_at=local(2026, 3, 5),
    )
    db.session.add(case)
    db.session.flush()
    for when in (local(2026, 3, 6), local(2026, 4, 2)):
        db.session.add(
            MediationSession(
                case_id=case.id,
                starts_at=when,
                place="station",
                result="continue",
                recorded_by_id=supervisor.id,
            )
        )
    expert1, expert2 = (
        Expert(station_id=station.id, name="专家甲"),
        Expert(station_id=station.id, name="专家乙"),
    )
    db.session.add_all([expert1, expert2])
    db.session.flush()
    db.session.add_all(
        [
            ExpertInvitation(
                lead_id=leads["l2"].id,
                expert_id=expert1.id,
                video_link="https://v.example/1",
                created_at=local(2026, 3, 7),
            ),
            ExpertInvitation(
                lead_id=leads["l2"].id,
                expert_id=expert2.id,
                video_link="https://v.example/2",
                created_at=local(2026, 4, 1, 12),
            ),
        ]
    )
    commit()
    return Station1(station, a, b, grid_a, supervisor, officer, liaison, volunteer, dv_team, leads)

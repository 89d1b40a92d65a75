"""Every dashboard figure on the hand-counted station of conftest.py (its docstring lists the leads)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from webapp.dv.figures import dv_figures
from webapp.mediation.figures import success_rate
from webapp.reports import figures
from webapp.reports.figures import Period, Scope
from webapp.youth.figures import Period as YouthPeriod
from webapp.youth.figures import youth_figures

MARCH = Period(date(2026, 3, 1), date(2026, 3, 31))


def test_periods_and_the_one_before():
    assert MARCH.previous() == Period(date(2026, 2, 1), date(2026, 2, 28))  # the month before, to its end
    year_so_far = Period(date(2026, 1, 1), date(2026, 11, 30))
    assert year_so_far.previous() == Period(date(2025, 1, 1), date(2025, 11, 30))  # not Feb–Dec 2025
    for period, before in [
        ((date(2028, 1, 1), date(2028, 2, 29)), (date(2027, 1, 1), date(2027, 2, 28))),
        ((date(2026, 12, 1), date(2026, 12, 31)), (date(2026, 11, 1), date(2026, 11, 30))),
        ((date(2026, 3, 1), date(2026, 3, 30)), (date(2026, 2, 1), date(2026, 2, 28))),
        ((date(2026, 1, 1), date(2026, 1, 15)), (date(2025, 1, 1), date(2025, 1, 15))),
    ]:
        assert Period(*period).previous() == Period(*before)
    custom = Period(date(2026, 3, 10), date(2026, 3, 19))
    assert custom.previous() == Period(date(2026, 2, 28), date(2026, 3, 9))  # 10 days just before
    since, until = MARCH.bounds()
    assert since == datetime(2026, 2, 28, 16, tzinfo=UTC) and until == datetime(2026, 3, 31, 16, tzinfo=UTC)


def test_leads_by_source_category_risk_community_grid(hand):
    counts = figures.lead_counts(Scope(hand.station.id), MARCH)
    # l1, l2, l3, l8 (l1 at 00:30 on 1 March local time; l3 at 23:30 on 31 March; no l4, l5, l6, l7).
    assert counts.total == 4
    assert counts.by_source == {"walk_in": 2, "hotline_12345": 1, "volunteer": 1}
    assert counts.by_category == {"neighbour": 3, "debt": 1}
    assert counts.by_risk == {"red": 1, "yellow": 2, "ungraded": 1}
    assert counts.by_community == {hand.a.id: 3, hand.b.id: 1}
    assert counts.by_grid == {hand.grid_a.id: 1, None: 3}
    assert (counts.dv, counts.minor) == (0, 1)
    earlier = figures.lead_counts(Scope(hand.station.id), MARCH.previous())
    assert (earlier.total, earlier.by_risk) == (1, {"blue": 1})


def test_an_officer_counts_only_their_communities_without_compartments(hand):
    scope = figures.scope_for(hand.officer)
    assert scope.community_ids == (hand.a.id,)
    counts = figures.lead_counts(scope, MARCH)
    assert counts.total == 2 and counts.by_community == {hand.a.id: 2}  # l1, l2 (not l8: minor; not B)
    assert counts.minor == 0
    assert figures.scope_for(hand.supervisor).whole_station and figures.scope_for(hand.liaison).whole_station


def test_outcomes(hand):
    # l2 resolved 16 Mar, l1 failed 20 Mar; l3's transfer is on 1 April.
    assert figures.outcomes(Scope(hand.station.id), MARCH) == {"resolved": 1, "failed": 1, "transferred": 0}
    april = Period(date(2026, 4, 1), date(2026, 4, 30))
    assert figures.outcomes(Scope(hand.station.id), april) == {"resolved": 0, "failed": 0, "transferred": 1}


def test_success_rate_is_mediations_one_definition(hand):
    result = figures.figures(Scope(hand.station.id), MARCH, hand.station)
    assert result.success == success_rate(hand.station.id, *MARCH.bounds())
    assert figures.figures(figures.scope_for(hand.officer), MARCH, hand.station).success is None


def test_overdue_supervised_and_open_work_now(hand):
    now = datetime.now(UTC)
    work = figures.work_now(Scope(hand.station.id), now)
    # Overdue: l1 (assigned) and l8 (accepted); supervised: l2 (monitoring).
    assert (work.overdue, work.supervised) == (2, 1)
    # Open (registered … in mediation), not duplicates: l1, l8, l5 in A; l3 (accepted), l4 in B.
    assert work.open_by_community == {hand.a.id: 3, hand.b.id: 2}
    assert work.open_red_by_community == {hand.a.id: 1, hand.b.id: 0}
    assert work.open_by_grid == {hand.grid_a.id: 1, None: 4}
    mine = figures.work_now(figures.scope_for(hand.officer), now)
    assert (mine.overdue, mine.supervised) == (1, 1)  # l8 is a minor's lead: not in the officer's figures


def test_return_visit_completion(hand):
    rv = figures.return_visit_figures(Scope(hand.station.id), MARCH)
    assert (rv.due, rv.recorded, rv.holding, rv.completion) == (2, 1, 1, 0.5)
    assert figures.return_visit_figures(Scope(hand.station.id), MARCH.previous()).completion is None


def test_mediation_and_expert_pool_activity(hand):
    assert figures.mediation_activity(hand.station.id, MARCH) == figures.MediationActivity(1, 1, 1)
    april = Period(date(2026, 4, 1), date(2026, 4, 30))
    assert figures.mediation_activity(hand.station.id, april) == figures.MediationActivity(0, 1, 1)


def test_volunteer_branch_contributions(hand):
    assert figures.volunteer_figures(hand.station.id, MARCH) == figures.VolunteerFigures(1, 1, 1)
    assert figures.volunteer_figures(hand.station.id, MARCH.previous()) == figures.VolunteerFigures(0, 0, 0)


def test_dv_and_youth_figures_come_from_their_functions(hand):
    result = figures.figures(Scope(hand.station.id), MARCH, hand.station)
    assert result.dv == dv_figures(hand.station, (MARCH.start, MARCH.end))
    assert result.youth == youth_figures(hand.station, YouthPeriod(MARCH.start, MARCH.end))
    officer = figures.figures(figures.scope_for(hand.officer), MARCH, hand.station)
    assert officer.dv is None and officer.youth is None and officer.mediation is None


def test_trends_by_week_and_month(hand):
    scope = Scope(hand.station.id)
    # 1 March 2026 is a Sunday: its week starts Monday 23 February.
    assert figures.weekly_trend(scope, MARCH) == [
        (date(2026, 2, 23), 1), (date(2026, 3, 2), 1), (date(2026, 3, 9), 1), (date(2026, 3, 16), 0),
        (date(2026, 3, 23), 0), (date(2026, 3, 30), 1)]
    months = figures.monthly_trend(scope, date(2026, 3, 31))
    assert len(months) == 12 and months[0] == (date(2025, 4, 1), 0)
    assert months[-2:] == [(date(2026, 2, 1), 1), (date(2026, 3, 1), 4)]

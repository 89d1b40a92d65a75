"""The youth team's counts on a fixture small enough to count by hand (webapp/youth/figures.py
defines them), and on the demo station: the station's own 82 talks, 48 counselling sessions and
15 minors helped."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.factories import commit, make_station, make_user
from webapp.extensions import db
from webapp.org.models import Role, Station
from webapp.youth.figures import Period, YouthFigures, last_twelve_months, youth_figures
from webapp.youth.services import (
    OutreachInput,
    ProfileInput,
    SessionInput,
    close_profile,
    open_profile,
    record_session,
    save_outreach,
    station_today,
)

MARCH = Period(date(2026, 3, 1), date(2026, 3, 31))


def _profile(youth, name: str, sessions=(), closed=None):
    """A profile with sessions (kind, day) and then, maybe, closed (reason, day)."""
    profile = open_profile(youth, ProfileInput(name=name, birth_year=2014, situation="情况"))
    for number, (kind, day) in enumerate(sessions):
        record_session(youth, profile, SessionInput(kind=kind, counsellor_id=None, held_on=day,
                                                    duration_minutes=45, uuid=f"{name}-{number}"))
    if closed:
        close_profile(youth, profile, closed[0], "结案", closed[1])
    return profile


def test_figures_on_a_hand_counted_fixture(app_ctx):
    here, there = make_station("FIG-A"), make_station("FIG-B")
    youth, youth_there = make_user(here, Role.YOUTH_TEAM), make_user(there, Role.YOUTH_TEAM)
    # Talks: the first and last day of March count, the days around them do not, nor another station's.
    for day, audience in ((date(2026, 2, 28), 500), (date(2026, 3, 1), 100), (date(2026, 3, 15), 50),
                          (date(2026, 3, 31), 30), (date(2026, 4, 1), 500)):
        save_outreach(youth, None, OutreachInput(topic="law", held_on=day, place="学校", audience=audience))
    save_outreach(youth_there, None, OutreachInput(topic="law", held_on=date(2026, 3, 10), place="外所",
                                                   audience=999))
    c, f, p = "counselling", "family_education", "parent_child"
    # P1: two counselling sessions (on March's first and last day) and one family education: helped.
    _profile(youth, "P1", [(c, date(2026, 3, 1)), (f, date(2026, 3, 10)), (c, date(2026, 3, 31))])
    # P2: counselled in February only, closed as helped in March: helped, no session counted.
    _profile(youth, "P2", [(c, date(2026, 2, 28))], ("helped", date(2026, 3, 5)))
    # P3: a parent–child talk in March, closed as helped in April: helped (through the session).
    _profile(youth, "P3", [(p, date(2026, 3, 20))], ("helped", date(2026, 4, 1)))
    # P4: moved away in March, last session in January: not helped in March.
    _profile(youth, "P4", [(c, date(2026, 1, 10))], ("moved_away", date(2026, 3, 10)))
    # P5: open, no session yet. P6: closed as helped in February.
    _profile(youth, "P5")
    _profile(youth, "P6", [], ("helped", date(2026, 2, 27)))
    # Another station's minor, counselled and helped in March: not ours.
    _profile(youth_there, "P7", [(c, date(2026, 3, 10))], ("helped", date(2026, 3, 11)))
    commit()
    assert youth_figures(here, MARCH) == YouthFigures(talks=3, audience=180, counselling_sessions=2,
                                                      sessions=4, minors_helped=3)
    assert youth_figures(there, MARCH) == YouthFigures(talks=1, audience=999, counselling_sessions=1,
                                                       sessions=1, minors_helped=1)
    one_day = youth_figures(here, Period(date(2026, 3, 31), date(2026, 3, 31)))
    assert (one_day.talks, one_day.counselling_sessions, one_day.minors_helped) == (1, 1, 1)
    with pytest.raises(ValueError):
        Period(date(2026, 3, 2), date(2026, 3, 1))


def test_the_figures_page_counts_the_asked_period(cast):
    start, end = date.today() - timedelta(days=25), date.today()
    page = cast.get("supervisor", f"/youth/figures?start={start}&end={end}")
    assert page.status_code == 200
    cells = page.get_data(as_text=True)
    assert "<td>1</td>" in cells and "<td>300</td>" in cells  # one talk, 300 listeners
    for bad in ("start=x", "start=2026-12-01&end=2026-11-01", "end=2026-02-30", "start=" + "9" * 20):
        response = cast.get("youth_team", f"/youth/figures?{bad}")
        assert response.status_code == 400 and 'role="alert"' in response.get_data(as_text=True), bad


def test_the_demo_station_reports_its_own_figures(demo_station):
    with demo_station.app_context():
        station = db.session.scalar(select(Station).where(Station.code == "XMK-PS"))
        figures = youth_figures(station, last_twelve_months(station_today()))
        assert (figures.talks, figures.counselling_sessions, figures.minors_helped) == (82, 48, 15)
        db.session.remove()

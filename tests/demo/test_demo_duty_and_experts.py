"""The demo station's roster, dispatch and expert pool: someone is on duty at any hour of this
week, the 110 dispute call was dispatched, ~50 experts with one invitation; loading twice adds none."""

from datetime import timedelta

from sqlalchemy import func, select

from webapp.duty.models import DispatchCall, DutyShift
from webapp.duty.services import on_duty, week_start
from webapp.experts.models import Expert, ExpertInvitation
from webapp.extensions import db
from webapp.org.models import Role
from webapp.org.services import the_station
from webapp.timeutil import STATION_TZ, utcnow


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_demo_roster_pool_and_dispatch(app_ctx):
    runner = app_ctx.test_cli_runner()
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    counts = {model: _count(model) for model in (DutyShift, Expert, ExpertInvitation, DispatchCall)}
    assert counts[DutyShift] >= 28 and counts[Expert] >= 50
    assert counts[ExpertInvitation] == 1 and counts[DispatchCall] == 1
    station = the_station()
    monday = week_start(utcnow().astimezone(STATION_TZ).date())
    start = utcnow().replace(year=monday.year, month=monday.month, day=monday.day, hour=0, minute=30)
    for hours in range(0, 7 * 24, 3):  # every three hours of this week: a mediator on duty
        assert on_duty(station, start + timedelta(hours=hours), Role.MEDIATOR), hours
    names = db.session.scalars(select(Expert.name)).all()
    assert len(set(names)) == len(names)
    assert db.session.scalar(select(func.count()).select_from(Expert).where(Expert.user_id.is_not(None))) == 5
    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code == 0 and "0 shifts added" in again.output and "0 experts added" in again.output
    assert {model: _count(model) for model in counts} == counts


def test_demo_logins_name_the_mediator_a_call_would_reach_now(app_ctx):
    """Nights are 郑国平's (`mediator3`, not in the one-login-per-role list): the logins say who a
    110 dispute call goes to at this hour, so a tester signs in as them."""
    runner = app_ctx.test_cli_runner()
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    first = on_duty(the_station(), utcnow(), Role.MEDIATOR)[0]
    line = runner.invoke(args=["demo", "logins"]).output.splitlines()[-1]
    assert line.startswith("Mediators on duty now")
    assert line.split(": ", 1)[1].split(", ")[0] == first.username

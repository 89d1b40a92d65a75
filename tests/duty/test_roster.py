"""The on-duty roster: shifts in station time stored as UTC, no overlaps for one person, the order
dispatch tries people in, the proposed "two officials and a lawyer", and the week page's forms."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import Browser
from tests.factories import commit, make_station, make_user
from webapp.duty.models import DutyShift
from webapp.duty.services import (
    DutyError,
    add_shift,
    on_duty,
    shift_window,
    week_start,
)
from webapp.extensions import db
from webapp.org.models import Role, Station, User
from webapp.timeutil import STATION_TZ

MONDAY = date(2026, 11, 30)


def _text(html: str) -> str:
    """The page as read: times are wrapped in <time> elements."""
    return re.sub(r"<[^>]+>", "", html)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=STATION_TZ)


def shift_count() -> int:
    return db.session.scalar(select(func.count()).select_from(DutyShift))


def test_a_shift_is_entered_in_station_time_and_stored_in_utc(app_ctx):
    start, end = shift_window(MONDAY, time(20), time(8))
    assert start.astimezone(UTC) == datetime(2026, 11, 30, 12, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2026, 12, 1, 0, tzinfo=UTC)  # the next morning
    station = make_station()
    mediator = make_user(station, Role.MEDIATOR)
    add_shift(station, mediator, start, end, None)
    commit()
    db.session.expire_all()
    stored = db.session.scalar(select(DutyShift))
    assert stored.starts_at == datetime(2026, 11, 30, 12, tzinfo=UTC)
    assert week_start(date(2026, 12, 6)) == MONDAY


def test_overlapping_shifts_of_one_person_are_refused(app_ctx):
    station = make_station()
    mediator, other = make_user(station, Role.MEDIATOR), make_user(station, Role.MEDIATOR)
    add_shift(station, mediator, at(MONDAY, 8), at(MONDAY, 20), None)
    for start, end in ((at(MONDAY, 19), at(MONDAY, 23)), (at(MONDAY, 6), at(MONDAY, 9)),
                       (at(MONDAY, 10), at(MONDAY, 11)), (at(MONDAY, 7), at(MONDAY, 21))):
        with pytest.raises(DutyError) as refused:
            add_shift(station, mediator, start, end, None)
        assert refused.value.field == "starts"
    add_shift(station, mediator, at(MONDAY, 20), at(MONDAY + timedelta(days=1), 8), None)  # touching is fine
    add_shift(station, other, at(MONDAY, 8), at(MONDAY, 20), None)  # someone else at the same time
    assert shift_count() == 3


def test_only_the_stations_mediators_and_lawyers_and_sane_windows(app_ctx):
    station, elsewhere = make_station(), make_station("OTHER-PS")
    officer = make_user(station, Role.OFFICER)
    stranger = make_user(elsewhere, Role.MEDIATOR)
    lawyer = make_user(station, Role.LAWYER)
    for person in (officer, stranger):
        with pytest.raises(DutyError):
            add_shift(station, person, at(MONDAY, 8), at(MONDAY, 20), None)
    with pytest.raises(DutyError):
        add_shift(station, lawyer, at(MONDAY, 8), at(MONDAY, 8), None)
    with pytest.raises(DutyError):
        add_shift(station, lawyer, at(MONDAY, 8), at(MONDAY, 8) + timedelta(hours=25), None)
    add_shift(station, lawyer, at(MONDAY, 9), at(MONDAY, 18), None)
    assert shift_count() == 1


def test_on_duty_is_in_the_order_dispatch_tries(app_ctx):
    station = make_station()
    first, early, third, lawyer, off = (make_user(station, Role.MEDIATOR), make_user(station, Role.MEDIATOR),
                                        make_user(station, Role.MEDIATOR), make_user(station, Role.LAWYER),
                                        make_user(station, Role.MEDIATOR))
    add_shift(station, first, at(MONDAY, 8), at(MONDAY, 20), None)
    add_shift(station, early, at(MONDAY, 6), at(MONDAY, 14), None)
    add_shift(station, third, at(MONDAY, 8), at(MONDAY, 20), None)  # same start as `first`, added later
    add_shift(station, lawyer, at(MONDAY, 9), at(MONDAY, 18), None)
    add_shift(station, off, at(MONDAY, 20), at(MONDAY, 23), None)
    assert on_duty(station, at(MONDAY, 10)) == [early, first, third, lawyer]
    assert on_duty(station, at(MONDAY, 10), Role.MEDIATOR) == [early, first, third]
    assert on_duty(station, at(MONDAY, 14), Role.MEDIATOR) == [first, third]  # an end is exclusive
    assert on_duty(station, at(MONDAY, 21)) == [off]
    first.is_enabled = False
    assert on_duty(station, at(MONDAY, 10), Role.MEDIATOR) == [early, third]
    assert on_duty(make_station("EMPTY-PS"), at(MONDAY, 10)) == []


# --- the week page ---------------------------------------------------------------------------------


@pytest.fixture
def roster(app_ctx):
    station = make_station()
    people = {"supervisor": make_user(station, Role.SUPERVISOR, username="r_sup"),
              "mediator": make_user(station, Role.MEDIATOR, username="r_med"),
              "volunteer": make_user(station, Role.VOLUNTEER, username="r_vol"),
              "stranger": make_user(make_station("R2"), Role.MEDIATOR, username="r_far")}
    other_sup = make_user(db.session.get(Station, people["stranger"].station_id), Role.SUPERVISOR,
                          username="r_far_sup")
    commit()
    return {name: person.id for name, person in {**people, "far_supervisor": other_sup}.items()}


def signed_in(app, username: str) -> Browser:
    client = app.test_client()
    client.set_cookie("lang", "en")
    browser = Browser(client)
    assert browser.login(username).status_code == 303
    return browser


def test_a_supervisor_adds_and_removes_shifts_on_the_week_page(app_ctx, roster):
    boss = signed_in(app_ctx, "r_sup")
    page = boss.client.get("/duty/?week=2026-12-02")
    assert page.status_code == 200 and "2026-11-30" in page.get_data(as_text=True)
    answer = boss.post("/duty/shifts", {"person_id": str(roster["mediator"]), "day": "2026-12-01",
                                        "starts": "20:00", "ends": "08:00"}, from_page="/duty/")
    assert answer.status_code == 303 and "week=2026-11-30" in answer.location
    shift = db.session.scalar(select(DutyShift))
    assert (shift.starts_at, shift.ends_at) == (datetime(2026, 12, 1, 12, tzinfo=UTC),
                                                datetime(2026, 12, 2, 0, tzinfo=UTC))
    week = _text(boss.client.get("/duty/?week=2026-11-30").get_data(as_text=True))
    assert "Person r_med" in week and "20:00–08:00" in week
    assert "20:00–08:00" not in _text(boss.client.get("/duty/?week=2026-12-07").get_data(as_text=True))
    # A mediator reads the roster but cannot change it.
    mediator = signed_in(app_ctx, "r_med")
    assert "Person r_med" in mediator.client.get("/duty/?week=2026-11-30").get_data(as_text=True)
    refused = mediator.post("/duty/shifts", {"person_id": str(roster["mediator"]), "day": "2026-12-03",
                                             "starts": "08:00", "ends": "20:00"}, from_page="/duty/")
    assert refused.status_code == 403
    assert mediator.post(f"/duty/shifts/{shift.id}/delete", from_page="/duty/").status_code == 403
    assert signed_in(app_ctx, "r_vol").client.get("/duty/").status_code == 403
    # Another station's supervisor: the shift does not exist for them.
    assert signed_in(app_ctx, "r_far_sup").post(f"/duty/shifts/{shift.id}/delete",
                                                from_page="/duty/").status_code == 404
    assert shift_count() == 1
    assert boss.post(f"/duty/shifts/{shift.id}/delete", from_page="/duty/").status_code == 303
    assert shift_count() == 0


GOOD = {"person_id": "MEDIATOR", "day": "2026-12-01", "starts": "08:00", "ends": "20:00"}
BAD_SHIFTS = [
    ({}, "This field is required."),
    ({**GOOD, "person_id": "99999999999999999999"}, "could not coerce"),
    ({**GOOD, "person_id": "abc"}, "Invalid Choice"),
    ({**GOOD, "person_id": "VOLUNTEER"}, "Not a valid choice"),
    ({**GOOD, "person_id": "STRANGER"}, "Not a valid choice"),
    ({**GOOD, "day": "2026-13-01"}, "Not a valid date"),
    ({**GOOD, "starts": "25:00"}, "Not a valid time"),
    ({**GOOD, "ends": "x" * 5000}, "Not a valid time"),
    ({**GOOD, "day": "2026-11-30", "starts": "12:00", "ends": "13:00"}, "already on duty"),
]


@pytest.mark.parametrize(("data", "message"), BAD_SHIFTS, ids=range(len(BAD_SHIFTS)))
def test_bad_shift_input_is_refused_and_changes_nothing(app_ctx, roster, data, message):
    mediator = db.session.get(User, roster["mediator"])
    add_shift(mediator.station, mediator, at(MONDAY, 8), at(MONDAY, 20), None)
    commit()
    names = {"VOLUNTEER": roster["volunteer"], "STRANGER": roster["stranger"], "MEDIATOR": roster["mediator"]}
    data = {key: str(names.get(value, value)) for key, value in data.items()}
    boss = signed_in(app_ctx, "r_sup")
    answer = boss.post("/duty/shifts", data, from_page="/duty/")
    assert answer.status_code == 422
    assert message in answer.get_data(as_text=True)
    assert shift_count() == 1


@pytest.mark.parametrize("week", ["garbage", "99999-01-01", "2026-02-30", "1900-01-01"])
def test_a_bad_week_is_a_clear_400(app_ctx, roster, week):
    answer = signed_in(app_ctx, "r_sup").client.get(f"/duty/?week={week}")
    assert answer.status_code == 400 and "2026-11-30" in answer.get_data(as_text=True)


def test_removing_a_shift_that_is_not_there(app_ctx, roster):
    boss = signed_in(app_ctx, "r_sup")
    for shift_id in ("12345", "99999999999999999999"):
        assert boss.post(f"/duty/shifts/{shift_id}/delete", from_page="/duty/").status_code == 404
    assert boss.client.post("/duty/shifts/1/delete").status_code in (400, 404)  # no CSRF token

"""One way to write dates (webapp/dates.py): the station's clock, deadlines as their last day, both
languages; and no page formats dates on its own any more."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from webapp import dates
from webapp.leads.codes import Risk
from webapp.leads.deadlines import parse_deadlines
from webapp.returnvisits.services import end_of_local_day
from webapp.timeutil import STATION_TZ

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # 16:00 in Shanghai


@pytest.fixture(params=["zh_Hans_CN", "en"])
def language(app, request):
    with app.test_request_context(headers={"Cookie": f"lang={request.param}"}):
        yield request.param


@pytest.fixture
def zh(app):
    with app.test_request_context(headers={"Cookie": "lang=zh_Hans_CN"}):
        yield


@pytest.fixture
def en(app):
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        yield


def test_a_moment_is_written_on_the_station_clock_in_both_languages(language):
    # 16:14 UTC is after midnight in Shanghai: the next local day.
    late_utc = datetime(2026, 11, 30, 16, 14, 59, tzinfo=UTC)
    assert dates.moment_text(late_utc) == "2026-12-01 00:14"
    assert dates.day_text(late_utc) == "2026-12-01"
    assert dates.clock_text(late_utc) == "00:14"
    assert str(dates.when(late_utc)) == '<time datetime="2026-12-01T00:14+08:00">2026-12-01 00:14</time>'
    assert str(dates.day(date(2026, 1, 5))) == '<time datetime="2026-01-05">2026-01-05</time>'


def test_the_last_utc_minute_before_local_midnight_is_still_that_local_day(language):
    just_before = datetime(2026, 11, 30, 15, 59, tzinfo=UTC)  # 23:59 in Shanghai
    assert dates.day_text(just_before) == "2026-11-30"
    assert dates.day_text(just_before + timedelta(minutes=1)) == "2026-12-01"


def test_shanghai_keeps_one_offset_all_year(language):
    # No daylight saving: the same UTC hour is the same local hour in January and July.
    assert dates.clock_text(datetime(2026, 1, 15, 4, 0, tzinfo=UTC)) == "12:00"
    assert dates.clock_text(datetime(2026, 7, 15, 4, 0, tzinfo=UTC)) == "12:00"


def test_a_naive_datetime_is_refused_like_the_database_refuses_it(language):
    with pytest.raises(ValueError, match="naive"):
        dates.moment_text(datetime(2026, 11, 30, 16, 14))
    with pytest.raises(ValueError, match="naive"):
        dates.deadline(datetime(2026, 12, 31), NOW)


def test_a_day_deadline_reads_as_the_last_day_it_covers_in_chinese(zh):
    due = datetime(2026, 12, 31, 0, 0, tzinfo=STATION_TZ)
    assert dates.deadline_text(due, NOW) == "12月30日 24:00 前"
    assert dates.last_moment(due) == (date(2026, 12, 30), "24:00")


def test_a_day_deadline_reads_as_the_last_day_it_covers_in_english(en):
    due = datetime(2026, 12, 31, 0, 0, tzinfo=STATION_TZ)
    assert dates.deadline_text(due, NOW) == "by end of 30 Dec"


def test_an_hour_deadline_keeps_its_minute(language):
    rules = parse_deadlines("red=24h,orange=5d,yellow=30d,blue=30d")
    received = datetime(2026, 11, 30, 8, 14, tzinfo=UTC)  # 16:14 in Shanghai
    due = rules[Risk.RED].due(received)
    expected = {"zh_Hans_CN": "12月1日 16:14 前", "en": "by 16:14, 1 Dec"}[language]
    assert dates.deadline_text(due, NOW) == expected


def test_the_stored_deadlines_of_leads_and_return_visits_read_as_their_last_day(language):
    # A lead received at 01:00 on 3 Dec in Shanghai (17:00 on 2 Dec in UTC) with 5 days is due
    # by the end of 8 Dec; a return visit 3 days after 23:30 on 30 Nov is due by the end of 3 Dec.
    rules = parse_deadlines("red=24h,orange=5d,yellow=30d,blue=30d")
    lead_due = rules[Risk.ORANGE].due(datetime(2026, 12, 2, 17, 0, tzinfo=UTC))
    visit_due = end_of_local_day(datetime(2026, 11, 30, 15, 30, tzinfo=UTC), 3)
    expected = {"zh_Hans_CN": ("12月8日 24:00 前", "12月3日 24:00 前"),
                "en": ("by end of 8 Dec", "by end of 3 Dec")}[language]
    assert (dates.deadline_text(lead_due, NOW), dates.deadline_text(visit_due, NOW)) == expected


def test_a_deadline_in_another_year_says_the_year(language):
    due = datetime(2027, 1, 6, 0, 0, tzinfo=STATION_TZ)
    expected = {"zh_Hans_CN": "2027年1月5日 24:00 前", "en": "by end of 5 Jan 2027"}[language]
    assert dates.deadline_text(due, NOW) == expected


def test_the_time_left_stands_beside_the_deadline_never_alone(zh):
    due = datetime(2026, 12, 3, 0, 0, tzinfo=STATION_TZ)  # 2 days 8 hours after NOW
    html = str(dates.deadline(due, NOW))
    assert html == ('<time datetime="2026-12-03T00:00+08:00">12月2日 24:00 前</time>'
                    ' <span class="relative">（剩余 2天）</span>')
    overdue = str(dates.deadline(NOW - timedelta(days=3), NOW))
    assert "已超期 3天" in overdue and overdue.startswith("<time")


def test_the_time_left_in_english(en):
    assert "(due in 2 days)" in str(dates.deadline(datetime(2026, 12, 3, tzinfo=STATION_TZ), NOW))


# --- every page keeps to it ---------------------------------------------------------------------

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# Formatting a date by hand in a template: Python's own, or Babel's.
AD_HOC = re.compile(r"\.(isoformat|strftime)\(|format_(datetime|date|time)\(|toLocale")
EXPRESSION = re.compile(r"\{\{(.*?)\}\}", re.S)


def _ad_hoc_formats(source: str) -> list[str]:
    """Expressions that write a date by hand for people to read. Machine formats are fine: a URL's
    query (url_for) and an input's value (<input type=date> wants YYYY-MM-DD)."""
    found = []
    for match in EXPRESSION.finditer(source):
        expression = match.group(1)
        machine = "url_for(" in expression or source[:match.start()].endswith('value="')
        if AD_HOC.search(expression) and not machine:
            found.append(expression.strip())
    return found


def test_the_check_catches_a_hand_made_date():
    assert _ad_hoc_formats('<p>{{ visit.visited_on.isoformat() }}</p>') == ["visit.visited_on.isoformat()"]
    assert _ad_hoc_formats('<b>{{ x.strftime("%Y") }}</b>') == ['x.strftime("%Y")']
    assert _ad_hoc_formats('<input value="{{ start.isoformat() }}">') == []


def test_no_template_writes_dates_by_hand():
    offenders = {str(path.relative_to(TEMPLATES)): found for path in sorted(TEMPLATES.rglob("*.html"))
                 if (found := _ad_hoc_formats(path.read_text(encoding="utf-8")))}
    assert offenders == {}, f"use when()/day()/deadline() from webapp/dates.py: {offenders}"

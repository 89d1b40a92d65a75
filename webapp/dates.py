"""One way to write dates and times, on every page (docs/architecture.md, "Dates and times").

- A moment: `YYYY-MM-DD HH:mm` on the station's clock (Asia/Shanghai), in both languages.
- A day: `YYYY-MM-DD`.
- A deadline: the last day it covers. Day deadlines are stored as the midnight that ends the day
  (webapp/leads/deadlines.py, end_of_local_day in webapp/returnvisits), so a deadline at
  2026-12-31 00:00 reads "12月30日 24:00 前" / "by end of 30 Dec"; an hour deadline (red: 24 h)
  keeps its minute: "12月1日 16:14 前" / "by 16:14, 1 Dec".
- Relative words ("3天后", "剩余 2天") only beside the absolute time, never alone.

Pages get each shown inside `<time datetime="…">`. The outbox's script (static/js/offline.js,
`stationTime`) writes the same shape. Naive datetimes are refused, as the database type refuses
them (webapp/timeutil.py): a time without its zone cannot be put on the station's clock.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask_babel import format_date, format_timedelta, get_locale
from flask_babel import gettext as _
from markupsafe import Markup, escape

from webapp.timeutil import STATION_TZ, utcnow

# Day and month as people say them in a deadline ("12月30日" / "30 Dec"); the year only when it
# is not this year. CLDR's own patterns differ by locale ("Dec 30" in en), so they are fixed here.
_DAY_PATTERNS = {"zh": ("M月d日", "y年M月d日"), "en": ("d MMM", "d MMM y")}


def station_time(value: datetime) -> datetime:
    """`value` on the station's clock; a naive datetime is an error, not a guess."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: cannot place it on the station's clock")
    return value.astimezone(STATION_TZ)


def station_day(value: date | datetime) -> date:
    """The station's calendar day of a moment (a date is its own day)."""
    return station_time(value).date() if isinstance(value, datetime) else value


def moment_text(value: datetime, seconds: bool = False) -> str:
    return station_time(value).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def day_text(value: date | datetime) -> str:
    return station_day(value).isoformat()


def month_text(value: date | datetime) -> str:
    return station_day(value).strftime("%Y-%m")


def clock_text(value: datetime) -> str:
    return station_time(value).strftime("%H:%M")


def last_moment(due: datetime) -> tuple[date, str]:
    """The day a deadline ends and the time it ends on that day: a deadline at local midnight
    ends the day before, at 24:00."""
    local = station_time(due)
    if local.time() == time.min:
        return local.date() - timedelta(days=1), "24:00"
    return local.date(), local.strftime("%H:%M")


def _language() -> str:
    locale = get_locale()
    return locale.language if locale is not None and locale.language in _DAY_PATTERNS else "en"


def deadline_text(due: datetime, now: datetime | None = None) -> str:
    """'12月30日 24:00 前' / 'by end of 30 Dec' (the year added when it is not this year)."""
    day, clock = last_moment(due)
    this_year = station_day(now or utcnow()).year
    short, with_year = _DAY_PATTERNS[_language()]
    day_words = format_date(day, short if day.year == this_year else with_year)
    if clock == "24:00":
        return _("by end of %(day)s", day=day_words)
    return _("by %(time)s, %(day)s", time=clock, day=day_words)


def relative_text(due: datetime, now: datetime | None = None) -> str:
    """How long is left, or how long it is overdue ('剩余 3天' / '3 days left')."""
    now = now or utcnow()
    if due < now:
        return _("overdue by %(time)s", time=format_timedelta(now - due, threshold=1.0))
    return _("due in %(time)s", time=format_timedelta(due - now, threshold=1.0))


def _time_element(iso: str, text: str) -> Markup:
    return Markup('<time datetime="{}">{}</time>').format(iso, text)


def _iso(value: datetime, seconds: bool = False) -> str:
    return station_time(value).isoformat(timespec="seconds" if seconds else "minutes")


def when(value: datetime | None, seconds: bool = False) -> Markup:
    """A moment: <time datetime="2026-11-30T16:14+08:00">2026-11-30 16:14</time>. Seconds only
    where their order matters to the reader (the audit log)."""
    if not value:
        return Markup("")
    return _time_element(_iso(value, seconds), moment_text(value, seconds))


def day(value: date | datetime | None) -> Markup:
    return _time_element(day_text(value), day_text(value)) if value else Markup("")


def clock(value: datetime | None) -> Markup:
    return _time_element(_iso(value), clock_text(value)) if value else Markup("")


def deadline(value: datetime | None, now: datetime | None = None, relative: bool = True) -> Markup:
    """The deadline as its last day, with the time left beside it."""
    if not value:
        return Markup("")
    shown = _time_element(_iso(value), deadline_text(value, now))
    if not relative:
        return shown
    beside = _("(%(relative)s)", relative=relative_text(value, now))  # full-width brackets in Chinese
    return shown + Markup(' <span class="relative">{}</span>').format(escape(beside))


def document_date(value: date | datetime) -> str:
    """'2026年11月30日': the date as an official Chinese document (人民调解协议书) writes it."""
    day_ = station_day(value)
    return f"{day_.year}年{day_.month}月{day_.day}日"


def template_helpers() -> dict:
    """Registered once as Jinja globals (webapp/__init__.py)."""
    return {"when": when, "day": day, "clock": clock, "deadline": deadline,
            "document_date": document_date, "station_day": station_day}


def template_filters() -> dict:
    """Plain-text forms for places a <time> element cannot go (SVG text, titles)."""
    return {"day_text": day_text, "month_text": month_text, "moment_text": moment_text}

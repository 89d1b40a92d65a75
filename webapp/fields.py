"""Form fields every form a phone can make offline shares: its phone-made id and its clock; and the
one way the app reads an id or a day from a form or a query string (never beyond what the database
stores)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter
from wtforms import HiddenField, IntegerField
from wtforms.validators import Regexp

from webapp.timeutil import utcnow

UUID_PATTERN = Regexp(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
                      message=_l("Not a valid report id."))

# Ids, versions and counts are INTEGER columns: 32 bits on PostgreSQL (SQLite takes 64, Python any
# size). A larger number from a form, a query string, a URL or a sync item is the sender's mistake,
# answered as such, never a 500 from the database.
DB_INT_MAX = 2**31 - 1
EARLIEST_RECORDED = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_RECORDED_AHEAD = timedelta(days=366)
QUERY_DAYS = (date(2000, 1, 1), date(2100, 12, 31))  # the days a filter or a period may name


def query_day(raw: str) -> date | None:
    """A `YYYY-MM-DD` day within QUERY_DAYS, or None for anything else (junk, 20 digits, year 99999):
    each caller decides whether that is ignored or refused."""
    if len(raw) != 10 or not raw.isascii():
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        return None
    return value if QUERY_DAYS[0] <= value <= QUERY_DAYS[1] else None


def db_int(value) -> int:
    """A whole number the database can store; ValueError otherwise (bools, floats, 20 digits)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("not an integer")
    if isinstance(value, str):
        text = value.strip()
        if not text or len(text) > 12 or not text.lstrip("+-").isdigit() or not text.isascii():
            raise ValueError("not an integer")
        value = int(text)
    if not -DB_INT_MAX <= value <= DB_INT_MAX:
        raise ValueError("out of range")
    return value


def optional_int(value) -> int | None:
    """A select's value as an id, or None for the empty choice (ValueError beyond 64 bits)."""
    return db_int(value) if value not in (None, "", "None") else None


class StoredIntegerField(IntegerField):
    """An IntegerField that refuses numbers the database cannot store, with a message."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        try:
            self.data = db_int(valuelist[0])
        except ValueError as error:
            self.data = None
            raise ValueError(self.gettext("Not a valid integer value.")) from error


class RecordedAtField(HiddenField):
    """The phone's clock when the report was made (ISO 8601); missing means "now".

    A time before 2000 or more than a year ahead is a broken clock or a forged item: refused."""

    def process_formdata(self, valuelist):
        self.data = None
        raw = valuelist[0].strip() if valuelist else ""
        if not raw:
            return
        try:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
        except (ValueError, OverflowError) as error:
            raise ValueError(_l("Not a valid time.")) from error
        if not EARLIEST_RECORDED <= parsed <= utcnow() + LATEST_RECORDED_AHEAD:
            raise ValueError(_l("The time this was recorded is impossible (check the phone's clock)."))
        self.data = parsed


class IdConverter(IntegerConverter):
    """`<int:…>` in every route: a number no INTEGER column holds is a 404, not a database error."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 (werkzeug's name)
        kwargs.setdefault("max", DB_INT_MAX)
        super().__init__(map, *args, **kwargs)

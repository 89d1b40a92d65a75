"""Deadlines per risk grade, computed on the station's calendar (Asia/Shanghai).

A deadline in hours is exact ("contact within 24 h"). A deadline in days runs to the end of that
day in Shanghai: a lead received at 01:00 on the 3rd with 5 days is due at 24:00 on the 8th,
although in UTC it arrived on the 2nd.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from webapp.leads.codes import Risk
from webapp.timeutil import STATION_TZ

DEFAULT_DEADLINES = "red=24h,orange=5d,yellow=30d,blue=30d"
# An ungraded lead is treated as yellow until a person grades it.
UNGRADED_AS = Risk.YELLOW


@dataclass(frozen=True)
class Deadline:
    amount: int
    unit: str  # "h" or "d"

    def due(self, start: datetime) -> datetime:
        if self.unit == "h":
            return start + timedelta(hours=self.amount)
        local_day = start.astimezone(STATION_TZ).date() + timedelta(days=self.amount + 1)
        return datetime.combine(local_day, time.min, tzinfo=STATION_TZ).astimezone(UTC)


def parse_deadlines(spec: str) -> dict[Risk, Deadline]:
    """Parse `red=24h,orange=5d,...`; every grade must be present."""
    parsed: dict[Risk, Deadline] = {}
    for part in spec.split(","):
        match = re.fullmatch(r"\s*(red|orange|yellow|blue)\s*=\s*(\d+)\s*([hd])\s*", part)
        if not match:
            raise ValueError(f"bad deadline {part!r}: expected e.g. red=24h or blue=30d")
        parsed[Risk(match.group(1))] = Deadline(int(match.group(2)), match.group(3))
    missing = set(Risk) - parsed.keys()
    if missing:
        raise ValueError(f"deadlines missing for {', '.join(sorted(missing))}")
    return parsed


def due_at(deadlines: dict[Risk, Deadline], risk: str | None, start: datetime) -> datetime:
    return deadlines[Risk(risk) if risk else UNGRADED_AS].due(start)

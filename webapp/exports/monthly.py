"""The monthly report: one month's leads of a station, counted the way the station reports them.

`monthly_figures` is the one computation (tested against a hand-counted fixture); `monthly_tables`
lays it out as sheets with Chinese headers.

- The month is a calendar month in the station's time zone; a lead belongs to the month it was
  received in (the server's time, `received_at`).
- By category, source, community, risk and status: counts of the month's leads (status as it is
  when the report is made). Ungraded leads count under "Ungraded", leads without a community
  under "No community".
- Resolved, failed, transferred and the success rate: mediation conclusions made in the month
  (webapp/mediation/figures.py `success_rate`, its rules).
- Overdue: the month's leads still open whose deadline has passed when the report is made.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp.exports.files import Table
from webapp.extensions import db
from webapp.leads.codes import CATEGORY_LABELS, OPEN_STATUSES, RISK_SHORT_LABELS, SOURCE_LABELS, STATUS_LABELS
from webapp.leads.models import Lead
from webapp.mediation.figures import success_rate
from webapp.org.models import Station
from webapp.timeutil import STATION_TZ


@dataclass(frozen=True)
class MonthlyFigures:
    month: date  # its first day
    total: int
    by_category: dict[str, int]
    by_source: dict[str, int]
    by_community: dict[str, int]  # community name ("" = none)
    by_risk: dict[str, int]  # risk code ("" = ungraded)
    by_status: dict[str, int]
    resolved: int
    failed: int
    transferred: int
    success_rate: float | None
    overdue: int


def month_bounds(month: date) -> tuple[datetime, datetime]:
    start = datetime(month.year, month.month, 1, tzinfo=STATION_TZ)
    end = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=STATION_TZ)
    return start, end


def monthly_figures(station: Station, month: date, now: datetime) -> MonthlyFigures:
    start, end = month_bounds(month)
    leads = db.session.scalars(
        select(Lead)
        .where(Lead.station_id == station.id, Lead.received_at >= start, Lead.received_at < end)
        .options(selectinload(Lead.community))
    ).all()
    open_ = {s.value for s in OPEN_STATUSES}
    rate = success_rate(station.id, start, end)
    return MonthlyFigures(
        month=date(month.year, month.month, 1),
        total=len(leads),
        by_category=dict(Counter(lead.category for lead in leads)),
        by_source=dict(Counter(lead.source for lead in leads)),
        by_community=dict(Counter(lead.community.name if lead.community else "" for lead in leads)),
        by_risk=dict(Counter(lead.risk or "" for lead in leads)),
        by_status=dict(Counter(lead.status for lead in leads)),
        resolved=rate.resolved,
        failed=rate.failed,
        transferred=rate.transferred,
        success_rate=rate.rate,
        overdue=sum(
            1 for lead in leads if lead.status in open_ and lead.due_at is not None and lead.due_at < now
        ),
    )


def _counts(title, key_header, counts: dict[str, int], labels: dict, empty_label) -> Table:
    rows = [
        {"key": str(labels.get(key, key)) if key else str(empty_label), "count": n}
        for key, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]
    return Table(str(title), [("key", str(key_header), 28), ("count", str(_l("Leads")), 10)], rows)


def monthly_tables(figures: MonthlyFigures) -> list[Table]:
    rate = "" if figures.success_rate is None else f"{figures.success_rate:.1%}"
    summary = [
        {"key": str(_l("Month")), "value": figures.month.strftime("%Y-%m")},
        {"key": str(_l("Leads received")), "value": figures.total},
        {"key": str(_l("Resolved")), "value": figures.resolved},
        {"key": str(_l("Failed")), "value": figures.failed},
        {"key": str(_l("Transferred")), "value": figures.transferred},
        {"key": str(_l("Mediation success rate")), "value": rate},
        {"key": str(_l("Overdue")), "value": figures.overdue},
    ]
    no_community = {"": _l("No community")}
    return [
        Table(str(_l("Totals")), [("key", str(_l("Figure")), 24), ("value", str(_l("Value")), 14)], summary),
        _counts(_l("By category"), _l("Category"), figures.by_category, CATEGORY_LABELS, ""),
        _counts(_l("By source"), _l("Source"), figures.by_source, SOURCE_LABELS, ""),
        _counts(_l("By community"), _l("Community"), figures.by_community, no_community, _l("No community")),
        _counts(_l("By risk"), _l("Risk"), figures.by_risk, RISK_SHORT_LABELS, _l("Ungraded")),
        _counts(_l("By status"), _l("Status"), figures.by_status, STATUS_LABELS, ""),
    ]

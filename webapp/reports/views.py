"""The dashboard page: read the period from the query string, count, draw. Figures: figures.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from webapp.access import can_drill_down, can_drill_into_flag, can_see_reports
from webapp.access.base import allow
from webapp.errors import render_error
from webapp.fields import query_day
from webapp.leads.codes import CATEGORY_LABELS, RISK_SHORT_LABELS, SOURCE_LABELS, STATUS_LABELS, Risk
from webapp.org import services as org
from webapp.org.models import Role
from webapp.rendering import readable_offline, render_page
from webapp.reports import bp, figures, gridmap
from webapp.reports.charts import fit_label
from webapp.timeutil import STATION_TZ, utcnow

PERIODS = ("this_month", "last_month", "this_year", "custom")
MAX_DAYS = 3 * 366  # a custom period of at most about three years


class BadPeriod(ValueError):
    pass


def _date(name: str) -> date:
    value = query_day(request.args.get(name, ""))
    if value is None:
        raise BadPeriod(_("Give the dates as YYYY-MM-DD, from 2000 to 2100."))
    return value


def parse_period(today: date) -> tuple[str, figures.Period]:
    """The period the query string asks for; BadPeriod (→ 400) for anything else."""
    choice = request.args.get("period", "this_month")
    if choice not in PERIODS:
        raise BadPeriod(_("Choose this month, last month, this year or a custom period."))
    if choice == "this_month":
        return choice, figures.Period(today.replace(day=1), today)
    if choice == "last_month":
        end = today.replace(day=1) - timedelta(days=1)
        return choice, figures.Period(end.replace(day=1), end)
    if choice == "this_year":
        return choice, figures.Period(date(today.year, 1, 1), today)
    start, end = _date("start"), _date("end")
    if end < start:
        raise BadPeriod(_("The period must end on or after its start."))
    if (end - start).days + 1 > MAX_DAYS:
        raise BadPeriod(_("A custom period may be at most three years long."))
    return choice, figures.Period(start, end)


@dataclass(frozen=True)
class Row:
    label: str
    value: int
    previous: int | None = None
    href: str | None = None

    @property
    def short(self) -> str:
        """The label as drawn beside its bar (cut to fit; the full one is in its <title>)."""
        return fit_label(self.label)


def in_period(period: figures.Period, *, originals: bool) -> dict[str, str]:
    """The lead list's filters for the period, so a linked count opens the leads it counted.

    originals: leave out duplicates (the lead figures do; the outcomes count every lead that got there).
    """
    return {"from": period.start.isoformat(), "to": period.end.isoformat()} | (
        {"originals": "1"} if originals else {})


def _link(user, **filters) -> str | None:
    return url_for("leads.index", **filters) if can_drill_down(user) else None


def _rows(user, counts: dict, previous: dict, labels, link_key: str | None,
          period_filters: dict[str, str]) -> list[Row]:
    keys = [k for k in labels if counts.get(k) or previous.get(k)]
    keys += [k for k in counts if k not in labels and k not in keys]
    linkable = [k for k in keys if link_key and k not in (None, figures.UNGRADED) and counts.get(k)]
    return [Row(str(labels.get(k, k)), counts.get(k, 0), previous.get(k, 0),
                _link(user, **{link_key: k}, **period_filters) if k in linkable else None)
            for k in keys]


@bp.route("/")
@allow(can_see_reports)
def index():
    user = current_user
    now = utcnow()
    today = now.astimezone(STATION_TZ).date()
    try:
        choice, period = parse_period(today)
    except BadPeriod as error:
        return render_error(400, str(error))
    scope = figures.scope_for(user)
    station = user.station
    current = figures.figures(scope, period, station)
    before = figures.figures(scope, period.previous(), station)
    work = figures.work_now(scope, now)
    communities = [c for c in org.communities(station)
                   if scope.whole_station or c.id in (scope.community_ids or ())]
    community_names = {c.id: c.name for c in communities} | {None: _("No community")}
    risk_labels = {r.value: RISK_SHORT_LABELS[r] for r in Risk} | {figures.UNGRADED: _("Ungraded")}
    received = in_period(period, originals=True)
    charts = {
        "source": _rows(user, current.leads.by_source, before.leads.by_source,
                        {k.value: v for k, v in SOURCE_LABELS.items()}, "source", received),
        "category": _rows(user, current.leads.by_category, before.leads.by_category, CATEGORY_LABELS,
                          "category", received),
        "risk": _rows(user, current.leads.by_risk, before.leads.by_risk, risk_labels, "risk", received),
        "community": _rows(user, current.leads.by_community, before.leads.by_community, community_names,
                           "community_id", received),
        "outcome": _rows(user, current.outcomes, before.outcomes,
                         {s: STATUS_LABELS[s] for s in (figures.OUTCOME_STATUSES)}, "reached",
                         in_period(period, originals=False)),
    }
    flags = [
        Row(label, count, earlier, url_for("leads.index", flag=flag, **received)
            if can_drill_into_flag(user, flag, count) else None)
        for flag, label, count, earlier in (
            ("dv", _("Domestic violence"), current.leads.dv, before.leads.dv),
            ("minor", _("Minor involved"), current.leads.minor, before.leads.minor))
    ] if scope.whole_station else []
    shapes = [("community", c.id, c.name, c.boundary, work.open_by_community.get(c.id, 0))
              for c in communities]
    shapes += [("grid", g.id, g.name, g.boundary, work.open_by_grid.get(g.id, 0))
               for c in communities for g in c.grids]
    map_of = request.args.get("map", "open")
    if map_of not in ("open", "red"):
        return render_error(400, _("The map shows open leads or red-risk leads."))
    if map_of == "red":
        red = {"community": work.open_red_by_community, "grid": work.open_red_by_grid}
        shapes = [(k, i, n, b, red[k].get(i, 0)) for k, i, n, b, _count in shapes]
    drawn = gridmap.draw(shapes)
    return readable_offline(render_page(
        "reports/index.html", choice=choice, period=period, previous=period.previous(), fig=current,
        prev=before, work=work, charts=charts, flags=flags, periods=PERIODS,
        weekly=figures.weekly_trend(scope, period),
        monthly=figures.monthly_trend(scope, period.end, beside=period),
        map=drawn, map_of=map_of, drill=can_drill_down(user), whole_station=scope.whole_station,
        is_liaison=user.has_role(Role.LIAISON) and not can_drill_down(user),
    ))

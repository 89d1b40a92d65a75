"""Export pages: a lead list or the monthly report as a file; large lists prepared by a job."""

from __future__ import annotations

import re
from datetime import date

from flask import Response, current_app, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from webapp import access
from webapp.access import allow, can_export_leads, can_export_monthly
from webapp.errors import render_error
from webapp.exports import bp, files, services
from webapp.exports.leads import FORMATS, BadFilter, count_leads, filters_dict, parse_filters
from webapp.exports.monthly import monthly_figures, monthly_tables
from webapp.extensions import db
from webapp.rendering import never_stored, render_page, see_other
from webapp.timeutil import STATION_TZ, utcnow


def _file(data: bytes, fmt: str, name: str) -> Response:
    response = Response(data, mimetype=files.MIME[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return never_stored(response)


def _format(values) -> str | None:
    fmt = values.get("format", "")
    return fmt if fmt in FORMATS else None


def _bad(message: str) -> Response:
    return render_error(400, message)


@bp.route("/leads", methods=["GET", "POST"])
@allow(can_export_leads)
def leads():
    """GET: the list as a file, or (above the inline limit) a page offering to prepare it.
    POST: queue the large one."""
    values = request.form if request.method == "POST" else request.args
    if request.method == "GET" and "format" not in values:
        try:
            filters = filters_dict(parse_filters(values))
        except BadFilter:
            return _bad(_("A filter of this export is not one the lead list knows."))
        return render_page("exports/choose.html", filters=filters)
    fmt = _format(values)
    if fmt is None:
        return _bad(_("Choose Excel or CSV."))
    try:
        filters = parse_filters(values)
    except BadFilter:
        return _bad(_("A filter of this export is not one the lead list knows."))
    now = utcnow()
    address = request.remote_addr or ""
    if request.method == "POST":
        export = services.queue_lead_export(current_user, filters, fmt, address)
        db.session.commit()
        return see_other(url_for("exports.status", export_id=export.id))
    limit = current_app.config["BEATBOOK_EXPORT_INLINE_ROWS"]
    if count_leads(current_user, filters, now, limit) > limit:
        return render_page("exports/large.html", fmt=fmt, limit=limit, filters=filters_dict(filters))
    data, rows = services.lead_file(current_user, filters, fmt, now)
    services.audit_export(current_user, "leads", fmt, rows, address, filters=filters_dict(filters))
    db.session.commit()
    return _file(data, fmt, f"leads-{now.astimezone(STATION_TZ):%Y%m%d-%H%M}")


@bp.route("/<int:export_id>")
@allow(can_export_leads)
def status(export_id: int):
    export = access.own_export(current_user, export_id)
    return never_stored(render_page("exports/status.html", block="progress", export=export))


@bp.route("/<int:export_id>/file")
@allow(can_export_leads)
def download(export_id: int):
    export = access.own_export(current_user, export_id)
    if export.status != "done" or export.data is None:
        return render_error(404)
    services.audit_export(
        current_user,
        "export_file",
        export.fmt,
        export.rows_total,
        request.remote_addr or "",
        object_id=export.id,
        download=True,
    )
    db.session.commit()
    return _file(export.data, export.fmt, f"leads-{export.created_at.astimezone(STATION_TZ):%Y%m%d-%H%M}")


def _month(value: str) -> date | None:
    match = re.fullmatch(r"(\d{4})-(\d{2})", value)
    if not match or not 2000 <= int(match.group(1)) <= 2100 or not 1 <= int(match.group(2)) <= 12:
        return None
    return date(int(match.group(1)), int(match.group(2)), 1)


@bp.route("/monthly")
@allow(can_export_monthly)
def monthly():
    if "format" not in request.args and "month" not in request.args:
        this_month = utcnow().astimezone(STATION_TZ).strftime("%Y-%m")
        return render_page("exports/monthly.html", this_month=this_month)
    fmt = _format(request.args)
    month = _month(request.args.get("month", ""))
    if fmt is None or month is None:
        return _bad(_("Choose a month (YYYY-MM) and Excel or CSV."))
    with services.force_locale(services.LOCALE):
        figures = monthly_figures(current_user.station, month, utcnow())
        data = files.render(fmt, monthly_tables(figures))
    services.audit_export(
        current_user, "monthly", fmt, figures.total, request.remote_addr or "", month=month.strftime("%Y-%m")
    )
    db.session.commit()
    return _file(data, fmt, f"monthly-{month:%Y-%m}")

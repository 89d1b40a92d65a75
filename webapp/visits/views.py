from __future__ import annotations

from flask import flash, url_for
from flask_babel import gettext as _
from flask_login import current_user

from webapp.access import allow, can_record_visits, can_use_desk_intake, own_visit, signed_in
from webapp.extensions import db
from webapp.org.models import Community
from webapp.rendering import readable_offline, render_page, see_other
from webapp.timeutil import STATION_TZ, utcnow
from webapp.visits import bp
from webapp.visits.forms import build_visit_form
from webapp.visits.services import VisitError, VisitInput, record_visit, visits_of


@bp.route("/")
@allow(can_record_visits)
def index():
    return readable_offline(render_page("visits/index.html", visits=visits_of(current_user)))


@bp.route("/new", methods=["GET", "POST"])
@allow(can_record_visits)
def new():
    form = build_visit_form(current_user)
    if not form.is_submitted():
        form.visited_on.data = utcnow().astimezone(STATION_TZ).date()
    if form.validate_on_submit():
        community = db.session.get(Community, form.community_id.data) if form.community_id.data else None
        try:
            visit, created = record_visit(current_user, VisitInput(
                household=form.household.data, visited_on=form.visited_on.data,
                findings=form.findings.data, community=community, uuid=form.uuid.data or None,
                recorded_at=form.recorded_at.data))
        except VisitError:
            form.form_errors.append(_("This report id belongs to another report."))
        else:
            db.session.commit()
            if created:
                flash(_("Visit saved."), "success")
            return see_other(url_for("visits.detail", visit_id=visit.id))
    status = 422 if form.is_submitted() else 200
    return readable_offline(render_page("visits/new.html", block="visit_form", status=status, form=form))


@bp.route("/<int:visit_id>")
@allow(signed_in)
def detail(visit_id: int):
    visit = own_visit(current_user, visit_id)
    return readable_offline(render_page(
        "visits/detail.html", visit=visit,
        lead_form_endpoint="leads.desk" if can_use_desk_intake(current_user) else "leads.report"))

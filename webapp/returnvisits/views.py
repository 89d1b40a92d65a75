"""Return visits' pages: mine, one visit (record it, or give it to someone), thin over services."""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from webapp import access
from webapp.access import allow, can_do_return_visits
from webapp.audit.services import record as audit
from webapp.audit.services import record_list as audit_list
from webapp.extensions import db
from webapp.org.models import User
from webapp.rendering import never_stored, offline_stamp, readable_offline, render_page, see_other
from webapp.returnvisits import bp
from webapp.returnvisits.forms import RESULT_LABELS, build_reassign_form, build_record_form
from webapp.returnvisits.models import ReturnVisit
from webapp.returnvisits.services import (
    Recording,
    ReturnVisitError,
    compartmented_visits,
    due_by_end_of_today,
    needs_decision,
    reassign,
    record,
    visits_seen_by,
)
from webapp.timeutil import utcnow


def error_text(code: str) -> str:
    return {
        "not_permitted": _("You may not do this with this return visit."),
        "already_recorded": _("This return visit is already recorded."),
        "bad_result": _("Choose a result."),
        "bad_assignee": _("This person cannot be given this return visit."),
        "uuid_taken": _("This report id belongs to another report."),
        "wrong_visit": _("This form belongs to another return visit."),
    }.get(code, code)


def _detail(visit: ReturnVisit, record_form=None, reassign_form=None, status: int = 200,
            block: str = "content"):
    may_record = visit.is_pending and access.can_record_return_visit(current_user, visit)
    may_reassign = visit.is_pending and access.can_reassign_return_visit(current_user, visit)
    if visit.lead.is_compartmented:
        audit(current_user, "view_return_visit", "return_visit", visit.id, request.remote_addr or "")
        db.session.commit()
    return render_page(
        "returnvisits/detail.html", block=block, status=status, visit=visit, now=utcnow(),
        record_form=record_form or (build_record_form(visit.id) if may_record else None),
        reassign_form=reassign_form or (build_reassign_form(visit) if may_reassign else None),
        may_record=may_record, may_reassign=may_reassign, result_labels=RESULT_LABELS,
        needs_decision=needs_decision(visit),
        handles_lead=access.can_handle_lead(current_user, visit.lead))


@bp.route("/")
@allow(can_do_return_visits)
def index():
    now = utcnow()
    visits = visits_seen_by(current_user)
    response = readable_offline(render_page("returnvisits/index.html", visits=visits, now=now,
                                            today_ends=due_by_end_of_today(now)))
    # The rows name the lead's category: a DV or minor lead's visit shown is audited (docs/domain.md,
    # Privacy 4), committed after the page is drawn (its leads are loaded by then).
    shown = compartmented_visits(visits)
    if audit_list(current_user, request.remote_addr or "", {"return_visit": shown}, page=request.endpoint):
        db.session.commit()
    return response


@bp.route("/<int:visit_id>")
@allow(can_do_return_visits)
def detail(visit_id: int):
    visit = access.seen_return_visit(current_user, visit_id)
    if visit.lead.is_compartmented:  # its note may hold what the compartment keeps: never on the phone
        return never_stored(_detail(visit))
    return readable_offline(_detail(visit), kept_stamp(visit))


def kept_stamp(visit: ReturnVisit) -> str:
    """The version of a visit's page the phone keeps: what the page shows of the visit and its lead."""
    return offline_stamp("return-visit", visit.id, visit.state, visit.assignee_id, visit.due_at.timestamp(),
                         visit.lead.version)


@bp.route("/<int:visit_id>/record", methods=["POST"])
@allow(can_do_return_visits)
def record_result(visit_id: int):
    visit = access.seen_return_visit(current_user, visit_id)
    form = build_record_form()
    if form.validate_on_submit():
        try:
            if form.return_visit_id.data != str(visit.id):
                raise ReturnVisitError("wrong_visit")
            _visit, created = record(visit, current_user, Recording(
                result=form.result.data, note=form.note.data or "", uuid=form.uuid.data or None,
                recorded_at=form.recorded_at.data))
        except ReturnVisitError as error:
            target = getattr(form, error.field, None) if error.field else None
            (target.errors if target is not None else form.form_errors).append(error_text(error.code))
            if error.forbidden:
                return _detail(visit, record_form=form, status=403, block="record_form")
        else:
            db.session.commit()
            if created:
                flash(_("Return visit recorded."), "success")
            return see_other(url_for("returnvisits.detail", visit_id=visit.id))
    return _detail(visit, record_form=form, status=422, block="record_form")


@bp.route("/<int:visit_id>/assign", methods=["POST"])
@allow(can_do_return_visits)
def assign(visit_id: int):
    visit = access.seen_return_visit(current_user, visit_id)
    if not access.can_reassign_return_visit(current_user, visit):
        abort(403)
    form = build_reassign_form(visit)
    if form.validate_on_submit():
        person = db.session.get(User, form.assignee_id.data)
        try:
            reassign(visit, current_user, person)
        except ReturnVisitError as error:
            form.assignee_id.errors.append(error_text(error.code))
        else:
            db.session.commit()
            flash(_("Return visit given to %(name)s.", name=person.display_name), "success")
            return see_other(url_for("returnvisits.detail", visit_id=visit.id))
    return _detail(visit, reassign_form=form, status=422, block="reassign_form")

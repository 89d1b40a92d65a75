from __future__ import annotations

from datetime import date, timedelta

from flask import abort, flash, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user

from webapp.access.base import allow, signed_in
from webapp.access.duty import (
    can_edit_roster,
    can_see_roster,
    holds_open_offer,
    seen_call,
    station_shift,
)
from webapp.dates import day_text
from webapp.duty import bp
from webapp.duty import dispatch as dispatching
from webapp.duty.forms import AnswerForm, RemoveShiftForm, build_shift_form
from webapp.duty.labels import call_state_label, offer_state_label
from webapp.duty.services import (
    DutyError,
    add_shift,
    remove_shift,
    shift_window,
    week_days,
    week_roster,
    week_start,
)
from webapp.errors import render_error
from webapp.extensions import db
from webapp.org.models import User
from webapp.rendering import render_page, see_other
from webapp.timeutil import STATION_TZ, utcnow


def _today() -> date:
    return utcnow().astimezone(STATION_TZ).date()


def _week_asked() -> date:
    raw = request.args.get("week", "")
    if not raw:
        return week_start(_today())
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        abort(render_error(400, _("The week must be a date like 2026-11-30.")))
    if not 2000 <= day.year <= 2100:
        abort(render_error(400, _("The week must be a date like 2026-11-30.")))
    return week_start(day)


def _roster_page(monday: date, form, status: int = 200):
    return render_page(
        "duty/roster.html", block="roster", status=status, monday=monday,
        previous_week=monday - timedelta(days=7), next_week=monday + timedelta(days=7),
        roster=week_roster(current_user.station, monday), today=_today(), form=form,
        day_labels={day: f"{format_date(day, 'EEE')} {day_text(day)}" for day in week_days(monday)},
        can_edit=can_edit_roster(current_user), remove_form=RemoveShiftForm())


@bp.route("/")
@allow(can_see_roster)
def roster():
    monday = _week_asked()
    form = build_shift_form(current_user.station) if can_edit_roster(current_user) else None
    if form is not None:
        form.day.data = max(monday, _today()) if monday <= _today() < monday + timedelta(days=7) else monday
    return _roster_page(monday, form)


@bp.route("/shifts", methods=["POST"])
@allow(can_edit_roster)
def add():
    form = build_shift_form(current_user.station)
    if form.validate_on_submit():
        person = db.session.get(User, form.person_id.data)
        starts_at, ends_at = shift_window(form.day.data, form.starts.data, form.ends.data)
        try:
            add_shift(current_user.station, person, starts_at, ends_at, current_user)
        except DutyError as error:
            getattr(form, error.field).errors = [*getattr(form, error.field).errors, str(error.message)]
        else:
            db.session.commit()
            flash(_("Shift added."), "success")
            return see_other(url_for("duty.roster", week=week_start(form.day.data).isoformat()))
    monday = week_start(form.day.data) if form.day.data and 2000 <= form.day.data.year <= 2100 \
        else week_start(_today())
    return _roster_page(monday, form, status=422)


@bp.route("/shifts/<int:shift_id>/delete", methods=["POST"])
@allow(can_edit_roster)
def remove(shift_id: int):
    shift = station_shift(current_user, shift_id)
    if not RemoveShiftForm().validate_on_submit():
        abort(400)
    monday = week_start(shift.starts_at.astimezone(STATION_TZ).date())
    remove_shift(shift)
    db.session.commit()
    flash(_("Shift removed."), "success")
    return see_other(url_for("duty.roster", week=monday.isoformat()))


def _call_page(call, form, status: int = 200, problem: str = ""):
    return render_page(
        "duty/call.html", block="answer", status=status, call=call, lead=call.lead, form=form,
        offers=dispatching.offers_of(call), mine=holds_open_offer(current_user, call), problem=problem,
        timeout_minutes=int(dispatching.timeout().total_seconds() // 60),
        call_state_label=call_state_label, offer_state_label=offer_state_label)


@bp.route("/calls/<int:call_id>")
@allow(signed_in)
def call(call_id: int):
    return _call_page(seen_call(current_user, call_id), AnswerForm())


@bp.route("/calls/<int:call_id>/answer", methods=["POST"])
@allow(signed_in)
def answer(call_id: int):
    found = seen_call(current_user, call_id)
    form = AnswerForm()
    if not form.validate_on_submit():
        return _call_page(found, form, status=422)
    try:
        dispatching.answer(found, current_user, form.decision.data == "accept",
                           (form.reason.data or "").strip(), utcnow())
    except dispatching.DispatchError:
        db.session.rollback()
        return _call_page(found, form, status=409,
                          problem=_("This call is no longer waiting for your answer."))
    db.session.commit()
    flash(_("Thank you: the police know you are coming.") if form.decision.data == "accept"
          else _("Declined: the call passes to the next mediator on duty."), "success")
    return see_other(url_for("duty.call", call_id=found.id))

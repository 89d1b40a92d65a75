"""The youth team's pages. Profiles and sessions are sealed: every page about them is for the youth
team and supervisors only (others: 403 on the lists, 404 on a record), never kept on a phone
(no-store), and every opening of a profile is written to the audit log."""

from __future__ import annotations

from datetime import date

from flask import Response, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from webapp import access
from webapp.access import allow, can_edit_outreach, can_read_outreach, can_work_youth
from webapp.audit.services import record as audit
from webapp.audit.services import record_list as audit_list
from webapp.errors import render_error
from webapp.extensions import db
from webapp.rendering import never_stored, readable_offline, render_page, see_other
from webapp.youth import bp
from webapp.youth.figures import Period, last_twelve_months, youth_figures
from webapp.youth.forms import (
    CloseProfileForm,
    DeleteOutreachForm,
    LinkLeadForm,
    OutreachForm,
    build_profile_form,
    build_session_form,
    error_text,
    refused,
    submit_session_form,
)
from webapp.youth.models import YouthProfile
from webapp.youth.services import (
    OutreachInput,
    ProfileInput,
    YouthError,
    close_profile,
    delete_outreach,
    link_lead,
    open_profile,
    outreach_list,
    profile_list,
    save_outreach,
    station_today,
    update_profile,
)


def _profile_input(form) -> ProfileInput:
    return ProfileInput(
        name=form.name.data, birth_year=form.birth_year.data, situation=form.situation.data,
        school=form.school.data or "", grade=form.grade.data or "",
        guardian_name=form.guardian_name.data or "",
        guardian_relation=form.guardian_relation.data or "", guardian_phone=form.guardian_phone.data or "",
        risk_factors=set(form.risk_factors.data or ()), counsellor_id=form.counsellor_id.data,
        next_session_on=form.next_session_on.data)


def _sealed(response: Response) -> Response:
    return never_stored(response)


# --- profiles ----------------------------------------------------------------------------------------


@bp.route("/")
@allow(can_work_youth)
def index():
    q = request.args.get("q", "")[:50]
    state = request.args.get("status", "open")
    if state not in ("open", "closed", "all"):
        state = "open"
    profiles = profile_list(current_user, q, state)
    response = _sealed(render_page("youth/profiles.html", block="profile_rows", profiles=profiles, q=q,
                                   state=state))
    # Every profile is a minor's record: a list or search that showed any is audited (docs/domain.md,
    # Privacy 4), committed after the page is drawn.
    if audit_list(current_user, request.remote_addr or "", {"youth_profile": [p.id for p in profiles]},
                  page=request.endpoint, q=q, status=state):
        db.session.commit()
    return response


@bp.route("/profiles/new", methods=["GET", "POST"])
@allow(can_work_youth)
def new_profile():
    form = build_profile_form(current_user)
    if form.validate_on_submit():
        try:
            profile = open_profile(current_user, _profile_input(form))
        except YouthError as error:
            refused(form, error)
        else:
            db.session.commit()
            flash(_("Profile opened."), "success")
            return see_other(url_for("youth.profile", profile_id=profile.id))
    status = 422 if form.is_submitted() else 200
    return _sealed(render_page("youth/profile_form.html", block="profile_form", status=status, form=form,
                               profile=None))


def _show_profile(profile: YouthProfile, status: int = 200, block: str = "content", revealed: bool = False,
                  **forms) -> Response:
    """Every showing of a sealed profile is audited (in the same commit)."""
    audit(current_user, "reveal_guardian" if revealed else "view", "youth_profile", profile.id,
          request.remote_addr or "")
    db.session.commit()
    close_form = forms.get("close_form") or CloseProfileForm(formdata=None, closed_on=station_today())
    return _sealed(render_page(
        "youth/profile.html", block=block, status=status, profile=profile, revealed=revealed,
        close_form=close_form, link_form=forms.get("link_form") or LinkLeadForm(formdata=None)))


@bp.route("/profiles/<int(max=2147483647):profile_id>")
@allow(can_work_youth)
def profile(profile_id: int):
    return _show_profile(access.sealed_profile(current_user, profile_id))


@bp.route("/profiles/<int(max=2147483647):profile_id>/reveal", methods=["POST"])
@allow(can_work_youth)
def reveal(profile_id: int):
    return _show_profile(access.sealed_profile(current_user, profile_id), block="guardian", revealed=True)


@bp.route("/profiles/<int(max=2147483647):profile_id>/edit", methods=["GET", "POST"])
@allow(can_work_youth)
def edit_profile(profile_id: int):
    profile = access.sealed_profile(current_user, profile_id)
    if not profile.is_open:
        return render_error(409, error_text("closed_already"))
    form = build_profile_form(current_user, obj=profile)
    if not form.is_submitted():
        form.risk_factors.data = profile.factor_codes
        audit(current_user, "view", "youth_profile", profile.id, request.remote_addr or "", form="edit")
        db.session.commit()
    elif form.validate_on_submit():
        try:
            update_profile(current_user, profile, _profile_input(form), form.version.data)
        except YouthError as error:
            db.session.rollback()
            refused(form, error)
            status = 409 if error.code == "stale" else 422
            return _sealed(render_page("youth/profile_form.html", block="profile_form", status=status,
                                       form=form, profile=profile))
        db.session.commit()
        flash(_("Profile saved."), "success")
        return see_other(url_for("youth.profile", profile_id=profile.id))
    status = 422 if form.is_submitted() else 200
    return _sealed(render_page("youth/profile_form.html", block="profile_form", status=status, form=form,
                               profile=profile))


@bp.route("/profiles/<int(max=2147483647):profile_id>/close", methods=["POST"])
@allow(can_work_youth)
def close(profile_id: int):
    profile = access.sealed_profile(current_user, profile_id)
    form = CloseProfileForm()
    if form.validate_on_submit():
        try:
            close_profile(current_user, profile, form.reason.data, form.note.data, form.closed_on.data)
        except YouthError as error:
            refused(form, error)
        else:
            db.session.commit()
            flash(_("Profile closed."), "success")
            return see_other(url_for("youth.profile", profile_id=profile.id))
    return _show_profile(profile, status=409 if profile.is_open is False else 422, block="close_form",
                         close_form=form)


@bp.route("/profiles/<int(max=2147483647):profile_id>/leads", methods=["POST"])
@allow(can_work_youth)
def link(profile_id: int):
    profile = access.sealed_profile(current_user, profile_id)
    form = LinkLeadForm()
    if form.validate_on_submit():
        try:
            link_lead(current_user, profile, form.lead_id.data)
        except YouthError as error:
            refused(form, error)
        else:
            db.session.commit()
            flash(_("Lead linked."), "success")
            return see_other(url_for("youth.profile", profile_id=profile.id))
    return _show_profile(profile, status=422, block="link_form", link_form=form)


# --- sessions ----------------------------------------------------------------------------------------


@bp.route("/profiles/<int(max=2147483647):profile_id>/sessions/new", methods=["GET", "POST"])
@allow(can_work_youth)
def new_session(profile_id: int):
    profile = access.sealed_profile(current_user, profile_id)
    form = build_session_form(current_user)
    if not form.is_submitted():
        form.held_on.data = station_today()
    else:
        session, created = submit_session_form(form, current_user, profile)
        if session is not None:
            db.session.commit()
            if created:
                flash(_("Session recorded."), "success")
            return see_other(url_for("youth.profile", profile_id=profile.id))
    status = 422 if form.is_submitted() else 200
    return _sealed(render_page("youth/session_form.html", block="session_form", status=status, form=form,
                               profile=profile))


# --- outreach events ---------------------------------------------------------------------------------


@bp.route("/outreach")
@allow(can_read_outreach)
def outreach():
    return readable_offline(render_page("youth/outreach.html", events=outreach_list(current_user),
                                        can_edit=can_edit_outreach(current_user)))


def _outreach_form_page(form, event) -> Response:
    if form.validate_on_submit():
        try:
            saved = save_outreach(current_user, event, OutreachInput(
                topic=form.topic.data, held_on=form.held_on.data, place=form.place.data,
                audience=form.audience.data))
        except YouthError as error:
            refused(form, error)
        else:
            db.session.commit()
            flash(_("Outreach event saved."), "success")
            return see_other(url_for("youth.outreach", _anchor=f"event-{saved.id}"))
    status = 422 if form.is_submitted() else 200
    return render_page("youth/outreach_form.html", block="outreach_form", status=status, form=form,
                       event=event, delete_form=DeleteOutreachForm(formdata=None))


@bp.route("/outreach/new", methods=["GET", "POST"])
@allow(can_edit_outreach)
def new_outreach():
    return _outreach_form_page(OutreachForm(), None)


@bp.route("/outreach/<int(max=2147483647):event_id>/edit", methods=["GET", "POST"])
@allow(can_edit_outreach)
def edit_outreach(event_id: int):
    event = access.station_outreach(current_user, event_id)
    return _outreach_form_page(OutreachForm(obj=event), event)


@bp.route("/outreach/<int(max=2147483647):event_id>/delete", methods=["POST"])
@allow(can_edit_outreach)
def delete_outreach_event(event_id: int):
    event = access.station_outreach(current_user, event_id)
    delete_form = DeleteOutreachForm()
    if not delete_form.validate_on_submit():
        return render_page("youth/outreach_form.html", block="delete_form", status=422,
                           form=OutreachForm(obj=event, formdata=None), event=event, delete_form=delete_form)
    delete_outreach(event)
    db.session.commit()
    flash(_("Outreach event deleted."), "success")
    return see_other(url_for("youth.outreach"))


# --- figures -----------------------------------------------------------------------------------------


def _period_from_args() -> Period | None:
    """`?start=YYYY-MM-DD&end=YYYY-MM-DD`; the last 12 months by default; None when unreadable."""
    default = last_twelve_months(station_today())
    try:
        start = request.args.get("start", "")
        end = request.args.get("end", "")
        return Period(date.fromisoformat(start) if start else default.start,
                      date.fromisoformat(end) if end else default.end)
    except ValueError:
        return None


@bp.route("/figures")
@allow(can_work_youth)
def figures():
    period = _period_from_args()
    if period is None:
        return render_page("youth/figures.html", status=400, period=None, figures=None,
                           error=_("Give the period as two dates (YYYY-MM-DD), the start not after the end."))
    return render_page("youth/figures.html", period=period,
                       figures=youth_figures(current_user.station, period))

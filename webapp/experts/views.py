from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from webapp.access.base import allow, public, roles_required, signed_in
from webapp.access.experts import (
    can_invite_experts,
    can_manage_experts,
    can_search_experts,
    can_see_private_notes,
    expert_lead,
    seen_invitation,
    station_expert,
)
from webapp.audit.services import record as audit
from webapp.errors import render_error
from webapp.experts import bp
from webapp.experts import services as pool
from webapp.experts.forms import build_expert_form, build_lead_forms
from webapp.experts.models import Availability, Expert
from webapp.extensions import db
from webapp.home.seen import previous_visit, since
from webapp.leads.codes import CATEGORY_LABELS
from webapp.leads.masking import mask_phone
from webapp.org.models import Role, User
from webapp.org.services import the_station
from webapp.rendering import never_stored, readable_offline, render_page, see_other, wants_fragment
from webapp.timeutil import STATION_TZ, utcnow


def _labels() -> dict:
    return {"language_label": lambda code: str(pool.LANGUAGE_LABELS.get(code, code)),
            "availability_label": lambda code: str(pool.AVAILABILITY_LABELS.get(Availability(code), code)),
            "conflict_label": lambda code: str(pool.CONFLICT_LABELS.get(code, code)),
            "mask_phone": mask_phone}


def _filter(name: str, allowed) -> str | None:
    raw = request.args.get(name, "")
    if raw and raw not in allowed:
        abort(render_error(400, _("Choose the search filters from the lists.")))
    return raw or None


@bp.route("/")
@allow(can_search_experts)
def pool_page():
    """Search the pool by field, language, availability and name."""
    query = request.args.get("q", "").strip()
    if len(query) > 100:
        abort(render_error(400, _("The search is too long (at most 100 characters).")))
    filters = {"category": _filter("category", CATEGORY_LABELS),
               "language": _filter("language", pool.LANGUAGE_LABELS),
               "availability": _filter("availability", {a.value for a in Availability})}
    experts = pool.search_experts(current_user.station, query=query, **filters)
    return render_page("experts/pool.html", block="results", experts=experts, filters=filters, q=query,
                       private=can_see_private_notes(current_user),
                       can_manage=can_manage_experts(current_user),
                       categories=CATEGORY_LABELS, languages=pool.LANGUAGE_LABELS,
                       availabilities=pool.AVAILABILITY_LABELS, **_labels())


@bp.route("/public")
@public
def public_list():
    """The pool's public profiles (name, fields, short bio), for residents choosing an expert."""
    try:
        station = the_station()
    except LookupError:
        abort(404)
    return render_page("experts/public.html", block="profiles", experts=pool.station_experts(station),
                       **_labels())


@bp.route("/mine")
@roles_required(Role.EXPERT)
def mine():
    """An expert's home: the mediations they are invited to, the coming ones first, new ones marked."""
    now = utcnow()
    then = previous_visit(current_user, now, record=not wants_fragment())
    invitations = pool.invitations_of(current_user, now)
    response = readable_offline(render_page(
        "experts/mine.html", block="invitations", invitations=invitations, now=now, seen=then,
        since=since(then, [invitation.created_at for invitation in invitations])))
    db.session.commit()  # the visit's time
    return response


@bp.route("/invitations/<int:invitation_id>")
@allow(signed_in)
def invitation(invitation_id: int):
    found = seen_invitation(current_user, invitation_id)
    return render_page("experts/invitation.html", invitation=found, lead=found.lead)


def _save(expert: Expert | None):
    station = current_user.station
    form = build_expert_form(station, obj=expert) if expert is not None and request.method == "GET" \
        else build_expert_form(station)
    if expert is not None and request.method == "GET":
        form.fields.data, form.languages.data = expert.field_codes, expert.language_codes
    if form.validate_on_submit():
        try:
            saved = pool.save_expert(station, expert, pool.ExpertInput(
                name=form.name.data, fields=form.fields.data, languages=form.languages.data or [],
                bio=form.bio.data or "", availability=form.availability.data,
                employer=form.employer.data or "",
                phone=form.phone.data or "",
                user=db.session.get(User, form.user_id.data) if form.user_id.data else None))
        except pool.ExpertError as error:
            getattr(form, error.field).errors = [*getattr(form, error.field).errors, str(error.message)]
        else:
            db.session.commit()
            flash(_("Profile saved."), "success")
            return see_other(url_for("experts.pool_page", q=saved.name))
    status = 422 if form.is_submitted() else 200
    return render_page("experts/edit.html", block="expert_form", status=status, form=form, expert=expert)


@bp.route("/new", methods=["GET", "POST"])
@allow(can_manage_experts)
def new():
    return _save(None)


@bp.route("/<int:expert_id>/edit", methods=["GET", "POST"])
@allow(can_manage_experts)
def edit(expert_id: int):
    expert = station_expert(current_user, expert_id)
    if request.method == "GET" and (expert.phone or expert.employer):
        # The form shows the private notes in full: every look is in the audit log.
        audit(current_user, "view", "expert", expert.id, request.remote_addr or "")
        db.session.commit()
    return never_stored(_save(expert))


def _lead_page(lead, conflict_form, invite_form, status: int = 200):
    return render_page(
        "experts/lead.html", block="lead_experts", status=status, lead=lead,
        suggestions=pool.suggest_for(lead), choice=pool.choice_for(lead),
        conflicts=pool.conflicts_for(lead), invitations=pool.invitations_for(lead),
        conflict_form=conflict_form, invite_form=invite_form,
        can_invite=can_invite_experts(current_user, lead),
        **_labels())


@bp.route("/leads/<int:lead_id>")
@allow(can_search_experts)
def for_lead(lead_id: int):
    """Experts for one lead: suggestions (no conflicts), the resident's choice, conflicts, invitations."""
    lead = expert_lead(current_user, lead_id)
    return _lead_page(lead, *build_lead_forms(current_user.station))


def _lead_to_act_on(lead_id: int):
    lead = expert_lead(current_user, lead_id)
    if not can_invite_experts(current_user, lead):
        abort(403)
    return lead


@bp.route("/leads/<int:lead_id>/conflicts", methods=["POST"])
@allow(can_search_experts)
def add_conflict(lead_id: int):
    lead = _lead_to_act_on(lead_id)
    conflict_form, invite_form = build_lead_forms(current_user.station)
    if conflict_form.validate_on_submit():
        try:
            pool.record_conflict(lead, db.session.get(Expert, conflict_form.expert_id.data),
                                 conflict_form.kind.data, conflict_form.note.data or "", current_user)
        except pool.ExpertError as error:
            conflict_form.expert_id.errors = [*conflict_form.expert_id.errors, str(error.message)]
        else:
            db.session.commit()
            flash(_("Conflict of interest recorded."), "success")
            return see_other(url_for("experts.for_lead", lead_id=lead.id))
    return _lead_page(lead, conflict_form, invite_form, status=422)


@bp.route("/leads/<int:lead_id>/invitations", methods=["POST"])
@allow(can_search_experts)
def add_invitation(lead_id: int):
    lead = _lead_to_act_on(lead_id)
    conflict_form, invite_form = build_lead_forms(current_user.station)
    if invite_form.validate_on_submit():
        meets_at = invite_form.meets_at.data.replace(tzinfo=STATION_TZ) if invite_form.meets_at.data else None
        try:
            pool.invite(lead, db.session.get(Expert, invite_form.expert_id.data), invite_form.video_link.data,
                        meets_at, current_user)
        except pool.ExpertError as error:
            target = invite_form.video_link if error.field == "video_link" else invite_form.expert_id
            target.errors = [*target.errors, str(error.message)]
        else:
            db.session.commit()
            flash(_("Invitation sent."), "success")
            return see_other(url_for("experts.for_lead", lead_id=lead.id))
    return _lead_page(lead, conflict_form, invite_form, status=422)

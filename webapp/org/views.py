"""Admin pages: communities, grids, people and roles. Mobile-first; htmx where it saves a page load."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from webapp.access.base import ORG_MANAGERS, roles_required
from webapp.access.org import community_grid, station_community, station_person
from webapp.audit.services import record
from webapp.auth.devices import describe as describe_device
from webapp.auth.devices import session_id_from_form
from webapp.auth.services import active_sessions, revoke_all_sessions
from webapp.extensions import db
from webapp.org import bp
from webapp.org import services as org
from webapp.org.forms import CommunityForm, GridForm, UserForm
from webapp.org.labels import ROLE_LABELS
from webapp.org.models import Community, Grid, Role, RoleGrant, User
from webapp.rendering import render_page, see_other


def _error_text(code: str) -> str:
    return {
        "taken": _("Already in use."),
        "not_an_officer": _("This person is not a community officer."),
        "grid_outside_community": _("The grid is not in the chosen community."),
        "too_short": _("At least 10 characters."),
        "contains_name": _("The password must not contain the user name or the person's name."),
        "too_weak": _("Too easy to guess (a common password, a pattern or repeated characters). "
                      "Use a longer phrase of unrelated words."),
        "already_decided": _("This request has already been decided."),
        "not_yours_to_decide": _("A second person must decide: not the one who asked, nor the "
                                 "person concerned."),
    }.get(code, code)


def _apply_error(form, error: org.OrgError) -> None:
    getattr(form, error.field).errors.append(_error_text(error.message))


@bp.route("/")
@roles_required(*ORG_MANAGERS)
def index():
    return redirect(url_for("org.communities"))


# --- communities and grids -------------------------------------------------------------------


def _no_choice() -> SelectChoice:
    return SelectChoice("", _("— none —"))


def _officer_choices() -> list[SelectChoice]:
    officers = org.people_with_role(current_user.station, Role.OFFICER)
    return [_no_choice()] + [SelectChoice(str(o.id), o.display_name) for o in officers]


@bp.route("/communities")
@roles_required(*ORG_MANAGERS)
def communities():
    return render_page("org/communities.html", communities=org.communities(current_user.station))


@bp.route("/communities/new", methods=["GET", "POST"])
@bp.route("/communities/<int:community_id>", methods=["GET", "POST"])
@roles_required(*ORG_MANAGERS)
def community(community_id: int | None = None):
    existing = station_community(current_user, community_id) if community_id else None
    form = CommunityForm(obj=existing)
    form.officer_id.choices = _officer_choices()
    if existing:
        form.code.render_kw = {"readonly": True}
    if form.validate_on_submit():
        officer = db.session.get(User, form.officer_id.data) if form.officer_id.data else None
        fields = dict(
            name=form.name.data, name_en=form.name_en.data or "", kind=form.kind.data,
            officer=officer, boundary=form.boundary.data,
        )
        try:
            if existing:
                saved = org.update_community(existing, **fields)
            else:
                saved = org.create_community(current_user.station, code=form.code.data, **fields)
        except org.OrgError as error:
            _apply_error(form, error)
        else:
            db.session.commit()
            flash(_("Saved %(name)s.", name=saved.name), "success")
            return see_other(url_for("org.community", community_id=saved.id))
    status = 422 if form.is_submitted() else 200
    return render_page("org/community.html", block="community_form", status=status,
                       form=form, community=existing)


@bp.route("/communities/<int:community_id>/grids/new", methods=["GET", "POST"])
@bp.route("/communities/<int:community_id>/grids/<int:grid_id>", methods=["GET", "POST"])
@roles_required(*ORG_MANAGERS)
def grid(community_id: int, grid_id: int | None = None):
    community = station_community(current_user, community_id)
    existing = community_grid(community, grid_id) if grid_id else None
    form = GridForm(obj=existing)
    if form.validate_on_submit():
        try:
            org.save_grid(community, existing, code=form.code.data, name=form.name.data,
                          boundary=form.boundary.data)
        except org.OrgError as error:
            _apply_error(form, error)
        else:
            db.session.commit()
            flash(_("Saved %(name)s.", name=form.name.data), "success")
            return see_other(url_for("org.community", community_id=community.id))
    status = 422 if form.is_submitted() else 200
    return render_page("org/grid.html", block="grid_form", status=status,
                       form=form, community=community, grid=existing)


# --- people ----------------------------------------------------------------------------------


@bp.route("/users")
@roles_required(*ORG_MANAGERS)
def users():
    query = request.args.get("q", "")[:64]
    role = request.args.get("role") or None
    if role not in {r.value for r in Role}:
        role = None
    page = max(1, request.args.get("page", 1, type=int))
    result = org.search_users(current_user.station, query, role, page)
    return render_page("org/users.html", block="user_rows", result=result, q=query, role=role,
                       role_choices=[(r.value, label) for r, label in ROLE_LABELS.items()])


def _placement_choices(form: UserForm) -> None:
    communities = org.communities(current_user.station)
    form.community_id.choices = [_no_choice()] + [SelectChoice(str(c.id), c.name) for c in communities]
    form.grid_id.choices = [_no_choice()] + [
        SelectChoice(str(g.id), g.name, optgroup=c.name) for c in communities for g in c.grids
    ]


@bp.route("/users/new", methods=["GET", "POST"])
@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required(*ORG_MANAGERS)
def user(user_id: int | None = None):
    existing = station_person(current_user, user_id) if user_id else None
    form = UserForm(obj=existing)
    _placement_choices(form)
    if existing:
        form.username.render_kw = {"readonly": True}
    if form.validate_on_submit():
        if existing is None and not form.password.data:
            form.password.errors.append(_("A new account needs a password."))
        else:
            community = db.session.get(Community, form.community_id.data) if form.community_id.data else None
            grid = db.session.get(Grid, form.grid_id.data) if form.grid_id.data else None
            fields = dict(
                display_name=form.display_name.data, roles={Role(r) for r in form.roles.data},
                community=community, grid=grid, in_volunteer_branch=form.in_volunteer_branch.data,
                is_branch_secretary=form.is_branch_secretary.data,
                title=form.title.data or "", phone=form.phone.data or "",
            )
            actor = dict(actor=current_user._get_current_object(), address=request.remote_addr or "")
            try:
                if existing:
                    saved = org.update_user(existing, is_enabled=form.is_enabled.data,
                                            new_password=form.password.data or None, **fields, **actor)
                else:
                    saved = org.create_user(current_user.station, username=form.username.data,
                                            password=form.password.data, **fields, **actor)
            except org.OrgError as error:
                _apply_error(form, error)
            else:
                waiting = org.pending_grants_for(saved)
                db.session.commit()
                flash(_("Saved %(name)s.", name=saved.display_name), "success")
                if waiting:
                    flash(_("Waiting for a supervisor or a second admin to approve: %(roles)s.",
                            roles=", ".join(str(ROLE_LABELS[Role(g.role)]) for g in waiting)), "info")
                return see_other(url_for("org.user", user_id=saved.id))
    status = 422 if form.is_submitted() else 200
    return render_page("org/user.html", block="user_form", status=status, form=form, person=existing,
                       waiting=org.pending_grants_for(existing) if existing else [],
                       sessions=active_sessions(existing) if existing else [], describe=describe_device,
                       this_session=getattr(current_user, "session_row_id", None))


@bp.route("/users/<int:user_id>/revoke-device", methods=["POST"])
@roles_required(*ORG_MANAGERS)
def user_revoke_device(user_id: int):
    """A person's phone is lost: revoke that one session (the phone wipes itself on return)."""
    person = station_person(current_user, user_id)
    session_id = session_id_from_form()
    if session_id is None:
        return render_page("errors/error.html", status=422, code=422,
                           message=_("Choose a device from the list."))
    if not org.revoke_lost_phone(person, session_id, actor=current_user._get_current_object(),
                                 address=request.remote_addr or ""):
        return render_page("errors/error.html", status=404, code=404,
                           message=_("That device is not signed in any more."))
    db.session.commit()
    flash(_("The device is signed out. %(name)s is told in their inbox.", name=person.display_name),
          "success")
    return see_other(url_for("org.user", user_id=person.id))


@bp.route("/users/<int:user_id>/sign-out-everywhere", methods=["POST"])
@roles_required(*ORG_MANAGERS)
def user_sign_out_everywhere(user_id: int):
    person = station_person(current_user, user_id)
    revoke_all_sessions(person)
    record(current_user, "sign_out_everywhere", "user", person.id, request.remote_addr or "")
    db.session.commit()
    flash(_("%(name)s has been signed out on every device.", name=person.display_name), "success")
    return see_other(url_for("org.user", user_id=person.id))


@bp.route("/users/<int:user_id>/reset-two-factor", methods=["POST"])
@roles_required(*ORG_MANAGERS)
def user_reset_two_factor(user_id: int):
    """A lost authenticator: the person signs in with the password and enrols again."""
    from webapp.auth import totp

    person = station_person(current_user, user_id)
    totp.disable(person)
    revoke_all_sessions(person)
    record(current_user, "two_factor_reset", "user", person.id, request.remote_addr or "")
    db.session.commit()
    flash(_("Second factor removed for %(name)s.", name=person.display_name), "success")
    return see_other(url_for("org.user", user_id=person.id))


# --- guarded roles: a second person decides ----------------------------------------------------


@bp.route("/role-grants")
@roles_required(Role.SUPERVISOR, Role.ADMIN)
def role_grants():
    grants = org.pending_grants(current_user.station)
    return render_page("org/role_grants.html", block="grant_rows", grants=grants,
                       can_decide=lambda grant: org.can_decide_grant(current_user, grant))


@bp.route("/role-grants/<int:grant_id>/<any(approve, refuse):decision>", methods=["POST"])
@roles_required(Role.SUPERVISOR, Role.ADMIN)
def decide_role_grant(grant_id: int, decision: str):
    grant = db.session.get(RoleGrant, grant_id)
    if grant is None or grant.user.station_id != current_user.station_id:
        abort(404)
    try:
        org.decide_grant(grant, current_user._get_current_object(), approve=decision == "approve",
                         address=request.remote_addr or "")
    except org.OrgError as error:
        db.session.rollback()
        return render_page("errors/error.html", status=403 if error.message == "not_yours_to_decide"
                           else 409, code=403 if error.message == "not_yours_to_decide" else 409,
                           message=_error_text(error.message))
    db.session.commit()
    if decision == "approve":
        flash(_("%(role)s given to %(name)s.", role=ROLE_LABELS[Role(grant.role)],
                name=grant.user.display_name), "success")
    else:
        flash(_("Request refused."), "success")
    return see_other(url_for("org.role_grants"))

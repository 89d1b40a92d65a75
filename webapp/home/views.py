"""Each role's landing page: what that person needs first when they open the app."""

from __future__ import annotations

from flask import url_for
from flask_login import current_user

from webapp.access import MEDIATION_ROLES, allow, can_see_branch, roles_required, signed_in
from webapp.home import bp
from webapp.leads import queries
from webapp.leads.views import offline_copies
from webapp.org import services as org
from webapp.org.models import Role
from webapp.rendering import readable_offline, render_page
from webapp.returnvisits.services import due_by_end_of_today, my_return_visits
from webapp.timeutil import utcnow


def return_visit_copies(visits) -> list[str]:
    """Pages of my due return visits for the phone to keep: not those of DV or minor leads."""
    return [url_for("returnvisits.detail", visit_id=v.id) for v in visits if not v.lead.is_compartmented]


@bp.route("/volunteer")
@roles_required(Role.VOLUNTEER)
def volunteer():
    now = utcnow()
    return readable_offline(render_page(
        "home/volunteer.html", block="report_rows", me=current_user, page=queries.my_reports(current_user),
        can_see_branch=can_see_branch(current_user), now=now,
        return_visits=my_return_visits(current_user, due_by_end_of_today(now))))


@bp.route("/officer")
@roles_required(Role.OFFICER)
def officer():
    """My work: what is assigned to me, overdue first, then by risk and due time."""
    communities = org.communities_of_officer(current_user)
    now = utcnow()
    work = queries.my_work(current_user, now)
    return_visits = my_return_visits(current_user, due_by_end_of_today(now))
    return readable_offline(render_page(
        "home/officer.html", block="work_rows", work=work, now=now, return_visits=return_visits,
        keep=offline_copies(work) + return_visit_copies(return_visits),
        communities=communities, volunteer_counts={c.id: org.volunteers_in(c) for c in communities},
    ))


@bp.route("/supervisor")
@roles_required(Role.SUPERVISOR)
def supervisor():
    station = current_user.station
    now = utcnow()
    work = queries.my_work(current_user, now)
    return_visits = my_return_visits(current_user, due_by_end_of_today(now))
    return readable_offline(render_page(
        "home/supervisor.html",
        station=station,
        queue_counts=queries.queue_counts(current_user, now),
        work=work, now=now, keep=offline_copies(work) + return_visit_copies(return_visits),
        return_visits=return_visits, communities=org.communities(station),
        role_counts=org.role_counts(station),
        pending_grants=org.pending_grants(station),
    ))


@bp.route("/mediation")
@roles_required(*MEDIATION_ROLES)
def mediation():
    station = current_user.station
    return readable_offline(render_page(
        "home/mediation.html",
        mediators=org.people_with_role(station, Role.MEDIATOR),
        lawyers=org.people_with_role(station, Role.LAWYER),
        experts=org.people_with_role(station, Role.EXPERT),
    ))


@bp.route("/dv-team")
@roles_required(Role.DV_TEAM)
def dv_team():
    return readable_offline(render_page(
        "home/team.html",
        heading_role=Role.DV_TEAM,
        members=org.people_with_role(current_user.station, Role.DV_TEAM),
    ))


@bp.route("/youth-team")
@roles_required(Role.YOUTH_TEAM)
def youth_team():
    return readable_offline(render_page(
        "home/team.html",
        heading_role=Role.YOUTH_TEAM,
        members=org.people_with_role(current_user.station, Role.YOUTH_TEAM),
    ))


@bp.route("/liaison")
@roles_required(Role.LIAISON)
def liaison():
    station = current_user.station
    return readable_offline(render_page("home/liaison.html", station=station,
                                        communities=org.communities(station)))


@bp.route("/admin")
@roles_required(Role.ADMIN)
def admin():
    station = current_user.station
    return readable_offline(render_page(
        "home/admin.html",
        station=station,
        communities=org.communities(station),
        role_counts=org.role_counts(station),
        pending_grants=org.pending_grants(station),
    ))


@bp.route("/none")
@allow(signed_in)
def no_role():
    return render_page("home/no_role.html")

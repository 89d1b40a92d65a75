"""Each role's landing page: what that person needs first when they open the app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask_login import current_user

from webapp.access import MEDIATION_ROLES, allow, can_see_branch, roles_required, signed_in
from webapp.home import bp
from webapp.leads import queries
from webapp.leads.views import offline_copies
from webapp.mediation import services as mediation
from webapp.mediation.figures import success_rate
from webapp.org import services as org
from webapp.org.models import Role
from webapp.rendering import readable_offline, render_page
from webapp.timeutil import STATION_TZ, utcnow


@bp.route("/volunteer")
@roles_required(Role.VOLUNTEER)
def volunteer():
    return readable_offline(render_page("home/volunteer.html", block="report_rows", me=current_user,
                       page=queries.my_reports(current_user), can_see_branch=can_see_branch(current_user)))


@bp.route("/officer")
@roles_required(Role.OFFICER)
def officer():
    """My work: what is assigned to me, overdue first, then by risk and due time."""
    communities = org.communities_of_officer(current_user)
    now = utcnow()
    work = queries.my_work(current_user, now)
    return readable_offline(render_page(
        "home/officer.html", block="work_rows", work=work, now=now, keep=offline_copies(work),
        terms=mediation.terms_for(current_user, now.astimezone(STATION_TZ).date()),
        today=now.astimezone(STATION_TZ).date(), sessions=mediation.upcoming_sessions(current_user, now),
        communities=communities, volunteer_counts={c.id: org.volunteers_in(c) for c in communities},
    ))


@bp.route("/supervisor")
@roles_required(Role.SUPERVISOR)
def supervisor():
    station = current_user.station
    now = utcnow()
    work = queries.my_work(current_user, now)
    return readable_offline(render_page(
        "home/supervisor.html",
        station=station,
        queue_counts=queries.queue_counts(current_user, now),
        work=work, now=now, keep=offline_copies(work),
        communities=org.communities(station),
        role_counts=org.role_counts(station),
        pending_grants=org.pending_grants(station),
        mediation_rate=success_rate(station.id, _start_of_year(now), now + timedelta(seconds=1)),
    ))


def _start_of_year(now: datetime) -> datetime:
    """January 1st, midnight in Shanghai: the station counts its figures by calendar year."""
    local = now.astimezone(STATION_TZ)
    return datetime(local.year, 1, 1, tzinfo=STATION_TZ).astimezone(UTC)


@bp.route("/mediation", endpoint="mediation")
@roles_required(*MEDIATION_ROLES)
def mediation_home():
    """Mediators, lawyers, prosecutor-mediators and experts: their upcoming sessions and their cases."""
    now = utcnow()
    return readable_offline(render_page("home/mediation.html", block="session_rows", now=now,
                                        sessions=mediation.upcoming_sessions(current_user, now),
                                        cases=mediation.cases_of(current_user)))


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

"""Each role's landing page: what that person needs first when they open the app."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from flask import url_for
from flask_login import current_user

from webapp.access import MEDIATION_ROLES, allow, can_see_branch, roles_required, signed_in
from webapp.dv import queries as dv_queries
from webapp.dv.figures import dv_figures
from webapp.dv.models import LetterStatus
from webapp.govfeed.services import feed_summary, tokens_of
from webapp.govfeed.webhook import recent_deliveries
from webapp.home import bp
from webapp.leads import queries
from webapp.leads.views import offline_copies
from webapp.mediation import services as mediation
from webapp.mediation.figures import success_rate
from webapp.org import services as org
from webapp.org.models import Role
from webapp.rendering import never_stored, readable_offline, render_page
from webapp.returnvisits.services import due_by_end_of_today, my_return_visits
from webapp.timeutil import STATION_TZ, utcnow
from webapp.youth import services as youth
from webapp.youth.figures import last_twelve_months, youth_figures


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
        "home/officer.html", block="work_rows", work=work, now=now,
        dv_followups=_my_followups(now), dv_today=now.astimezone(STATION_TZ).date(),
        return_visits=return_visits, keep=offline_copies(work) + return_visit_copies(return_visits),
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
    return_visits = my_return_visits(current_user, due_by_end_of_today(now))
    return readable_offline(render_page(
        "home/supervisor.html",
        dv_followups=_my_followups(now), dv_today=now.astimezone(STATION_TZ).date(),
        letters_to_approve=dv_queries.letters(current_user, LetterStatus.REQUESTED),
        station=station,
        queue_counts=queries.queue_counts(current_user, now),
        work=work, now=now, keep=offline_copies(work) + return_visit_copies(return_visits),
        return_visits=return_visits, communities=org.communities(station),
        role_counts=org.role_counts(station),
        pending_grants=org.pending_grants(station),
        mediation_rate=success_rate(station.id, _start_of_year(now), now + timedelta(seconds=1)),
    ))


def _my_followups(now) -> dv_queries.FollowUps:
    return dv_queries.followups(current_user, now.astimezone(STATION_TZ).date(), mine_only=True)


def _start_of_year(now: datetime) -> datetime:
    """January 1st, midnight in Shanghai: the station counts its figures by calendar year."""
    local = now.astimezone(STATION_TZ)
    return datetime(local.year, 1, 1, tzinfo=STATION_TZ).astimezone(UTC)


@bp.route("/mediation", endpoint="mediation")
@roles_required(*MEDIATION_ROLES)
def mediation_home():
    """Mediators (prosecutor-mediators too) and lawyers: their upcoming sessions and their cases."""
    now = utcnow()
    return readable_offline(render_page("home/mediation.html", block="session_rows", now=now,
                                        sessions=mediation.upcoming_sessions(current_user, now),
                                        cases=mediation.cases_of(current_user)))


@bp.route("/dv-team")
@roles_required(Role.DV_TEAM)
def dv_team():
    """The DV task force's work: follow-ups overdue and due, new DV leads, letters to approve, issue
    and deliver. Inside the compartment: never kept on the phone."""
    today = utcnow().astimezone(STATION_TZ).date()
    return never_stored(render_page(
        "dv/home.html", block="home_rows", today=today,
        followups=dv_queries.followups(current_user, today),
        new_leads=dv_queries.new_leads(current_user),
        awaiting_approval=dv_queries.letters(current_user, LetterStatus.REQUESTED),
        awaiting_issue=dv_queries.letters(current_user, LetterStatus.APPROVED),
        awaiting_delivery=dv_queries.awaiting_delivery(current_user),
        figures=dv_figures(current_user.station, (date(today.year, 1, 1), date(today.year, 12, 31))),
        members=org.people_with_role(current_user.station, Role.DV_TEAM),
    ))


@bp.route("/youth-team")
@roles_required(Role.YOUTH_TEAM)
def youth_team():
    """The youth team's work: minor leads, sessions due, outreach coming up, the last 12 months' counts.
    Sealed details (names are masked here, still): never kept on the phone."""
    now, today = utcnow(), youth.station_today()
    return never_stored(render_page(
        "youth/home.html",
        heading_role=Role.YOUTH_TEAM, now=now, today=today,
        leads=youth.minor_leads_to_act_on(current_user, now),
        due=youth.sessions_due(current_user, today),
        events=youth.upcoming_outreach(current_user, today),
        open_profiles=youth.open_profile_count(current_user),
        figures=youth_figures(current_user.station, last_twelve_months(today)),
        members=org.people_with_role(current_user.station, Role.YOUTH_TEAM),
    ))


@bp.route("/liaison")
@roles_required(Role.LIAISON)
def liaison():
    """What the government feed carried, the station's headline figures (counts only), the tokens."""
    station = current_user.station
    now = utcnow()
    today = now.astimezone(STATION_TZ).date()
    return readable_offline(render_page(
        "home/liaison.html", station=station, communities=org.communities(station),
        feed=feed_summary(station), tokens=tokens_of(station), deliveries=recent_deliveries(station),
        mediation_rate=success_rate(station.id, _start_of_year(now), now + timedelta(seconds=1)),
        dv=dv_figures(station, (date(today.year, 1, 1), date(today.year, 12, 31))),
        youth=youth_figures(station, last_twelve_months(today)),
    ))


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

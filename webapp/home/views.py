"""Each role's landing page: what that person needs first when they open the app."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from flask import Response, request, url_for
from flask_login import current_user

from webapp.access import MEDIATION_ROLES, allow, can_see_branch, roles_required, signed_in
from webapp.audit.services import record_list
from webapp.duty.dispatch import waiting_for
from webapp.dv import queries as dv_queries
from webapp.dv.figures import dv_figures
from webapp.dv.models import LetterStatus
from webapp.extensions import db
from webapp.govfeed.services import entries_after, feed_summary, tokens_of
from webapp.govfeed.webhook import recent_deliveries
from webapp.home import bp
from webapp.home.seen import Since, arrived_at, previous_visit, progress_changed_at, since
from webapp.leads import queries
from webapp.leads.models import compartmented
from webapp.leads.views import offline_copies
from webapp.mediation import services as mediation
from webapp.mediation.figures import success_rate
from webapp.org import services as org
from webapp.org.models import Role
from webapp.rendering import never_stored, readable_offline, render_page, wants_fragment
from webapp.returnvisits.services import compartmented_visits, due_by_end_of_today, my_return_visits
from webapp.returnvisits.views import kept_stamp
from webapp.timeutil import STATION_TZ, utcnow
from webapp.youth import services as youth
from webapp.youth.figures import last_twelve_months, youth_figures

HOME_ROWS = 30  # rows of "my work" on the home: a phone's worth, most urgent first


def _last_visit(now: datetime) -> datetime | None:
    """The person's previous visit of their home; this one is recorded unless it is an htmx refresh."""
    return previous_visit(current_user, now, record=not wants_fragment())


def _shown(response: Response, **shown: list[int]) -> Response:
    """The request's one commit (the visit's time is already written, in its own transaction), with
    the audit entry of the DV or minor records the page showed, by kind (docs/domain.md, Privacy 4):
    htmx refreshes of the lists show them again, so they are audited again."""
    record_list(current_user, request.remote_addr or "", shown, page=request.endpoint)
    db.session.commit()
    return response


def _followup_ids(followups: dv_queries.FollowUps) -> list[int]:
    return [followup.id for followup in followups.overdue + followups.due]


def return_visit_copies(visits) -> list[dict[str, str]]:
    """Pages of my due return visits for the phone to keep, with their stamps: not those of DV or
    minor leads."""
    return [{"url": url_for("returnvisits.detail", visit_id=v.id), "stamp": kept_stamp(v)}
            for v in visits if not v.lead.is_compartmented]


@bp.route("/volunteer")
@roles_required(Role.VOLUNTEER)
def volunteer():
    """Report a lead first; then what waits for the volunteer's answer (return visits given to them);
    then how their reports are going, the ones that moved since last time marked."""
    now = utcnow()
    then = _last_visit(now)
    page = queries.my_reports(current_user)
    return_visits = my_return_visits(current_user, due_by_end_of_today(now))
    return _shown(readable_offline(render_page(
        "home/volunteer.html", block="report_rows", me=current_user, page=page, seen=then,
        since=since(then, [progress_changed_at(lead) for lead in page.leads]
                    + [visit.created_at for visit in return_visits]),
        can_see_branch=can_see_branch(current_user), now=now, return_visits=return_visits)),
        lead=compartmented(page.leads), return_visit=compartmented_visits(return_visits))


@bp.route("/officer")
@roles_required(Role.OFFICER)
def officer():
    """My work: what is assigned to me, overdue first, then by risk and due time; then what else falls
    due today (return visits, DV follow-ups, agreement terms) and the sessions coming; my communities last."""
    communities = org.communities_of_officer(current_user)
    now = utcnow()
    then = _last_visit(now)
    today = now.astimezone(STATION_TZ).date()
    work, work_total = _my_work_window(now)
    return_visits = my_return_visits(current_user, due_by_end_of_today(now))
    sessions = mediation.upcoming_sessions(current_user, now)
    followups = _my_followups(now)
    return _shown(readable_offline(render_page(
        "home/officer.html", block="work_rows", work=work, work_total=work_total, now=now, seen=then,
        since=since(then, [arrived_at(lead) for lead in work] + [visit.created_at for visit in return_visits]
                    + [session.recorded_at for session in sessions]),
        dv_followups=followups, dv_today=today,
        return_visits=return_visits, keep=offline_copies(work) + return_visit_copies(return_visits),
        terms=mediation.terms_for(current_user, today), today=today, sessions=sessions,
        communities=communities, volunteer_counts=org.volunteer_counts(communities),
    )), lead=compartmented(work), dv_followup=_followup_ids(followups),
        return_visit=compartmented_visits(return_visits))


@bp.route("/supervisor")
@roles_required(Role.SUPERVISOR)
def supervisor():
    """What waits for a supervisor's decision first (roles, letters, the queues), then their own work,
    the year's mediation figures, and the station's directory last."""
    station = current_user.station
    now = utcnow()
    then = _last_visit(now)
    work, work_total = _my_work_window(now)
    return_visits = my_return_visits(current_user, due_by_end_of_today(now))
    letters_to_approve = dv_queries.letters(current_user, LetterStatus.REQUESTED)
    pending_grants = org.pending_grants(station)
    followups = _my_followups(now)
    return _shown(readable_offline(render_page(
        "home/supervisor.html", block="work_rows", seen=then,
        since=since(then, [arrived_at(lead) for lead in work] + [visit.created_at for visit in return_visits]
                    + [letter.requested_at for letter in letters_to_approve]
                    + [grant.requested_at for grant in pending_grants]),
        dv_followups=followups, dv_today=now.astimezone(STATION_TZ).date(),
        letters_to_approve=letters_to_approve,
        station=station,
        queue_counts=queries.queue_counts(current_user, now),
        work=work, work_total=work_total, now=now,
        keep=offline_copies(work) + return_visit_copies(return_visits),
        return_visits=return_visits, communities=org.places(station.id),
        role_counts=org.role_counts(station),
        pending_grants=pending_grants,
        mediation_rate=success_rate(station.id, _start_of_year(now), now + timedelta(seconds=1)),
    )), lead=compartmented(work), dv_letter=[letter.id for letter in letters_to_approve],
        dv_followup=_followup_ids(followups), return_visit=compartmented_visits(return_visits))


def _my_work_window(now):
    """A phone-sized window of my most urgent leads, and how many there are in all (counted only when
    the window is full): the rest are one tap away in the lead list (?mine=1)."""
    work = queries.my_work(current_user, now, limit=HOME_ROWS + 1)
    if len(work) <= HOME_ROWS:
        return work, len(work)
    return work[:HOME_ROWS], queries.count_my_work(current_user)


def _my_followups(now) -> dv_queries.FollowUps:
    return dv_queries.followups(current_user, now.astimezone(STATION_TZ).date(), mine_only=True)


def _start_of_year(now: datetime) -> datetime:
    """January 1st, midnight in Shanghai: the station counts its figures by calendar year."""
    local = now.astimezone(STATION_TZ)
    return datetime(local.year, 1, 1, tzinfo=STATION_TZ).astimezone(UTC)


@bp.route("/mediation", endpoint="mediation")
@roles_required(*MEDIATION_ROLES)
def mediation_home():
    """Mediators (prosecutor-mediators too) and lawyers: a 110 call waiting for their answer first (it
    passes on within minutes), then their sessions, soonest first, then their cases, open ones first."""
    now = utcnow()
    then = _last_visit(now)
    calls = waiting_for(current_user)
    sessions = mediation.upcoming_sessions(current_user, now)
    cases = mediation.cases_of(current_user)
    return _shown(readable_offline(render_page(
        "home/mediation.html", block="session_rows", now=now, seen=then,
        since=since(then, [session.recorded_at for session in sessions] + [case.opened_at for case in cases]
                    + [call.created_at for call in calls]),
        calls=calls, sessions=sessions, cases=cases)), mediation_case=mediation.compartmented_cases(cases))


@bp.route("/dv-team")
@roles_required(Role.DV_TEAM)
def dv_team():
    """The DV task force's work: follow-ups overdue and due, new DV leads, letters to approve, issue
    and deliver. Inside the compartment: never kept on the phone."""
    now = utcnow()
    then = _last_visit(now)
    today = now.astimezone(STATION_TZ).date()
    new_leads = dv_queries.new_leads(current_user)
    awaiting_approval = dv_queries.letters(current_user, LetterStatus.REQUESTED)
    awaiting_issue = dv_queries.letters(current_user, LetterStatus.APPROVED)
    awaiting_delivery = dv_queries.awaiting_delivery(current_user)
    followups = dv_queries.followups(current_user, today)
    return _shown(never_stored(render_page(
        "dv/home.html", block="home_rows", today=today, seen=then,
        since=since(then, [arrived_at(lead) for lead in new_leads]
                    + [letter.requested_at for letter in awaiting_approval]
                    + [letter.decided_at for letter in awaiting_issue]
                    + [letter.issued_at for letter in awaiting_delivery]),
        followups=followups,
        new_leads=new_leads, awaiting_approval=awaiting_approval, awaiting_issue=awaiting_issue,
        awaiting_delivery=awaiting_delivery,
        figures=dv_figures(current_user.station, (date(today.year, 1, 1), date(today.year, 12, 31))),
        members=org.people_with_role(current_user.station, Role.DV_TEAM),
    )), lead=compartmented(new_leads),
        dv_letter=[letter.id for letter in awaiting_approval + awaiting_issue + awaiting_delivery],
        dv_followup=_followup_ids(followups))


@bp.route("/youth-team")
@roles_required(Role.YOUTH_TEAM)
def youth_team():
    """The youth team's work: minor leads, sessions due, outreach coming up, the last 12 months' counts.
    Sealed details (names are masked here, still): never kept on the phone."""
    now, today = utcnow(), youth.station_today()
    then = _last_visit(now)
    leads = youth.minor_leads_to_act_on(current_user, now)
    due = youth.sessions_due(current_user, today)
    return _shown(never_stored(render_page(
        "youth/home.html", block="lead_rows", seen=then,
        since=since(then, [arrived_at(lead) for lead in leads]),
        heading_role=Role.YOUTH_TEAM, now=now, today=today, leads=leads,
        due=due,
        events=youth.upcoming_outreach(current_user, today),
        open_profiles=youth.open_profile_count(current_user),
        figures=youth_figures(current_user.station, last_twelve_months(today)),
        members=org.people_with_role(current_user.station, Role.YOUTH_TEAM),
    )), lead=compartmented(leads), youth_profile=[profile.id for profile in due])


@bp.route("/liaison")
@roles_required(Role.LIAISON)
def liaison():
    """What the government feed carried (and how much since last time), the station's headline
    figures (counts only), the tokens."""
    station = current_user.station
    now = utcnow()
    then = _last_visit(now)
    today = now.astimezone(STATION_TZ).date()
    return _shown(readable_offline(render_page(
        "home/liaison.html", block="feed_rows", station=station, communities=org.communities(station),
        since=Since(then, entries_after(station, then)),
        feed=feed_summary(station), tokens=tokens_of(station), deliveries=recent_deliveries(station),
        mediation_rate=success_rate(station.id, _start_of_year(now), now + timedelta(seconds=1)),
        dv=dv_figures(station, (date(today.year, 1, 1), date(today.year, 12, 31))),
        youth=youth_figures(station, last_twelve_months(today)),
    )))


@bp.route("/admin")
@roles_required(Role.ADMIN)
def admin():
    """Roles waiting for approval first, then the station's set-up and its people."""
    station = current_user.station
    now = utcnow()
    then = _last_visit(now)
    pending_grants = org.pending_grants(station)
    return _shown(readable_offline(render_page(
        "home/admin.html", block="grant_rows", seen=then,
        since=since(then, [grant.requested_at for grant in pending_grants]),
        station=station,
        communities=org.communities(station),
        role_counts=org.role_counts(station),
        pending_grants=pending_grants,
    )))


@bp.route("/none")
@allow(signed_in)
def no_role():
    """Nothing to act on: who at the station can give the person a role."""
    return render_page("home/no_role.html", admins=org.people_with_role(current_user.station, Role.ADMIN))

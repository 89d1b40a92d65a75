"""Every page answers in two shapes from one URL: the whole page, or (htmx) just its fragment."""

import re
from datetime import date

import pytest
from sqlalchemy import select

from tests.conftest import Browser
from webapp.duty.models import DispatchCall
from webapp.dv.models import FollowUp, WarningLetter
from webapp.experts.models import Expert, ExpertInvitation
from webapp.exports.models import ExportFile
from webapp.extensions import db
from webapp.leads.models import Lead
from webapp.mediation.models import Agreement, MediationCase
from webapp.org import services as org
from webapp.org.models import Community, Role, User
from webapp.returnvisits.models import ReturnVisit
from webapp.visits.services import VisitInput, record_visit
from webapp.youth.models import OutreachEvent, YouthProfile

# (endpoint, who looks at it, how to build the path from the demo station)
PAGES = [
    ("auth.login", None, lambda ids: "/login"),
    ("auth.account", "officer", lambda ids: "/account"),
    ("home.volunteer", "volunteer", lambda ids: "/home/volunteer"),
    ("home.officer", "officer", lambda ids: "/home/officer"),
    ("home.supervisor", "supervisor", lambda ids: "/home/supervisor"),
    ("reports.index", "supervisor", lambda ids: "/reports/"),
    ("reports.index", "officer", lambda ids: "/reports/?period=last_month"),
    ("reports.index", "liaison", lambda ids: "/reports/?period=this_year"),
    ("home.mediation", "mediator", lambda ids: "/home/mediation"),
    ("home.dv_team", "dvteam", lambda ids: "/home/dv-team"),
    ("home.youth_team", "youth", lambda ids: "/home/youth-team"),
    ("home.liaison", "liaison", lambda ids: "/home/liaison"),
    ("home.admin", "admin", lambda ids: "/home/admin"),
    ("govfeed.tokens", "liaison", lambda ids: "/feed/tokens"),
    ("govfeed.webhook_settings", "liaison", lambda ids: "/feed/webhook"),
    ("govfeed.deliveries", "liaison", lambda ids: "/feed/deliveries"),
    ("home.no_role", "norole", lambda ids: "/home/none"),
    ("org.communities", "admin", lambda ids: "/admin/communities"),
    ("org.community", "admin", lambda ids: f"/admin/communities/{ids['community']}"),
    ("org.community", "admin", lambda ids: "/admin/communities/new"),
    ("org.grid", "admin", lambda ids: f"/admin/communities/{ids['community']}/grids/{ids['grid']}"),
    ("org.grid", "admin", lambda ids: f"/admin/communities/{ids['community']}/grids/new"),
    ("org.users", "admin", lambda ids: "/admin/users?q=vol"),
    ("org.user", "admin", lambda ids: f"/admin/users/{ids['user']}"),
    ("org.user", "admin", lambda ids: "/admin/users/new"),
    ("leads.report", "volunteer", lambda ids: "/leads/new"),
    ("leads.desk", "officer", lambda ids: "/leads/desk"),
    ("leads.detail", "officer", lambda ids: f"/leads/{ids['lead']}"),
    ("leads.detail", "volunteer", lambda ids: f"/leads/{ids['lead']}"),  # the reporter's progress view
    ("leads.index", "supervisor", lambda ids: "/leads/?queue=ungraded"),
    ("leads.mine", "volunteer", lambda ids: "/leads/mine"),
    ("leads.branch", "supervisor", lambda ids: "/leads/branch"),
    ("visits.index", "volunteer", lambda ids: "/visits/"),
    ("visits.new", "volunteer", lambda ids: "/visits/new"),
    ("visits.detail", "volunteer", lambda ids: f"/visits/{ids['visit']}"),
    ("notify.index", "officer", lambda ids: "/inbox/"),
    ("exports.leads", "supervisor", lambda ids: "/exports/leads"),
    ("exports.monthly", "supervisor", lambda ids: "/exports/monthly"),
    ("exports.status", "supervisor", lambda ids: f"/exports/{ids['export']}"),
    ("offline.outbox_page", "volunteer", lambda ids: "/outbox"),
    ("notify.devices", "officer", lambda ids: "/inbox/devices"),
    ("audit.index", "supervisor", lambda ids: "/audit/"),
    ("auth.two_factor", "supervisor", lambda ids: "/account/two-factor"),
    ("auth.change_password", "officer", lambda ids: "/account/password"),
    ("org.role_grants", "supervisor", lambda ids: "/admin/role-grants"),
    ("duty.roster", "supervisor", lambda ids: "/duty/"),
    ("duty.roster", "mediator", lambda ids: "/duty/?week=2026-11-23"),
    ("duty.call", "supervisor", lambda ids: f"/duty/calls/{ids['call']}"),
    ("experts.pool_page", "officer", lambda ids: "/experts/?category=neighbour&availability=available"),
    ("experts.public_list", None, lambda ids: "/experts/public"),
    ("experts.mine", "expert", lambda ids: "/experts/mine"),
    ("experts.invitation", "expert", lambda ids: f"/experts/invitations/{ids['invitation']}"),
    ("experts.new", "supervisor", lambda ids: "/experts/new"),
    ("experts.edit", "supervisor", lambda ids: f"/experts/{ids['expert']}/edit"),
    ("experts.for_lead", "officer", lambda ids: f"/experts/leads/{ids['lead']}"),
    ("youth.index", "youth", lambda ids: "/youth/?q=陈"),
    ("youth.new_profile", "youth", lambda ids: "/youth/profiles/new"),
    ("youth.profile", "youth", lambda ids: f"/youth/profiles/{ids['profile']}"),
    ("youth.profile", "supervisor", lambda ids: f"/youth/profiles/{ids['profile']}"),
    ("youth.edit_profile", "youth", lambda ids: f"/youth/profiles/{ids['profile']}/edit"),
    ("youth.new_session", "youth", lambda ids: f"/youth/profiles/{ids['profile']}/sessions/new"),
    ("youth.outreach", "officer", lambda ids: "/youth/outreach"),
    ("youth.new_outreach", "youth", lambda ids: "/youth/outreach/new"),
    ("youth.edit_outreach", "youth", lambda ids: f"/youth/outreach/{ids['outreach']}/edit"),
    ("youth.figures", "supervisor", lambda ids: "/youth/figures"),
    ("dv.index", "dvteam", lambda ids: "/dv/?q=王"),
    ("dv.request_new", "dvteam", lambda ids: f"/dv/leads/{ids['dv_lead']}/letters/new"),
    ("dv.letter", "dvteam", lambda ids: f"/dv/letters/{ids['letter']}"),
    ("dv.letter", "supervisor", lambda ids: f"/dv/letters/{ids['letter_requested']}"),
    ("dv.print_letter", "dvteam", lambda ids: f"/dv/letters/{ids['letter']}/print"),
    ("dv.delivery_new", "dvteam", lambda ids: f"/dv/letters/{ids['letter']}/deliveries/new"),
    ("dv.followup", "dvteam", lambda ids: f"/dv/followups/{ids['followup']}"),
    ("returnvisits.index", "officer", lambda ids: "/return-visits/"),
    ("returnvisits.detail", "officer", lambda ids: f"/return-visits/{ids['return_visit']}"),
    ("returnvisits.detail", "volunteer", lambda ids: f"/return-visits/{ids['volunteer_return_visit']}"),
    ("residents.file_dispute", None, lambda ids: "/online/"),
    ("residents.progress_page", None, lambda ids: "/online/progress"),
    ("mediation.index", "officer", lambda ids: "/mediation/"),
    ("mediation.open_case", "officer", lambda ids: f"/mediation/open/{ids['lead']}"),
    ("mediation.case", "officer", lambda ids: f"/mediation/{ids['case']}"),
    ("mediation.case", "mediator", lambda ids: f"/mediation/{ids['case']}"),
    ("mediation.new_session", "officer", lambda ids: f"/mediation/{ids['open_case']}/sessions/new"),
    ("mediation.agreement", "officer", lambda ids: f"/mediation/{ids['case']}/agreement"),
    ("mediation.agreement_print", "officer", lambda ids: f"/mediation/{ids['case']}/agreement/print"),
    ("mediation.guides", "mediator", lambda ids: "/mediation/guides"),
    ("mediation.mediators", "supervisor", lambda ids: "/mediation/mediators"),
    ("mediation.guide", "supervisor", lambda ids: "/mediation/guides/marriage_family"),
]
# Not pages: redirects, JSON, files.
NOT_PAGES = {"static", "health.healthz", "auth.index", "org.index", "leads.photo", "offline.service_worker",
             "offline.module", "offline.manifest", "sync.openapi", "sync.session",
             "dv.pdf", "dv.delivery_receipt",
             "mediation.agreement_pdf",  # a file
             "exports.download",  # a file
             "auth.login_code",  # needs a password first: both shapes in tests/auth/test_two_factor.py
             "govfeed.feed"}  # JSON for the liaison's system (bearer token)


def page_ids() -> dict[str, int]:
    """The ids PAGES' paths need, read from the demo station in the current app context, after
    adding what the demo lacks (a person without a role, a visit). Browser tests call it on the
    live server's own database."""
    org.create_user(org.the_station(), username="norole", display_name="No Role",
                    password="beatbook-demo", roles=set())
    db.session.commit()
    community = db.session.scalar(select(Community).where(Community.code == "GGGC"))
    volunteer = db.session.scalar(select(User).where(User.username == "volunteer"))
    assert Role.VOLUNTEER in volunteer.roles
    lead = db.session.scalar(select(Lead).where(Lead.reporter_id == volunteer.id,
                                                Lead.community_id == community.id))
    visit, _ = record_visit(volunteer, VisitInput(household="金桂园1栋", visited_on=date(2026, 11, 1),
                                                  findings="一切正常"))
    db.session.commit()
    profile = db.session.scalar(select(YouthProfile).where(YouthProfile.status == "open")
                                .order_by(YouthProfile.id))
    ids = {"community": community.id, "grid": community.grids[0].id, "user": volunteer.id,
           "lead": lead.id, "visit": visit.id,
           "call": db.session.scalar(select(DispatchCall.id).limit(1)),
           "invitation": db.session.scalar(select(ExpertInvitation.id).limit(1)),
           "expert": db.session.scalar(select(Expert.id).limit(1)),
           "profile": profile.id,
           "outreach": db.session.scalar(select(OutreachEvent.id).limit(1))}
    letters = db.session.scalars(select(WarningLetter).order_by(WarningLetter.id)).all()
    issued = next(x for x in letters if x.is_issued and not x.followups and x.supersedes_id)
    ids |= {"dv_lead": issued.lead_id, "letter": issued.id,
           "letter_requested": next(x.id for x in letters if x.status == "requested"),
           "followup": db.session.scalar(select(FollowUp.id).where(FollowUp.done_at.is_(None)))}
    officer = db.session.scalar(select(User).where(User.username == "officer"))
    ids |= {"return_visit": db.session.scalar(select(ReturnVisit.id).where(
               ReturnVisit.assignee_id == officer.id, ReturnVisit.state == "pending").limit(1)),
           "volunteer_return_visit": db.session.scalar(select(ReturnVisit.id).where(
               ReturnVisit.assignee_id == volunteer.id).limit(1))}
    signed = db.session.scalar(select(Agreement).where(Agreement.signed_at.is_not(None)))
    open_case = db.session.scalar(select(MediationCase).where(MediationCase.status == "open"))
    ids |= {"case": signed.case_id, "open_case": open_case.id,
            "export": db.session.scalar(select(ExportFile.id).limit(1))}
    return ids


@pytest.fixture(scope="module")
def demo(demo_station):
    """The demo station once for the module (these tests only read pages), plus what it lacks."""
    with demo_station.app_context():
        ids = page_ids()
        db.session.remove()
    return ids


@pytest.fixture
def client(demo_client):
    return demo_client


def test_every_page_is_listed_here(app):
    """A new page must be added to PAGES, so its two shapes get tested."""
    pages = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    assert pages - NOT_PAGES == {endpoint for endpoint, _, _ in PAGES}


def _without_tokens(html: str) -> str:
    return re.sub(r'(csrf_token"[^>]*?value=")[^"]*', r"\1", html)


@pytest.mark.parametrize(("endpoint", "username", "path_for"), PAGES,
                         ids=[f"{e}-{i}" for i, (e, _, _) in enumerate(PAGES)])
def test_full_page_and_fragment(client, demo, endpoint, username, path_for):
    person = Browser(client)
    if username:
        assert person.login(username, "beatbook-demo").status_code == 303
    path = path_for(demo)

    full = client.get(path)
    assert full.status_code == 200
    assert "HX-Request" in full.headers.get("Vary", "")
    full_html = full.get_data(as_text=True)
    assert full_html.lstrip().startswith("<!doctype html>")
    assert "<nav" in full_html or username is None
    # A Python None handed to a template attribute is written out as the word (aria-invalid="None").
    assert '="None"' not in full_html

    fragment = client.get(path, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "HX-Request" in fragment.headers.get("Vary", "")
    fragment_html = fragment.get_data(as_text=True)
    assert "<html" not in fragment_html and "<body" not in fragment_html
    assert fragment_html.strip(), "fragment is empty"
    # The fragment is a piece of the page, not something else. CSRF tokens carry the second they
    # were signed in, so two requests a second apart differ there: compare without them.
    assert _without_tokens(fragment_html.strip()[:200]) in _without_tokens(full_html)

    # Boosted navigation and history restores need the whole page.
    for header in ("HX-Boosted", "HX-History-Restore-Request"):
        whole = client.get(path, headers={"HX-Request": "true", header: "true"})
        assert whole.get_data(as_text=True).lstrip().startswith("<!doctype html>")

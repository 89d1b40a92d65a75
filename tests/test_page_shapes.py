"""Every page answers in two shapes from one URL: the whole page, or (htmx) just its fragment."""

from datetime import date

import pytest
from sqlalchemy import select

from tests.conftest import Browser
from webapp.extensions import db
from webapp.leads.models import Lead
from webapp.mediation.models import Agreement, MediationCase
from webapp.org import services as org
from webapp.org.models import Community, Role, User
from webapp.visits.services import VisitInput, record_visit

# (endpoint, who looks at it, how to build the path from the demo station)
PAGES = [
    ("auth.login", None, lambda ids: "/login"),
    ("auth.account", "officer", lambda ids: "/account"),
    ("home.volunteer", "volunteer", lambda ids: "/home/volunteer"),
    ("home.officer", "officer", lambda ids: "/home/officer"),
    ("home.supervisor", "supervisor", lambda ids: "/home/supervisor"),
    ("home.mediation", "mediator", lambda ids: "/home/mediation"),
    ("home.dv_team", "dvteam", lambda ids: "/home/dv-team"),
    ("home.youth_team", "youth", lambda ids: "/home/youth-team"),
    ("home.liaison", "liaison", lambda ids: "/home/liaison"),
    ("home.admin", "admin", lambda ids: "/home/admin"),
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
    ("offline.offline_page", "volunteer", lambda ids: "/offline"),
    ("offline.outbox_page", "volunteer", lambda ids: "/outbox"),
    ("notify.devices", "officer", lambda ids: "/inbox/devices"),
    ("audit.index", "supervisor", lambda ids: "/audit/"),
    ("auth.two_factor", "supervisor", lambda ids: "/account/two-factor"),
    ("auth.change_password", "officer", lambda ids: "/account/password"),
    ("org.role_grants", "supervisor", lambda ids: "/admin/role-grants"),
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
             "mediation.agreement_pdf",  # a file
             "auth.login_code"}  # needs a password first: both shapes in tests/auth/test_two_factor.py


@pytest.fixture(scope="module")
def demo(demo_station):
    """The demo station once for the module (these tests only read pages), plus what it lacks."""
    with demo_station.app_context():
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
        signed = db.session.scalar(select(Agreement).where(Agreement.signed_at.is_not(None)))
        open_case = db.session.scalar(select(MediationCase).where(MediationCase.status == "open"))
        ids = {"community": community.id, "grid": community.grids[0].id, "user": volunteer.id,
               "lead": lead.id, "visit": visit.id, "case": signed.case_id, "open_case": open_case.id}
        db.session.remove()
    return ids


@pytest.fixture
def client(demo_client):
    return demo_client


def test_every_page_is_listed_here(app):
    """A new page must be added to PAGES, so its two shapes get tested."""
    pages = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    assert pages - NOT_PAGES == {endpoint for endpoint, _, _ in PAGES}


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

    fragment = client.get(path, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "HX-Request" in fragment.headers.get("Vary", "")
    fragment_html = fragment.get_data(as_text=True)
    assert "<html" not in fragment_html and "<body" not in fragment_html
    assert fragment_html.strip(), "fragment is empty"
    # The fragment is a piece of the page, not something else.
    assert fragment_html.strip()[:200] in full_html

    # Boosted navigation and history restores need the whole page.
    for header in ("HX-Boosted", "HX-History-Restore-Request"):
        whole = client.get(path, headers={"HX-Request": "true", header: "true"})
        assert whole.get_data(as_text=True).lstrip().startswith("<!doctype html>")

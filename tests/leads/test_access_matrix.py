"""Who may list, view and edit which lead: every role against every kind of lead.

One cast for the whole module (scrypt makes each person cost ~60 ms): a station with communities
A and B (officers oa, ob), volunteers va (in A) and vb (in B), the DV task force, the youth team,
a supervisor, the roles that never see leads (mediator, lawyer, expert, liaison, admin), and a
supervisor of another station (sup_other).

The leads:
- plain_a: a plain lead in A, reported by va, routed to oa;
- plain_b: a plain lead in B, reported by vb, routed to ob;
- dv_a:    a domestic-violence lead in A, reported by vb, routed to oa;
- minor_b: a minor-involved lead in B, reported by vb, routed to ob.

The expected outcome of every (person, lead) pair is written out below, not computed: it is the
privacy rules of docs/domain.md as a table. Lists, search, "my work", "my reports", the inbox, photos,
lifecycle steps, the reporter's identity, masking, reveal and the audit log are all checked
against it. Tests that change a lead use a fresh lead of the same kind, so the shared four stay
as built.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.conftest import Browser, empty_all_tables
from tests.factories import make_community, make_station, make_user
from webapp.audit.models import AuditEntry
from webapp.extensions import db
from webapp.leads.codes import Source
from webapp.leads.deadlines import parse_deadlines
from webapp.leads.models import Lead, LeadEvent, LeadPhoto
from webapp.leads.services import LeadInput, PartyInput, register_lead
from webapp.org.models import Community, Role, User

CASE, STATUS, NONE = "case", "status", "none"  # what GET /leads/<id> shows
OK, NO = "ok", "no"  # whether a lifecycle step goes through

LEADS = ("plain_a", "plain_b", "dv_a", "minor_b")
NOBODIES = ("mediator", "lawyer", "expert", "liaison", "admin")

# --- the rules, written out ----------------------------------------------------------------------
#                  plain_a  plain_b  dv_a    minor_b
VIEW = {
    "oa":         (CASE,   NONE,    CASE,   NONE),    # own community; DV-in-A is assigned to oa
    "ob":         (NONE,   CASE,    NONE,   CASE),    # symmetric: minor-in-B is assigned to ob
    "va":         (STATUS, NONE,    NONE,   NONE),    # only what va reported, as a status page
    "vb":         (NONE,   STATUS,  STATUS, STATUS),  # reported three: status pages, never the case
    "dv":         (NONE,   NONE,    CASE,   NONE),    # the DV task force: DV leads only
    "youth":      (NONE,   NONE,    NONE,   CASE),    # the youth team: minor leads only
    "sup":        (CASE,   CASE,    CASE,   CASE),    # station leaders see everything
    "mediator":   (NONE,   NONE,    NONE,   NONE),
    "lawyer":     (NONE,   NONE,    NONE,   NONE),
    "expert":     (NONE,   NONE,    NONE,   NONE),
    "liaison":    (NONE,   NONE,    NONE,   NONE),
    "admin":      (NONE,   NONE,    NONE,   NONE),
    "sup_other":  (NONE,   NONE,    NONE,   NONE),    # a supervisor of another station
}
#                  plain_a  plain_b  dv_a  minor_b
EDIT = {
    "oa":         (OK,     NO,      OK,   NO),   # the assignee works the case
    "ob":         (NO,     OK,      NO,   OK),
    "va":         (NO,     NO,      NO,   NO),   # a reporter never edits
    "vb":         (NO,     NO,      NO,   NO),
    "dv":         (NO,     NO,      NO,   NO),   # the task force sees DV cases but is not the handler
    "youth":      (NO,     NO,      NO,   NO),
    "sup":        (OK,     OK,      OK,   OK),
    **{name: (NO, NO, NO, NO) for name in NOBODIES},
    "sup_other":  (NO,     NO,      NO,   NO),
}
# Who may open the lead list (/leads/) at all; everyone else gets 403 there.
LISTERS = {"oa", "ob", "dv", "youth", "sup", "sup_other"}
# "My work" (/home/officer) is the officers' page: what is assigned to them.
MY_WORK = {"oa": {"plain_a", "dv_a"}, "ob": {"plain_b", "minor_b"}}

ROLES = {
    "oa": (Role.OFFICER,), "ob": (Role.OFFICER,), "va": (Role.VOLUNTEER,), "vb": (Role.VOLUNTEER,),
    "dv": (Role.DV_TEAM,), "youth": (Role.YOUTH_TEAM,), "sup": (Role.SUPERVISOR,),
    "mediator": (Role.MEDIATOR,), "lawyer": (Role.LAWYER,), "expert": (Role.EXPERT,),
    "liaison": (Role.LIAISON,), "admin": (Role.ADMIN,), "sup_other": (Role.SUPERVISOR,),
}
PEOPLE = tuple(ROLES)

# What each lead is made of. The summary word is unique, to find the lead with the list's search.
SPECS = {
    "plain_a": {"reporter": "va", "community": "A", "category": "consumer", "word": "plainalpha",
                "flag_dv": False, "flag_minor": False,
                "party": ("applicant", "赵大明", "13900000011", "11010119800101001X"),
                "address": "和平里1栋2单元301"},
    "plain_b": {"reporter": "vb", "community": "B", "category": "consumer", "word": "plainbravo",
                "flag_dv": False, "flag_minor": False,
                "party": ("applicant", "钱二强", "13900000022", "110101198002020022"),
                "address": "和平里2栋3单元402"},
    "dv_a": {"reporter": "vb", "community": "A", "category": "marriage_family", "word": "dvcharlie",
             "flag_dv": True, "flag_minor": False,
             "party": ("victim", "孙小红", "13900000033", "110101198003030033"),
             "address": "和平里3栋4单元503"},
    "minor_b": {"reporter": "vb", "community": "B", "category": "marriage_family", "word": "minordelta",
                "flag_dv": False, "flag_minor": True,
                "party": ("minor", "李小明", "13900000044", "110101201004040044"),
                "address": "和平里4栋5单元604"},
}
DISPLAY = {name: f"Person acm_{name}" for name in PEOPLE}


def expected(table: dict, person: str, lead: str) -> str:
    return table[person][LEADS.index(lead)]


def matrix(table: dict, people=PEOPLE) -> list:
    return [pytest.param(person, lead, expected(table, person, lead), id=f"{person}-{lead}")
            for person in people for lead in LEADS]


# --- the cast ------------------------------------------------------------------------------------


@dataclass
class World:
    app: object
    users: dict[str, int] = field(default_factory=dict)
    communities: dict[str, int] = field(default_factory=dict)
    leads: dict[str, int] = field(default_factory=dict)
    _browsers: dict[str, Browser] = field(default_factory=dict)
    _tokens: dict[str, str] = field(default_factory=dict)

    def browser(self, person: str) -> Browser:
        """A phone signed in as `person` (English), kept for the module."""
        if person not in self._browsers:
            client = self.app.test_client()
            client.set_cookie("lang", "en")
            browser = Browser(client)
            assert browser.login(f"acm_{person}").status_code == 303
            self._browsers[person] = browser
        return self._browsers[person]

    def get(self, person: str, path: str, **kwargs):
        return self.browser(person).client.get(path, **kwargs)

    def post(self, person: str, path: str, data: dict | None = None, **kwargs):
        """POST with the session's CSRF token, read from a page once (it lives as long as the session)."""
        if person not in self._tokens:
            self._tokens[person] = self.browser(person).token("/account")
        data = {"csrf_token": self._tokens[person], **(data or {})}
        return self.browser(person).client.post(path, data=data, **kwargs)


def a_photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 60, 60)).save(out, "PNG")
    return out.getvalue()


def make_lead(world: World, kind: str, summary: str | None = None, with_party: bool = True) -> int:
    """Register a lead of `kind` through the intake service, as its reporter would (the shared
    leads with a party, an exact address and a photo; the edit probes bare)."""
    spec = SPECS[kind]
    reporter = db.session.get(User, world.users[spec["reporter"]])
    role, name, phone, id_number = spec["party"]
    data = LeadInput(
        source=Source.VOLUNTEER, category=spec["category"],
        summary=summary or f"Dispute {spec['word']} needs a look",
        flag_dv=spec["flag_dv"], flag_minor=spec["flag_minor"],
        community=db.session.get(Community, world.communities[spec["community"]]),
        address=spec["address"] if with_party else "",
        parties=[PartyInput(role=role, name=name, phone=phone, id_number=id_number)] if with_party else [],
        photos=[a_photo()] if with_party else [],
    )
    deadlines = parse_deadlines(world.app.config["BEATBOOK_DEADLINES"])
    result = register_lead(reporter, data, deadlines, world.app.config["BEATBOOK_MAX_PHOTO_MB"] << 20)
    db.session.commit()
    return result.lead.id


@pytest.fixture(scope="module")
def world(app):
    """The cast and the four leads, built once for the module; every table is emptied afterwards."""
    world = World(app)
    with app.app_context():
        empty_all_tables()
        station, elsewhere = make_station("ACM-PS"), make_station("ACM-PS2")
        users = {name: make_user(elsewhere if name == "sup_other" else station, *roles,
                                 username=f"acm_{name}") for name, roles in ROLES.items()}
        community_a = make_community(station, code="ACMA", officer=users["oa"])
        community_b = make_community(station, code="ACMB", officer=users["ob"])
        users["va"].community = community_a
        users["vb"].community = community_b
        db.session.commit()
        world.users = {name: user.id for name, user in users.items()}
        world.communities = {"A": community_a.id, "B": community_b.id}
        for kind in LEADS:
            world.leads[kind] = make_lead(world, kind)
        db.session.remove()
    yield world
    with app.app_context():
        empty_all_tables()


def test_the_cast_is_what_the_tables_assume(ctx):
    """Routing put each lead where the tables above say; otherwise every row below is moot."""
    assignees = {kind: db.session.get(Lead, lead_id).assignee_id for kind, lead_id in ctx.leads.items()}
    assert assignees == {"plain_a": ctx.users["oa"], "plain_b": ctx.users["ob"],
                         "dv_a": ctx.users["oa"], "minor_b": ctx.users["ob"]}
    dv, minor = db.session.get(Lead, ctx.leads["dv_a"]), db.session.get(Lead, ctx.leads["minor_b"])
    assert (dv.flag_dv, dv.flag_minor, minor.flag_dv, minor.flag_minor) == (True, False, False, True)


# --- helpers -------------------------------------------------------------------------------------


def link_to(lead_id: int) -> str:
    return f'href="/leads/{lead_id}"'


def audit_count(lead_id: int, action: str = "view", actor_id: int | None = None) -> int:
    db.session.expire_all()
    statement = select(func.count()).select_from(AuditEntry).where(
        AuditEntry.object_type == "lead", AuditEntry.object_id == lead_id, AuditEntry.action == action)
    if actor_id is not None:
        statement = statement.where(AuditEntry.actor_id == actor_id)
    return db.session.scalar(statement)


def lead_state(lead_id: int) -> tuple:
    db.session.expire_all()
    lead = db.session.get(Lead, lead_id)
    events = db.session.scalar(
        select(func.count()).select_from(LeadEvent).where(LeadEvent.lead_id == lead_id))
    return (lead.version, lead.risk, lead.risk_confirmed, lead.status, lead.assignee_id, events)


def party_traces(kind: str) -> list[str]:
    """Every form in which the lead's party could show: raw and masked name, phone, ID number,
    then the raw and masked exact address."""
    _role, name, phone, id_number = SPECS[kind]["party"]
    address = SPECS[kind]["address"]
    return [name, phone, id_number, name[0] + "*" * (len(name) - 1), phone[:3] + "****" + phone[-4:],
            id_number[:4] + "*" * 10 + id_number[-4:], address, re.sub(r"\d", "*", address)]


# --- view ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("person", "kind", "outcome"), matrix(VIEW))
def test_view(world, person, kind, outcome):
    lead_id = world.leads[kind]
    response = world.get(person, f"/leads/{lead_id}")
    html = response.get_data(as_text=True)
    word = SPECS[kind]["word"]
    if outcome == NONE:
        # 404, not 403: a forbidden lead must not even be known to exist.
        assert response.status_code == 404
        assert word not in html
        for trace in party_traces(kind):
            assert trace not in html
        return
    assert response.status_code == 200
    assert word in html
    if outcome == CASE:
        assert 'id="parties"' in html and 'class="timeline"' in html and 'id="actions"' in html
        assert party_traces(kind)[3] in html  # the masked name: the case shows its parties
        return
    # A mere reporter follows the report: no parties, no timeline, no actions, no case facts.
    assert 'id="progress"' in html
    for marker in ('id="parties"', 'class="timeline"', 'id="actions"', 'id="duplicates"', "/reveal"):
        assert marker not in html
    for trace in party_traces(kind):
        assert trace not in html
    assert DISPLAY["oa"] not in html and DISPLAY["ob"] not in html  # not even who handles it


@pytest.mark.parametrize("person", PEOPLE)
def test_view_of_a_lead_that_does_not_exist_is_the_same_404(world, person):
    response = world.get(person, "/leads/999999")
    assert response.status_code == 404


# --- list, search, my work ----------------------------------------------------------------------


@pytest.mark.parametrize("person", PEOPLE)
def test_list(world, person):
    response = world.get(person, "/leads/")
    if person not in LISTERS:
        assert response.status_code == 403
        for kind in LEADS:  # nor does a search get round it
            searched = world.get(person, f"/leads/?q={SPECS[kind]['word']}")
            assert searched.status_code == 403
            assert SPECS[kind]["word"] not in searched.get_data(as_text=True).split("</form>")[-1]
        return
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    listed = {kind for kind in LEADS if link_to(world.leads[kind]) in html}
    assert listed == {kind for kind in LEADS if expected(VIEW, person, kind) == CASE}


@pytest.mark.parametrize(("person", "kind", "outcome"), matrix(VIEW, sorted(LISTERS)))
def test_search(world, person, kind, outcome):
    word = SPECS[kind]["word"]
    response = world.get(person, f"/leads/?q={word}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    found = {other for other in LEADS if link_to(world.leads[other]) in html}
    assert found == ({kind} if outcome == CASE else set())


@pytest.mark.parametrize(("person", "kind", "outcome"), matrix(VIEW, sorted(LISTERS)))
def test_search_by_a_party_phone(world, person, kind, outcome):
    """The full phone finds a lead only for those who may open it: search never leaks a match.
    (An 11-digit query also used to be compared with lead.id and overflowed PostgreSQL's integer.)"""
    phone = SPECS[kind]["party"][2]
    response = world.get(person, f"/leads/?q={phone}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert (link_to(world.leads[kind]) in html) == (outcome == CASE)


@pytest.mark.parametrize("person", PEOPLE)
def test_my_work(world, person):
    response = world.get(person, "/home/officer")
    if person not in MY_WORK:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert {kind for kind in LEADS if link_to(world.leads[kind]) in html} == MY_WORK[person]


@pytest.mark.parametrize("person", PEOPLE)
def test_my_reports(world, person):
    """/leads/mine lists what the person reported, whatever they may see as a case."""
    response = world.get(person, "/leads/mine")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    mine = {kind for kind in LEADS if SPECS[kind]["reporter"] == person}
    assert {kind for kind in LEADS if link_to(world.leads[kind]) in html} == mine


# "New assignment" / "a lead for your team" notices: who is told a lead exists.
INBOX = {"oa": {"plain_a", "dv_a"}, "ob": {"plain_b", "minor_b"}, "dv": {"dv_a"}, "youth": {"minor_b"}}


@pytest.mark.parametrize("person", PEOPLE)
def test_inbox(world, person):
    """(Runs before the edit probes below add notices of their own.)"""
    response = world.get(person, "/inbox/")
    assert response.status_code == 200
    mentioned = {int(n) for n in re.findall(r"<small>#(\d+)</small>", response.get_data(as_text=True))}
    assert {kind for kind in LEADS if world.leads[kind] in mentioned} == INBOX.get(person, set())


@pytest.mark.parametrize(("person", "kind", "outcome"), matrix(VIEW))
def test_photo(ctx, person, kind, outcome):
    """A lead's photo: for those who see the case, and for the reporter who took it; audited for DV
    and minor leads."""
    lead_id = ctx.leads[kind]
    photo_id = db.session.scalar(select(LeadPhoto.id).where(LeadPhoto.lead_id == lead_id))
    before = audit_count(lead_id, action="view_photo")
    mine_before = audit_count(lead_id, action="view_photo", actor_id=ctx.users[person])
    response = ctx.get(person, f"/leads/{lead_id}/photos/{photo_id}")
    if outcome == NONE:
        assert response.status_code == 404
        assert response.mimetype != "image/jpeg"
        assert audit_count(lead_id, action="view_photo") == before
        return
    assert response.status_code == 200
    assert response.mimetype == "image/jpeg" and response.data[:2] == b"\xff\xd8"
    assert "no-store" in response.headers["Cache-Control"]
    audited = 1 if SPECS[kind]["flag_dv"] or SPECS[kind]["flag_minor"] else 0
    assert audit_count(lead_id, action="view_photo") == before + audited
    assert audit_count(lead_id, action="view_photo", actor_id=ctx.users[person]) == mine_before + audited


def test_a_photo_is_only_served_under_its_own_lead(ctx):
    """ob may see plain_b, but not dv_a's photo through plain_b's address."""
    dv_photo = db.session.scalar(select(LeadPhoto.id).where(LeadPhoto.lead_id == ctx.leads["dv_a"]))
    response = ctx.get("ob", f"/leads/{ctx.leads['plain_b']}/photos/{dv_photo}")
    assert response.status_code == 404 and response.mimetype != "image/jpeg"


# --- edit ---------------------------------------------------------------------------------------


# What the lead page's "Grade risk" form sends (templates/leads/detail.html, block actions).
GRADE_FORM = {"risk": "yellow", "note": ""}


def grade(world: World, person: str, lead_id: int, version: int):
    data = {"version": str(version), **GRADE_FORM}
    return world.post(person, f"/leads/{lead_id}/steps/grade", data)


def check_edit(response, lead_id: int, before: tuple, person: str, kind: str, outcome: str) -> None:
    after = lead_state(lead_id)
    if outcome == OK:
        assert response.status_code == 303
        assert response.headers["Location"] == f"/leads/{lead_id}"
        assert after[:3] == (before[0] + 1, "yellow", True)
        assert after[5] == before[5] + 1  # the step is on the timeline
        return
    assert response.status_code in {403, 404}
    if expected(VIEW, person, kind) == NONE:
        assert response.status_code == 404  # not even its existence
    assert after == before


@pytest.mark.parametrize(("person", "kind", "outcome"), matrix(EDIT))
def test_edit(ctx, person, kind, outcome):
    """Grade a fresh lead of this kind (the shared ones stay as they are) with the page's own form."""
    lead_id = make_lead(ctx, kind, summary=f"Edit probe {kind}", with_party=False)
    before = lead_state(lead_id)
    assert before[1] != "yellow"  # the step below really changes something
    check_edit(grade(ctx, person, lead_id, before[0]), lead_id, before, person, kind, outcome)


@pytest.mark.parametrize("person", ["oa", "sup"])
def test_edit_with_a_stale_version_is_refused(ctx, person):
    lead_id = make_lead(ctx, "plain_a", summary="Stale probe", with_party=False)
    before = lead_state(lead_id)
    response = grade(ctx, person, lead_id, before[0] - 1)
    assert response.status_code == 409
    assert "Someone else changed this lead" in response.get_data(as_text=True)
    assert lead_state(lead_id) == before


# --- reporter identity ---------------------------------------------------------------------------


REPORTER_VIEWS = [(person, kind) for person in PEOPLE for kind in LEADS
                  if expected(VIEW, person, kind) == CASE]
@pytest.mark.parametrize(("person", "kind"), REPORTER_VIEWS, ids=[f"{p}-{k}" for p, k in REPORTER_VIEWS])
def test_reporter_identity_only_for_supervisors(world, person, kind):
    """Not in the facts, not in the timeline (whose first event the reporter made): nowhere."""
    reporter = SPECS[kind]["reporter"]
    html = world.get(person, f"/leads/{world.leads[kind]}").get_data(as_text=True)
    if person == "sup":
        assert DISPLAY[reporter] in html
        return
    assert DISPLAY[reporter] not in html, f"{person} sees who reported {kind}"


# --- the audit log ----------------------------------------------------------------------------


AUDITED_VIEWS = [("oa", "dv_a"), ("dv", "dv_a"), ("sup", "dv_a"),
                 ("ob", "minor_b"), ("youth", "minor_b"), ("sup", "minor_b")]


@pytest.mark.parametrize(("person", "kind"), AUDITED_VIEWS, ids=[f"{p}-{k}" for p, k in AUDITED_VIEWS])
def test_every_case_view_of_a_dv_or_minor_lead_is_audited(ctx, person, kind):
    lead_id, actor_id = ctx.leads[kind], ctx.users[person]
    before = audit_count(lead_id, actor_id=actor_id)
    for _ in range(3):
        assert ctx.get(person, f"/leads/{lead_id}").status_code == 200
    assert audit_count(lead_id, actor_id=actor_id) == before + 3


@pytest.mark.parametrize(("person", "kind"), [("oa", "plain_a"), ("ob", "plain_b"), ("sup", "plain_a"),
                                              ("va", "plain_a")])
def test_plain_lead_views_are_not_audited(ctx, person, kind):
    lead_id = ctx.leads[kind]
    before = audit_count(lead_id)
    assert ctx.get(person, f"/leads/{lead_id}").status_code == 200
    assert audit_count(lead_id) == before


@pytest.mark.parametrize(("person", "kind"), [("ob", "dv_a"), ("youth", "dv_a"), ("va", "dv_a"),
                                              ("mediator", "dv_a"), ("oa", "minor_b"), ("dv", "minor_b")])
def test_a_refused_view_writes_no_audit_entry(ctx, person, kind):
    lead_id = ctx.leads[kind]
    before = audit_count(lead_id)
    assert ctx.get(person, f"/leads/{lead_id}").status_code == 404
    assert audit_count(lead_id) == before


# --- masked by default; reveal is for the handler and the task force, and audited ---------------------


@pytest.mark.parametrize(("person", "kind"), REPORTER_VIEWS, ids=[f"{p}-{k}" for p, k in REPORTER_VIEWS])
def test_case_page_masks_phone_id_number_and_name(world, person, kind):
    _role, name, phone, id_number = SPECS[kind]["party"]
    html = world.get(person, f"/leads/{world.leads[kind]}").get_data(as_text=True)
    digits = re.sub(r"\D", "", html)  # the raw number must not be there even split by markup
    assert phone not in html and phone not in digits
    assert id_number not in html and id_number[:17] not in digits
    assert name not in html
    assert SPECS[kind]["address"] not in html  # the exact address (door numbers) is masked too
    assert party_traces(kind)[4] in html and party_traces(kind)[5] in html and party_traces(kind)[7] in html


REVEALS = [
    ("oa", "dv_a", 200),       # the assignee
    ("sup", "dv_a", 200),      # a station leader
    ("dv", "dv_a", 200),       # the DV task force
    ("ob", "minor_b", 200),
    ("youth", "minor_b", 200),
    ("va", "plain_a", 403),    # the reporter may follow the report, never reveal its parties
    ("vb", "dv_a", 403),
    ("va", "dv_a", 404),       # not theirs at all
    ("ob", "dv_a", 404),
    ("youth", "dv_a", 404),
    ("dv", "minor_b", 404),
    ("mediator", "plain_a", 404),
    ("admin", "dv_a", 404),
    ("sup_other", "dv_a", 404),
]


@pytest.mark.parametrize(("person", "kind", "status"), REVEALS, ids=[f"{p}-{k}" for p, k, _ in REVEALS])
def test_reveal(ctx, person, kind, status):
    lead_id = ctx.leads[kind]
    _role, name, phone, id_number = SPECS[kind]["party"]
    before = audit_count(lead_id, action="reveal_identities")
    mine_before = audit_count(lead_id, action="reveal_identities", actor_id=ctx.users[person])
    response = ctx.post(person, f"/leads/{lead_id}/reveal")
    html = response.get_data(as_text=True)
    assert response.status_code == status
    if status == 200:
        assert phone in html and id_number in html and name in html and SPECS[kind]["address"] in html
        assert audit_count(lead_id, action="reveal_identities") == before + 1
        assert audit_count(lead_id, action="reveal_identities", actor_id=ctx.users[person]) == mine_before + 1
    else:
        assert phone not in html and id_number not in html and name not in html
        assert SPECS[kind]["address"] not in html
        assert audit_count(lead_id, action="reveal_identities") == before


def test_reveal_as_an_htmx_swap_returns_only_the_parties(ctx):
    lead_id = ctx.leads["dv_a"]
    response = ctx.post("oa", f"/leads/{lead_id}/reveal", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<section class="card" id="parties">') and "<html" not in html
    assert SPECS["dv_a"]["party"][2] in html
    assert "HX-Request" in response.headers.get("Vary", "")


def test_reveal_needs_csrf(ctx):
    lead_id = ctx.leads["dv_a"]
    before = audit_count(lead_id, action="reveal_identities")
    response = ctx.browser("oa").client.post(f"/leads/{lead_id}/reveal", data={})
    assert response.status_code == 400
    assert SPECS["dv_a"]["party"][2] not in response.get_data(as_text=True)
    assert audit_count(lead_id, action="reveal_identities") == before


def test_revealing_does_not_unmask_the_next_view(ctx):
    lead_id = ctx.leads["dv_a"]
    assert ctx.post("oa", f"/leads/{lead_id}/reveal").status_code == 200
    html = ctx.get("oa", f"/leads/{lead_id}").get_data(as_text=True)
    assert SPECS["dv_a"]["party"][2] not in html and SPECS["dv_a"]["party"][3] not in html

"""The access matrix generated from `webapp/access`: every role (a supervisor of another station too,
and nobody signed in) × record kind × action, through the real routes — pages, htmx fragments,
lists and search, step POSTs, reveal, photos and /sync answers.

Nothing here is written out by hand: the routes come from the URL map, each route's rule from its
`@allow(rule)` (or the declaration in `DECLARED_ELSEWHERE`), and the expected answer from the
access package's own rules and loaders (`visible_lead`, `find_case`, `may_take_step`,
`can_reveal_identities`, `find_own_visit`, …) evaluated for the person and the record. The real
route's answer must agree: allowed → 2xx/3xx, denied → 403/404 (sign-in for nobody), and a record's
marker word never in the body of an answer about something the person may not see.

A new route without arguments joins by itself (GET, htmx GET, search, empty POST, and the leak
check). A route with arguments must say here how its arguments are made and which rule decides
(`RECORD_ROUTES`); one that does not fails `test_every_route_is_in_the_matrix`, listing it.
tests/leads/test_access_matrix.py stays: it writes the privacy rules out as a table (what the
rules should be); this file checks every route applies them (that the routes obey the rules).
"""

from __future__ import annotations

import io
import json
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import count

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.conftest import Browser, empty_all_tables
from tests.factories import make_community, make_grid, make_station, make_user
from webapp import access
from webapp.access import DECLARED_ELSEWHERE
from webapp.access.dv import can_act_on
from webapp.auth import totp
from webapp.duty.dispatch import open_call
from webapp.duty.models import DutyShift
from webapp.duty.services import add_shift
from webapp.dv.alerts import Kind, letter_requested, tell_about_followup
from webapp.dv.models import Delivery, FollowUp
from webapp.dv.services import (
    DeliveryInput,
    LetterInput,
    decide_letter,
    issue_letter,
    record_delivery,
    record_followup,
    request_letter,
)
from webapp.experts.services import ExpertInput, invite, save_expert
from webapp.exports.models import ExportFile
from webapp.extensions import db
from webapp.govfeed.models import FeedToken, FeedWebhook, WebhookDelivery
from webapp.govfeed.services import issue_token
from webapp.leads.codes import Source, Status
from webapp.leads.deadlines import parse_deadlines
from webapp.leads.lifecycle import STEPS
from webapp.leads.models import Lead, LeadPhoto
from webapp.leads.services import LeadInput, PartyInput, register_lead
from webapp.mediation.models import Agreement, CaseMember, MediationCase
from webapp.notify.models import Notification, PushSubscription
from webapp.notify.push import endpoint_hash, payload_for
from webapp.org.models import Community, GrantStatus, Role, RoleGrant, User
from webapp.returnvisits.models import ReturnVisit
from webapp.sync.kinds import registered
from webapp.timeutil import utcnow
from webapp.visits.models import Visit
from webapp.visits.services import VisitInput, record_visit
from webapp.youth.models import OutreachEvent, YouthProfile, YouthSession
from webapp.youth.services import (
    OutreachInput,
    ProfileInput,
    SessionInput,
    open_profile,
    record_session,
    save_outreach,
)

SIGNED_OUT = "signed_out"
ELSEWHERE = "supervisor_elsewhere"  # a supervisor of another station: sees everything there, nothing here
PERSONAS = (*(role.value for role in Role), ELSEWHERE, SIGNED_OUT)  # one person per role, and nobody

# The records, each with a word found nowhere else (`marker`). Leads: ordinary ones in community A
# (the officer's) and B (nobody's), a DV lead in A, a minor's lead in B; each with a closed twin so
# every lifecycle step has a lead in a status the step does not start from (probes change nothing).
LEAD_SPECS = {
    "lead_plain_a": {"community": "A", "reporter": "volunteer", "dv": False, "minor": False,
                     "party": ("applicant", "周一鸣", "13911110001", "110101198001010011")},
    "lead_plain_b": {"community": "B", "reporter": "reporter", "dv": False, "minor": False,
                     "party": ("applicant", "吴二亮", "13911110002", "110101198001010022")},
    "lead_dv_a": {"community": "A", "reporter": "reporter", "dv": True, "minor": False,
                  "party": ("victim", "郑三花", "13911110003", "110101198001010033")},
    "lead_minor_b": {"community": "B", "reporter": "reporter", "dv": False, "minor": True,
                     "party": ("minor", "王小四", "13911110004", "110101201001010044")},
}
LEAD_KINDS = tuple(LEAD_SPECS)
CLOSED = {kind: f"{kind}_closed" for kind in LEAD_KINDS}
# Each lead kind has a mediation case (with a draft agreement): its mediator is on the plain and DV
# cases of community A, its lawyer on the plain case of B — the DV case must stay in its compartment.
CASE_OF = {kind: "case_" + kind.removeprefix("lead_") for kind in LEAD_KINDS}
CASE_MEMBERS = {"lead_plain_a": (Role.MEDIATOR, "mediator"), "lead_dv_a": (Role.MEDIATOR, "mediator"),
                "lead_plain_b": (Role.LAWYER, "lawyer")}
# The youth team's sealed records (a profile and its session) and an outreach event (no personal data).
YOUTH_KINDS = ("youth_profile", "youth_session", "outreach")
# The DV task force's records live in lead_dv_a's compartment: an issued letter (with a delivery and
# its receipt photo) and one of its follow-up visits, recorded.
DV_KINDS = ("letter_dv_a", "followup_dv_a")
# Return visits (recorded already, so a probe changes nothing): of the ordinary and the DV lead in
# A (the officer's), and one the officer gave to the volunteer. (kind → lead kind, attempt, assignee)
RETURN_VISITS = {"return_visit_plain": ("lead_plain_a_closed", 1, "officer"),
                 "return_visit_dv": ("lead_dv_a_closed", 1, "officer"),
                 "return_visit_given": ("lead_plain_a_closed", 2, "volunteer")}
RECORD_KINDS = (*LEAD_KINDS, *CLOSED.values(), "visit", "notification", "device", "export", *YOUTH_KINDS,
                *DV_KINDS, *RETURN_VISITS, *CASE_OF.values())


def marker(kind: str) -> str:
    return "gmx" + kind.replace("_", "") + "q"  # the end mark: no word is a prefix of another


# --- the cast, built once per module ----------------------------------------------------------------


@dataclass
class World:
    app: object
    users: dict[str, int] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)  # record kind → id
    photos: dict[str, int] = field(default_factory=dict)  # lead kind → its photo
    community: int = 0
    grid: int = 0
    cases: Counter = field(default_factory=Counter)  # action → (persona, record) pairs checked
    requests: int = 0
    hidden: dict[str, list[str]] = field(default_factory=dict)
    _browsers: dict[str, Browser] = field(default_factory=dict)
    _tokens: dict[str, str] = field(default_factory=dict)

    def browser(self, persona: str) -> Browser:
        if persona not in self._browsers:
            browser = Browser(self.app.test_client())
            if persona != SIGNED_OUT:
                assert browser.login(f"gm_{persona}").status_code == 303
            self._browsers[persona] = browser
        return self._browsers[persona]

    def token(self, persona: str) -> str:
        if persona not in self._tokens:
            page = "/login" if persona == SIGNED_OUT else "/account"
            self._tokens[persona] = self.browser(persona).token(page)
        return self._tokens[persona]

    def get(self, persona: str, path: str, htmx: bool = False):
        headers = {"HX-Request": "true"} if htmx else {}
        self.requests += 1
        return self.browser(persona).client.get(path, headers=headers)

    def post(self, persona: str, path: str, data: dict | None = None, htmx: bool = False):
        headers = {"HX-Request": "true"} if htmx else {}
        self.requests += 1
        return self.browser(persona).client.post(
            path, data={"csrf_token": self.token(persona), **(data or {})}, headers=headers)

    def user(self, persona: str) -> User | None:
        return None if persona == SIGNED_OUT else db.session.get(User, self.users[persona])


def _photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (20, 120, 60)).save(out, "PNG")
    return out.getvalue()


def _make_lead(world: World, people: dict[str, User], communities: dict[str, Community], kind: str,
               word: str) -> Lead:
    spec = LEAD_SPECS[kind]
    role, name, phone, id_number = spec["party"]
    category = "marriage_family" if spec["dv"] or spec["minor"] else "neighbour"
    data = LeadInput(source=Source.VOLUNTEER, category=category,
                     summary=f"Dispute {word} needs a look", flag_dv=spec["dv"], flag_minor=spec["minor"],
                     community=communities[spec["community"]], address="和平里9栋1单元101",
                     parties=[PartyInput(role=role, name=name, phone=phone, id_number=id_number)],
                     photos=[_photo()])
    config = world.app.config
    result = register_lead(people[spec["reporter"]], data, parse_deadlines(config["BEATBOOK_DEADLINES"]),
                           config["BEATBOOK_MAX_PHOTO_MB"] << 20)
    return result.lead


def _make_dv_records(world: World, people: dict[str, User]) -> None:
    lead = db.session.get(Lead, world.ids["lead_dv_a"])
    team, chief = people[Role.DV_TEAM.value], people[Role.SUPERVISOR.value]
    letter = request_letter(team, lead, LetterInput(
        abuser_name="郑大", relationship="spouse", victim_name="郑三花", evidence=["admission"],
        facts=f"Facts {marker('letter_dv_a')} of the case"))
    decide_letter(chief, letter, approve=True)
    issue_letter(team, letter, [7, 30, 90])
    delivery, _created = record_delivery(team, letter, DeliveryInput(
        recipient="abuser", method="in_person", outcome="signed", photo=_photo()))
    followup = letter.followups[0]
    record_followup(team, followup, recurred=False, note=f"Visit {marker('followup_dv_a')} went well")
    # Their notices, as the pages and the sweep send them: the inbox and push probes read them.
    letter_requested(letter)
    tell_about_followup([team], Kind.FOLLOWUP_DUE, letter.followups[1], "due")
    world.ids.update(letter_dv_a=letter.id, followup_dv_a=followup.id, delivery=delivery.id)


@pytest.fixture(scope="module")
def world(app):
    world = World(app)
    with app.app_context():
        empty_all_tables()
        station = make_station("GM-PS")
        people = {role.value: make_user(station, role, username=f"gm_{role.value}") for role in Role}
        people["reporter"] = make_user(station, Role.VOLUNTEER, username="gm_reporter")
        elsewhere = make_station("GM-PS2")
        people[ELSEWHERE] = make_user(elsewhere, Role.SUPERVISOR, username=f"gm_{ELSEWHERE}")
        # A role request of the other station, decided already: deciding it again changes nothing.
        grant = RoleGrant(user=make_user(elsewhere, Role.VOLUNTEER, username="gm_elsewhere_volunteer"),
                          role=Role.DV_TEAM.value, status=GrantStatus.REFUSED.value)
        db.session.add(grant)
        communities = {"A": make_community(station, code="GMA", officer=people[Role.OFFICER.value]),
                       "B": make_community(station, code="GMB")}
        people[Role.VOLUNTEER.value].community = communities["A"]
        people["reporter"].community = communities["B"]
        grid = make_grid(communities["A"], code="GMA1")
        db.session.flush()
        for kind in LEAD_KINDS:
            lead = _make_lead(world, people, communities, kind, marker(kind))
            twin = _make_lead(world, people, communities, kind, marker(CLOSED[kind]))
            twin.status = Status.CLOSED.value  # test setup: a lead at the end of its life
            db.session.flush()
            world.ids[kind], world.ids[CLOSED[kind]] = lead.id, twin.id
            for one in (lead, twin):
                world.photos[next(k for k, v in world.ids.items() if v == one.id)] = db.session.scalar(
                    select(LeadPhoto.id).where(LeadPhoto.lead_id == one.id))
        for kind, case_kind in CASE_OF.items():
            case = MediationCase(station_id=station.id, lead_id=world.ids[kind], origin="on_request",
                                 opened_by_id=people[Role.SUPERVISOR.value].id,
                                 consent_note=f"Consent {marker(case_kind)} given")
            if kind in CASE_MEMBERS:
                role, persona = CASE_MEMBERS[kind]
                case.members.append(CaseMember(user_id=people[persona].id, role=persona))
            case.agreement = Agreement(parties=f"Parties {marker(case_kind)}", facts="f", issues="i",
                                       responsibilities="r", terms="t", performance="p",
                                       perform_by=date(2026, 12, 31))
            db.session.add(case)
            db.session.flush()
            world.ids[case_kind] = case.id
        _make_dv_records(world, people)
        visit, _created = record_visit(people[Role.VOLUNTEER.value], VisitInput(
            household="和平里9栋", visited_on=date(2026, 11, 1),
            findings=f"Findings {marker('visit')} at the door"))
        youth = people[Role.YOUTH_TEAM.value]
        profile = open_profile(youth, ProfileInput(
            name="赵小五", birth_year=date.today().year - 12,
            situation=f"Situation {marker('youth_profile')}", school=f"School {marker('youth_profile')}",
            guardian_phone="13911110005", counsellor_id=youth.id, next_session_on=date.today()))
        session, _created = record_session(youth, profile, SessionInput(
            kind="counselling", counsellor_id=youth.id, held_on=date(2026, 11, 2), duration_minutes=45,
            notes=f"Notes {marker('youth_session')}", next_session_on=date.today()))
        event = save_outreach(youth, None, OutreachInput(
            topic="law", held_on=date(2026, 11, 3), place=f"School hall {marker('outreach')}", audience=120))
        officer = people[Role.OFFICER.value]
        note = Notification(user_id=officer.id, kind="assigned", subject_kind="lead",
                            subject_id=world.ids["lead_plain_a"], link=f"/leads/{world.ids['lead_plain_a']}",
                            text=f"Notice {marker('notification')}", dedupe_key="gm-matrix")
        db.session.add(note)
        # A prepared export file: its maker's (the officer's) alone.
        export = ExportFile(owner_id=officer.id, fmt="csv", status="done", rows_total=1, rows_done=1,
                            expires_at=utcnow() + timedelta(hours=24),
                            data=f"Export {marker('export')}".encode())
        db.session.add(export)
        db.session.flush()
        world.ids["export"] = export.id
        _duty_and_experts(world, people, officer)
        for kind, (lead_kind, attempt, assignee) in RETURN_VISITS.items():
            lead = db.session.get(Lead, world.ids[lead_kind])
            again = ReturnVisit(station_id=station.id, lead=lead, attempt=attempt,
                                assignee=people[assignee], due_at=lead.received_at, state="recorded",
                                result="holding", note=f"Note {marker(kind)} at the door")
            db.session.add(again)
            db.session.flush()
            world.ids[kind] = again.id
        db.session.commit()
        world.users = {name: person.id for name, person in people.items()}
        world.ids.update(visit=visit.id, notification=note.id, grant_elsewhere=grant.id,
                         youth_profile=profile.id, youth_session=session.id, outreach=event.id)
        world.community, world.grid = communities["A"].id, grid.id
        db.session.remove()
    yield world
    with app.app_context():
        empty_all_tables()


def _duty_and_experts(world: World, people: dict[str, User], officer: User) -> None:
    """A dispatch of the plain lead offered to the mediator (on duty now), and the expert's
    profile with an invitation to the same lead."""
    now = utcnow()
    lead = db.session.get(Lead, world.ids["lead_plain_a"])
    station = people[Role.MEDIATOR.value].station
    add_shift(station, people[Role.MEDIATOR.value], now - timedelta(hours=1), now + timedelta(hours=8), None)
    world.ids["call"] = open_call(lead, now).id
    expert = save_expert(station, None, ExpertInput(name="Expert GM", fields=["neighbour"],
                                                         user=people[Role.EXPERT.value]))
    world.ids["expert"] = expert.id
    world.ids["invitation"] = invite(lead, expert, "https://meeting.example.cn/gm", now, officer).id
    world.ids["feed_token"] = issue_token(station, "matrix", officer)[0].id
    hook = FeedWebhook(station_id=station.id, url="https://93.184.216.34/feed", secret="bbw_matrix")
    db.session.add(hook)
    db.session.flush()
    delivery = WebhookDelivery(webhook_id=hook.id, first_seq=1, last_seq=1, entry_count=1, status="delivered")
    db.session.add(delivery)
    db.session.flush()
    world.ids["webhook_delivery"] = delivery.id


def fresh_shift(world: World) -> int:
    """A far-off shift of the mediator, made for one probe (a supervisor's own probe removes it)."""
    start = datetime(2030, 1, 1, tzinfo=UTC) + timedelta(days=next(_shift_days))
    shift = DutyShift(station_id=db.session.get(User, world.users[Role.MEDIATOR.value]).station_id,
                      user_id=world.users[Role.MEDIATOR.value], starts_at=start,
                      ends_at=start + timedelta(hours=8))
    db.session.add(shift)
    db.session.commit()
    return shift.id


_shift_days = count()


def fresh_device(world: World) -> int:
    """A device of the officer, made for one probe (the owner's own probe deletes it)."""
    endpoint = f"https://fcm.googleapis.com/fcm/send/{uuid.uuid4()}"
    device = PushSubscription(user_id=world.users[Role.OFFICER.value], endpoint=endpoint,
                              endpoint_hash=endpoint_hash(endpoint), p256dh="x", auth="y",
                              device=f"Phone {marker('device')}")
    db.session.add(device)
    db.session.commit()
    return device.id


# --- what the access package says ---------------------------------------------------------------------

ALLOW, LOGIN, PUBLIC = "allow", "login", "public"


# Sign-in's routes declare their rule in words (DECLARED_ELSEWHERE); where the words say more than
# "signed in" or "public", the rule they name.
RULES_IN_WORDS: dict[str, Callable[[User], bool]] = {"auth.two_factor": totp.may_enrol}


def route_rule(app, endpoint: str) -> Callable[[User], bool] | str:
    """The rule a route declares: the `@allow` callable, or its declared words."""
    view = app.view_functions[endpoint]
    return getattr(view, "access_check", None) or RULES_IN_WORDS.get(endpoint) \
        or getattr(view, "access_rule", None) or DECLARED_ELSEWHERE.get(endpoint, "")


def route_verdict(app, endpoint: str, user: User | None) -> str | int:
    rule = route_rule(app, endpoint)
    if callable(rule):
        if user is None:
            return LOGIN
        return ALLOW if rule(user) else 403
    if rule.startswith("public"):
        return PUBLIC  # anyone: a page, or on to the sign-in page
    if rule.startswith("signed in"):
        return ALLOW if user is not None else LOGIN
    if rule.startswith("inside: bearer token"):
        return 401  # a liaison system's token only: no session, whoever's, opens it (tests/govfeed)
    if rule.startswith("inside:"):
        return ALLOW if user is not None else 401
    raise AssertionError(f"{endpoint}: a rule the matrix cannot read: {rule!r}")


def sees(world: World, user: User | None, kind: str) -> bool:
    """May `user` see anything of this record at all (so its marker may show)?"""
    if user is None:
        return False
    record_id = world.ids.get(kind)
    if kind == "visit":
        return access.find_own_visit(user, record_id) is not None
    if kind in ("notification", "device", "export"):
        return user.id == world.users[Role.OFFICER.value]
    if kind in ("youth_profile", "youth_session"):  # a session is seen on its profile's page only
        return access.find_profile(user, world.ids["youth_profile"]) is not None
    if kind == "outreach":
        return access.find_outreach(user, record_id) is not None
    if kind == "letter_dv_a":
        return access.find_letter(user, record_id) is not None
    if kind == "followup_dv_a":
        return access.find_followup(user, record_id) is not None
    if kind in RETURN_VISITS:
        return access.find_return_visit(user, record_id) is not None
    if kind.startswith("case_"):
        return access.find_mediation_case(user, record_id) is not None
    # A lead's story is also shown in its mediation case, to the people on the case.
    return access.visible_lead(user, record_id) is not None or (
        kind in CASE_OF and access.find_mediation_case(user, world.ids[CASE_OF[kind]]) is not None)


def lead_view(world, user, kind, **_):
    return ALLOW if access.visible_lead(user, world.ids[kind]) is not None else 404


def lead_reveal(world, user, kind, **_):
    lead = access.visible_lead(user, world.ids[kind])
    if lead is None:
        return 404
    return ALLOW if access.can_reveal_identities(user, lead) else 403


def lead_step(world, user, kind, step, **_):
    lead = access.find_case(user, world.ids[kind])
    if lead is None:
        return 404
    return ALLOW if access.may_take_step(user, lead, STEPS[step].who) else 403


def station_shift(world, user, kind, **_):
    mediator = db.session.get(User, world.users[Role.MEDIATOR.value])
    return ALLOW if user.station_id == mediator.station_id else 404


def seen_call(world, user, kind, **_):
    return ALLOW if access.find_call(user, world.ids[kind]) is not None else 404


def station_expert(world, user, kind, **_):
    return ALLOW if access.find_expert(user, world.ids[kind]) is not None else 404


def seen_invitation(world, user, kind, **_):
    return ALLOW if access.find_invitation(user, world.ids[kind]) is not None else 404


def lead_case(world, user, kind, **_):
    return ALLOW if access.find_case(user, world.ids[kind]) is not None else 404


def lead_experts_act(world, user, kind, **_):
    lead = access.find_case(user, world.ids[kind])
    if lead is None:
        return 404
    return ALLOW if access.can_invite_experts(user, lead) else 403
def dv_case(world, user, kind, **_):
    return ALLOW if access.find_dv_case(user, world.ids[kind]) is not None else 404


def dv_letter(world, user, kind, **_):
    return ALLOW if access.find_letter(user, world.ids[kind]) is not None else 404


def dv_letter_action(action: str) -> Callable:
    """approve / refuse / issue on the issued letter: 404 unseen, 403 not theirs to take, else
    allowed (and refused for the letter's state: an issued letter never changes)."""

    def verdict(world, user, kind, **_):
        letter = access.find_letter(user, world.ids[kind])
        if letter is None:
            return 404
        return ALLOW if can_act_on(user, letter, action) else 403

    return verdict


def dv_followup(world, user, kind, **_):
    return ALLOW if access.find_followup(user, world.ids[kind]) is not None else 404


def own_visit(world, user, kind, **_):
    return ALLOW if access.find_own_visit(user, world.ids[kind]) is not None else 404


def officers_own(world, user, kind, **_):
    return ALLOW if user.id == world.users[Role.OFFICER.value] else 404


def sealed_profile(world, user, kind, **_):
    return ALLOW if access.find_profile(user, world.ids[kind]) is not None else 404


def station_outreach(world, user, kind, **_):
    return ALLOW if access.find_outreach(user, world.ids[kind]) is not None else 404
def seen_return_visit(world, user, kind, **_):
    return ALLOW if access.find_return_visit(user, world.ids[kind]) is not None else 404


def return_visit_giver(world, user, kind, **_):
    visit = access.find_return_visit(user, world.ids[kind])
    if visit is None:
        return 404
    return ALLOW if access.can_reassign_return_visit(user, visit) else 403


def station_record(world, user, kind, **_):
    return ALLOW  # same station: the route's rule (admins) decides


def case_view(world, user, kind, **_):
    return ALLOW if access.find_mediation_case(user, world.ids[kind]) is not None else 404


def case_rule(rule):
    """A case action: 404 for a case the person may not see, then the access rule (403)."""

    def verdict(world, user, kind, **_):
        case = access.find_mediation_case(user, world.ids[kind])
        if case is None:
            return 404
        return ALLOW if rule(user, case) else 403

    return verdict


def case_opening(world, user, kind, **_):
    lead = access.find_case(user, world.ids[kind])
    if lead is None:
        return 404
    return ALLOW if access.can_open_case(user, lead) else 403


def signed_agreement(world, user, kind, **_):
    return 404  # the matrix's agreements are drafts: no PDF exists for anyone


def station_feed_token(world, user, kind, **_):
    token = db.session.get(FeedToken, world.ids[kind])
    return ALLOW if token.station_id == user.station_id else 404


def station_webhook_delivery(world, user, kind, **_):
    delivery = db.session.get(WebhookDelivery, world.ids[kind])
    hook = db.session.get(FeedWebhook, delivery.webhook_id)
    return ALLOW if hook.station_id == user.station_id else 404


def station_grant(world, user, kind, **_):
    grant = db.session.get(RoleGrant, world.ids[kind])
    return ALLOW if grant.user.station_id == user.station_id else 404


# --- how each route with arguments is exercised -------------------------------------------------------


@dataclass(frozen=True)
class RecordRoute:
    kinds: tuple[str, ...]  # the record kinds it is tried on
    verdict: Callable  # (world, user, kind, step=…) → ALLOW / 403 / 404: from webapp.access
    methods: tuple[str, ...] = ("GET",)
    steps: bool = False  # the `step` argument: every lifecycle step
    htmx: bool = True  # also as an htmx request
    body: str = "html"  # "html": the marker must not leak; "image": a photo
    # Answers that still mean "allowed": the request passed access and was refused for the
    # record's state (a step from the wrong status, a grant decided already).
    refused_for_state: tuple[int, ...] = ()


LEAD_AND_TWINS = (*LEAD_KINDS, *CLOSED.values())
CASES = tuple(CASE_OF.values())
RECORD_ROUTES: dict[str, RecordRoute] = {
    "leads.detail": RecordRoute(LEAD_AND_TWINS, lead_view),
    "leads.photo": RecordRoute(LEAD_AND_TWINS, lead_view, body="image"),
    "leads.reveal": RecordRoute(LEAD_KINDS, lead_reveal, methods=("POST",)),
    # Steps: the page's form, not htmx (its fragment is the same block whatever the answer).
    "leads.act": RecordRoute(LEAD_KINDS, lead_step, methods=("POST",), steps=True, htmx=False,
                             refused_for_state=(409, 422)),
    "visits.detail": RecordRoute(("visit",), own_visit),
    "returnvisits.detail": RecordRoute(tuple(RETURN_VISITS), seen_return_visit),
    # Recorded already: whoever may record it is told so (422); a repeat never records twice.
    "returnvisits.record_result": RecordRoute(tuple(RETURN_VISITS), seen_return_visit, methods=("POST",),
                                              refused_for_state=(422,)),
    "returnvisits.assign": RecordRoute(tuple(RETURN_VISITS), return_visit_giver, methods=("POST",),
                                       refused_for_state=(422,)),
    "notify.open_notification": RecordRoute(("notification",), officers_own, methods=("POST",)),
    "notify.unsubscribe": RecordRoute(("device",), officers_own, methods=("POST",)),
    "exports.status": RecordRoute(("export",), officers_own),
    "exports.download": RecordRoute(("export",), officers_own),
    "org.community": RecordRoute(("community",), station_record),
    "org.grid": RecordRoute(("grid",), station_record),
    "org.user": RecordRoute(("user",), station_record),
    "org.user_sign_out_everywhere": RecordRoute(("user",), station_record, methods=("POST",)),
    "org.user_reset_two_factor": RecordRoute(("user",), station_record, methods=("POST",)),
    # Without a session id (the probe sends none) an allowed admin is told to choose one: 422.
    "org.user_revoke_device": RecordRoute(("user",), station_record, methods=("POST",),
                                          refused_for_state=(422,)),
    "org.decide_role_grant": RecordRoute(("grant_elsewhere",), station_grant, methods=("POST",),
                                         refused_for_state=(409,)),
    "duty.remove": RecordRoute(("shift",), station_shift, methods=("POST",)),
    "govfeed.revoke": RecordRoute(("feed_token",), station_feed_token, methods=("POST",)),
    "govfeed.resend": RecordRoute(("webhook_delivery",), station_webhook_delivery, methods=("POST",)),
    "duty.call": RecordRoute(("call",), seen_call),
    # An empty answer is invalid (422); the holder of the open offer is the only one who may answer.
    "duty.answer": RecordRoute(("call",), seen_call, methods=("POST",), refused_for_state=(409, 422)),
    "experts.edit": RecordRoute(("expert",), station_expert, methods=("GET", "POST"),
                                refused_for_state=(422,)),
    "experts.invitation": RecordRoute(("invitation",), seen_invitation),
    "experts.for_lead": RecordRoute(LEAD_AND_TWINS, lead_case),
    "experts.add_conflict": RecordRoute(LEAD_KINDS, lead_experts_act, methods=("POST",), htmx=False,
                                        refused_for_state=(422,)),
    "experts.add_invitation": RecordRoute(LEAD_KINDS, lead_experts_act, methods=("POST",), htmx=False,
                                          refused_for_state=(422,)),
    # The youth team's sealed profile: its page, the guardian's contact, and every form about it
    # (probes post empty forms: refused as invalid, nothing changes).
    "youth.profile": RecordRoute(("youth_profile",), sealed_profile),
    "youth.reveal": RecordRoute(("youth_profile",), sealed_profile, methods=("POST",)),
    "youth.edit_profile": RecordRoute(("youth_profile",), sealed_profile, methods=("GET", "POST"),
                                      refused_for_state=(422,)),
    "youth.close": RecordRoute(("youth_profile",), sealed_profile, methods=("POST",),
                               refused_for_state=(422,)),
    "youth.link": RecordRoute(("youth_profile",), sealed_profile, methods=("POST",),
                              refused_for_state=(422,)),
    "youth.new_session": RecordRoute(("youth_profile",), sealed_profile, methods=("GET", "POST"),
                                     refused_for_state=(422,)),
    "youth.edit_outreach": RecordRoute(("outreach",), station_outreach, methods=("GET", "POST"),
                                       refused_for_state=(422,)),
    "youth.delete_outreach_event": RecordRoute(("outreach",), station_outreach, methods=("POST",),
                                               refused_for_state=(422,)),
    "dv.request_new": RecordRoute(LEAD_KINDS, dv_case),
    "dv.letter": RecordRoute(("letter_dv_a",), dv_letter),
    "dv.print_letter": RecordRoute(("letter_dv_a",), dv_letter),
    "dv.pdf": RecordRoute(("letter_dv_a",), dv_letter, htmx=False),
    "dv.delivery_new": RecordRoute(("letter_dv_a",), dv_letter),
    "dv.delivery_receipt": RecordRoute(("letter_dv_a",), dv_letter, body="image", htmx=False),
    "dv.followup": RecordRoute(("followup_dv_a",), dv_followup),
    # Decisions on the issued letter: refused for its state (409) even for those who may decide.
    **{f"dv.{action}": RecordRoute(("letter_dv_a",), dv_letter_action(action), methods=("POST",), htmx=False,
                                   refused_for_state=(409,)) for action in ("approve", "refuse", "issue")},
    # Mediation: opening from a lead; the case page and its forms (empty posts are merely invalid).
    "mediation.open_case": RecordRoute(LEAD_KINDS, case_opening, methods=("GET", "POST"),
                                       refused_for_state=(422,)),
    "mediation.case": RecordRoute(CASES, case_view),
    "mediation.agreement": RecordRoute(CASES, case_view),
    "mediation.agreement_print": RecordRoute(CASES, case_view),
    "mediation.agreement_pdf": RecordRoute(CASES, signed_agreement, htmx=False, body="file"),
    "mediation.new_session": RecordRoute(CASES, case_rule(access.can_record_session)),
    "mediation.tick": RecordRoute(CASES, case_rule(access.can_record_session), methods=("POST",),
                                  refused_for_state=(409, 422)),
    **{endpoint: RecordRoute(CASES, case_rule(access.can_manage_case), methods=("POST",),
                             refused_for_state=(409, 422))
       for endpoint in ("mediation.add_member", "mediation.consent", "mediation.refuse", "mediation.conclude",
                        "mediation.sign", "mediation.hand_copy", "mediation.term_done")},
    "mediation.guide": RecordRoute(("guide",), station_record),
}
# Routes that answer about records in their own way, with their own probe below.
OWN_PROBES = {"sync.sync": "test_sync_answers_follow_the_step_rules"}

# /sync kinds about one existing record: the record kind the item names, and the item's fields. Each
# item is one the person could not apply even when allowed (a recipient that is no one, a visit
# recorded already, a session of 0 minutes), so the probes change nothing: "forbidden" exactly when
# the person may not send the kind or may not see the record, "invalid" or "conflict" otherwise.
SYNC_RECORD_PROBES: dict[str, tuple[str, Callable[[World], dict]]] = {
    "dv.delivery": ("letter_dv_a", lambda world: {
        "letter_id": str(world.ids["letter_dv_a"]), "recipient": "nobody", "method": "in_person",
        "outcome": "signed"}),
    "dv.followup": ("followup_dv_a", lambda world: {
        "followup_id": str(world.ids["followup_dv_a"]), "recurred": "yes", "note": "again"}),
    "youth.session": ("youth_profile", lambda world: {
        "profile_id": str(world.ids["youth_profile"]), "kind": "counselling", "held_on": "2026-11-20",
        "duration_minutes": "0", "notes": "x"}),
}
# The other kinds: each makes a new record of the sender's own (nothing of anyone else's to find), or
# has its own probe here, or is checked per record in its feature's tests.
SYNC_KINDS_ELSEWHERE = {
    "lead.report": "a new lead", "lead.desk": "a new lead", "visit": "a new visit",
    "lead.step": "test_sync_answers_follow_the_step_rules",
    "returnvisit.record": "tests/returnvisits (a record the officer gave away)",
}


def step_target(world: World, kind: str, step: str) -> str:
    """The lead of this kind (or its closed twin) in a status `step` does not start from, so the
    probe is refused or rejected, never carried out."""
    for candidate in (kind, CLOSED[kind]):
        if Status(db.session.get(Lead, world.ids[candidate]).status) not in STEPS[step].sources:
            return candidate
    raise AssertionError(f"no lead of kind {kind} lets the step {step!r} be probed without taking it")


# How each route argument is made, from the record kind (and step) being probed.
ARGUMENTS: dict[str, Callable[[World, str, str | None], object]] = {
    "lead_id": lambda world, kind, step: world.ids[kind],
    "photo_id": lambda world, kind, step: world.photos[kind],
    "step": lambda world, kind, step: step,
    "visit_id": lambda world, kind, step: world.ids[kind],
    "notification_id": lambda world, kind, step: world.ids[kind],
    "export_id": lambda world, kind, step: world.ids[kind],
    "device_id": lambda world, kind, step: fresh_device(world),
    "community_id": lambda world, kind, step: world.community,
    "grid_id": lambda world, kind, step: world.grid,
    "user_id": lambda world, kind, step: world.users["reporter"],
    "grant_id": lambda world, kind, step: world.ids[kind],
    "decision": lambda world, kind, step: "refuse",
    "shift_id": lambda world, kind, step: fresh_shift(world),
    "token_id": lambda world, kind, step: world.ids[kind],
    "call_id": lambda world, kind, step: world.ids[kind],
    "expert_id": lambda world, kind, step: world.ids[kind],
    "invitation_id": lambda world, kind, step: world.ids[kind],
    "profile_id": lambda world, kind, step: world.ids[kind],
    "event_id": lambda world, kind, step: world.ids[kind],
    "letter_id": lambda world, kind, step: world.ids[kind],
    "delivery_id": lambda world, kind, step: world.ids["delivery"],
    "batch_id": lambda world, kind, step: world.ids[kind],  # a webhook delivery (govfeed.resend)
    "followup_id": lambda world, kind, step: world.ids[kind],
    "case_id": lambda world, kind, step: world.ids[kind],
    "category": lambda world, kind, step: "marriage_family",
}


def url_for_rule(rule, world: World, kind: str, step: str | None = None) -> str:
    unknown = set(rule.arguments) - set(ARGUMENTS)
    assert not unknown, f"{rule.rule}: no way to make the argument(s) {sorted(unknown)}"
    values = {argument: ARGUMENTS[argument](world, kind, step) for argument in rule.arguments}
    return rule.build(values, append_unknown=False)[1]


# --- checking one answer -----------------------------------------------------------------------------


def check(response, expected, world: World, persona: str, what: str, hidden: list[str]) -> list[str]:
    """The answer agrees with the verdict, and no hidden record's marker is in it."""
    problems = []
    status = response.status_code
    if expected == LOGIN:
        ok = status in (302, 303) and "/login" in (response.location or "")
    elif expected == ALLOW:
        ok = 200 <= status < 400 and "/login" not in (response.location or "")
    elif expected == PUBLIC:
        ok = 200 <= status < 400
    else:
        ok = status == expected
    if not ok:
        problems.append(f"{persona} {what}: expected {expected}, got {status}")
    if response.mimetype in ("text/html", "application/json", "text/plain"):
        body = response.get_data(as_text=True)
        problems += [f"{persona} {what}: shows {kind}" for kind in hidden if marker(kind) in body]
    return problems


def hidden_from(world: World, persona: str) -> list[str]:
    """The records `persona` may not see (asked once: the probes change nothing)."""
    if persona not in world.hidden:
        user = world.user(persona)
        world.hidden[persona] = [kind for kind in RECORD_KINDS if not sees(world, user, kind)]
    return world.hidden[persona]


# --- the tests ---------------------------------------------------------------------------------------


def test_every_route_is_in_the_matrix(app):
    """A route with arguments needs a way to be exercised here; otherwise it fails, by name."""
    missing = sorted({rule.endpoint for rule in app.url_map.iter_rules()
                      if rule.arguments and rule.endpoint not in RECORD_ROUTES
                      and rule.endpoint not in ("static", "offline.module")
                      and rule.endpoint not in OWN_PROBES})
    assert missing == [], f"routes the generated access matrix cannot exercise: {missing}"
    for endpoint in RECORD_ROUTES:
        assert endpoint in app.view_functions, f"RECORD_ROUTES names a route that is gone: {endpoint}"
    unreadable = []
    for rule in app.url_map.iter_rules():
        try:
            route_verdict(app, rule.endpoint, None)
        except AssertionError as error:
            unreadable.append(str(error))
    assert unreadable == []


@pytest.mark.parametrize("persona", PERSONAS)
def test_pages_fragments_and_lists(ctx, persona):
    """Every route without arguments, as a page and as an htmx fragment: the route's own rule
    decides, and no record the person may not see shows in it."""
    world, problems = ctx, []
    user, hidden = world.user(persona), hidden_from(ctx, persona)
    for rule in world.app.url_map.iter_rules():
        if rule.arguments or "GET" not in rule.methods or rule.endpoint == "static":
            continue
        expected = route_verdict(world.app, rule.endpoint, user)
        for htmx in (False, True):
            response = world.get(persona, rule.rule, htmx=htmx)
            what = f"GET {rule.rule}{' (htmx)' if htmx else ''}"
            problems += check(response, expected, world, persona, what, hidden)
            world.cases[what] += len(RECORD_KINDS)
    assert problems == []


def link(world: World, kind: str) -> str | None:
    """How a page points at the record: a search result is its link (the word itself is echoed in
    the search box)."""
    record_id = world.ids.get(kind)
    if kind.startswith("lead"):
        return f'/leads/{record_id}"'
    return {"visit": f'/visits/{record_id}"', "notification": f'/inbox/{record_id}/open"',
            "youth_profile": f'/youth/profiles/{record_id}"',
            "letter_dv_a": f'/dv/letters/{record_id}"',
            "followup_dv_a": f'/dv/followups/{record_id}"'}.get(kind)


@pytest.mark.parametrize("persona", PERSONAS)
def test_search_finds_only_what_the_person_may_see(ctx, persona):
    """Every page with a search box (`name="q"`), asked for each record's word: a hidden record is
    never a result; the lead list finds a lead exactly when the person may open it as a case."""
    world, problems = ctx, []
    user, hidden = world.user(persona), hidden_from(ctx, persona)
    for rule in world.app.url_map.iter_rules():
        if rule.arguments or "GET" not in rule.methods or rule.endpoint == "static":
            continue
        verdict = route_verdict(world.app, rule.endpoint, user)
        if verdict not in (ALLOW, PUBLIC):
            continue
        if 'name="q"' not in world.get(persona, rule.rule).get_data(as_text=True):
            continue  # no search box
        for kind in RECORD_KINDS:
            if link(world, kind) is None:
                continue
            response = world.get(persona, f"{rule.rule}?q={marker(kind)}")
            body = response.get_data(as_text=True)
            world.cases[f"search {rule.rule}"] += 1
            if not 200 <= response.status_code < 400:
                problems.append(f"{persona} search {rule.rule} for {kind}: {response.status_code}")
            problems += [f"{persona} search {rule.rule} for {kind}: lists {other}" for other in hidden
                         if link(world, other) and link(world, other) in body]
            if rule.endpoint == "leads.index" and kind.startswith("lead"):
                found = link(world, kind) in body
                if found != (access.find_case(user, world.ids[kind]) is not None):
                    problems.append(f"{persona} search /leads/ for {kind}: found={found}")
    assert problems == []


@pytest.mark.parametrize("persona", PERSONAS)
def test_posts_without_arguments_follow_the_route_rule(ctx, persona):
    """An empty form to every POST route without arguments: refused (403 / sign-in) exactly when the
    route's rule says so; for the allowed it is merely invalid (nothing is stored)."""
    world, problems = ctx, []
    user = world.user(persona)
    for rule in world.app.url_map.iter_rules():
        # Only routes with an @allow rule: sign-in's own forms (sign out, password, …) are not
        # probed with empty posts, and /sync has its own probe.
        if rule.arguments or "POST" not in rule.methods or not callable(route_rule(world.app, rule.endpoint)):
            continue
        expected = route_verdict(world.app, rule.endpoint, user)
        response = world.post(persona, rule.rule)
        status = response.status_code
        if expected == PUBLIC:
            ok = status not in (401, 403, 404)
        elif expected == ALLOW:
            ok = status not in (401, 403, 404) and "/login" not in (response.location or "")
        elif expected == LOGIN:
            ok = status in (302, 303) and "/login" in (response.location or "")
        else:
            ok = status == expected
        if not ok:
            problems.append(f"{persona} POST {rule.rule}: expected {expected}, got {status}")
        world.cases[f"POST {rule.rule}"] += 1
    assert problems == []


@pytest.mark.parametrize("persona", PERSONAS)
def test_record_routes_follow_the_record_rules(ctx, persona):
    """Every route about one record, on every kind of record it takes, as a page and a fragment:
    the route's rule first, then the access package's loader for that record."""
    problems = []
    for rule in ctx.app.url_map.iter_rules():
        probe = RECORD_ROUTES.get(rule.endpoint)
        if probe is None or not rule.arguments:
            continue
        for method in (m for m in probe.methods if m in rule.methods):
            for kind in probe.kinds:
                for step in (STEPS if probe.steps else [None]):
                    problems += _probe(ctx, persona, rule, probe, method, kind, step)
    assert problems == []


def _probe(world: World, persona: str, rule, probe: RecordRoute, method: str, kind: str,
           step: str | None) -> list[str]:
    user, hidden, problems = world.user(persona), hidden_from(world, persona), []
    target = step_target(world, kind, step) if step else kind
    expected = route_verdict(world.app, rule.endpoint, user)
    if expected == ALLOW:
        expected = probe.verdict(world, user, target, step=step)
    data = {"version": str(db.session.get(Lead, world.ids[target]).version)} if step else None
    for htmx in ((False, True) if probe.htmx else (False,)):
        path = url_for_rule(rule, world, target, step)
        response = (world.get(persona, path, htmx=htmx) if method == "GET"
                    else world.post(persona, path, data, htmx=htmx))
        shape = " htmx" if htmx else ""
        what = f"{method} {rule.rule} on {target}{f' ({step})' if step else ''}{shape}"
        world.cases[f"{method} {rule.rule}{shape}"] += 1
        expected_here = expected
        if expected == ALLOW and response.status_code in probe.refused_for_state:
            expected_here = response.status_code  # allowed; refused for the record's state only
        problems += check(response, expected_here, world, persona, what, hidden)
        if probe.body == "image" and expected != ALLOW and response.mimetype.startswith("image/"):
            problems.append(f"{persona} {what}: an image was served")
        db.session.expire_all()
    return problems


def test_sync_answers_follow_the_step_rules(ctx):
    """/sync: for every person, a lifecycle step on every lead kind — "forbidden" exactly when the
    access package says the person may not take it; never the lead's words in a refused answer."""
    world, problems = ctx, []
    for persona in PERSONAS:
        user, hidden = world.user(persona), hidden_from(world, persona)
        for kind in LEAD_KINDS:  # one batch per lead kind: every step
            items, expected = [], {}
            for step in STEPS:
                target = step_target(world, kind, step)
                item_id = str(uuid.uuid4())
                version = str(db.session.get(Lead, world.ids[target]).version)
                items.append({"uuid": item_id, "kind": "lead.step", "lead_id": world.ids[target],
                              "step": step, "fields": {"version": version}})
                allowed = user is not None and lead_step(world, user, target, step) == ALLOW
                expected[item_id] = (allowed, f"{target} ({step})")
            response = _post_sync(world, persona, items, "POST /sync lead.step")
            problems += _sync_problems(response, persona, user, hidden, expected)
            db.session.expire_all()
    assert problems == []


def _post_sync(world, persona: str, items: list[dict], counted_as: str):
    world.cases[counted_as] += len(items)
    world.requests += 1
    return world.browser(persona).client.post(
        "/sync", json={"items": items}, headers={"X-CSRFToken": world.token(persona)})


def _sync_problems(response, persona: str, user: User | None, hidden: list[str], expected: dict) -> list[str]:
    if user is None:
        ok = response.status_code == 401
        return [] if ok else [f"{persona} /sync: expected 401, got {response.status_code}"]
    if response.status_code != 200:
        return [f"{persona} /sync: {response.status_code} {response.get_data(as_text=True)[:200]}"]
    body = response.get_data(as_text=True)
    problems = [f"{persona} /sync shows {kind}" for kind in hidden if marker(kind) in body]
    results = {result["uuid"]: result for result in response.get_json()["results"]}
    for item_id, (allowed, what) in expected.items():
        status = results[item_id]["status"]
        if (status == "forbidden") == allowed:
            problems.append(f"{persona} /sync {what}: {status}, allowed={allowed}")
    return problems


def test_sync_record_kinds_follow_the_record_rules(ctx):
    """/sync: every kind about one existing record (the DV task force's deliveries and follow-ups,
    the youth team's sessions), sent by every person — "forbidden" exactly when the kind's rule or
    the record's loader says no, and never a hidden record's word in the answer. A new kind that
    names a record fails here by name until it is probed."""
    unprobed = sorted(set(registered()) - set(SYNC_RECORD_PROBES) - set(SYNC_KINDS_ELSEWHERE))
    assert unprobed == [], f"sync kinds the generated matrix does not probe: {unprobed}"
    world, problems = ctx, []
    for persona in PERSONAS:
        user, hidden = world.user(persona), hidden_from(world, persona)
        items, expected = [], {}
        for name, (record_kind, fields) in SYNC_RECORD_PROBES.items():
            item_id = str(uuid.uuid4())
            items.append({"uuid": item_id, "kind": name, "photos": [],
                          "fields": {**fields(world), "uuid": item_id}})
            allowed = (user is not None and registered()[name].allowed(user)
                       and sees(world, user, record_kind))
            expected[item_id] = (allowed, f"{name} on {record_kind}")
        response = _post_sync(world, persona, items, "POST /sync record kinds")
        problems += _sync_problems(response, persona, user, hidden, expected)
        if user is not None and response.status_code == 200:
            problems += [f"{persona} /sync {expected[r['uuid']][1]}: {r['status']}"
                         for r in response.get_json()["results"]
                         if r["status"] not in ("forbidden", "invalid", "conflict")]
    assert problems == []


@pytest.mark.parametrize("persona", [p for p in PERSONAS if p != SIGNED_OUT])
def test_inbox_and_push_payloads_name_only_what_the_person_may_see(ctx, persona):
    """Every notification a person holds, as their inbox shows it and as its push payload says it:
    no hidden record's word, and no link to a letter or follow-up visit they may not open."""
    world, problems = ctx, []
    user, hidden = world.user(persona), hidden_from(world, persona)
    links = [link(world, kind) for kind in hidden if link(world, kind)]
    inbox = world.get(persona, "/inbox/").get_data(as_text=True)
    problems += [f"{persona} /inbox/ shows {kind}" for kind in hidden if marker(kind) in inbox]
    problems += [f"{persona} /inbox/ links {target}" for target in links if target in inbox]
    with world.app.test_request_context():
        for notification in db.session.scalars(select(Notification).where(Notification.user_id == user.id)):
            payload = json.dumps(payload_for(notification, user), ensure_ascii=False)
            world.cases["push payload"] += 1
            problems += [f"{persona} push {notification.kind} shows {kind}" for kind in hidden
                         if marker(kind) in payload]
            problems += [f"{persona} push {notification.kind} links {target}" for target in links
                         if '"' + target.rstrip('"') + '"' in payload]  # the url, whole
    assert problems == []


def test_the_dv_notices_reach_the_compartment(ctx):
    """The probe above has something to check: the DV notices went to supervisors and the task
    force, and to nobody outside the case."""
    told = {persona for persona in PERSONAS if persona != SIGNED_OUT and db.session.scalar(
        select(func.count()).select_from(Notification).where(
            Notification.user_id == ctx.users[persona], Notification.subject_kind.like("dv%"))) > 0}
    assert told == {Role.SUPERVISOR.value, Role.DV_TEAM.value}


def test_nothing_was_changed_by_the_probes(ctx):
    """Every probe was refused or rejected: the leads are as built."""
    statuses = {kind: db.session.get(Lead, lead_id).status for kind, lead_id in ctx.ids.items()
                if kind.startswith("lead")}
    assert all(status == Status.CLOSED for kind, status in statuses.items() if kind.endswith("closed"))
    assert all(status != Status.CLOSED for kind, status in statuses.items() if not kind.endswith("closed"))
    assert db.session.get(Visit, ctx.ids["visit"]) is not None
    profile = db.session.get(YouthProfile, ctx.ids["youth_profile"])
    assert profile.is_open and profile.version == 2 and profile.leads == []  # as built: opened, one session
    assert db.session.scalar(select(func.count()).select_from(YouthSession)) == 1
    assert db.session.scalar(select(func.count()).select_from(Delivery)) == 1
    followup = db.session.get(FollowUp, ctx.ids["followup_dv_a"])
    assert followup.recurred is False and followup.note.startswith("Visit")
    event = db.session.get(OutreachEvent, ctx.ids["outreach"])
    assert event is not None and event.audience == 120
    for kind, (_lead, _attempt, assignee) in RETURN_VISITS.items():
        again = db.session.get(ReturnVisit, ctx.ids[kind])
        assert (again.result, again.assignee_id) == ("holding", ctx.users[assignee])


def test_matrix_size(ctx, capsys):
    """Runs last: how many (person, record, action) cases the matrix checked."""
    total = sum(ctx.cases.values())
    with capsys.disabled():
        print(f"\ngenerated access matrix: {len(PERSONAS)} personas × {len(RECORD_KINDS)} record kinds; "
              f"{len(ctx.cases)} actions; {total} cases in {ctx.requests} requests")
    assert total > 0

"""The lead lifecycle: every allowed step, every refused one, who may take it, and the HTTP face.

Leads are made with `register_lead` and moved into the status a test needs with the real steps;
only "registered" (which intake never leaves a lead in) is set directly, as test setup.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import Browser
from tests.factories import commit, make_community, make_station, make_user
from webapp.extensions import db
from webapp.leads.codes import Risk, Source, Status
from webapp.leads.deadlines import due_at, parse_deadlines
from webapp.leads.lifecycle import STEPS, LifecycleError, perform
from webapp.leads.models import Lead, LeadEvent
from webapp.leads.queries import LeadFilters, lead_list
from webapp.leads.services import LeadInput, register_lead
from webapp.notify.models import Notification
from webapp.org.models import Role, User
from webapp.timeutil import utcnow

S = Status
MAX_PHOTO = 10 * 1024 * 1024


OPEN = {S.REGISTERED, S.GRADED, S.ASSIGNED, S.ACCEPTED, S.IN_MEDIATION}
ACTIVE = OPEN | {S.MONITORING, S.RETURN_VISIT}
# The lifecycle as the station works it (docs/domain.md), written out here rather than read from the app's
# own table, so that a change to the app's table shows up as failing behaviour, not as new test ids.
# step: (statuses it may start from, status it leads to (None: stays), who may take it)
LIFECYCLE: dict[str, tuple[set[Status], Status | None, str]] = {
    "grade": (ACTIVE, None, "grader"),
    "assign": ({S.REGISTERED, S.GRADED, S.ASSIGNED, S.ACCEPTED}, S.ASSIGNED, "supervisor"),
    "accept": ({S.ASSIGNED}, S.ACCEPTED, "assignee"),
    "return": ({S.ASSIGNED}, S.GRADED, "assignee"),
    "start_mediation": ({S.ACCEPTED}, S.IN_MEDIATION, "handler"),
    "resolve": ({S.ACCEPTED, S.IN_MEDIATION}, S.RESOLVED, "handler"),
    "fail": ({S.IN_MEDIATION}, S.FAILED, "handler"),
    "transfer": ({S.ACCEPTED, S.IN_MEDIATION}, S.TRANSFERRED, "handler"),
    "monitor": ({S.RESOLVED}, S.MONITORING, "handler"),
    "return_visit": ({S.RESOLVED, S.MONITORING, S.FAILED, S.TRANSFERRED}, S.RETURN_VISIT, "handler"),
    "close": ({S.RETURN_VISIT}, S.CLOSED, "handler"),
    "reopen": ({S.RESOLVED, S.FAILED, S.TRANSFERRED, S.MONITORING, S.RETURN_VISIT, S.CLOSED}, S.ASSIGNED,
               "handler"),
    "request_extension": ({S.ACCEPTED, S.IN_MEDIATION}, None, "assignee"),
    "grant_extension": (OPEN, None, "supervisor"),
    "supervise": (ACTIVE, None, "supervisor"),
    "link_duplicate": (OPEN, S.CLOSED, "handler"),
}


def sources(step: str) -> set[Status]:
    return LIFECYCLE[step][0]


def who(step: str) -> str:
    return LIFECYCLE[step][2]


# How to bring a fresh lead (routed to wang, status "assigned") into each status with real steps.
PATHS: dict[Status, list[tuple[str, dict]]] = {
    S.REGISTERED: [("return", {"reason": "不属本辖区"})],  # then status set to registered (setup)
    S.GRADED: [("return", {"reason": "不属本辖区"})],
    S.ASSIGNED: [],
    S.ACCEPTED: [("accept", {})],
    S.IN_MEDIATION: [("accept", {}), ("start_mediation", {})],
    S.RESOLVED: [("accept", {}), ("resolve", {"outcome": "written"})],
    S.FAILED: [("accept", {}), ("start_mediation", {}), ("fail", {"outcome": "court"})],
    S.TRANSFERRED: [("accept", {}), ("transfer", {"outcome": "justice_office"})],
    S.MONITORING: [("accept", {}), ("resolve", {"outcome": "oral"}), ("monitor", {})],
    S.RETURN_VISIT: [("accept", {}), ("resolve", {"outcome": "on_the_spot"}), ("return_visit", {})],
    S.CLOSED: [("accept", {}), ("resolve", {"outcome": "written"}), ("return_visit", {}),
               ("close", {"note": "回访满意"})],
}
# The source a step is tried from when the status itself is not what a test is about.
PREFERRED_SOURCE = [S.ASSIGNED, S.ACCEPTED, S.IN_MEDIATION, S.RESOLVED, S.FAILED, S.MONITORING,
                    S.RETURN_VISIT, S.TRANSFERRED, S.CLOSED, S.GRADED, S.REGISTERED]


def preferred_source(step: str) -> Status:
    return next(s for s in PREFERRED_SOURCE if s in sources(step))


class Station:
    def __init__(self):
        self.station = make_station()
        self.wang = make_user(self.station, Role.OFFICER, username="wang")
        self.zhao = make_user(self.station, Role.OFFICER, username="zhao")
        self.chief = make_user(self.station, Role.SUPERVISOR, username="chief")
        self.li = make_user(self.station, Role.VOLUNTEER, username="li")
        self.na = make_community(self.station, "NA", officer=self.wang)
        self.nb = make_community(self.station, "NB", officer=self.zhao)
        other = make_station("OTHER-PS")
        self.outsider = make_user(other, Role.SUPERVISOR, Role.OFFICER, username="outsider")
        self.deadlines = parse_deadlines("red=24h,orange=5d,yellow=30d,blue=30d")

    def new_lead(self, **fields) -> Lead:
        fields.setdefault("source", Source.VOLUNTEER)
        fields.setdefault("category", "neighbour")
        fields.setdefault("summary", "邻里噪音纠纷")
        fields.setdefault("community", self.na)
        return register_lead(self.li, LeadInput(**fields), self.deadlines, MAX_PHOTO).lead

    def lead_in(self, status: Status, **fields) -> Lead:
        lead = self.new_lead(**fields)
        assert lead.status == S.ASSIGNED and lead.assignee == self.wang
        for step, params in PATHS[status]:
            perform(lead, self.wang, step, self.deadlines, **params)
        if status == S.REGISTERED:
            lead.status = S.REGISTERED.value  # intake always grades: no step leads back here
            lead.risk_confirmed = False
            db.session.flush()
        assert lead.status == status
        return lead

    def actor_for(self, step: str, lead: Lead) -> User:
        """Someone the step's rule admits: the assignee where possible, else the supervisor."""
        if who(step) == "supervisor":
            return self.chief
        if who(step) == "assignee" or lead.assignee_id == self.wang.id:
            return self.wang
        return self.chief

    def params_for(self, step: str, lead: Lead) -> dict:
        """Valid parameters for `step` (and what the step needs in place, e.g. a request)."""
        soon = utcnow() + timedelta(days=3)
        if step == "grant_extension":
            if S(lead.status) in sources("request_extension"):
                perform(lead, self.wang, "request_extension", self.deadlines, reason="双方需时间筹款")
            else:
                lead.extension_requested = True  # setup: only the assignee can ask, and only later on
                lead.extension_reason = "需要更多时间"
                db.session.flush()
            return {"new_due": soon}
        return {
            "grade": {"risk": "red", "factors": {"criminal_tendency"}, "note": "有扬言报复"},
            "assign": {"assignee": self.zhao},
            "return": {"reason": "不属本辖区"},
            "resolve": {"outcome": "written"},
            "fail": {"outcome": "arbitration"},
            "transfer": {"outcome": "labour_arbitration"},
            "close": {"note": "回访满意"},
            "reopen": {"reason": "又吵起来了"},
            "request_extension": {"reason": "当事人外出"},
            "supervise": {"until": soon, "comment": "三日内上门"},
            "link_duplicate": {"original": self.new_lead(summary="同一件事的另一份报告")},
        }.get(step, {})


@pytest.fixture
def st(app_ctx):
    made = Station()
    commit()
    return made


def snapshot(lead: Lead) -> tuple:
    return (lead.status, lead.version, lead.assignee_id, lead.due_at, lead.risk, lead.outcome,
            len(lead.events))


def assert_refused_and_unchanged(lead: Lead, before: tuple) -> None:
    assert snapshot(lead) == before
    db.session.flush()  # had the step touched the lead, this would write it and bump the version
    assert snapshot(lead) == before


def kinds_for(user: User, lead: Lead) -> list[str]:
    return list(db.session.scalars(select(Notification.kind).where(
        Notification.user_id == user.id, Notification.subject_id == lead.id).order_by(Notification.id)))


# --- every allowed transition ------------------------------------------------------------------

ALLOWED = [pytest.param(name, source, id=f"{name}-from-{source}")
           for name, (starts, _, _) in LIFECYCLE.items() for source in sorted(starts, key=list(S).index)]


@pytest.mark.parametrize(("step", "source"), ALLOWED)
def test_allowed_transition(st, step, source):
    lead = st.lead_in(source)
    params = st.params_for(step, lead)
    actor = st.actor_for(step, lead)
    version = lead.version
    perform(lead, actor, step, st.deadlines, **params)
    commit()
    db.session.expire_all()
    expected = LIFECYCLE[step][1] or source
    if step == "grade" and source == S.REGISTERED:
        expected = S.GRADED  # grading a registered lead is what makes it graded
    assert lead.status == expected
    event = lead.events[-1]
    assert (event.kind, event.from_status, event.to_status, event.actor_id) == (
        step, source.value, expected.value, actor.id)
    assert lead.version > version


@pytest.mark.parametrize("step", ["grade", "start_mediation", "resolve", "fail", "transfer", "monitor",
                                  "return_visit", "close", "reopen", "link_duplicate"])
def test_a_supervisor_may_take_every_handler_step_on_an_assigned_lead(st, step):
    """"Handler" means the assignee OR a station leader; the table above mostly used the assignee."""
    lead = st.lead_in(preferred_source(step))
    assert lead.assignee_id == st.wang.id
    source = S(lead.status)
    perform(lead, st.chief, step, st.deadlines, **st.params_for(step, lead))
    assert lead.status == (LIFECYCLE[step][1] or source)
    assert (lead.events[-1].kind, lead.events[-1].actor_id) == (step, st.chief.id)


def test_the_apps_step_table_is_the_lifecycle_above():
    """One place that names any drift; a new step needs a row above (and parameters in params_for)."""
    assert len(ALLOWED) == 50
    assert {name: (set(step.sources), step.target, step.who) for name, step in STEPS.items()} == LIFECYCLE


# --- every forbidden transition ----------------------------------------------------------------

@pytest.mark.parametrize("step", list(LIFECYCLE))
def test_step_from_any_other_status_is_refused(st, step):
    wrong = [status for status in S if status not in sources(step)]
    assert wrong
    for status in wrong:
        lead = st.lead_in(status)
        params = st.params_for(step, lead) if step != "grant_extension" else {
            "new_due": utcnow() + timedelta(days=3)}
        if step == "grant_extension":
            lead.extension_requested = True  # so that only the status can be the reason
            db.session.flush()
        before = snapshot(lead)
        actor = st.actor_for(step, lead)
        with pytest.raises(LifecycleError) as refused:
            perform(lead, actor, step, st.deadlines, **params)
        if who(step) == "assignee" and lead.assignee_id is None:
            # Nobody holds a registered or graded lead, so nobody may accept or return it.
            assert (refused.value.code, refused.value.forbidden) == ("not_permitted", True), status
        else:
            assert (refused.value.code, refused.value.forbidden) == ("wrong_status", False), status
        assert_refused_and_unchanged(lead, before)


def test_unknown_step_is_refused(st):
    lead = st.lead_in(S.ASSIGNED)
    before = snapshot(lead)
    with pytest.raises(LifecycleError) as refused:
        perform(lead, st.chief, "delete", st.deadlines)
    assert refused.value.code == "unknown_step"
    assert_refused_and_unchanged(lead, before)


# --- the wrong person ---------------------------------------------------------------------------

@pytest.mark.parametrize("step", list(LIFECYCLE))
def test_wrong_person_is_forbidden(st, step):
    lead = st.lead_in(preferred_source(step))
    params = st.params_for(step, lead)
    wrong = [st.li, st.zhao, st.outsider]  # the reporter (a volunteer), another officer, another station
    if who(step) == "supervisor":
        wrong.append(st.wang)  # the assignee is not a supervisor
    if who(step) == "assignee":
        wrong.append(st.chief)  # a supervisor is not the assignee
    before = snapshot(lead)
    for actor in wrong:
        with pytest.raises(LifecycleError) as refused:
            perform(lead, actor, step, st.deadlines, **params)
        assert (refused.value.code, refused.value.forbidden) == ("not_permitted", True), actor.username
        assert_refused_and_unchanged(lead, before)


def test_community_officer_may_grade_an_unassigned_lead_of_their_community(st):
    lead = st.lead_in(S.GRADED)  # returned by wang: nobody holds it now
    dv_lead = st.lead_in(S.GRADED, flag_dv=True)
    perform(lead, st.wang, "grade", st.deadlines, risk="orange", factors={"large_amount"})
    assert (lead.risk, lead.risk_confirmed) == ("orange", True)
    for refused_actor, refused_lead in ((st.zhao, lead), (st.wang, dv_lead)):
        before = snapshot(refused_lead)
        with pytest.raises(LifecycleError) as refused:
            perform(refused_lead, refused_actor, "grade", st.deadlines, risk="blue")
        assert refused.value.forbidden
        assert_refused_and_unchanged(refused_lead, before)


# --- missing or bad parameters -------------------------------------------------------------------

def _later():
    return utcnow() + timedelta(days=2)


def _earlier():
    return utcnow() - timedelta(minutes=1)


BAD_PARAMS = [
    # step, source, params (callables are evaluated in the test), code, field
    ("return", S.ASSIGNED, {}, "reason_required", "reason"),
    ("return", S.ASSIGNED, {"reason": "   "}, "reason_required", "reason"),
    ("reopen", S.RESOLVED, {}, "reason_required", "reason"),
    ("request_extension", S.ACCEPTED, {"reason": ""}, "reason_required", "reason"),
    ("supervise", S.ACCEPTED, {"until": _later}, "comment_required", "comment"),
    ("supervise", S.ACCEPTED, {"until": _later, "comment": " \n "}, "comment_required", "comment"),
    ("supervise", S.ACCEPTED, {"comment": "三日内上门"}, "due_in_past", "until"),
    ("supervise", S.ACCEPTED, {"until": _earlier, "comment": "三日内上门"}, "due_in_past", "until"),
    ("resolve", S.IN_MEDIATION, {}, "bad_outcome", "outcome"),
    ("resolve", S.IN_MEDIATION, {"outcome": "court"}, "bad_outcome", "outcome"),  # a failure route
    ("fail", S.IN_MEDIATION, {"outcome": "written"}, "bad_outcome", "outcome"),
    ("transfer", S.ACCEPTED, {"outcome": ""}, "bad_outcome", "outcome"),
    ("transfer", S.ACCEPTED, {"outcome": "moon"}, "bad_outcome", "outcome"),
    ("grade", S.ASSIGNED, {"risk": "purple"}, "bad_risk", "risk"),
    ("grade", S.ASSIGNED, {"risk": "red", "factors": {"bad_luck"}}, "bad_factor", "factors"),
    ("assign", S.GRADED, {}, "bad_assignee", "assignee"),
    ("assign", S.GRADED, {"assignee": "li"}, "bad_assignee", "assignee"),  # a volunteer
    ("assign", S.GRADED, {"assignee": "outsider"}, "bad_assignee", "assignee"),  # another station
    ("grant_extension", S.ACCEPTED, {"new_due": _earlier}, "due_in_past", "new_due"),
    ("grant_extension", S.ACCEPTED, {}, "due_in_past", "new_due"),
    ("link_duplicate", S.ASSIGNED, {}, "bad_original", "original"),
    ("link_duplicate", S.ASSIGNED, {"original": "itself"}, "bad_original", "original"),
]


@pytest.mark.parametrize(("step", "source", "params", "code", "field"), [
    pytest.param(*row, id=f"{row[0]}-{row[3]}-{i}") for i, row in enumerate(BAD_PARAMS)])
def test_missing_or_bad_parameter_names_the_field(st, step, source, params, code, field):
    lead = st.lead_in(source)
    if step == "grant_extension":
        perform(lead, st.wang, "request_extension", st.deadlines, reason="当事人外出")
    resolved = {}
    for key, value in params.items():
        if callable(value):
            value = value()
        elif value in {"li", "outsider"}:
            value = getattr(st, value)
        elif value == "itself":
            value = lead
        resolved[key] = value
    before = snapshot(lead)
    with pytest.raises(LifecycleError) as refused:
        perform(lead, st.actor_for(step, lead), step, st.deadlines, **resolved)
    assert (refused.value.code, refused.value.field, refused.value.forbidden) == (code, field, False)
    assert_refused_and_unchanged(lead, before)


def test_grant_without_a_request_is_refused(st):
    lead = st.lead_in(S.ACCEPTED)
    before = snapshot(lead)
    with pytest.raises(LifecycleError) as refused:
        perform(lead, st.chief, "grant_extension", st.deadlines, new_due=_later())
    assert refused.value.code == "no_extension_requested"
    assert_refused_and_unchanged(lead, before)


# --- side effects of particular steps ---------------------------------------------------------

def test_link_duplicate_points_at_the_root_and_deletes_nothing(st):
    root = st.new_lead(summary="原始报告")
    second = st.new_lead(summary="第二份")
    third = st.new_lead(summary="第三份")
    perform(second, st.wang, "link_duplicate", st.deadlines, original=root)
    perform(third, st.wang, "link_duplicate", st.deadlines, original=second)  # second is itself a copy
    commit()
    db.session.expire_all()
    assert third.duplicate_of_id == root.id and second.duplicate_of_id == root.id
    assert root.duplicate_of_id is None and root.status == S.ASSIGNED  # the original is untouched
    for copy in (second, third):
        assert (copy.status, copy.outcome) == (S.CLOSED, "duplicate")
        assert copy.closed_at is not None
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 3
    assert db.session.scalar(select(func.count()).select_from(LeadEvent)
                             .where(LeadEvent.lead_id == third.id, LeadEvent.kind == "link_duplicate")) == 1


def test_link_duplicate_follows_a_chain_made_later_to_its_root(st):
    first, second, root, late = (st.new_lead(summary=f"报告{i}") for i in range(4))
    perform(second, st.wang, "link_duplicate", st.deadlines, original=first)  # second → first
    perform(first, st.wang, "link_duplicate", st.deadlines, original=root)  # then first → root
    perform(late, st.wang, "link_duplicate", st.deadlines, original=second)
    assert late.duplicate_of_id == root.id


def test_linking_an_original_to_its_own_duplicate_is_refused(st):
    original = st.new_lead(summary="原始报告")
    copy = st.new_lead(summary="重复报告")
    perform(copy, st.wang, "link_duplicate", st.deadlines, original=original)
    commit()
    before = snapshot(original)
    with pytest.raises(LifecycleError) as refused:
        perform(original, st.wang, "link_duplicate", st.deadlines, original=copy)
    assert (refused.value.code, refused.value.field) == ("bad_original", "original")
    assert_refused_and_unchanged(original, before)


def test_reopen_counts_and_restarts_the_deadline(st):
    lead = st.lead_in(S.CLOSED, risk=Risk.ORANGE)
    old_due = lead.due_at
    reopened_at = datetime(2026, 3, 3, 17, 0, tzinfo=UTC)  # 01:00 on the 4th in Shanghai
    perform(lead, st.wang, "reopen", st.deadlines, now=reopened_at, reason="双方又起冲突")
    commit()
    db.session.expire_all()
    assert (lead.status, lead.reopened_count, lead.closed_at, lead.outcome) == (S.ASSIGNED, 1, None, "")
    assert lead.due_at == due_at(st.deadlines, "orange", reopened_at) != old_due
    assert lead.due_at == datetime(2026, 3, 9, 16, 0, tzinfo=UTC)  # end of the 9th, Shanghai
    assert lead.assignee == st.wang and lead.accepted_at is None
    assert kinds_for(st.wang, lead).count("assigned") == 2  # once at intake, once reopened
    perform(lead, st.wang, "accept", st.deadlines)
    perform(lead, st.wang, "resolve", st.deadlines, outcome="oral")
    perform(lead, st.wang, "reopen", st.deadlines, reason="第三次")
    assert lead.reopened_count == 2


def test_supervise_notifies_the_assignee_and_fills_the_queue(st):
    lead = st.lead_in(S.ACCEPTED)
    quiet = st.lead_in(S.ACCEPTED)
    until = utcnow() + timedelta(days=2)
    perform(lead, st.chief, "supervise", st.deadlines, until=until, comment="三日内上门化解")
    commit()
    db.session.expire_all()
    assert (lead.supervised_until, lead.supervision_comment) == (until, "三日内上门化解")
    assert "supervised" in kinds_for(st.wang, lead)
    assert "supervised" not in kinds_for(st.chief, lead)
    assert "supervised" not in kinds_for(st.wang, quiet)
    queue = lead_list(st.chief, LeadFilters(queue="supervised"), utcnow()).leads
    assert [x.id for x in queue] == [lead.id]


def test_extension_request_and_grant_move_the_deadline(st):
    lead = st.lead_in(S.IN_MEDIATION)
    perform(lead, st.wang, "request_extension", st.deadlines, reason="当事人在外地")
    assert (lead.extension_requested, lead.extension_reason) == (True, "当事人在外地")
    new_due = utcnow() + timedelta(days=10)
    perform(lead, st.chief, "grant_extension", st.deadlines, new_due=new_due)
    commit()
    db.session.expire_all()
    assert (lead.due_at, lead.extension_requested, lead.status) == (new_due, False, S.IN_MEDIATION)


def test_return_to_the_supervisors_and_reassign(st):
    lead = st.lead_in(S.ACCEPTED)
    perform(lead, st.chief, "assign", st.deadlines, assignee=st.zhao)
    assert (lead.status, lead.assignee, lead.accepted_at) == (S.ASSIGNED, st.zhao, None)
    assert "assigned" in kinds_for(st.zhao, lead)
    before = snapshot(lead)
    with pytest.raises(LifecycleError) as refused:  # wang no longer holds it
        perform(lead, st.wang, "accept", st.deadlines)
    assert refused.value.forbidden
    assert_refused_and_unchanged(lead, before)
    perform(lead, st.zhao, "accept", st.deadlines)
    assert lead.status == S.ACCEPTED


# --- the same through HTTP ----------------------------------------------------------------------

def signed_in(make_client, username: str, lang: str | None = "en") -> Browser:
    client = make_client()
    if lang:
        client.set_cookie("lang", lang)
    browser = Browser(client)
    assert browser.login(username).status_code == 303
    return browser


def reloaded(lead_id: int) -> Lead:
    db.session.rollback()
    db.session.expire_all()
    return db.session.get(Lead, lead_id)


def test_http_accept_by_the_assignee(st, make_client):
    lead = st.lead_in(S.ASSIGNED)
    commit()
    lead_id, version = lead.id, lead.version
    wang = signed_in(make_client, "wang")
    response = wang.post(f"/leads/{lead_id}/steps/accept", {"version": str(version)},
                         from_page=f"/leads/{lead_id}")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/leads/{lead_id}"
    lead = reloaded(lead_id)
    assert lead.status == S.ACCEPTED and lead.accepted_at is not None
    assert (lead.events[-1].kind, lead.events[-1].actor_id) == ("accept", st.wang.id)
    assert lead.version == version + 1


@pytest.mark.parametrize(("username", "status"), [
    pytest.param("zhao", 404, id="another-officer-cannot-even-see-it"),
    pytest.param("li", 404, id="the-reporting-volunteer"),
    pytest.param("chief", 403, id="a-supervisor-is-not-the-assignee"),
])
def test_http_accept_by_someone_else_is_refused(st, make_client, username, status):
    lead = st.lead_in(S.ASSIGNED)
    commit()
    lead_id, before = lead.id, snapshot(lead)
    browser = signed_in(make_client, username)
    response = browser.post(f"/leads/{lead_id}/steps/accept", {"version": str(lead.version)},
                            from_page="/account")
    assert response.status_code == status
    assert snapshot(reloaded(lead_id)) == before


@pytest.mark.parametrize(("lang", "message"), [
    pytest.param("en", "This step is not possible now: the lead is already past it or not there yet.",
                 id="en"),
    pytest.param(None, "当前无法执行此操作：该线索已过此环节或尚未到此环节。", id="zh-CN-default"),
])
def test_http_accept_twice_is_a_conflict_with_a_message(st, make_client, lang, message):
    lead = st.lead_in(S.ACCEPTED)
    commit()
    lead_id, before = lead.id, snapshot(lead)
    wang = signed_in(make_client, "wang", lang)
    response = wang.post(f"/leads/{lead_id}/steps/accept", {"version": str(lead.version)},
                         from_page=f"/leads/{lead_id}", headers={"HX-Request": "true"})
    assert response.status_code == 409
    body = html.unescape(response.get_data(as_text=True))
    assert message in body
    assert "<html" not in body and 'id="actions"' in body  # the actions fragment, swapped in place
    assert snapshot(reloaded(lead_id)) == before


def test_http_stale_version_is_a_conflict_and_changes_nothing(st, make_client):
    lead = st.lead_in(S.ASSIGNED)
    commit()
    lead_id, stale = lead.id, lead.version
    perform(lead, st.chief, "grade", st.deadlines, risk="red")  # someone else acts meanwhile
    commit()
    before = snapshot(reloaded(lead_id))
    wang = signed_in(make_client, "wang")
    response = wang.post(f"/leads/{lead_id}/steps/accept", {"version": str(stale)},
                         from_page=f"/leads/{lead_id}")
    assert response.status_code == 409
    body = html.unescape(response.get_data(as_text=True))
    assert "Someone else changed this lead" in body
    lead = reloaded(lead_id)
    assert snapshot(lead) == before and lead.status == S.ASSIGNED
    assert f'name="version" value="{lead.version}"' in body  # the retry carries the latest version


def test_http_return_without_reason_is_422_with_the_message(st, make_client):
    lead = st.lead_in(S.ASSIGNED)
    commit()
    lead_id, before = lead.id, snapshot(lead)
    wang = signed_in(make_client, "wang")
    response = wang.post(f"/leads/{lead_id}/steps/return", {"version": str(lead.version), "reason": ""},
                         from_page=f"/leads/{lead_id}")
    assert response.status_code == 422
    assert "Give a reason." in response.get_data(as_text=True)
    assert snapshot(reloaded(lead_id)) == before

"""POST /sync — the phone's outbox — through the real endpoint, on each database engine.

Every item goes through the same form and service as the page it stands for; these tests check what
the outbox relies on: one record per phone-made uuid however often (and wherever) it is replayed,
one result per item in order, messages per field in the person's language, each kind's permissions,
conflicts on stale steps, and a malformed batch refused whole.

One cast for the module: a station with community A (officer oa), community B (officer ob), volunteer
va in A and supervisor sup. Each test makes its own uuids and counts rows by them, so tests do not
depend on one another.
"""

from __future__ import annotations

import base64
import io
import re
import threading
import uuid as uuid_module
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from flask import current_app
from flask_babel import force_locale, gettext
from PIL import Image
from sqlalchemy import event, func, select

from tests.conftest import Browser, RequestIsolatedClient, empty_all_tables
from tests.factories import make_community, make_station, make_user
from webapp import create_app
from webapp.extensions import db
from webapp.leads.intake import intake_error_text
from webapp.leads.models import Lead, LeadEvent, LeadParty, LeadPhoto
from webapp.leads.services import CLOCK_TOLERANCE
from webapp.org.models import Role
from webapp.sync.kinds import kind_names
from webapp.sync.services import MAX_ITEMS
from webapp.timeutil import STATION_TZ, utcnow
from webapp.visits.models import Visit

STATUSES = {"created", "duplicate", "invalid", "conflict", "forbidden"}


# --- the cast --------------------------------------------------------------------------------------


class Phone:
    """A signed-in phone: its session cookie and the CSRF token it read from a page."""

    def __init__(self, client, token: str):
        self.client = client
        self.token = token

    def sync(self, *items: dict, token: str | None = None):
        return self.client.post("/sync", json={"items": list(items)},
                                headers={"X-CSRFToken": self.token if token is None else token})

    def results(self, *items: dict) -> list[dict]:
        response = self.sync(*items)
        assert response.status_code == 200, response.get_data(as_text=True)
        results = response.get_json()["results"]
        assert [r["uuid"] for r in results] == [item["uuid"] for item in items]
        return results


@dataclass
class World:
    app: object
    ids: dict[str, int] = field(default_factory=dict)
    _phones: dict[tuple[str, str], Phone] = field(default_factory=dict)

    def phone(self, person: str, lang: str = "en", app=None) -> Phone:
        """A phone signed in as `person`, in English ("en") or the default Chinese ("zh")."""
        key = (person, lang)
        if app is None and key in self._phones:
            return self._phones[key]
        client = (app or self.app).test_client()
        if lang == "en":
            client.set_cookie("lang", "en")
        browser = Browser(client)
        assert browser.login(f"sync_{person}").status_code == 303
        phone = Phone(client, browser.token("/account"))
        if app is None:
            self._phones[key] = phone
        return phone


@pytest.fixture(scope="module")
def world(app):
    world = World(app)
    with app.app_context():
        empty_all_tables()
        station = make_station("SYNC-PS")
        oa = make_user(station, Role.OFFICER, username="sync_oa")
        ob = make_user(station, Role.OFFICER, username="sync_ob")
        sup = make_user(station, Role.SUPERVISOR, username="sync_sup")
        community_a = make_community(station, code="SYNCA", officer=oa)
        community_b = make_community(station, code="SYNCB", officer=ob)
        va = make_user(station, Role.VOLUNTEER, username="sync_va", community=community_a)
        db.session.commit()
        world.ids = {"oa": oa.id, "ob": ob.id, "sup": sup.id, "va": va.id,
                     "A": community_a.id, "B": community_b.id}
        db.session.remove()
    yield world
    with app.app_context():
        empty_all_tables()


# --- items, as the phone's outbox makes them ---------------------------------------------------------


def new_uuid() -> str:
    return str(uuid_module.uuid4())


def report(world: World, **fields) -> dict:
    return {"uuid": new_uuid(), "kind": "lead.report", "fields": {
        "category": "neighbour", "summary": "楼上邻居深夜装修，噪音扰民，双方在楼道争吵。",
        "community_id": str(world.ids["A"]), "recorded_at": "2024-05-01T06:30:00.000Z", **fields}}


def desk(world: World, **fields) -> dict:
    return {"uuid": new_uuid(), "kind": "lead.desk", "fields": {
        "source": "walk_in", "source_ref": "", "category": "debt", "subtype": "private_lending",
        "summary": "借款三万元到期未还，出借人到派出所求助。", "community_id": str(world.ids["B"]),
        "grid_id": "", "risk": "",
        "parties-0-role": "applicant", "parties-0-name": "王建国", "parties-0-phone": "13800138000",
        "parties-0-id_number": "", "parties-0-relation": "出借人",
        "parties-1-role": "respondent", "parties-1-name": "李明", "parties-1-phone": "13900139000",
        "parties-1-id_number": "11010519491231002X", "parties-1-relation": "借款人", **fields}}


def visit(world: World, **fields) -> dict:
    today = utcnow().astimezone(STATION_TZ).date()
    return {"uuid": new_uuid(), "kind": "visit", "fields": {
        "household": "幸福里3栋402", "visited_on": today.isoformat(), "community_id": str(world.ids["A"]),
        "findings": "老人独居，与楼下因漏水有矛盾。", "recorded_at": utcnow().isoformat(), **fields}}


def step(lead_id: int, name: str, version: int, **fields) -> dict:
    return {"uuid": new_uuid(), "kind": "lead.step", "lead_id": lead_id, "step": name,
            "fields": {"version": str(version), **fields}}


def jpeg(size=(3000, 2000)) -> bytes:
    image = Image.new("RGB", size, (40, 110, 170))
    for x in range(0, size[0], 50):  # some detail, so it is not a trivially tiny file
        for y in range(0, size[1], 50):
            image.putpixel((x, y), (255, 255, 255))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92)
    return out.getvalue()


# --- reading the database (outside any old transaction) ---------------------------------------------


def count(model, *where) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def leads_with(uuid: str) -> int:
    return count(Lead, Lead.uuid == uuid)


def lead(lead_id: int) -> Lead:
    db.session.rollback()
    return db.session.get(Lead, lead_id)


def lead_id_of(url: str) -> int:
    match = re.fullmatch(r"/leads/(\d+)", url)
    assert match, url
    return int(match.group(1))


def reported_lead(world: World) -> int:
    """A volunteer's report in community A: routed to officer oa (status "assigned")."""
    result, = world.phone("va").results(report(world))
    assert result["status"] == "created"
    return lead_id_of(result["url"])


# --- one record per uuid ---------------------------------------------------------------------------


def test_the_same_report_three_times_in_one_batch_is_one_lead(ctx):
    item = report(ctx)
    results = ctx.phone("va").results(item, item, item)
    assert [r["status"] for r in results] == ["created", "duplicate", "duplicate"]
    assert len({r["url"] for r in results}) == 1
    assert leads_with(item["uuid"]) == 1


def test_the_same_report_in_three_batches_is_one_lead_with_the_phones_time(ctx):
    item = report(ctx, recorded_at="2024-05-01T06:30:00.000Z")
    before = utcnow()
    answers = [ctx.phone("va").results(item)[0] for _ in range(3)]
    after = utcnow()
    assert [a["status"] for a in answers] == ["created", "duplicate", "duplicate"]
    assert {a["url"] for a in answers} == {answers[0]["url"]}
    assert leads_with(item["uuid"]) == 1
    stored = lead(lead_id_of(answers[0]["url"]))
    assert stored.recorded_at == datetime(2024, 5, 1, 6, 30, tzinfo=UTC)  # the phone's clock
    assert before <= stored.received_at <= after  # the server's
    assert count(LeadEvent, LeadEvent.lead_id == stored.id, LeadEvent.kind == "registered") == 1


def test_a_phone_clock_in_the_future_is_held_to_the_servers_time(ctx):
    item = report(ctx, recorded_at=(utcnow() + timedelta(days=2)).isoformat())
    result, = ctx.phone("va").results(item)
    stored = lead(lead_id_of(result["url"]))
    assert stored.recorded_at <= stored.received_at + CLOCK_TOLERANCE


@pytest.fixture
def make_node(database, world):
    """Another app instance on the same database, as another node behind a balancer."""
    nodes = []
    shared = {name: world.app.config[name] for name in ("SECRET_KEY", "BEATBOOK_PASSWORD_METHOD")}

    def make(**settings):
        config = {k: v for k, v in database.items() if k.isupper()}
        node = create_app({"TESTING": True, **shared, **config, **settings})
        node.test_client_class = RequestIsolatedClient
        nodes.append(node)
        return node

    yield make
    for node in nodes:
        with node.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def other_node(make_node):
    return make_node()


def test_a_replay_to_another_node_is_a_duplicate(ctx, other_node):
    """The phone's retry lands on the other node, after a fresh sign-in there."""
    item, seen = report(ctx), visit(ctx)
    first = ctx.phone("va").results(item, seen)
    assert [r["status"] for r in first] == ["created", "created"]
    again = ctx.phone("va", app=other_node).results(item, seen)
    assert [r["status"] for r in again] == ["duplicate", "duplicate"]
    assert [r["url"] for r in again] == [r["url"] for r in first]
    assert leads_with(item["uuid"]) == 1
    assert count(Visit, Visit.uuid == seen["uuid"]) == 1


def test_two_nodes_racing_on_one_item_make_one_record(ctx, other_node):
    """The phone timed out on this node and resent the report to the other node while this one was
    still storing it. Both requests run at once (two threads, two app instances, one database):
    one answers created, the other duplicate, and there is one lead.

    The other node's request starts when this node is about to insert the lead. On PostgreSQL this
    node waits for it: the other node stores the lead first, and this node's insert hits the unique
    uuid and is answered as a replay. On SQLite this node holds the write lock (sync takes it first),
    so the other node queues behind it and then finds the lead stored."""
    item = report(ctx)
    here, there = ctx.phone("va"), ctx.phone("va", app=other_node)
    sqlite = ctx.app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    answers: dict[str, object] = {}

    def resend_to_the_other_node():
        try:
            answers["there"] = there.sync(item)
        except BaseException as error:  # noqa: BLE001 — re-raised in the test's thread below
            answers["there"] = error

    racer = threading.Thread(target=resend_to_the_other_node)

    def the_other_node_goes_now(connection, cursor, statement, parameters, context, executemany):
        if racer.ident is None and re.match(r"INSERT INTO lead\b", statement):
            racer.start()
            if not sqlite:
                racer.join(timeout=30)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", the_other_node_goes_now)
    try:
        answers["here"] = here.sync(item)
    finally:
        event.remove(engine, "before_cursor_execute", the_other_node_goes_now)
        if racer.ident is not None:
            racer.join(timeout=30)
    assert racer.ident is not None, "this node never inserted the lead"
    for name in ("here", "there"):
        if isinstance(answers[name], BaseException):
            raise answers[name]
        assert answers[name].status_code == 200, answers[name].get_data(as_text=True)[:2000]
    results = {name: answers[name].get_json()["results"][0] for name in ("here", "there")}
    first, second = ("here", "there") if sqlite else ("there", "here")
    assert (results[first]["status"], results[second]["status"]) == ("created", "duplicate")
    assert results["here"]["url"] == results["there"]["url"]
    assert leads_with(item["uuid"]) == 1
    assert count(LeadEvent, LeadEvent.lead_id == lead_id_of(results["here"]["url"]),
                 LeadEvent.kind == "registered") == 1


def test_another_persons_uuid_is_never_their_record(ctx):
    """A uuid already used by someone else is refused, and its record's address is not given away."""
    mine, seen = report(ctx), visit(ctx)
    assert [r["status"] for r in ctx.phone("va").results(mine, seen)] == ["created", "created"]
    lead_result, visit_result = ctx.phone("oa").results(dict(mine), dict(seen))
    assert lead_result["status"] == "invalid"
    assert lead_result["errors"] == {"uuid": ["This report id belongs to another report."]}
    assert "url" not in lead_result
    assert visit_result["status"] == "forbidden" and "url" not in visit_result
    assert leads_with(mine["uuid"]) == 1
    assert count(Lead, Lead.uuid == mine["uuid"], Lead.reporter_id == ctx.ids["va"]) == 1
    assert count(Visit, Visit.uuid == seen["uuid"], Visit.visitor_id == ctx.ids["va"]) == 1


# --- a mixed batch ---------------------------------------------------------------------------------


def test_a_mixed_batch_answers_each_item_in_order(ctx):
    good, seen, walk_in = report(ctx), visit(ctx), desk(ctx)
    bad = report(ctx, summary="吵" * 501, category="alien_abduction")
    results = ctx.phone("oa").results(good, bad, seen, walk_in)

    assert [r["status"] for r in results] == ["created", "invalid", "created", "created"]
    assert results[1]["errors"] == {"category": ["Not a valid choice."],
                                    "summary": ["Field cannot be longer than 500 characters."]}
    assert "url" not in results[1]
    assert leads_with(bad["uuid"]) == 0
    assert leads_with(good["uuid"]) == 1
    assert re.fullmatch(r"/visits/\d+", results[2]["url"])
    stored_visit = db.session.scalar(select(Visit).where(Visit.uuid == seen["uuid"]))
    assert stored_visit.household == "幸福里3栋402" and stored_visit.visitor_id == ctx.ids["oa"]
    desk_lead = lead(lead_id_of(results[3]["url"]))
    assert desk_lead.uuid == walk_in["uuid"]
    assert desk_lead.source == "walk_in" and desk_lead.subtype == "private_lending"
    assert [(p.role, p.name, p.phone, p.id_number) for p in desk_lead.parties] == [
        ("applicant", "王建国", "13800138000", ""),
        ("respondent", "李明", "13900139000", "11010519491231002X")]

    # The phone keeps the invalid item, the person fixes it, the next batch stores it.
    fixed = {**bad, "fields": {**bad["fields"], "summary": "吵" * 500, "category": "neighbour"}}
    again = ctx.phone("oa").results(good, fixed)
    assert [r["status"] for r in again] == ["duplicate", "created"]
    assert leads_with(bad["uuid"]) == 1
    assert lead(lead_id_of(again[1]["url"])).summary == "吵" * 500


def not_a_photo(locale: str = "en") -> str:
    """The app's message for a file that is not a picture (its wording is the app's to choose)."""
    with current_app.test_request_context(), force_locale(locale):
        return intake_error_text("not_an_image")


def zh(message: str) -> str:
    """`message` as the app's own catalogue says it in Chinese."""
    with current_app.test_request_context(), force_locale("zh_CN"):
        translated = gettext(message)
    assert translated != message and re.search(r"[\u4e00-\u9fff]", translated), f"untranslated: {message}"
    return translated


def test_messages_are_in_chinese_by_default(ctx):
    bad = report(ctx, summary="吵" * 501, category="alien_abduction")
    unplaced = report(ctx, community_id="", category="")
    bad_party = desk(ctx, **{"parties-0-phone": "call me"})
    photo = report(ctx)
    photo["photos"] = [{"name": "a.jpg", "type": "image/jpeg",
                        "data": base64.b64encode(b"not a jpeg").decode()}]
    results = ctx.phone("oa", lang="zh").results(bad, unplaced, bad_party, photo)
    assert [r["status"] for r in results] == ["invalid"] * 4
    errors = [r["errors"] for r in results]
    # WTForms' own messages, in WTForms' own Chinese:
    assert errors[0] == {"category": ["不是有效的选择。"], "summary": ["字段长度不能超过 500 个字符。"]}
    # Beatbook's messages, from its catalogue:
    assert errors[1] == {"category": [zh("Choose a kind of dispute.")],
                         "community_id": [zh("Use your location or pick a community.")]}
    assert errors[2] == {"parties-0-phone": [zh("Not a valid phone number.")]}
    assert errors[3] == {"photo": [zh(not_a_photo())]}
    for item in (bad, unplaced, bad_party, photo):
        assert leads_with(item["uuid"]) == 0


# --- permissions ------------------------------------------------------------------------------------


def test_a_volunteer_may_not_send_a_desk_lead(ctx):
    walk_in = desk(ctx)
    parties = count(LeadParty)
    result, = ctx.phone("va").results(walk_in)
    assert result == {"uuid": walk_in["uuid"], "index": 0, "status": "forbidden"}
    assert leads_with(walk_in["uuid"]) == 0
    assert count(LeadParty) == parties


def test_a_step_on_a_lead_outside_ones_scope_is_forbidden(ctx):
    lead_id = reported_lead(ctx)
    version = lead(lead_id).version
    events = count(LeadEvent, LeadEvent.lead_id == lead_id)
    by_other_officer = step(lead_id, "accept", version)
    by_volunteer = step(lead_id, "grade", version, risk="red")
    assert ctx.phone("ob").results(by_other_officer)[0]["status"] == "forbidden"
    assert ctx.phone("va").results(by_volunteer)[0]["status"] == "forbidden"
    # In scope (the supervisor sees the station) but not the assignee: the lifecycle refuses it too.
    by_supervisor = step(lead_id, "accept", version)
    assert ctx.phone("sup").results(by_supervisor)[0]["status"] == "forbidden"
    assert count(LeadEvent, LeadEvent.lead_id == lead_id) == events
    assert lead(lead_id).status == "assigned" and lead(lead_id).version == version


def test_a_step_is_taken_once_and_a_stale_one_is_a_conflict(ctx):
    lead_id = reported_lead(ctx)
    current = lead(lead_id)
    assert current.status == "assigned" and current.assignee_id == ctx.ids["oa"]
    version = current.version
    oa = ctx.phone("oa")

    accept = step(lead_id, "accept", version)
    assert oa.results(accept)[0] == {"uuid": accept["uuid"], "index": 0, "status": "created",
                                     "url": f"/leads/{lead_id}"}
    assert lead(lead_id).status == "accepted"
    accepted_version = lead(lead_id).version
    assert accepted_version > version

    replay, = oa.results(accept)
    assert replay["status"] == "duplicate" and replay["url"] == f"/leads/{lead_id}"
    assert count(LeadEvent, LeadEvent.lead_id == lead_id, LeadEvent.kind == "accept") == 1
    assert count(LeadEvent, LeadEvent.uuid == accept["uuid"]) == 1

    # Made on the phone before the accept reached the server: based on the old version.
    mediate = step(lead_id, "start_mediation", version)
    conflict, = oa.results(mediate)
    assert conflict["status"] == "conflict"
    server = conflict["server"]
    assert server["version"] == accepted_version
    assert server["status"] == "accepted"
    assert server["risk"] == lead(lead_id).risk
    assert server["last_change"]
    assert server["assignee"] == "Person sync_oa"
    assert lead(lead_id).status == "accepted"
    assert count(LeadEvent, LeadEvent.uuid == mediate["uuid"]) == 0

    # The person looks at the latest and sends the step again, on the server's version.
    resent = {**mediate, "fields": {**mediate["fields"], "version": str(server["version"])}}
    assert oa.results(resent)[0]["status"] == "created"
    assert lead(lead_id).status == "in_mediation"
    assert count(LeadEvent, LeadEvent.uuid == mediate["uuid"]) == 1


def test_a_step_with_a_bad_value_is_invalid_and_changes_nothing(ctx):
    lead_id = reported_lead(ctx)
    before = lead(lead_id)
    version, risk = before.version, before.risk
    grade = step(lead_id, "grade", version, risk="purple")
    result, = ctx.phone("oa").results(grade)
    assert result["status"] == "invalid"
    assert result["errors"] == {"risk": ["Choose a risk grade."]}
    after = lead(lead_id)
    assert (after.version, after.risk) == (version, risk)
    assert count(LeadEvent, LeadEvent.uuid == grade["uuid"]) == 0


# --- refusing the whole request ---------------------------------------------------------------------


def test_signed_out_is_401_and_stores_nothing(ctx):
    client = ctx.app.test_client()
    token = Browser(client).token("/login")  # a signed-out session still has a CSRF token
    item = report(ctx)
    response = Phone(client, token).sync(item)
    assert response.status_code == 401
    assert response.get_json() == {"error": "sign_in_required"}
    assert leads_with(item["uuid"]) == 0


@pytest.mark.parametrize("token", ["", "not-a-token"])
def test_a_missing_or_wrong_csrf_token_is_400(ctx, token):
    item = report(ctx)
    response = ctx.phone("va").sync(item, token=token)
    assert response.status_code == 400
    assert response.get_json() == {"error": "csrf"}
    assert leads_with(item["uuid"]) == 0


def test_a_token_from_another_session_is_refused(ctx):
    item = report(ctx)
    response = ctx.phone("va").sync(item, token=ctx.phone("oa").token)
    assert response.get_json() == {"error": "csrf"} and response.status_code == 400
    assert leads_with(item["uuid"]) == 0


def test_at_most_fifty_items_per_batch(ctx):
    items = [report(ctx) for _ in range(MAX_ITEMS + 1)]
    too_many = ctx.phone("va").sync(*items)
    assert too_many.status_code == 413
    assert too_many.get_json()["error"] == "too_many_items"
    assert count(Lead, Lead.uuid.in_([i["uuid"] for i in items])) == 0

    results = ctx.phone("va").results(*items[:MAX_ITEMS])
    assert {r["status"] for r in results} == {"created"}
    assert count(Lead, Lead.uuid.in_([i["uuid"] for i in items])) == MAX_ITEMS


def _malformed(world: World) -> dict[str, dict | str]:
    good = report(world)
    return {
        "missing uuid": {k: v for k, v in good.items() if k != "uuid"},
        "short uuid": {**good, "uuid": "1234"},
        "unknown kind": {**good, "kind": "lead.delete"},
        "no kind": {k: v for k, v in good.items() if k != "kind"},
        "not an object": "lead.report",
        "fields not an object": {**good, "fields": ["category", "neighbour"]},
        "step without lead id": {**step(1, "accept", 1), "lead_id": None},
        "unknown step": step(1, "teleport", 1),
        "photo not base64": {**good, "photos": [{"name": "a.jpg", "type": "image/jpeg",
                                                 "data": "%%%not base64"}]},
    }


MALFORMED = ["missing uuid", "short uuid", "unknown kind", "no kind", "not an object", "fields not an object",
             "step without lead id", "unknown step", "photo not base64"]


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_item_is_invalid_alone(ctx, case):
    cases = _malformed(ctx)
    assert set(cases) == set(MALFORMED)
    bad, after = cases[case], report(ctx)
    response = ctx.phone("va").sync(bad, after)
    assert response.status_code == 200, response.get_data(as_text=True)
    first, second = response.get_json()["results"]
    assert (first["index"], first["status"]) == (0, "invalid") and first["errors"]
    assert (second["uuid"], second["status"]) == (after["uuid"], "created")
    assert leads_with(after["uuid"]) == 1
    if isinstance(bad, dict) and "uuid" in bad:
        assert leads_with(str(bad["uuid"])) == 0


def test_a_body_over_the_size_limit_is_a_json_413_and_stores_nothing(ctx, make_node):
    """The OpenAPI document promises a JSON error for every 413; a client reads it as JSON."""
    phone = ctx.phone("va", app=make_node(MAX_CONTENT_LENGTH=64 * 1024))
    item = report(ctx)
    item["photos"] = [{"name": "big.jpg", "type": "image/jpeg", "data": base64.b64encode(jpeg()).decode()}]
    response = phone.sync(item)
    assert response.status_code == 413
    assert response.mimetype == "application/json"
    assert response.get_json()["error"]
    assert leads_with(item["uuid"]) == 0


def test_a_bad_item_never_holds_back_the_rest_of_its_batch(ctx):
    """The phone retries a failed batch whole; one bad item answered alone lets the others through."""
    lead_id = reported_lead(ctx)
    version = lead(lead_id).version
    before, seen, accept = report(ctx), visit(ctx), step(lead_id, "accept", version)
    bad = {**report(ctx), "kind": "lead.delete"}
    results = ctx.phone("oa").results(before, seen, accept, bad)
    assert [r["status"] for r in results] == ["created", "created", "created", "invalid"]
    assert leads_with(before["uuid"]) == 1 and leads_with(bad["uuid"]) == 0
    assert count(Visit, Visit.uuid == seen["uuid"]) == 1
    assert count(LeadEvent, LeadEvent.uuid == accept["uuid"]) == 1
    assert lead(lead_id).status == "accepted"


@pytest.mark.parametrize("body", [{}, {"items": "all of them"}, [1, 2], None])
def test_a_body_without_an_item_list_is_400(ctx, body):
    phone = ctx.phone("va")
    response = phone.client.post("/sync", json=body, headers={"X-CSRFToken": phone.token})
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request"


# --- photos -----------------------------------------------------------------------------------------


def test_a_base64_jpeg_is_stored_downscaled(ctx):
    raw = jpeg((3000, 2000))
    item = report(ctx, summary="门口堆放杂物，邻居拍照为证。")
    item["photos"] = [{"name": "IMG_0001.jpg", "type": "image/jpeg", "data": base64.b64encode(raw).decode()}]
    result, = ctx.phone("va").results(item)
    assert result["status"] == "created"
    photo, = db.session.scalars(select(LeadPhoto).where(LeadPhoto.lead_id == lead_id_of(result["url"])))
    assert (photo.width, photo.height) == (1600, 1067)
    with Image.open(io.BytesIO(photo.data)) as stored:
        assert stored.format == "JPEG" and stored.size == (1600, 1067)
    assert photo.size == len(photo.data) < len(raw)


def test_a_desk_lead_keeps_every_photo(ctx):
    item = desk(ctx)
    item["photos"] = [{"name": f"p{n}.jpg", "type": "image/jpeg",
                       "data": base64.b64encode(jpeg((640, 480))).decode()} for n in range(2)]
    result, = ctx.phone("sup").results(item)
    assert result["status"] == "created"
    assert count(LeadPhoto, LeadPhoto.lead_id == lead_id_of(result["url"])) == 2


def test_a_file_that_is_not_a_picture_is_invalid(ctx):
    item = report(ctx)
    item["photos"] = [{"name": "notes.jpg", "type": "image/jpeg",
                       "data": base64.b64encode(b"shopping list: rice, eggs, tea").decode()}]
    photos = count(LeadPhoto)
    result, = ctx.phone("va").results(item)
    assert result["status"] == "invalid"
    assert result["errors"] == {"photo": [not_a_photo()]}
    assert leads_with(item["uuid"]) == 0
    assert count(LeadPhoto) == photos


# --- the OpenAPI description -----------------------------------------------------------------------


def _check(value, schema: dict, where: str = "$") -> None:
    """Validate `value` against the JSON-schema keywords the document uses (no new dependency)."""
    if "oneOf" in schema:
        _check_one_of(value, schema["oneOf"], where)
        return
    kind = schema.get("type")
    types = {"object": dict, "array": list, "string": str, "integer": int, "boolean": bool}
    if kind:
        assert isinstance(value, types[kind]) and not (kind == "integer" and isinstance(value, bool)), \
            f"{where}: {value!r} is not {kind}"
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    if kind == "object":
        _check_object(value, schema, where)
    if kind == "array":
        assert len(value) <= schema.get("maxItems", len(value)), f"{where}: too many items"
        for index, sub in enumerate(value):
            _check(sub, schema.get("items", {}), f"{where}[{index}]")


def _check_one_of(value, options: list[dict], where: str) -> None:
    matches = 0
    for option in options:
        try:
            _check(value, option, where)
        except AssertionError:
            continue
        matches += 1
    assert matches == 1, f"{where}: {value!r} matches {matches} of oneOf"


def _check_object(value: dict, schema: dict, where: str) -> None:
    for name in schema.get("required", []):
        assert name in value, f"{where}: missing {name}"
    properties = schema.get("properties", {})
    for name, sub in value.items():
        if name in properties:
            _check(sub, properties[name], f"{where}.{name}")
        elif isinstance(schema.get("additionalProperties"), dict):
            _check(sub, schema["additionalProperties"], f"{where}.{name}")


@pytest.fixture
def openapi(ctx) -> dict:
    response = ctx.app.test_client().get("/api/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def test_the_openapi_document_describes_the_endpoint(openapi):
    assert re.fullmatch(r"3\.\d+\.\d+", openapi["openapi"])
    assert openapi["info"]["title"] and openapi["info"]["version"]
    operation = openapi["paths"]["/sync"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["items"]
    items = body["properties"]["items"]
    assert items["maxItems"] == MAX_ITEMS
    variants = items["items"]["oneOf"]
    assert [v["properties"]["kind"]["enum"] for v in variants] == [[name] for name in kind_names()]
    for variant in variants:
        assert {"uuid", "kind", "fields"} <= set(variant["required"])
    step_schema, = (v for v in variants if v["properties"]["kind"]["enum"] == ["lead.step"])
    assert {"lead_id", "step"} <= set(step_schema["required"])
    assert set(operation["responses"]) == {"200", "400", "401", "413"}
    result = operation["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["results"]
    assert set(result["items"]["properties"]["status"]["enum"]) == STATUSES
    for code in ("400", "401", "413"):
        assert "error" in operation["responses"][code]["content"]["application/json"]["schema"]["properties"]


def test_real_requests_and_answers_match_the_document(ctx, openapi):
    operation = openapi["paths"]["/sync"]["post"]
    request_schema = operation["requestBody"]["content"]["application/json"]["schema"]
    response_schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    error_schema = operation["responses"]["401"]["content"]["application/json"]["schema"]

    lead_id = reported_lead(ctx)
    good = report(ctx)
    good["photos"] = [{"name": "a.jpg", "type": "image/jpeg",
                       "data": base64.b64encode(jpeg((320, 240))).decode()}]
    body = {"items": [good, good, report(ctx, category="alien_abduction"), visit(ctx), desk(ctx),
                      step(lead_id, "accept", 0), step(lead_id, "accept", lead(lead_id).version)]}
    _check(body, request_schema)
    response = ctx.phone("oa").client.post("/sync", json=body,
                                           headers={"X-CSRFToken": ctx.phone("oa").token})
    assert response.status_code == 200
    answer = response.get_json()
    _check(answer, response_schema)
    assert [r["status"] for r in answer["results"]] == [
        "created", "duplicate", "invalid", "created", "created", "conflict", "created"]

    unauthenticated = ctx.app.test_client()
    token = Browser(unauthenticated).token("/login")
    _check(Phone(unauthenticated, token).sync(good).get_json(), error_schema)


def test_syncing_a_routed_report_does_not_look_up_the_supervisors(ctx):
    """Only an unroutable or red lead tells the supervisors; looking them up for every synced
    report was a sixth of /sync's time (issue 15's profile)."""
    phone = ctx.phone("va")
    asked_for_supervisors = []

    def note(_conn, _cursor, statement, parameters, _context, _executemany):
        values = parameters.values() if isinstance(parameters, dict) else (parameters or ())
        if "user_role" in statement and Role.SUPERVISOR.value in values:
            asked_for_supervisors.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        [routed] = phone.results(report(ctx))
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert routed["status"] == "created"
    db.session.rollback()
    assert db.session.scalar(select(Lead.assignee_id).where(Lead.uuid == routed["uuid"])) == ctx.ids["oa"]
    assert asked_for_supervisors == []


# --- the cost of a batch ------------------------------------------------------------------------------


def _statements_of(ctx, items: list[dict]) -> list[str]:
    statements: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with ctx.app.app_context():
        engine = db.engine
    phone = ctx.phone("va")
    event.listen(engine, "before_cursor_execute", note)
    try:
        assert {r["status"] for r in phone.results(*items)} == {"created"}
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return statements


def test_a_batch_restamps_the_figures_once_and_costs_a_few_statements_per_report(ctx):
    """Each item's savepoint used to restamp the station's figures (two statements and a row lock
    per item, as if each were a commit); the batch's one commit restamps once."""
    ten = _statements_of(ctx, [report(ctx) for _ in range(10)])
    twenty = _statements_of(ctx, [report(ctx) for _ in range(20)])
    restamps = [s for s in twenty if "figures_stamp" in s and s.lstrip().upper().startswith("UPDATE")]
    assert len(restamps) == 1
    per_item = (len(twenty) - len(ten)) / 10
    # SQLite: the report's three events and its feed entry, one INSERT each (SQLite returns a
    # many-row INSERT's ids in order only by a sentinel column; the leads have one, their uuid).
    # PostgreSQL writes each table's rows in one statement. Was 15.2, then 12 with a savepoint, a
    # flush and two uuid look-ups per item. The half is room for the session's once-a-minute touch,
    # which may fall in either batch.
    assert per_item <= (4.5 if ctx.app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite") else 1), \
        "\n".join(twenty[len(ten):][:40])


def test_a_batch_of_reports_is_looked_up_once_and_written_by_one_flush(ctx):
    """Sync in bulk (issue 15): the batch's uuids are looked up in one query and its reports are
    written by one flush, then what their announcements add (inbox entries, feed entries) by one
    more, however many reports the batch holds. Each item had its own savepoint, flush and two
    look-ups of its uuid."""
    from sqlalchemy.orm import Session

    flushes: list[int] = []

    def note(session, _context) -> None:
        flushes.append(len(session.new))

    for size in (5, 20):
        flushes.clear()
        event.listen(Session, "after_flush", note)
        try:
            statements = _statements_of(ctx, [report(ctx) for _ in range(size)])
        finally:
            event.remove(Session, "after_flush", note)
        look_ups = [s for s in statements if re.match(r"\s*SELECT lead\.id, lead\.uuid\b", s)]
        assert len(look_ups) == 1, look_ups
        assert len(flushes) == 2, flushes
        inbox_writes = [s for s in statements if s.lstrip().startswith("INSERT INTO notification")]
        assert len(inbox_writes) == 1


def test_three_reports_on_one_household_in_one_batch_are_a_repeat(ctx):
    """The batch's reports are written together at its end: the third report on a household still
    counts the two before it in the same batch (as it would in three batches)."""
    address = f"幸福里{uuid_module.uuid4().hex[:6]}栋3单元502"
    items = [report(ctx, address=where, summary=f"同一户第{n}次反映楼上噪音扰民。")
             for n, where in enumerate((address, address.replace("栋", " 栋 "), address))]
    results = ctx.phone("va").results(*items)
    assert [r["status"] for r in results] == ["created"] * 3
    repeats = [lead(lead_id_of(r["url"])).flag_repeat for r in results]
    assert repeats == [False, False, True]
    assert lead(lead_id_of(results[2]["url"])).risk == "orange"  # a neighbour dispute, graded up


def test_a_failed_item_between_reports_leaves_the_batch_whole(ctx):
    """A step refused in the middle of staged reports: the reports before and after it are stored,
    each once, with their own pages."""
    before, after = report(ctx), report(ctx)
    bad_step = step(2**31 - 1, "accept", 1)
    results = ctx.phone("va").results(before, bad_step, after)
    assert [r["status"] for r in results] == ["created", "forbidden", "created"]
    assert results[0]["url"] != results[2]["url"]
    assert leads_with(before["uuid"]) == leads_with(after["uuid"]) == 1


def test_jobs_noted_in_a_batch_are_queued_only_when_the_batch_commits(ctx):
    """A savepoint's release is not a commit: a push job queued there could run before its
    notification exists for other connections, find nothing, and the push would wait for the sweep."""
    from webapp.jobs import huey

    huey.flush()
    queued_at_release = []

    @event.listens_for(db.session.registry().__class__, "after_transaction_end")
    def _count(session, transaction):
        if transaction.nested:
            queued_at_release.append(len(huey.pending()))

    try:
        with ctx.app.app_context():
            results = ctx.phone("va").results(report(ctx), report(ctx), report(ctx))
    finally:
        event.remove(db.session.registry().__class__, "after_transaction_end", _count)
    assert [r["status"] for r in results] == ["created"] * 3
    assert queued_at_release and set(queued_at_release) == {0}
    [push] = huey.pending()  # the three officers' pushes, in one job (one queue write)
    assert push.name == "push_notifications" and len(push.args[0]) == 3

"""Lead intake through the pages people use: the volunteer's quick form and the station's desk form.

Bad input of every kind gets a 422 with a message in English and in Chinese, and stores nothing;
good input is registered, routed, graded, de-duplicated and its photos cleaned.

One cast for the module (scrypt makes each person cost ~60 ms): a station with community A (a
boundary polygon, officer oa, grid GA), community B (officer ob, grid GB), volunteer va in A and
supervisor sup. Every test that stores something uses its own addresses and phones.
"""

from __future__ import annotations

import html as html_module
import io
import re
import uuid
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests.conftest import Browser, empty_all_tables
from tests.factories import make_community, make_grid, make_station, make_user
from webapp.extensions import db
from webapp.leads.codes import Risk, Source
from webapp.leads.deadlines import due_at, parse_deadlines
from webapp.leads.grading import bump
from webapp.leads.models import Lead, LeadEvent, LeadParty, LeadPhoto
from webapp.leads.services import LeadInput, register_lead
from webapp.notify.models import Notification
from webapp.org.models import Community, Role, User
from webapp.timeutil import STATION_TZ, utcnow
from webapp.visits.models import Visit

# Community A's boundary: a small square in Hefei (longitude, latitude).
SQUARE = ('{"type": "Polygon", "coordinates": [[[117.28, 31.86], [117.284, 31.86], [117.284, 31.8636], '
          '[117.28, 31.8636], [117.28, 31.86]]]}')
INSIDE_A = {"latitude": "31.8618", "longitude": "117.282", "gps_accuracy_m": "12"}
KNOWN_UUID = "0f0e0d0c-0b0a-4909-8807-060504030201"  # a report the supervisor made


@dataclass
class World:
    app: object
    ids: dict[str, int] = field(default_factory=dict)
    _browsers: dict[tuple[str, str], Browser] = field(default_factory=dict)
    _tokens: dict[int, str] = field(default_factory=dict)

    def browser(self, person: str, lang: str = "en") -> Browser:
        """A phone signed in as `person`, showing English ("en") or the default Chinese ("zh")."""
        key = (person, lang)
        if key not in self._browsers:
            client = self.app.test_client()
            if lang == "en":
                client.set_cookie("lang", "en")
            browser = Browser(client)
            assert browser.login(f"int_{person}").status_code == 303
            self._browsers[key] = browser
        return self._browsers[key]

    def token(self, browser: Browser) -> str:
        """The session's CSRF token, read from a page once (it lives as long as the session)."""
        if id(browser) not in self._tokens:
            self._tokens[id(browser)] = browser.token("/account")
        return self._tokens[id(browser)]


def deadlines(app):
    return parse_deadlines(app.config["BEATBOOK_DEADLINES"])


@pytest.fixture(scope="module")
def world(app):
    """The cast, built once for the module; every table is emptied afterwards."""
    world = World(app)
    with app.app_context():
        empty_all_tables()
        station = make_station("INT-PS")
        oa = make_user(station, Role.OFFICER, username="int_oa")
        ob = make_user(station, Role.OFFICER, username="int_ob")
        sup = make_user(station, Role.SUPERVISOR, username="int_sup")
        community_a = make_community(station, code="INTA", officer=oa, boundary=SQUARE)
        community_b = make_community(station, code="INTB", officer=ob)
        grid_a, grid_b = make_grid(community_a, code="INTGA"), make_grid(community_b, code="INTGB")
        va = make_user(station, Role.VOLUNTEER, username="int_va", community=community_a)
        db.session.commit()
        # A report of va's (for the pages that show one), and one of the supervisor's with a known id.
        mine = register_lead(va, LeadInput(source=Source.VOLUNTEER, category="neighbour",
                                           summary="Shape probe: a quarrel on the stairs",
                                           community=community_a), deadlines(app), 10 << 20).lead
        register_lead(sup, LeadInput(source=Source.WALK_IN, category="debt", summary="Known uuid probe",
                                     uuid=KNOWN_UUID, community=community_b), deadlines(app), 10 << 20)
        db.session.commit()
        world.ids = {"oa": oa.id, "ob": ob.id, "sup": sup.id, "va": va.id, "A": community_a.id,
                     "B": community_b.id, "GA": grid_a.id, "GB": grid_b.id, "va_lead": mine.id}
        db.session.remove()
    yield world
    with app.app_context():
        empty_all_tables()


# --- helpers -------------------------------------------------------------------------------------


def rows() -> dict[str, int]:
    """How many of each thing intake may store (read outside any old transaction)."""
    db.session.rollback()
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Lead, LeadParty, LeadPhoto, LeadEvent, Notification)}


def text_of(response) -> str:
    return html_module.unescape(response.get_data(as_text=True))


def png(size=(64, 48), colour=(30, 90, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def jpeg_with_gps_and_time() -> bytes:
    """A phone photo: camera make/model, the capture time and where it was taken, in EXIF."""
    image = Image.new("RGB", (800, 600), (180, 120, 60))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "PhoneModel X"
    exif.get_ifd(0x8769)[0x9003] = "2024:05:01 14:30:00"  # DateTimeOriginal, Shanghai time
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (31.0, 51.0, 40.0), "E", (117.0, 16.0, 50.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def file(data: bytes, name: str):
    return (io.BytesIO(data), name)


def quick_form(world: World, **overrides) -> dict:
    """What the quick form sends: its select always has a value, GPS fields only when located."""
    form = {"category": "neighbour", "community_id": str(world.ids["A"]), "address": "",
            "summary": "Two neighbours shout about a water leak", "uuid": "", "recorded_at": ""}
    form.update(overrides)
    return form


def desk_form(world: World, **overrides) -> dict:
    """What the desk form sends: every select its first option unless chosen; a party's role is
    blank until the officer picks one (here: the first person is the applicant, the second
    block is left unused)."""
    form = {
        "source": "walk_in", "source_ref": "", "category": "neighbour", "subtype": "",
        "summary": "Walk-in: a tenant and landlord argue over a deposit", "risk": "", "head_count": "",
        "community_id": str(world.ids["A"]), "grid_id": "", "address": "",
        "parties-0-role": "applicant", "parties-0-name": "", "parties-0-phone": "",
        "parties-0-id_number": "", "parties-0-relation": "",
        "parties-1-role": "", "parties-1-name": "", "parties-1-phone": "",
        "parties-1-id_number": "", "parties-1-relation": "",
        "uuid": "", "recorded_at": "",
    }
    form.update(overrides)
    return form


def send(browser: Browser, path: str, form: dict, token: str | None = None, **kwargs):
    """POST `form` as multipart/form-data (file tuples become uploads), with a CSRF token (read
    from `path` unless given).

    The body is encoded in memory: the test client would spool a big upload to a temporary file
    it never closes (a ResourceWarning, an error here).
    """
    values = MultiDict()
    for key, value in {"csrf_token": token or browser.token(path), **form}.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, tuple):
                item = FileStorage(stream=item[0], filename=item[1], content_type="application/octet-stream")
            values.add(key, item)
    boundary, body = encode_multipart(values)
    return browser.client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}",
                               **kwargs)


def post_quick(world: World, form: dict, person: str = "va", lang: str = "en", path: str = "/leads/new",
               **kwargs):
    browser = world.browser(person, lang)
    return send(browser, path, form, world.token(browser), **kwargs)


def post_desk(world: World, form: dict, person: str = "oa", lang: str = "en", path: str = "/leads/desk",
              **kwargs):
    browser = world.browser(person, lang)
    return send(browser, path, form, world.token(browser), **kwargs)


def lead_at(response) -> Lead:
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    match = re.fullmatch(r"/leads/(\d+)", response.headers["Location"])
    assert match, response.headers["Location"]
    db.session.rollback()
    return db.session.get(Lead, int(match.group(1)))


def unique_phone() -> str:
    return "137" + str(uuid.uuid4().int)[:8]


# --- bad input ----------------------------------------------------------------------------------

# Our own messages: the Chinese is the zh-CN catalogue's (webapp/translations/.../messages.po).
POSITION = ("Not a valid position.", "位置信息无效。")
NO_PLACE = ("Use your location or pick a community.", "请使用当前位置或选择社区。")
KIND = ("Choose a kind of dispute.", "请选择纠纷类型。")
CATEGORY = ("Choose a category.", "请选择纠纷类型。")
REFERENCE = ("Enter the ticket or incident number.", "请填写工单号或警情编号。")
HEAD_COUNT = ("Enter how many people are involved.", "请填写涉及人数。")
ROLE = ("Choose this person's role.", "请选择此人的角色。")
PHONE = ("Not a valid phone number.", "电话号码格式不正确。")
ID_NUMBER = ("Not a valid ID number.", "身份证号格式不正确。")
GRID = ("The grid is not in the chosen community.", "该网格不属于所选社区。")
NOT_A_PHOTO = ("This file is not a photo (JPEG, PNG or WebP).",
               "该文件不是照片（支持 JPEG、PNG 或 WebP）。")
TOO_LARGE = ("The photo is larger than 10 MB.", "照片超过 10 MB。")
REPORT_ID = ("Not a valid report id.", "上报编号无效。")
TIME = ("Not a valid time.", "时间无效。")
UUID_TAKEN = ("This report id belongs to another report.", "该上报编号已被其他上报使用。")
# WTForms' own messages, translated by WTForms' catalogue.
REQUIRED = ("This field is required.", "该字段是必填字段。")
CHOICE = ("Not a valid choice.", "不是有效的选择。")
INTEGER = ("Not a valid integer value.", "不是有效的整数。")
HEADS_RANGE = ("Number must be between 1 and 100000.", "数值大小必须介于 1 到 100000 之间。")


def longer_than(n: int) -> tuple[str, str]:
    return (f"Field cannot be longer than {n} characters.", f"字段长度不能超过 {n} 个字符。")


BIG = b"\xff\xd8\xff\xe0" + b"\0" * (20 * 1024 * 1024)  # 20 MB named photo.jpg (the cap is 10 MB)
NOT_AN_IMAGE = b"This is a shopping list, not a photo.\n" * 20

# (id, overrides, files, message, marks)
QUICK_CASES = [
    ("summary-501", {"summary": "长" * 501}, {}, longer_than(500), []),
    ("summary-missing", {"summary": ""}, {}, REQUIRED, []),
    ("address-201", {"address": "路" * 201}, {}, longer_than(200), []),
    ("category-unknown", {"category": "castle"}, {}, CHOICE, []),
    ("category-blank", {"category": ""}, {}, KIND, []),
    ("community-unknown", {"community_id": "999999"}, {}, CHOICE, []),
    ("no-community-no-gps", {"community_id": ""}, {}, NO_PLACE, []),
    ("latitude-91", {"community_id": "", "latitude": "91", "longitude": "117.282"}, {}, POSITION, []),
    ("latitude-abc", {"community_id": "", "latitude": "abc", "longitude": "117.282"}, {}, POSITION, []),
    ("longitude-181", {"community_id": "", "latitude": "31.86", "longitude": "181"}, {}, POSITION, []),
    ("latitude-without-longitude", {"latitude": "31.8618"}, {}, POSITION, []),
    ("longitude-without-latitude", {"longitude": "117.282"}, {}, POSITION, []),
    ("accuracy-negative", {"community_id": "", **INSIDE_A, "gps_accuracy_m": "-5"}, {}, POSITION, []),
    ("uuid-bad", {"uuid": "not-a-uuid"}, {}, REPORT_ID, []),
    ("uuid-of-someone-else", {"uuid": KNOWN_UUID}, {}, UUID_TAKEN, []),
    ("recorded-at-bad", {"recorded_at": "yesterday at noon"}, {}, TIME, []),
    ("photo-not-an-image", {}, {"photo": lambda: file(NOT_AN_IMAGE, "photo.jpg")}, NOT_A_PHOTO, []),
    ("photo-20-mb", {}, {"photo": lambda: file(BIG, "photo.jpg")}, TOO_LARGE, []),
]

DESK_CASES = [
    ("summary-2001", {"summary": "长" * 2001}, {}, longer_than(2000), []),
    ("summary-missing", {"summary": "  "}, {}, REQUIRED, []),
    ("address-201", {"address": "路" * 201}, {}, longer_than(200), []),
    ("hotline-without-reference", {"source": "hotline_12345"}, {}, REFERENCE, []),
    ("110-with-blank-reference", {"source": "police_110", "source_ref": "   "}, {}, REFERENCE, []),
    ("reference-65", {"source": "police_110", "source_ref": "1" * 65}, {}, longer_than(64), []),
    ("source-unknown", {"source": "carrier_pigeon"}, {}, CHOICE, []),
    ("category-unknown", {"category": "castle"}, {}, CHOICE, []),
    ("category-blank", {"category": ""}, {}, CATEGORY, []),
    ("subtype-unknown", {"subtype": "alien_abduction"}, {}, CHOICE, []),
    ("risk-unknown", {"risk": "purple"}, {}, CHOICE, []),
    ("many-people-without-count", {"flag_many_people": "y", "head_count": ""}, {}, HEAD_COUNT, []),
    ("many-people-count-0", {"flag_many_people": "y", "head_count": "0"}, {}, HEADS_RANGE, []),
    ("many-people-count-too-big", {"flag_many_people": "y", "head_count": "100001"}, {}, HEADS_RANGE, []),
    ("many-people-count-abc", {"flag_many_people": "y", "head_count": "lots"}, {}, INTEGER, []),
    ("phone-letters", {"parties-0-name": "张三", "parties-0-phone": "139abc5678"}, {}, PHONE, []),
    ("phone-too-short", {"parties-0-name": "张三", "parties-0-phone": "1234"}, {}, PHONE, []),
    ("id-number-length", {"parties-0-name": "张三", "parties-0-id_number": "12345678901234567"}, {},
     ID_NUMBER, []),
    ("id-number-bad-check-character", {"parties-0-id_number": "11010119900307123Y"}, {}, ID_NUMBER, []),
    ("party-name-65", {"parties-0-name": "名" * 65}, {}, longer_than(64), []),
    ("party-role-unknown", {"parties-0-role": "bystander", "parties-0-name": "张三"}, {}, CHOICE,
     []),
    ("party-role-not-chosen", {"parties-0-role": "", "parties-0-name": "张三"}, {}, ROLE, []),
    ("second-party-role-not-chosen", {"parties-1-phone": "13900001111"}, {}, ROLE, []),
    ("grid-outside-community", {"grid_id": "GB"}, {}, GRID, []),
    ("latitude-91", {"latitude": "91", "longitude": "117.282"}, {}, POSITION, []),
    ("latitude-without-longitude", {"latitude": "31.8618"}, {}, POSITION, []),
    ("uuid-bad", {"uuid": "12345"}, {}, REPORT_ID, []),
    ("recorded-at-bad", {"recorded_at": "2024-13-45T99:00"}, {}, TIME, []),
    ("photo-not-an-image", {}, {"photos": lambda: [file(NOT_AN_IMAGE, "photo.jpg")]}, NOT_A_PHOTO, []),
    ("photo-20-mb", {}, {"photos": lambda: [file(BIG, "photo.jpg")]}, TOO_LARGE, []),
    ("one-good-photo-one-bad", {"parties-0-name": "张三", "parties-0-phone": "13900001111"},
     {"photos": lambda: [file(png(), "ok.png"), file(NOT_AN_IMAGE, "bad.jpg")]}, NOT_A_PHOTO, []),
]


def cases(table) -> list:
    """Each case in English and in Chinese; `marks` is a list for both or a dict by language."""
    return [pytest.param(overrides, files, message, lang, id=f"{name}-{lang}",
                         marks=marks.get(lang, []) if isinstance(marks, dict) else marks)
            for name, overrides, files, message, marks in table for lang in ("en", "zh")]


def resolve_ids(world: World, overrides: dict) -> dict:
    return {key: str(world.ids[value]) if key in {"grid_id"} and value in world.ids else value
            for key, value in overrides.items()}


_ERRORS = re.compile(r'<p class="error"[^>]*>(.*?)</p>|<div class="alert"[^>]*>(.*?)</div>', re.S)


def shown_errors(body: str) -> str:
    """The text of the error messages on the page (next to fields, or above the form)."""
    return " | ".join(a or b for a, b in _ERRORS.findall(body))


def check_refused(response, before: dict, message: tuple[str, str], lang: str) -> None:
    assert response.status_code == 422
    body = text_of(response)
    errors = shown_errors(body)
    english, chinese = message
    if lang == "en":
        assert english in errors
    else:
        assert chinese in errors
        assert english not in body
    assert rows() == before, "a refused report stored something"


@pytest.mark.parametrize(("overrides", "files", "message", "lang"), cases(QUICK_CASES))
def test_quick_form_refuses_bad_input(ctx, overrides, files, message, lang):
    before = rows()
    form = quick_form(ctx, **resolve_ids(ctx, overrides), **{k: make() for k, make in files.items()})
    check_refused(post_quick(ctx, form, lang=lang), before, message, lang)


@pytest.mark.parametrize(("overrides", "files", "message", "lang"), cases(DESK_CASES))
def test_desk_form_refuses_bad_input(ctx, overrides, files, message, lang):
    before = rows()
    form = desk_form(ctx, **resolve_ids(ctx, overrides), **{k: make() for k, make in files.items()})
    check_refused(post_desk(ctx, form, lang=lang), before, message, lang)


@pytest.mark.parametrize(("post", "form"), [
    (post_quick, lambda w: quick_form(w, summary="长" * 500, address="路" * 200)),
    (post_desk, lambda w: desk_form(w, summary="长" * 2000, address="路" * 200, source="police_110",
                                    source_ref="1" * 64, flag_many_people="y", head_count="100000",
                                    **{"parties-0-name": "名" * 64, "parties-0-phone": "+86 139-0000-0000",
                                       "parties-0-id_number": "340102800101123"})),
    (post_desk, lambda w: desk_form(w, flag_many_people="y", head_count="1")),
], ids=["quick-at-every-limit", "desk-at-every-limit", "desk-one-person"])
def test_input_at_the_limits_is_accepted(ctx, post, form):
    before = rows()
    lead = lead_at(post(ctx, form(ctx)))
    assert len(lead.summary) in {500, 2000, len(desk_form(ctx)["summary"])}
    assert rows()["Lead"] == before["Lead"] + 1


def test_refused_form_keeps_what_was_typed_and_htmx_gets_the_fragment(ctx):
    before = rows()
    form = quick_form(ctx, summary="Noise every night " + "x" * 500, address="幸福里5栋")
    response = post_quick(ctx, form, headers={"HX-Request": "true"})
    body = text_of(response)
    assert response.status_code == 422
    assert "<html" not in body and body.lstrip().startswith("<form")
    assert "HX-Request" in response.headers.get("Vary", "")
    assert "Noise every night" in body and 'value="幸福里5栋"' in body  # nothing to type again
    assert longer_than(500)[0] in shown_errors(body)
    assert rows() == before


def test_the_desk_is_only_for_officers_and_supervisors(ctx):
    before = rows()
    va = ctx.browser("va")
    assert va.client.get("/leads/desk").status_code == 403
    response = send(va, "/leads/desk", desk_form(ctx), va.token("/leads/new"))
    assert response.status_code == 403
    assert rows() == before


def test_a_report_without_csrf_is_refused(ctx):
    before = rows()
    response = ctx.browser("va").client.post("/leads/new", data=quick_form(ctx),
                                             content_type="multipart/form-data")
    assert response.status_code == 400
    assert rows() == before


def test_a_bad_gps_accuracy_without_a_position_is_refused_not_a_crash(ctx):
    """The three GPS fields are checked together, even when the latitude is empty."""
    before = rows()
    response = post_quick(ctx, quick_form(ctx, gps_accuracy_m="abc", summary="Accuracy probe"))
    assert response.status_code == 422
    assert POSITION[0] in shown_errors(text_of(response))
    assert rows() == before


def test_an_upload_over_the_request_limit_is_a_413_with_a_message(ctx):
    """Above BEATBOOK_MAX_REQUEST_MB (48 MB) the server refuses to read the request at all."""
    before = rows()
    huge = file(b"\0" * (49 * 1024 * 1024), "photo.jpg")
    for lang, message in (("en", "The upload is too large."), ("zh", "上传的文件过大。")):
        huge[0].seek(0)
        response = post_quick(ctx, quick_form(ctx, summary="Huge probe", photo=huge), lang=lang)
        assert response.status_code == 413
        assert message in text_of(response)
    assert rows() == before


UNKNOWN_VISIT = ("That visit is not one of yours.", "该走访记录不是您的。")


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize(("person", "post", "form"), [("va", post_quick, quick_form),
                                                       ("oa", post_desk, desk_form)])
def test_a_report_cannot_claim_someone_elses_visit(ctx, lang, person, post, form):
    """The hidden visit_id the prefilled form carries is checked against the reporter."""
    other = "sup"
    today = utcnow().astimezone(STATION_TZ).date().isoformat()
    saved = ctx.browser(other).post("/visits/new", {"household": f"Claimed visit {person} {lang}",
                                                    "visited_on": today, "community_id": "",
                                                    "findings": "Someone else's finding"})
    visit_id = saved.headers["Location"].rsplit("/", 1)[1]
    before = rows()
    response = post(ctx, form(ctx, visit_id=visit_id, summary="Claim probe"), person=person, lang=lang)
    check_refused(response, before, UNKNOWN_VISIT, lang)


def test_a_report_outside_every_boundary_goes_to_the_supervisors(ctx):
    lead = lead_at(post_quick(ctx, quick_form(ctx, community_id="", latitude="31.9", longitude="117.4",
                                              summary="Unroutable probe")))
    assert lead.community_id is None and lead.assignee_id is None and lead.status == "graded"
    assert lead.due_at is not None  # the clock runs while it waits for a person
    told = db.session.scalars(select(Notification.user_id).where(Notification.subject_id == lead.id)).all()
    assert told == [ctx.ids["sup"]]
    page = text_of(ctx.browser("sup").client.get("/leads/?queue=unroutable"))
    assert f'href="/leads/{lead.id}"' in page


@pytest.mark.parametrize(("sent", "stored"), [
    ("2024-05-01T14:30:00+08:00", datetime(2024, 5, 1, 6, 30, tzinfo=UTC)),
    ("2024-05-01T06:30:00Z", datetime(2024, 5, 1, 6, 30, tzinfo=UTC)),
    ("2024-05-01T06:30:00.123Z", datetime(2024, 5, 1, 6, 30, 0, 123000, tzinfo=UTC)),
])
def test_the_phone_clock_is_kept_in_utc(ctx, sent, stored):
    lead = lead_at(post_quick(ctx, quick_form(ctx, summary=f"Clock probe {sent}", recorded_at=sent)))
    assert lead.recorded_at == stored
    assert lead.received_at > stored  # the server's own clock is kept apart


# --- the volunteer's report by GPS, and its replay -----------------------------------------------


def test_quick_report_by_gps_is_routed_to_the_community_officer_with_a_deadline(ctx):
    report_id = str(uuid.uuid4())
    recorded = (utcnow() - timedelta(minutes=7)).replace(microsecond=0)
    form = quick_form(ctx, community_id="", **INSIDE_A, uuid=report_id, recorded_at=recorded.isoformat(),
                      summary="GPS probe: shouting in the courtyard", address="幸福里 GPS 1栋")
    before = rows()
    response = post_quick(ctx, form)
    lead = lead_at(response)
    assert (lead.uuid, lead.source, lead.category) == (report_id, "volunteer", "neighbour")
    assert lead.community_id == ctx.ids["A"] and lead.assignee_id == ctx.ids["oa"]
    assert lead.status == "assigned" and lead.reporter_id == ctx.ids["va"]
    assert (lead.latitude, lead.longitude, lead.gps_accuracy_m) == (31.8618, 117.282, 12.0)
    assert lead.recorded_at == recorded  # the phone's clock, not the server's
    assert lead.risk == Risk.YELLOW and lead.due_at is not None
    assert lead.due_at == due_at(deadlines(ctx.app), lead.risk, lead.received_at)
    assert lead.due_at > utcnow() + timedelta(days=29)
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == ctx.ids["oa"], Notification.subject_id == lead.id)) == 1
    after = rows()
    assert after["Lead"] == before["Lead"] + 1

    # The phone did not hear back and sends the same report again (maybe edited): still one lead.
    replay = post_quick(ctx, {**form, "summary": "GPS probe: edited on the phone"})
    assert replay.status_code == 303
    assert replay.headers["Location"] == f"/leads/{lead.id}"
    assert rows() == after
    db.session.rollback()
    assert db.session.get(Lead, lead.id).summary == "GPS probe: shouting in the courtyard"


def test_a_phone_clock_far_ahead_is_clamped(ctx):
    ahead = utcnow() + timedelta(days=3)
    lead = lead_at(post_quick(ctx, quick_form(ctx, summary="Clock probe", recorded_at=ahead.isoformat())))
    assert lead.recorded_at <= lead.received_at + timedelta(minutes=10)


# --- the desk: parties and a phone photo, cleaned ------------------------------------------------


def test_desk_intake_with_parties_and_a_photo_stripped_of_its_location(ctx):
    original = jpeg_with_gps_and_time()
    with Image.open(io.BytesIO(original)) as source:  # the test photo really carries GPS and a time
        assert source.getexif().get_ifd(0x8825) and source.getexif().get_ifd(0x8769).get(0x9003)
    phone = unique_phone()
    form = desk_form(
        ctx, source="hotline_12345", source_ref="12345-2024-0815", category="neighbour", subtype="noise_leak",
        summary="Desk probe: water leaks into the flat below", grid_id=str(ctx.ids["GA"]),
        address="幸福里8栋2单元301", **{
            "parties-0-role": "applicant", "parties-0-name": "王建国", "parties-0-phone": phone,
            "parties-0-id_number": "34010219800101123x", "parties-0-relation": "楼下住户",
            "parties-1-role": "respondent", "parties-1-name": "刘芳", "parties-1-phone": "",
        }, photos=[file(original, "IMG_0001.jpg")])
    before = rows()
    lead = lead_at(post_desk(ctx, form))
    assert (lead.source, lead.source_ref, lead.subtype) == ("hotline_12345", "12345-2024-0815", "noise_leak")
    assert (lead.community_id, lead.grid_id, lead.assignee_id) == (ctx.ids["A"], ctx.ids["GA"], ctx.ids["oa"])
    parties = [(p.role, p.name, p.phone, p.id_number, p.relation) for p in lead.parties]
    assert parties == [("applicant", "王建国", phone, "34010219800101123X", "楼下住户"),
                       ("respondent", "刘芳", "", "", "")]
    after = rows()
    assert (after["Lead"], after["LeadParty"], after["LeadPhoto"]) == (
        before["Lead"] + 1, before["LeadParty"] + 2, before["LeadPhoto"] + 1)

    photo = lead.photos[0]
    assert photo.taken_at == datetime(2024, 5, 1, 6, 30, tzinfo=UTC)  # 14:30 in Shanghai
    assert photo.content_type == "image/jpeg" and (photo.width, photo.height) == (800, 600)
    with Image.open(io.BytesIO(photo.data)) as stored:
        exif = stored.getexif()
        assert stored.format == "JPEG" and stored.size == (800, 600)
        assert 0x8825 not in exif and not exif.get_ifd(0x8825)  # no GPS IFD
        assert 0x010F not in exif and 0x0110 not in exif  # no camera make or model
    assert photo.size == len(photo.data)

    # The officer sees it: the page links the photo, which is served as stored and never cached.
    oa = ctx.browser("oa").client
    page = text_of(oa.get(f"/leads/{lead.id}"))
    assert f"/leads/{lead.id}/photos/{photo.id}" in page
    assert phone not in page and phone[:3] + "****" + phone[-4:] in page  # masked by default
    served = oa.get(f"/leads/{lead.id}/photos/{photo.id}")
    assert served.status_code == 200 and served.data == photo.data
    assert served.mimetype == "image/jpeg" and "no-store" in served.headers["Cache-Control"]


# --- the desk form's shape: roles chosen, flags asked once, conditional fields ------------------


def _select(body: str, name: str) -> str:
    match = re.search(rf'<select[^>]*name="{re.escape(name)}"[^>]*>(.*?)</select>', body, re.S)
    assert match, name
    return match.group(1)


def test_the_desk_form_chooses_no_party_role_and_asks_each_flag_once(ctx):
    body = text_of(ctx.browser("oa").client.get("/leads/desk"))
    for index in (0, 1):
        options = _select(body, f"parties-{index}-role")
        assert options.startswith('<option value="">') and "selected" not in options, options[:200]
    for flag in ("flag_dv", "flag_minor", "flag_watched", "flag_many_people"):
        assert len(re.findall(rf'name="{flag}"', body)) == 1, flag
    offered = set(re.findall(r'name="risk_factors"[^>]*value="([^"]+)"', body))
    assert offered and not offered & {"domestic_violence", "minor", "watched_person", "many_people"}
    assert "criminal_tendency" in offered


@pytest.mark.parametrize(("who", "path", "written"), [
    ("oa", "/leads/desk", ("summary", "parties-0-name", "parties-0-phone", "parties-0-id_number")),
    ("va", "/leads/new", ("summary",)),
])
def test_dv_and_minor_are_asked_before_anything_is_written(ctx, who, path, written):
    """The phone keeps a draft of what is typed, but never of a DV or minor case: the boxes come
    before the facts and the people, so ticking them precedes the text (docs/architecture.md, Drafts)."""
    body = text_of(ctx.browser(who).client.get(path))
    where = {name: body.index(f'name="{name}"') for name in ("flag_dv", "flag_minor", *written)}
    assert max(where["flag_dv"], where["flag_minor"]) < min(where[name] for name in written), where


def test_a_persons_name_is_labelled_as_a_persons_name_in_chinese(ctx):
    body = text_of(ctx.browser("oa", "zh").client.get("/leads/desk"))
    assert re.search(r'<label for="parties-0-name">姓名</label>', body)
    assert "名称" not in body


def test_the_second_person_is_folded_until_there_is_something_in_it(ctx):
    fresh = text_of(ctx.browser("oa").client.get("/leads/desk"))
    assert re.search(r'<details class="party-more">\s*<summary>[^<]*</summary>\s*<fieldset class="party">\s*'
                     r'<legend>Person 2</legend>', fresh)
    refused = text_of(post_desk(ctx, desk_form(ctx, **{"parties-1-phone": "13900001111"})))
    assert 'class="party-more"' not in refused and "<legend>Person 2</legend>" in refused


def test_an_unused_party_block_without_a_role_is_ignored(ctx):
    phone = unique_phone()
    lead = lead_at(post_desk(ctx, desk_form(ctx, summary="Roles probe", **{
        "parties-0-role": "victim", "parties-0-name": "孙丽", "parties-0-phone": phone})))
    assert [(p.role, p.name, p.phone) for p in lead.parties] == [("victim", "孙丽", phone)]


@pytest.mark.parametrize("count", ["0", "lots", "12"])
def test_a_head_count_without_many_people_is_dropped_not_checked(ctx, count):
    """The count is shown only with "many people involved": a stale value left behind is not an
    error the officer cannot see, and is not stored."""
    lead = lead_at(post_desk(ctx, desk_form(ctx, summary=f"Head count probe {count}", head_count=count)))
    assert (lead.flag_many_people, lead.head_count) == (False, None)
    assert "many_people" not in lead.risk_factors.split(",")


def test_many_people_without_a_count_is_shown_at_the_field_and_in_the_summary_above(ctx):
    before = rows()
    response = post_desk(ctx, desk_form(ctx, summary="Summary probe", flag_many_people="y", **{
        "parties-0-name": "周强", "parties-0-role": ""}))
    body = text_of(response)
    assert response.status_code == 422
    summary = re.search(r'<div class="error-summary"[^>]*>(.*?)</div>', body, re.S)
    assert summary, "no error summary above the form"
    links = dict(re.findall(r'<a href="#([^"]+)">(.*?)</a>', summary.group(1)))
    assert HEAD_COUNT[0] in links.get("head_count", "")
    assert ROLE[0] in links.get("parties-0-role", "")
    assert summary.start() < body.index('id="head_count"')
    assert re.search(r'id="head_count-err">[^<]*' + re.escape(HEAD_COUNT[0]), body)
    # The count sits in the part a small script shows only while "many people" is ticked.
    assert re.search(r'<div data-shown-with="flag_many_people">\s*<div class="field invalid">\s*'
                     r'<label for="head_count"', body)
    assert rows() == before


def test_a_dv_flag_from_the_risk_section_still_makes_a_dv_lead(ctx):
    lead = lead_at(post_desk(ctx, desk_form(ctx, summary="DV flag probe", flag_dv="y",
                                            risk_factors=["criminal_tendency"])))
    assert lead.flag_dv and {"domestic_violence", "criminal_tendency"} <= set(lead.risk_factors.split(","))


def test_a_photo_bigger_than_1600_pixels_is_downscaled(ctx):
    form = quick_form(ctx, summary="Downscale probe", photo=file(png((3200, 2000)), "wide.png"))
    lead = lead_at(post_quick(ctx, form))
    photo = lead.photos[0]
    assert (photo.width, photo.height) == (1600, 1000)
    with Image.open(io.BytesIO(photo.data)) as stored:
        assert stored.format == "JPEG" and stored.size == (1600, 1000)


def test_a_small_real_png_is_accepted_as_is(ctx):
    form = quick_form(ctx, summary="Small PNG probe", photo=file(png((64, 48)), "small.png"))
    lead = lead_at(post_quick(ctx, form))
    assert [(p.width, p.height, p.taken_at) for p in lead.photos] == [(64, 48, None)]
    with Image.open(io.BytesIO(lead.photos[0].data)) as stored:
        assert stored.size == (64, 48) and stored.getpixel((10, 10)) == pytest.approx((30, 90, 200), abs=8)


def test_several_desk_photos_are_all_kept(ctx):
    form = desk_form(ctx, summary="Two photos probe",
                     photos=[file(png((200, 100)), "a.png"), file(jpeg_with_gps_and_time(), "b.jpg")])
    lead = lead_at(post_desk(ctx, form))
    assert [(p.width, p.height) for p in lead.photos] == [(200, 100), (800, 600)]


def bilevel_png(width: int, height: int) -> bytes:
    """A huge picture in a tiny file (a few KB): what a decompression bomb looks like."""
    out = io.BytesIO()
    Image.new("1", (width, height)).save(out, "PNG")
    return out.getvalue()


def test_a_picture_of_more_than_twice_the_pixel_cap_is_refused(ctx):
    before = rows()
    response = post_quick(ctx, quick_form(ctx, summary="Bomb probe 90 Mpx",
                                          photo=file(bilevel_png(10_000, 9_000), "photo.png")))
    check_refused(response, before, NOT_A_PHOTO, "en")


# Pillow only *warns* between 1x and 2x its pixel cap: the app must refuse before decoding, or a
# 6 KB PNG of 48 Mpx costs ~150 MB of memory per request.
def test_a_picture_over_the_pixel_cap_is_refused(ctx):
    before = rows()
    bomb = bilevel_png(8_000, 6_000)  # 48 Mpx in ~6 KB
    assert len(bomb) < 20_000
    with warnings.catch_warnings():
        # As in production: Pillow's warning is only a warning there (here warnings are errors).
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        form = quick_form(ctx, summary="Bomb probe 48 Mpx", photo=file(bomb, "photo.png"))
        response = post_quick(ctx, form)
    check_refused(response, before, NOT_A_PHOTO, "en")


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P", "I;16", "CMYK", "1"])
def test_photos_in_any_common_pixel_format_are_stored_as_rgb_jpeg(ctx, mode):
    out = io.BytesIO()
    Image.new(mode, (60, 40)).save(out, "JPEG" if mode == "CMYK" else "PNG")
    lead = lead_at(post_quick(ctx, quick_form(ctx, summary=f"Mode probe {mode}",
                                              photo=file(out.getvalue(), "photo.png"))))
    with Image.open(io.BytesIO(lead.photos[0].data)) as stored:
        assert (stored.format, stored.mode, stored.size) == ("JPEG", "RGB", (60, 40))


# --- from a visit to a lead ---------------------------------------------------------------------


@pytest.mark.parametrize(("person", "form_path"), [("va", "/leads/new"), ("oa", "/leads/desk")])
def test_a_visit_finding_becomes_a_lead(ctx, person, form_path):
    browser = ctx.browser(person)
    household = f"Visit probe {person} 幸福里12栋"
    findings = f"Visit probe {person}: the couple upstairs fight about the child's school"
    today = utcnow().astimezone(STATION_TZ).date().isoformat()
    saved = browser.post("/visits/new", {"household": household, "visited_on": today,
                                         "community_id": str(ctx.ids["A"]), "findings": findings})
    assert saved.status_code == 303
    visit_path = saved.headers["Location"]
    visit_id = int(visit_path.rsplit("/", 1)[1])

    visit_page = text_of(browser.client.get(visit_path))
    assert f'href="{form_path}?visit={visit_id}"' in visit_page
    assert "Create lead from this finding" in visit_page

    prefilled = text_of(browser.client.get(f"{form_path}?visit={visit_id}"))
    assert findings in prefilled
    assert f'value="{household}"' in prefilled
    assert re.search(rf'<option selected value="{ctx.ids["A"]}">|<option value="{ctx.ids["A"]}" selected>',
                     prefilled)

    hidden = re.search(r'<input[^>]*name="visit_id"[^>]*>', prefilled)
    assert hidden and f'value="{visit_id}"' in hidden.group(0)  # the page carries the visit along

    form = (quick_form if person == "va" else desk_form)(
        ctx, summary=findings, address=household, community_id=str(ctx.ids["A"]), visit_id=str(visit_id))
    if person == "oa":
        form["source"] = "visit"
    lead = lead_at(send(browser, f"{form_path}?visit={visit_id}", form))
    assert (lead.source, lead.visit_id, lead.summary) == ("visit", visit_id, findings)
    assert db.session.get(Visit, visit_id).visitor_id == ctx.ids[person]


def test_someone_elses_visit_cannot_be_turned_into_a_lead(ctx):
    va = ctx.browser("va")
    today = utcnow().astimezone(STATION_TZ).date().isoformat()
    saved = va.post("/visits/new", {"household": "Private visit 1栋", "visited_on": today,
                                    "community_id": str(ctx.ids["A"]), "findings": "Private finding"})
    visit_id = int(saved.headers["Location"].rsplit("/", 1)[1])
    oa = ctx.browser("oa")
    assert oa.client.get(f"/visits/{visit_id}").status_code == 404
    response = oa.client.get(f"/leads/desk?visit={visit_id}")
    assert response.status_code == 404 and "Private finding" not in text_of(response)
    before = rows()
    refused = send(oa, f"/leads/desk?visit={visit_id}", desk_form(ctx), oa.token("/leads/desk"))
    assert refused.status_code == 404
    assert rows() == before


# --- duplicates and repeats --------------------------------------------------------------------


def test_a_second_lead_with_the_same_party_phone_lists_the_first_as_a_possible_duplicate(ctx):
    phone = unique_phone()
    party = {"parties-0-role": "applicant", "parties-0-name": "陈默", "parties-0-phone": phone}
    first = lead_at(post_desk(ctx, desk_form(ctx, summary="Duplicate probe one", address="东门1号", **party)))
    second = lead_at(post_desk(ctx, desk_form(ctx, summary="Duplicate probe two", address="西门2号",
                                              category="debt", **party)))
    assert second.duplicate_of_id is None  # linked by a person, never merged automatically

    for handler in ("oa", "sup"):
        page = text_of(ctx.browser(handler).client.get(f"/leads/{second.id}"))
        section = page.split('id="duplicates"', 1)
        assert len(section) == 2, f"{handler} is not shown the possible duplicate"
        assert "Possible duplicates" in section[1][:200]
        assert f'href="/leads/{first.id}"' in section[1].split("</section>", 1)[0]

    unrelated = lead_at(post_desk(ctx, desk_form(ctx, summary="Duplicate probe three", address="南门3号",
                                                 **{"parties-0-phone": unique_phone(),
                                                    "parties-0-name": "赵无关"})))
    page = text_of(ctx.browser("oa").client.get(f"/leads/{unrelated.id}"))
    assert 'id="duplicates"' not in page


def test_the_third_lead_on_one_household_within_30_days_is_a_repeat_and_graded_up(ctx):
    address = f"幸福里{uuid.uuid4().hex[:6]}栋3单元502"
    spaced = address.replace("栋", " 栋 ")  # the same household, typed differently
    leads = [lead_at(post_quick(ctx, quick_form(ctx, summary=f"Repeat probe {n}", address=where)))
             for n, where in enumerate((address, spaced, address))]
    first, second, third = leads
    assert (first.flag_repeat, second.flag_repeat, third.flag_repeat) == (False, False, True)
    assert first.risk == Risk.YELLOW  # a neighbour dispute
    assert third.risk == bump(Risk(first.risk)) == Risk.ORANGE
    assert "repeat_calls" in third.factor_codes
    assert third.due_at == due_at(deadlines(ctx.app), third.risk, third.received_at)

    # The same address in another community is another household.
    elsewhere = lead_at(post_quick(ctx, quick_form(ctx, summary="Repeat probe elsewhere", address=address,
                                                   community_id=str(ctx.ids["B"]))))
    assert not elsewhere.flag_repeat and elsewhere.risk == Risk.YELLOW


def test_leads_older_than_30_days_do_not_count_as_repeats(ctx):
    address = f"旧里{uuid.uuid4().hex[:6]}栋"
    old = [lead_at(post_quick(ctx, quick_form(ctx, summary=f"Old probe {n}", address=address)))
           for n in range(2)]
    for lead in old:
        lead.received_at = utcnow() - timedelta(days=31)
    db.session.commit()
    third = lead_at(post_quick(ctx, quick_form(ctx, summary="Old probe new", address=address)))
    assert not third.flag_repeat and third.risk == Risk.YELLOW


# --- both response shapes ------------------------------------------------------------------------

_TOKEN = re.compile(r'(name="csrf_token"[^>]*value=|"X-CSRFToken": ")"?[^"]+')


def _without_tokens(text: str) -> str:
    return _TOKEN.sub(r"\1TOKEN", text)


SHAPES = [
    ("va", lambda ids: "/leads/new"),
    ("oa", lambda ids: "/leads/desk"),
    ("oa", lambda ids: f"/leads/{ids['va_lead']}"),
    ("oa", lambda ids: "/leads/"),
    ("oa", lambda ids: "/leads/?q=Shape+probe"),
    ("va", lambda ids: "/leads/mine"),
    ("va", lambda ids: f"/leads/{ids['va_lead']}"),  # the reporter's status page
    ("sup", lambda ids: "/leads/branch"),
    ("va", lambda ids: "/visits/new"),
    ("va", lambda ids: "/visits/{visit}"),
    ("va", lambda ids: "/visits/"),
    ("oa", lambda ids: "/inbox/"),
]


@pytest.fixture
def a_visit(ctx):
    today = utcnow().astimezone(STATION_TZ).date().isoformat()
    saved = ctx.browser("va").post("/visits/new", {"household": "Shape visit 1栋", "visited_on": today,
                                                   "community_id": "", "findings": "Shape probe finding"})
    assert saved.status_code == 303
    return int(saved.headers["Location"].rsplit("/", 1)[1])


@pytest.mark.parametrize(("person", "path_for"), SHAPES,
                         ids=[f"{p}:{f({'va_lead': 'N'})}" for p, f in SHAPES])
def test_full_page_and_htmx_fragment(ctx, a_visit, person, path_for):
    path = path_for(ctx.ids).replace("{visit}", str(a_visit))
    client = ctx.browser(person).client

    full = client.get(path)
    assert full.status_code == 200
    assert "HX-Request" in full.headers.get("Vary", "")
    page = full.get_data(as_text=True)
    assert page.lstrip().lower().startswith("<!doctype html>") and "<html" in page and "<nav" in page

    fragment = client.get(path, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "HX-Request" in fragment.headers.get("Vary", "")
    piece = fragment.get_data(as_text=True)
    assert piece.strip() and "<html" not in piece and "<body" not in piece
    assert 'class="tabbar"' not in piece
    assert _without_tokens(piece.strip()[:300]) in _without_tokens(page)


def test_a_created_report_answers_htmx_with_a_redirect_header(ctx):
    response = post_quick(ctx, quick_form(ctx, summary="HX redirect probe"), headers={"HX-Request": "true"})
    assert response.status_code == 200
    location = response.headers["HX-Redirect"]
    lead_id = int(location.rsplit("/", 1)[1])
    db.session.rollback()
    assert db.session.get(Lead, lead_id).summary == "HX redirect probe"


def test_chinese_is_the_default_on_the_report_form(ctx):
    page = text_of(ctx.browser("va", "zh").client.get("/leads/new"))
    assert '<html lang="zh-CN">' in page
    assert "Report a lead" not in page


def test_the_cast_is_what_the_tests_assume(ctx):
    """Sanity of the cast used above: the desk person and the volunteer are who the tests think."""
    assert db.session.get(User, ctx.ids["va"]).has_role(Role.VOLUNTEER)
    assert db.session.get(Community, ctx.ids["A"]).officer_id == ctx.ids["oa"]

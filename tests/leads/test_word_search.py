"""The search box's word search through the word index (webapp/leads/search.py): exactly the leads a
plain substring match finds, for words of one, two and more characters, Latin letters and digits;
never a word made of the end of one field and the start of the next; an edited lead under its new
words only; compartmented leads only for those inside.

One cast for the module: a station with communities A (officer oa) and B (officer ob), a
supervisor, the DV task force and the youth team, and the leads of TEXTS registered through the
intake service, as a reporter would.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import or_, select

from tests.conftest import empty_all_tables
from tests.factories import make_community, make_station, make_user
from webapp.access import case_scope
from webapp.extensions import db
from webapp.leads import search
from webapp.leads.codes import Source
from webapp.leads.deadlines import parse_deadlines
from webapp.leads.models import Lead, LeadSearch
from webapp.leads.queries import LeadFilters, lead_list
from webapp.leads.services import LeadInput, register_lead
from webapp.org.models import Community, Role, User

# (name, summary, address, community, flags)
TEXTS = (
    ("noise", "楼上噪音扰民，外籍住户深夜聚会", "金桂园3栋2单元402", "A", ""),  # reference 110-20261130-0001
    ("parking", "邻里纠纷：停车位被占，噪音不大", "银杏苑西区7栋", "A", ""),
    ("latin", "Dog barking at night, owner Mr. SMITH", "Block 12B", "B", ""),
    ("one_char", "噪", "", "B", ""),
    ("boundary", "纠纷发生在花", "园小区1号", "A", ""),  # 花 | 园: "花园" only across the two fields
    ("dv", "家暴求助，噪音很大", "金桂园5栋", "A", "dv"),
    ("minor", "未成年人深夜滞留网吧", "银杏苑", "B", "minor"),
)
WORDS = ("噪", "噪音", "外籍住户", "纠纷", "家暴", "网吧", "3栋", "402", "7", "smith", "SMITH", "Smith",
         "barking at", "12b", "金桂园", "花园", "鲸鱼", "噪_", "%", "，", "-", "a", "²", "0402", "ref-7",
         "110-20261130-0001", "110-20261130", "ß" * 100, "噪音" * 50)  # the box keeps 100 characters
ROLES = {"oa": (Role.OFFICER,), "ob": (Role.OFFICER,), "sup": (Role.SUPERVISOR,), "dv": (Role.DV_TEAM,),
         "youth": (Role.YOUTH_TEAM,), "va": (Role.VOLUNTEER,)}
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


class World:
    def __init__(self, app):
        self.app = app
        self.users: dict[str, int] = {}
        self.leads: dict[str, int] = {}


def register(world: World, summary: str, address: str, community: str, flags: str) -> int:
    reporter = db.session.get(User, world.users["va"])
    data = LeadInput(source=Source.VOLUNTEER, category="neighbour", summary=summary, address=address,
                     source_ref="110-20261130-0001" if summary.startswith("楼上噪音") else "",
                     flag_dv=flags == "dv", flag_minor=flags == "minor",
                     community=db.session.scalar(select(Community).where(Community.code == f"WS{community}")))
    result = register_lead(reporter, data, parse_deadlines(world.app.config["BEATBOOK_DEADLINES"]),
                           world.app.config["BEATBOOK_MAX_PHOTO_MB"] << 20)
    db.session.commit()
    return result.lead.id


@pytest.fixture(scope="module")
def world(app):
    world = World(app)
    with app.app_context():
        empty_all_tables()
        station = make_station("WS-PS")
        users = {name: make_user(station, *roles, username=f"ws_{name}") for name, roles in ROLES.items()}
        make_community(station, code="WSA", officer=users["oa"])
        make_community(station, code="WSB", officer=users["ob"])
        db.session.commit()
        world.users = {name: user.id for name, user in users.items()}
        world.leads = {name: register(world, *text) for name, *text in TEXTS}
        db.session.remove()
    yield world
    with app.app_context():
        empty_all_tables()


def found(viewer_name: str, world: World, word: str) -> set[int]:
    viewer = db.session.get(User, world.users[viewer_name])
    page = lead_list(viewer, LeadFilters(q=word), NOW, per_page=1000)
    return {lead.id for lead in page.leads}


def substring_match(viewer_name: str, world: World, word: str) -> set[int]:
    """The search as it was before the index: every lead the viewer may open, read in full (a lead's
    number, reference or uuid, or its summary or address containing the word)."""
    viewer = db.session.get(User, world.users[viewer_name])
    like = f"%{word}%"
    exact = [Lead.source_ref == word, Lead.uuid == word]
    if word.isdecimal():
        exact.append(Lead.id == int(word))
    return set(db.session.scalars(select(Lead.id).where(
        case_scope(viewer), or_(*exact, Lead.summary.ilike(like), Lead.address.ilike(like)))))


@pytest.mark.parametrize("word", WORDS)
def test_search_finds_exactly_what_a_substring_match_finds(ctx, word):
    assert found("sup", ctx, word) == substring_match("sup", ctx, word)


def test_the_words_find_what_a_reader_expects(ctx):
    """The reference above is not vacuous: one-, two- and longer words, Latin in any case, digits."""
    leads = ctx.leads
    expected = {
        "噪": {leads["noise"], leads["parking"], leads["one_char"], leads["dv"]},
        "噪音": {leads["noise"], leads["parking"], leads["dv"]},
        "外籍住户": {leads["noise"]},
        "402": {leads["noise"]},
        "3栋": {leads["noise"]},
        "smith": {leads["latin"]},
        "barking at": {leads["latin"]},
        "12b": {leads["latin"]},
        "金桂园": {leads["noise"], leads["dv"]},
        "鲸鱼": set(),
    }
    assert {word: found("sup", ctx, word) for word in expected} == expected
    # Exact matches still find their lead: its number (digits may be in texts too), reference, uuid.
    for number in (str(leads["minor"]), f"00{leads['minor']}"):
        assert leads["minor"] in found("sup", ctx, number) == substring_match("sup", ctx, number)
    assert found("sup", ctx, "110-20261130-0001") == {leads["noise"]}
    assert found("sup", ctx, "110-20261130") == set()  # a reference matches whole only
    uuid = db.session.get(Lead, leads["latin"]).uuid
    assert found("sup", ctx, uuid) == {leads["latin"]}
    assert found("sup", ctx, uuid.upper()) == set()  # as before: the uuid as stored


def test_a_word_across_two_fields_is_not_in_the_index(ctx):
    """"花园" is the end of the boundary lead's summary and the start of its address: its index rows
    hold no such pair, so the index does not offer the lead (the substring match would not keep it)."""
    candidates = set(db.session.scalars(search.candidates("花园", db.engine.dialect.name)))
    assert ctx.leads["boundary"] not in candidates
    assert found("sup", ctx, "花园") == set()
    # ... while each field's own words are there.
    assert ctx.leads["boundary"] in set(db.session.scalars(search.candidates("园小", db.engine.dialect.name)))
    assert found("sup", ctx, "在花") == {ctx.leads["boundary"]}


def test_compartmented_leads_stay_hidden_from_those_outside(ctx):
    assert found("sup", ctx, "家暴") == {ctx.leads["dv"]}
    assert found("dv", ctx, "噪音") == {ctx.leads["dv"]}  # the task force: DV leads only
    assert found("youth", ctx, "噪音") == set()
    assert found("youth", ctx, "网吧") == {ctx.leads["minor"]}
    assert found("ob", ctx, "网吧") == {ctx.leads["minor"]}  # routed to ob, B's officer
    assert found("oa", ctx, "网吧") == set()
    for viewer in ("oa", "ob", "dv", "youth"):
        for word in ("噪音", "家暴", "网吧", "金桂园"):
            assert found(viewer, ctx, word) == substring_match(viewer, ctx, word), (viewer, word)


def test_an_edited_lead_is_found_by_its_new_words_only(ctx):
    lead_id = register(ctx, "楼道堆放杂物", "梧桐苑9栋", "A", "")
    assert found("sup", ctx, "杂物") == {lead_id}
    lead = db.session.get(Lead, lead_id)
    lead.summary = "楼道电动车充电"
    lead.address = "香樟苑1栋"
    db.session.commit()
    assert found("sup", ctx, "杂物") == set()
    assert found("sup", ctx, "梧桐") == set()
    assert found("sup", ctx, "充电") == {lead_id}
    assert found("sup", ctx, "香樟") == {lead_id}
    assert lead_id not in set(db.session.scalars(search.candidates("杂物", db.engine.dialect.name)))
    # A change to anything else leaves the row as it is (no write per status change).
    grams = db.session.scalar(select(LeadSearch.grams).where(LeadSearch.lead_id == lead_id))
    lead.risk_factors = "night"
    db.session.commit()
    assert db.session.scalar(select(LeadSearch.grams).where(LeadSearch.lead_id == lead_id)) == grams


def test_tokens_are_each_fields_characters_and_pairs():
    assert search.lead_tokens(7, "外籍A1", "3栋", "110-2026", "ab-C1") == sorted(
        {"外", "籍", "a", "1", "外籍", "籍a", "a1", "3", "栋", "3栋",  # no "13": the fields stay apart
         "7", "1102026", "abc1"})
    assert search.word_tokens("噪") == ["噪"]
    assert search.word_tokens("外籍住户") == ["外籍", "籍住", "住户"]
    assert search.word_tokens("Mr. X") == ["mr", "x"]
    assert search.word_tokens("，-%_") == []


@pytest.mark.parametrize("word", ["噪", "噪音", "金桂园", "栋"])
def test_the_pages_of_a_search_follow_each_other(ctx, word):
    """Paged by the index's lead id (the FTS5 rowid on SQLite): the cursor walks the same leads."""
    viewer = db.session.get(User, ctx.users["sup"])
    walked, before = [], None
    while True:
        page = lead_list(viewer, LeadFilters(q=word), NOW, before=before, per_page=1)
        walked += [lead.id for lead in page.leads]
        if page.next_cursor is None:
            break
        before = page.next_cursor
    assert walked == sorted(substring_match("sup", ctx, word), reverse=True) and len(walked) >= 2

"""The expert pool: suggestion by category, language and availability never offers an expert with
a conflict on the lead; a resident's choice is kept; an invited expert sees only their invitation
(minimal fields) and nothing else of any lead; every form refuses bad input and changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import Browser
from tests.factories import commit, make_community, make_station, make_user
from webapp.audit.models import AuditEntry
from webapp.experts.models import Expert, ExpertChoice, ExpertConflict, ExpertInvitation
from webapp.experts.services import (
    ExpertError,
    ExpertInput,
    invite,
    record_conflict,
    record_resident_choice,
    save_expert,
    search_experts,
    suggest_for,
)
from webapp.extensions import db
from webapp.leads.codes import Source
from webapp.leads.deadlines import parse_deadlines
from webapp.leads.models import Lead
from webapp.leads.services import LeadInput, PartyInput, register_lead
from webapp.notify.models import Notification
from webapp.org.models import Role, Station, User

SECRET = "seakaleword"  # in the leads' summaries only


def lead_in(app, reporter: User, community, category: str = "neighbour") -> Lead:
    config = app.config
    return register_lead(
        reporter,
        LeadInput(
            source=Source.WALK_IN,
            category=category,
            summary=f"纠纷 {SECRET}",
            community=community,
            address="幸福路88号3栋",
            parties=[PartyInput(role="applicant", name="章大海", phone="13955550001")],
        ),
        parse_deadlines(config["BEATBOOK_DEADLINES"]),
        1 << 20,
    ).lead


def expert(
    station: Station,
    name: str,
    fields=("neighbour",),
    availability="available",
    languages=("mandarin",),
    user: User | None = None,
    **extra,
) -> Expert:
    return save_expert(
        station,
        None,
        ExpertInput(
            name=name,
            fields=list(fields),
            languages=list(languages),
            availability=availability,
            user=user,
            **extra,
        ),
    )


def phone(app, username: str) -> Browser:
    client = app.test_client()
    client.set_cookie("lang", "en")
    browser = Browser(client)
    assert browser.login(username).status_code == 303
    return browser


class Cast:
    def __init__(self, app):
        self.app = app
        self.station = make_station()
        self.officer = make_user(self.station, Role.OFFICER, username="x_officer")
        self.supervisor = make_user(self.station, Role.SUPERVISOR, username="x_sup")
        self.community = make_community(self.station, officer=self.officer)
        self.lead = lead_in(app, self.officer, self.community)
        self.other_lead = lead_in(app, self.officer, self.community, "contract")
        self.expert_user = make_user(self.station, Role.EXPERT, username="x_expert")
        self.other_expert_user = make_user(self.station, Role.EXPERT, username="x_expert2")
        self.mine = expert(
            self.station, "何心怡", user=self.expert_user, employer="心理中心", phone="13800001111"
        )
        self.theirs = expert(self.station, "罗建平", fields=("contract",), user=self.other_expert_user)
        self.no_account = expert(self.station, "周无号")
        self.invitation = invite(
            self.lead, self.mine, "https://meeting.tencent.com/dm/abc", None, self.officer
        )
        self.other_invitation = invite(
            self.other_lead, self.theirs, "https://meeting.tencent.com/dm/xyz", None, self.officer
        )
        commit()
        self.ids = {
            "lead": self.lead.id,
            "other_lead": self.other_lead.id,
            "invitation": self.invitation.id,
            "other_invitation": self.other_invitation.id,
            "mine": self.mine.id,
            "theirs": self.theirs.id,
            "no_account": self.no_account.id,
        }


@pytest.fixture
def cast(app_ctx):
    return Cast(app_ctx)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_suggestion_respects_category_availability_language_and_conflicts(app_ctx):
    station = make_station()
    officer = make_user(station, Role.OFFICER)
    community = make_community(station, officer=officer)
    lead, other = lead_in(app_ctx, officer, community), lead_in(app_ctx, officer, community)
    fits = expert(station, "A 合适")
    busy = expert(station, "B 很忙", availability="busy")
    away = expert(station, "C 外出", availability="away")
    wrong_field = expert(station, "D 合同", fields=("contract",))
    conflicted = expert(station, "E 亲属", fields=("neighbour", "contract"))
    conflict_elsewhere = expert(station, "F 别案", languages=("english",))
    elsewhere = expert(make_station("FAR-PS"), "G 外所")
    record_conflict(lead, conflicted, "related", "当事人表兄", officer)
    record_conflict(other, conflict_elsewhere, "declared", "", officer)
    assert suggest_for(lead) == [fits, conflict_elsewhere]
    assert suggest_for(lead, language="english") == [conflict_elsewhere]
    assert suggest_for(other) == [fits, conflicted]  # its conflict is on the other lead
    # Search: every filter, available first; the conflict rule holds whenever a lead is given.
    assert search_experts(station, category="neighbour") == [fits, conflicted, conflict_elsewhere, busy, away]
    assert search_experts(station, category="neighbour", lead=lead) == [fits, conflict_elsewhere, busy, away]
    assert search_experts(station, category="contract") == [wrong_field, conflicted]
    assert search_experts(station, availability="busy") == [busy]
    assert search_experts(station, query="外") == [away]
    assert search_experts(station, query="%") == []  # a wildcard is a character, not "everything"
    assert elsewhere not in search_experts(station)


def test_a_resident_choice_is_recorded_and_a_later_one_replaces_it(cast):
    first = record_resident_choice(cast.lead, cast.mine)
    record_resident_choice(cast.lead, cast.no_account)
    commit()
    assert count(ExpertChoice) == 1 and db.session.get(ExpertChoice, first.id).expert_id == cast.no_account.id
    with pytest.raises(ExpertError):
        record_resident_choice(cast.lead, expert(make_station("FAR-PS"), "外所专家"))
    commit()
    page = phone(cast.app, "x_officer").client.get(f"/experts/leads/{cast.lead.id}").get_data(as_text=True)
    assert "The resident" in page and "s choice" in page and "周无号" in page


def test_an_invited_expert_sees_only_their_invitation(cast):
    ids, me = cast.ids, phone(cast.app, "x_expert")
    assert me.client.get("/").location.endswith("/experts/mine")  # the expert's home
    home = me.client.get("/experts/mine").get_data(as_text=True)
    assert f"/experts/invitations/{ids['invitation']}" in home
    assert f"/experts/invitations/{ids['other_invitation']}" not in home
    page = me.client.get(f"/experts/invitations/{ids['invitation']}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "https://meeting.tencent.com/dm/abc" in body
    assert "Neighbour" in body and cast.community.name in body
    for private in ("章大海", "13955550001", "幸福路", SECRET, f"/leads/{ids['lead']}"):
        assert private not in body and private not in home
    # Every other way to a lead, a case or another invitation: 404 or 403, never its words.
    for path, status in (
        (f"/leads/{ids['lead']}", 404),
        (f"/leads/{ids['other_lead']}", 404),
        (f"/experts/invitations/{ids['other_invitation']}", 404),
        ("/experts/invitations/99999999999999999999", 404),
        (f"/experts/leads/{ids['lead']}", 403),
        ("/leads/", 403),
        (f"/leads/?q={SECRET}", 403),
        (f"/experts/?q={SECRET}", 403),
        ("/leads/mine", None),
        ("/duty/", 403),
    ):
        answer = me.client.get(path)
        if status is not None:
            assert answer.status_code == status, path
        body = answer.get_data(as_text=True)
        assert f"纠纷 {SECRET}" not in body and "13955550001" not in body, path
    [note] = db.session.scalars(select(Notification).where(Notification.user_id == cast.expert_user.id))
    assert note.link == f"/experts/invitations/{ids['invitation']}" and "章" not in note.text
    # The handler sees the invitation too; the other expert does not.
    assert (
        phone(cast.app, "x_officer").client.get(f"/experts/invitations/{ids['invitation']}").status_code
        == 200
    )
    assert (
        phone(cast.app, "x_expert2").client.get(f"/experts/invitations/{ids['invitation']}").status_code
        == 404
    )


def test_the_public_list_shows_public_profiles_only(cast):
    answer = cast.app.test_client().get("/experts/public")
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "何心怡" in body and "罗建平" in body
    assert "心理中心" not in body and "13800001111" not in body and "1111" not in body
    assert len(body.encode()) < 20_000


def test_private_notes_are_for_supervisors_and_masked(cast):
    boss = phone(cast.app, "x_sup").client.get("/experts/").get_data(as_text=True)
    assert "心理中心" in boss and "138****1111" in boss and "13800001111" not in boss
    officer = phone(cast.app, "x_officer").client.get("/experts/").get_data(as_text=True)
    assert "何心怡" in officer and "心理中心" not in officer and "1111" not in officer


def test_a_handler_invites_and_records_conflicts_through_the_page(cast):
    officer = phone(cast.app, "x_officer")
    path = f"/experts/leads/{cast.lead.id}"
    answer = officer.post(
        f"{path}/conflicts",
        {
            "conflict-expert_id": str(cast.no_account.id),
            "conflict-kind": "same_employer",
            "conflict-note": "同一公司",
        },
        from_page=path,
    )
    assert answer.status_code == 303 and count(ExpertConflict) == 1
    assert (
        "周无号"
        not in officer.client.get(path).get_data(as_text=True).split("Suggested")[1].split("Invitations")[0]
    )
    invited = officer.post(
        f"{path}/invitations",
        {
            "invite-expert_id": str(cast.theirs.id),
            "invite-video_link": "https://meeting.tencent.com/dm/new",
            "invite-meets_at": "2026-12-02T15:30",
        },
        from_page=path,
    )
    assert invited.status_code == 303
    made = db.session.scalar(
        select(ExpertInvitation).where(
            ExpertInvitation.expert_id == cast.theirs.id, ExpertInvitation.lead_id == cast.lead.id
        )
    )
    assert made.meets_at.isoformat() == "2026-12-02T07:30:00+00:00"
    # An officer of another community does not see the lead: it does not exist for them.
    make_user(cast.station, Role.OFFICER, username="x_officer2")
    commit()
    assert (
        phone(cast.app, "x_officer2").post(f"{path}/invitations", {}, from_page="/experts/").status_code
        == 404
    )


BAD_PROFILES = [
    ({"name": "", "fields": "neighbour", "availability": "available"}, "This field is required."),
    ({"name": "名" * 65, "fields": "neighbour", "availability": "available"}, "Field cannot be longer"),
    ({"name": "新专家", "availability": "available"}, "This field is required."),
    ({"name": "新专家", "fields": "astrology", "availability": "available"}, "not a valid choice"),
    ({"name": "新专家", "fields": "neighbour", "availability": "asleep"}, "Not a valid choice"),
    (
        {"name": "新专家", "fields": "neighbour", "availability": "available", "languages": "klingon"},
        "not a valid choice",
    ),
    ({"name": "新专家", "fields": "neighbour", "availability": "available", "phone": "call me"}, "Digits"),
    (
        {
            "name": "新专家",
            "fields": "neighbour",
            "availability": "available",
            "user_id": "99999999999999999999",
        },
        "Not a valid choice",
    ),
    (
        {"name": "新专家", "fields": "neighbour", "availability": "available", "user_id": "OFFICER"},
        "Not a valid choice",
    ),
    (
        {"name": "新专家", "fields": "neighbour", "availability": "available", "user_id": "TAKEN"},
        "already has a profile",
    ),
    (
        {"name": "新专家", "fields": "neighbour", "availability": "available", "bio": "x" * 301},
        "Field cannot be longer",
    ),
]


@pytest.mark.parametrize(("data", "message"), BAD_PROFILES, ids=range(len(BAD_PROFILES)))
def test_bad_profiles_are_refused_and_change_nothing(cast, data, message):
    names = {"OFFICER": str(cast.officer.id), "TAKEN": str(cast.expert_user.id)}
    data = {key: names.get(value, value) for key, value in data.items()}
    before = count(Expert)
    answer = phone(cast.app, "x_sup").post("/experts/new", data)
    assert answer.status_code == 422 and message in answer.get_data(as_text=True)
    assert count(Expert) == before
    edited = phone(cast.app, "x_sup").post(f"/experts/{cast.no_account.id}/edit", data)
    assert edited.status_code == 422
    db.session.expire_all()
    assert db.session.get(Expert, cast.no_account.id).name == "周无号"


def test_looking_at_private_notes_is_audited_and_for_supervisors_only(cast):
    page = phone(cast.app, "x_sup").client.get(f"/experts/{cast.mine.id}/edit")
    assert page.status_code == 200 and "13800001111" in page.get_data(as_text=True)
    assert "no-store" in page.headers["Cache-Control"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.object_type == "expert"))
    assert entry.object_id == cast.mine.id and entry.actor_id == cast.supervisor.id
    make_user(cast.station, Role.ADMIN, username="x_admin")
    commit()
    assert phone(cast.app, "x_admin").client.get(f"/experts/{cast.mine.id}/edit").status_code == 403


def test_a_supervisor_keeps_a_profile(cast):
    boss = phone(cast.app, "x_sup")
    answer = boss.post(
        f"/experts/{cast.no_account.id}/edit",
        {
            "name": "周有号",
            "fields": ["neighbour", "labour"],
            "languages": "dialect",
            "availability": "busy",
            "bio": "劳动关系协调员",
            "employer": "人社局",
            "phone": "139 0000 1234",
            "user_id": "",
        },
    )
    assert answer.status_code == 303
    db.session.expire_all()
    saved = db.session.get(Expert, cast.no_account.id)
    assert (saved.name, saved.fields, saved.availability, saved.employer) == (
        "周有号",
        "labour,neighbour",
        "busy",
        "人社局",
    )
    assert phone(cast.app, "x_officer").post("/experts/new", {"name": "x"}).status_code == 403


BAD_INVITES = [
    ({}, "This field is required."),
    ({"invite-expert_id": "MINE", "invite-video_link": "http://meeting.example.cn/a"}, "https://"),
    ({"invite-expert_id": "MINE", "invite-video_link": "javascript:alert(1)"}, "https://"),
    ({"invite-expert_id": "MINE", "invite-video_link": "https://x.cn/" + "a" * 300}, "cannot be longer"),
    (
        {"invite-expert_id": "NO_ACCOUNT", "invite-video_link": "https://meeting.example.cn/a"},
        "Not a valid choice",
    ),
    (
        {"invite-expert_id": "99999999999999999999", "invite-video_link": "https://meeting.example.cn/a"},
        "Not a valid choice",
    ),
    (
        {"invite-expert_id": "CONFLICTED", "invite-video_link": "https://meeting.example.cn/a"},
        "conflict of interest",
    ),
    (
        {
            "invite-expert_id": "MINE",
            "invite-video_link": "https://meeting.example.cn/a",
            "invite-meets_at": "tomorrow",
        },
        "Not a valid datetime",
    ),
    (
        {
            "invite-expert_id": "MINE",
            "invite-video_link": "https://meeting.example.cn/a",
            "invite-meets_at": "9999-12-31T23:59",
        },
        "between 2000 and 2100",
    ),
]


@pytest.mark.parametrize(("data", "message"), BAD_INVITES, ids=range(len(BAD_INVITES)))
def test_bad_invitations_are_refused_and_change_nothing(cast, data, message):
    record_conflict(cast.lead, cast.theirs, "declared", "", cast.officer)
    commit()
    names = {
        "MINE": str(cast.mine.id),
        "NO_ACCOUNT": str(cast.no_account.id),
        "CONFLICTED": str(cast.theirs.id),
    }
    data = {key: names.get(value, value) for key, value in data.items()}
    before = [(i.id, i.video_link, i.meets_at) for i in db.session.scalars(select(ExpertInvitation))]
    path = f"/experts/leads/{cast.lead.id}"
    answer = phone(cast.app, "x_officer").post(f"{path}/invitations", data, from_page=path)
    assert answer.status_code == 422 and message in answer.get_data(as_text=True)
    db.session.expire_all()
    assert [(i.id, i.video_link, i.meets_at) for i in db.session.scalars(select(ExpertInvitation))] == before


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"conflict-expert_id": "99999999999999999999", "conflict-kind": "declared"},
        {"conflict-expert_id": "MINE", "conflict-kind": "grudge"},
        {"conflict-expert_id": "MINE", "conflict-kind": "declared", "conflict-note": "x" * 201},
    ],
)
def test_bad_conflicts_are_refused_and_change_nothing(cast, data):
    data = {key: str(cast.mine.id) if value == "MINE" else value for key, value in data.items()}
    path = f"/experts/leads/{cast.lead.id}"
    assert phone(cast.app, "x_officer").post(f"{path}/conflicts", data, from_page=path).status_code == 422
    assert count(ExpertConflict) == 0


@pytest.mark.parametrize(
    "query", ["category=astrology", "availability=asleep", "language=klingon", "q=" + "x" * 101]
)
def test_bad_pool_searches_are_a_clear_400(cast, query):
    answer = phone(cast.app, "x_officer").client.get(f"/experts/?{query}")
    assert answer.status_code == 400 and "<form" not in answer.get_data(as_text=True).split("<main")[-1][:50]


def test_no_outside_expert_is_invited_to_a_compartmented_matter(cast):
    config = cast.app.config
    dv = register_lead(
        cast.officer,
        LeadInput(source=Source.WALK_IN, category="marriage_family", summary="家暴", community=cast.community,
                  flag_dv=True),
        parse_deadlines(config["BEATBOOK_DEADLINES"]),
        1 << 20,
    ).lead
    with pytest.raises(ExpertError):
        invite(dv, cast.mine, "https://meeting.tencent.com/dm/dv", None, cast.supervisor)
    db.session.rollback()
    assert count(ExpertInvitation) == 2

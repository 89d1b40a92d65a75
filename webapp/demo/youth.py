"""Demo youth work: sealed profiles with sessions, and the outreach events of the last months.

Dated back from today, so the youth team's home (last 12 months) shows the station's own
figures: 82 talks, 48 counselling sessions, 15 minors helped (webapp/youth/figures.py defines
them). Made through the real services (so the audit log records them), then dated back.
Loading twice adds nothing: a station with profiles or outreach events is left as it is.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from webapp.demo import data
from webapp.demo.leads import NAMESPACE
from webapp.extensions import db
from webapp.leads.models import Lead
from webapp.org.models import Station, User
from webapp.youth.codes import ClosedReason, SessionKind, Topic
from webapp.youth.models import OutreachEvent, YouthProfile
from webapp.youth.services import (
    OutreachInput,
    ProfileInput,
    SessionInput,
    close_profile,
    open_profile,
    record_session,
    save_outreach,
    station_today,
)

# (name, age, school, grade, guardian, relation, phone, situation, risk factors)
PROFILES = (
    ("陈小宇", 14, "西门口中学", "初二(3)班", "陈建国", "父亲", "13955301001",
     "父母在外务工，随年迈祖母生活，连续多日不上学，夜间在网吧逗留。",
     {"truancy", "left_behind", "night_out"}),
    ("李佳怡", 12, "春归苑小学", "六年级", "王芳", "母亲", "13955301002",
     "在校被同学孤立、索要零花钱，情绪低落，不愿上学。", {"bullying"}),
    ("张浩然", 15, "西门口中学", "初三(1)班", "张伟", "父亲", "13955301003",
     "与社会闲散人员来往密切，曾参与夜市斗殴围观。", {"bad_company", "night_out"}),
    ("刘思琪", 13, "金桂园实验学校", "初一(2)班", "刘敏", "母亲", "13955301004",
     "家中父母长期争吵，曾目睹家暴，出现自伤苗头。", {"family_violence", "self_harm"}),
    ("王子轩", 16, "市职业技术学校", "高一", "王秀兰", "祖母", "13955301005",
     "辍学半年，在商场打零工，监护人无力管教。",
     {"truancy", "guardian_absent"}),
    ("赵欣怡", 11, "银杏苑小学", "五年级", "赵强", "父亲", "13955301006",
     "单亲家庭，放学后长时间独自在家，沉迷短视频。", {"guardian_absent"}),
    ("孙博文", 14, "西门口中学", "初二(5)班", "孙丽", "母亲", "13955301007",
     "多次欺凌低年级同学，被学校约谈。", {"bullying"}),
    ("周雨桐", 15, "金桂园实验学校", "初三(4)班", "周斌", "父亲", "13955301008",
     "网恋被骗，离家出走两日后寻回。", {"night_out"}),
    ("吴俊杰", 13, "春归苑小学", "六年级", "吴海燕", "母亲", "13955301009",
     "父亲服刑，母亲忙于生计，学习成绩骤降。", {"guardian_absent"}),
    ("郑可馨", 12, "银杏苑小学", "六年级", "郑磊", "父亲", "13955301010",
     "继母与其关系紧张，常被打骂。", {"family_violence"}),
    ("冯宇航", 16, "市职业技术学校", "高一", "冯军", "父亲", "13955301011",
     "夜间在KTV附近游荡，结识社会人员。", {"bad_company", "night_out"}),
    ("何语嫣", 14, "西门口中学", "初二(1)班", "何静", "母亲", "13955301012",
     "父母离异后拒绝沟通，在校情绪失控两次。", {"self_harm"}),
    ("许天乐", 10, "春归苑小学", "四年级", "许建华", "祖父", "13955301013",
     "留守儿童，祖父年迈，常在夜市摊位间玩耍到深夜。", {"left_behind", "night_out"}),
    ("曹梓涵", 15, "金桂园实验学校", "初三(2)班", "曹勇", "父亲", "13955301014",
     "沉迷网络游戏，与父亲多次冲突。", {"family_violence"}),
    ("马一鸣", 13, "西门口中学", "初一(4)班", "马红", "母亲", "13955301015",
     "遭高年级学生勒索，不敢告诉家长。", {"bullying"}),
    ("黄诗雨", 9, "银杏苑小学", "三年级", "黄志强", "父亲", "13955301016",
     "新近转学，父母在夜市经营，无人照看。", {"left_behind"}),
    ("罗家豪", 14, "西门口中学", "初二(2)班", "罗梅", "母亲", "13955301017",
     "逃课与同学在商场滋事。", {"truancy", "bad_company"}),
    ("邓子墨", 18, "市职业技术学校", "高二", "邓丽", "母亲", "13955301018",
     "两年前因欺凌问题建档，已长期稳定。", {"bullying"}),
)
# Sessions per profile in the last months (counselling, other kinds); the last three have none.
SESSIONS = ((6, 3), (5, 2), (4, 2), (5, 2), (3, 1), (3, 1), (4, 2), (3, 1), (3, 1), (3, 1), (2, 1),
            (2, 1), (2, 1), (2, 1), (1, 0), (0, 0), (0, 0), (0, 0))  # 48 counselling, 20 others
HELPED = (4, 8, 13)  # closed as helped (after their sessions)
MOVED_AWAY = 14  # closed as moved away, had one session: still one of the minors helped
AGED_OUT = 17  # closed as aged out, long ago: no session in the last months, not counted
TALK_PLACES = ("西门口中学", "春归苑小学", "银杏苑小学", "金桂园实验学校", "市职业技术学校",
               "国购广场社区活动室", "银杏苑社区居委会", "夜市街道综治中心")
TALKS = 82  # held in the last 330 days
PLANNED = 3  # and these are coming up


def _at(day) -> datetime:
    return datetime.combine(day, time(2, 0), tzinfo=UTC)


def load_demo_youth() -> int:
    """Add the demo profiles, sessions and outreach events if the station has none; return how many."""
    station = db.session.scalar(select(Station).where(Station.code == data.STATION["code"]))
    users = {u.username: u for u in db.session.scalars(
        select(User).where(User.username.in_(("youth", "youth2"))))}
    if station is None or len(users) < 2:
        return 0
    added = 0
    if db.session.scalar(select(YouthProfile.id).where(YouthProfile.station_id == station.id)
                         .limit(1)) is None:
        added += _profiles(station, users)
    if db.session.scalar(select(OutreachEvent.id).where(OutreachEvent.station_id == station.id)
                         .limit(1)) is None:
        added += _outreach(users["youth"])
    db.session.flush()
    return added


def _profiles(station: Station, users: dict[str, User]) -> int:
    today = station_today()
    counsellors = (users["youth"], users["youth2"])
    kinds = (SessionKind.FAMILY_EDUCATION, SessionKind.PARENT_CHILD)
    added = 0
    for index, spec in enumerate(PROFILES):
        name, age, school, grade, guardian, relation, phone, situation, factors = spec
        counsellor = counsellors[index % 2]
        opened = today - timedelta(days=800 if index == AGED_OUT else 300 - index * 12)
        profile = open_profile(counsellor, ProfileInput(
            name=name, birth_year=today.year - age, school=school, grade=grade, guardian_name=guardian,
            guardian_relation=relation, guardian_phone=phone, situation=situation,
            risk_factors=set(factors), counsellor_id=counsellor.id))
        profile.opened_at = _at(opened)
        counselling, others = SESSIONS[index]
        total = counselling + others
        span = max((today - opened).days - 5, 1)
        for number in range(total):
            held = opened + timedelta(days=3 + span * number // max(total, 1))
            kind = SessionKind.COUNSELLING if number < counselling else kinds[number % 2]
            record_session(counsellor, profile, SessionInput(
                kind=kind.value, counsellor_id=counsellor.id, held_on=held,
                duration_minutes=(45, 60, 90)[number % 3],
                notes="谈话顺利，孩子愿意表达；约定下次继续跟进。" if kind == SessionKind.COUNSELLING
                else "与监护人沟通家庭教育方法，布置亲子任务。",
                uuid=str(uuid.uuid5(NAMESPACE, f"youth-session-{index}-{number}")),
                recorded_at=_at(held)))
            added += 1
        if index in HELPED:
            close_profile(counsellor, profile, ClosedReason.HELPED.value, "已复学，情绪稳定，家校共管。",
                          today - timedelta(days=20 + index))
        elif index == MOVED_AWAY:
            close_profile(counsellor, profile, ClosedReason.MOVED_AWAY.value, "随父母迁往外省，已函告当地。",
                          today - timedelta(days=10))
        elif index == AGED_OUT:
            close_profile(counsellor, profile, ClosedReason.AGED_OUT.value, "已满十八周岁，转社区跟踪。",
                          today - timedelta(days=400))
        else:  # open: the next session overdue, this week, or later
            profile.next_session_on = today + timedelta(days=(-2, 1, 3, 12, 25)[index % 5])
        added += 1
    _link_leads(station, users["youth"])
    return added


def _link_leads(station: Station, youth: User) -> None:
    """The truancy lead of the demo grew into the first profile."""
    lead = db.session.scalar(select(Lead).where(Lead.uuid == str(uuid.uuid5(NAMESPACE, "youth-truancy"))))
    first = db.session.scalar(select(YouthProfile).where(YouthProfile.station_id == station.id,
                                                         YouthProfile.name == PROFILES[0][0]))
    if lead is not None and first is not None and lead not in first.leads:
        first.leads.append(lead)


def _outreach(author: User) -> int:
    today = station_today()
    topics = list(Topic)
    for number in range(TALKS + PLANNED):
        held = today - timedelta(days=330 * (TALKS - number) // TALKS) if number < TALKS \
            else today + timedelta(days=5 + 9 * (number - TALKS))
        save_outreach(author, None, OutreachInput(
            topic=topics[number % len(topics)].value, held_on=held,
            place=TALK_PLACES[number % len(TALK_PLACES)], audience=40 + (number * 37) % 260))
    return TALKS + PLANNED

"""Fill a database with N realistic leads for the list benchmarks (bench/list_pages.py).

    .venv/bin/python -m bench.generate_leads --database-url URL --leads 500000 [--seed 1]

Runs the migrations, loads the demo station (communities, grids, officers, volunteers), then
bulk-inserts leads with one party each (on average) and two timeline events each, through
SQLAlchemy Core executemany in batches — not through `register_lead`, which is per lead and far too
slow for 500k. Column values follow what `register_lead` and the lifecycle steps would have made:
graded at intake, routed to the community's officer, due by risk grade; most old leads closed, a few
thousand recent ones open, some of them overdue; ~2% without a community (the unroutable queue).

Deterministic for a seed: the same rows every time, except that times are placed relative to
`--now` (default: today 00:00 UTC), so "overdue" stays meaningful whenever the data is made.

`--city` makes a city instead (bench/city.py): 30 stations, station 1 the demo station with its
logins, 1,000 staff and 20,000 volunteers, the leads spread over the stations and 5 years, each with
its whole timeline, mediation cases, DV warning letters and return visits (bench/README.md, "A
city-sized data set").
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import random
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select, text

from bench import city

# Search terms that list_pages.py uses: a common word and a rare one from the summaries, and a miss.
COMMON_WORD = "噪音"
RARE_WORD = "外籍"
MISSING_WORD = "鲸鱼"  # in no summary or address: a search that finds nothing
RARE_WORD_RATE = 0.0005

YEARS = 3
OPEN_RATE = ((30, 0.30), (180, 0.01), (None, 0.001))  # (age below n days, share still open)

SOURCES = (("volunteer", 30), ("grid_worker", 20), ("building_head", 8), ("visit", 7), ("walk_in", 12),
           ("hotline_12345", 10), ("police_110", 8), ("residents_committee", 3), ("online", 2))
VOLUNTEER_SOURCES = {"volunteer", "grid_worker", "building_head"}
CATEGORIES = (("neighbour", 20), ("business", 12), ("consumer", 12), ("marriage_family", 12),
              ("property_management", 8), ("contract", 6), ("debt", 6), ("labour", 5),
              ("damage_compensation", 6), ("traffic_accident", 6), ("housing_homestead", 2), ("medical", 1),
              ("internet", 1), ("tourism", 1), ("pollution", 1), ("other", 2))
SUBTYPES = {
    "neighbour": (("noise_leak", 50), ("trivial_quarrel", 20), ("", 30)),
    "marriage_family": (("romance", 20), ("custody", 15), ("elder_support", 15), ("inheritance", 10),
                        ("", 40)),
    "debt": (("private_lending", 70), ("", 30)),
    "contract": (("tenancy", 50), ("", 50)),
    "labour": (("wage_arrears", 80), ("", 20)),
    "business": (("trivial_quarrel", 20), ("", 80)),
    "consumer": (("trivial_quarrel", 20), ("", 80)),
}
RISKS = (("red", 3), ("orange", 7.5), ("yellow", 52), ("blue", 37.5))  # flags bump some to orange
RISK_RANK = {"red": 0, "orange": 1, "yellow": 2, "blue": 3}
OPEN_STATES = (("assigned", 35), ("accepted", 35), ("in_mediation", 30))
DONE_RECENT = (("resolved", 40), ("monitoring", 15), ("return_visit", 15), ("closed", 20), ("failed", 5),
               ("transferred", 5))
DONE_OLD = (("closed", 90), ("failed", 3), ("transferred", 3), ("monitoring", 1), ("return_visit", 1),
            ("resolved", 2))
RESOLUTIONS = ("written", "oral", "on_the_spot")
FAILURE_ROUTES = ("court", "arbitration", "administrative")
TRANSFER_TARGETS = ("justice_office", "court_pre_litigation", "petitions_office", "labour_arbitration",
                    "department", "police_case")
# The step (timeline event kind) that brought a lead to its status, and the status before it.
LAST_STEP = {"assigned": ("assigned", "graded"), "accepted": ("accept", "assigned"),
             "in_mediation": ("start_mediation", "accepted"), "resolved": ("resolve", "in_mediation"),
             "failed": ("fail", "in_mediation"), "transferred": ("transfer", "in_mediation"),
             "monitoring": ("monitor", "resolved"), "return_visit": ("return_visit", "resolved"),
             "closed": ("close", "return_visit")}


def _words(text_: str) -> tuple[str, ...]:
    return tuple(text_.split())


SPOTS = _words("""东门 西门 南侧 北广场 后巷 地下车库 停车场 二楼商铺 烧烤摊 奶茶店 快递驿站 菜市场入口 3栋
    5栋1单元 7栋 12栋楼道 物业中心 公交站 KTV门口 网吧 小吃街 健身房 超市收银台 电梯间 幼儿园门口
    中介门店 美容院 洗车店 药店 广场舞场地""")
NEIGHBOUR_ISSUES = _words("噪音 漏水 楼道堆物 装修 宠物扰民 停车位 油烟 空调滴水 种菜占地 噪音")
FAMILY_ISSUES = _words("家庭琐事 子女抚养 赡养老人 财产分割 感情问题 彩礼 酗酒")
TRADE_ISSUES = _words("价格 退款 占道经营 商品质量 服务态度 会员卡退费 缺斤短两 外卖配送")
PROPERTY_ISSUES = _words("停水 停电 物业费 电梯故障 绿化 车位收费 垃圾清运")
CONTRACT_ISSUES = _words("押金退还 租金上涨 提前解约 装修款 合同违约")
DETAILS = _words("""双方情绪激动 围观人员较多 一方扬言报复 已被劝离现场 双方同意调解 社区已介入 需上门回访
    当事人情绪稳定 多次反映未果 一方要求赔偿 已调取监控 双方各执一词""")
RETURN_REASONS = _words("实际位置属于相邻社区 地址不在本社区 当事人为外区居民，建议转交")
OUTCOME_NOTES = _words("双方签订调解协议 口头约定不再发生 当场退款 已告知诉讼途径 移交相关部门 回访双方满意")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国红梅玉志文斌海燕"
RELATIONS = ("", "", "邻居", "顾客", "房东", "同事", "商户")


@dataclass
class Place:
    id: int
    code: str
    short: str  # the estate or street, e.g. 金桂园
    officer_id: int | None
    officer_name: str
    grid_ids: list[int]
    bounds: tuple[float, float, float, float] | None
    volunteer_ids: list[int]
    kind: str
    # GPS points inside the community with the grid each lies in (city stations; the demo has bounds).
    points: list[tuple[float, float, int]] = field(default_factory=list)


@dataclass
class Station:
    id: int
    places: list[Place]
    place_weights: list[int]
    volunteers: list[int]
    officers: list[tuple[int, str]]
    supervisors: list[int]
    # What the city's related records need (bench/city.py).
    dv_team: list[int] = field(default_factory=list)
    mediators: list[tuple[int, str]] = field(default_factory=list)
    prosecutors: list[int] = field(default_factory=list)
    lawyers: list[int] = field(default_factory=list)


class Picker:
    """Weighted choice with precomputed cumulative weights (random.choices recomputes them)."""

    def __init__(self, pairs):
        self.values = [v for v, _ in pairs]
        self.cumulative = list(itertools.accumulate(w for _, w in pairs))
        self.total = self.cumulative[-1]

    def __call__(self, rng: random.Random):
        return self.values[bisect.bisect_right(self.cumulative, rng.random() * self.total)]


SOURCE = Picker(SOURCES)
CATEGORY = Picker(CATEGORIES)
SUBTYPE = {category: Picker(pairs) for category, pairs in SUBTYPES.items()}
RISK = Picker(RISKS)
OPEN_STATE = Picker(OPEN_STATES)
DONE_RECENT_STATE = Picker(DONE_RECENT)
DONE_OLD_STATE = Picker(DONE_OLD)


def _phone(rng: random.Random) -> str:
    """A mobile number (85%), a local 8-digit landline (5%) or none."""
    roll = rng.random()
    if roll < 0.85:
        return "1" + rng.choice("35789") + f"{rng.randrange(10**9):09d}"
    return f"6{rng.randrange(10**7):07d}" if roll < 0.9 else ""


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def _id_number(rng: random.Random, received: datetime) -> str:
    born = received.year - rng.randrange(18, 80)
    return f"340104{born}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}{rng.randrange(10**4):04d}"


def _summary(rng: random.Random, category: str, subtype: str, place: str, head_count: int | None,
             dv: bool, minor: bool) -> str:
    where = place + rng.choice(SPOTS)
    if dv:
        text_ = f"{where}一女子反映丈夫酒后多次殴打，身上有伤，担心孩子受影响"
    elif minor:
        text_ = f"{where}一名未成年人连续多日不上学，夜间在外逗留，家长管教无效"
    elif category == "neighbour":
        issue = "噪音" if subtype == "noise_leak" and rng.random() < 0.5 else rng.choice(NEIGHBOUR_ISSUES)
        text_ = f"{where}住户之间因{issue}问题多次发生争吵"
    elif category == "marriage_family":
        text_ = f"{where}一家人因{rng.choice(FAMILY_ISSUES)}发生激烈争执"
    elif category in {"business", "consumer", "tourism"}:
        text_ = f"{where}商户与顾客因{rng.choice(TRADE_ISSUES)}问题发生纠纷"
    elif category == "labour":
        text_ = f"{where}{head_count or rng.randrange(2, 9)}名工人反映被拖欠工资约{rng.randrange(1, 40)}万元"
    elif category == "debt":
        text_ = f"{where}两人之间民间借贷{rng.randrange(1, 30)}万元到期未还，多次催讨发生口角"
    elif category == "traffic_accident":
        text_ = f"{where}附近电动车与行人发生轻微碰撞，就医疗费协商不下"
    elif category == "property_management":
        text_ = f"{where}业主与物业因{rng.choice(PROPERTY_ISSUES)}问题发生矛盾"
    elif category == "contract":
        text_ = f"{where}商铺租户与房东因{rng.choice(CONTRACT_ISSUES)}发生纠纷"
    elif category == "damage_compensation":
        text_ = f"{where}酒后推搡致手机摔坏、一人轻微受伤，双方就赔偿协商未果"
    else:
        text_ = f"{where}发生纠纷，当事人情绪不稳"
    text_ += "，" + rng.choice(DETAILS)
    if rng.random() < RARE_WORD_RATE:
        text_ += "，涉及外籍人员"
    if rng.random() < 0.3:
        text_ += "，" + rng.choice(DETAILS)
    return text_[:79] + "。"


def _address(rng: random.Random, place: Place | None) -> str:
    roll = rng.random()
    if roll < 0.3:
        return ""
    if place is None:
        return rng.choice(("辖区外某小区", "不详", "城南某商铺"))
    if place.kind == "residential":
        building, unit, floor, door = (rng.randrange(1, 30), rng.randrange(1, 5), rng.randrange(1, 33),
                                       rng.randrange(1, 5))
        return f"{place.short}{building}栋{unit}单元{floor}0{door}"
    return f"{place.short}{rng.randrange(1, 300)}号商铺"


def _load_station(db, station_code: str) -> Station:
    from webapp.demo import data
    from webapp.mediation.models import MediatorProfile
    from webapp.org.models import Community, Grid, Role, User, UserRole
    from webapp.org.models import Station as StationRow

    station = db.session.scalar(select(StationRow).where(StationRow.code == station_code))
    users = {u.id: u for u in db.session.scalars(select(User).where(User.station_id == station.id))}
    roles: dict[int, set[str]] = {}
    for grant in db.session.scalars(select(UserRole).where(UserRole.user_id.in_(users))):
        roles.setdefault(grant.user_id, set()).add(grant.role)
    demo = {c.code: c for c in data.COMMUNITIES}
    places = []
    for community in db.session.scalars(
            select(Community).where(Community.station_id == station.id).order_by(Community.code)):
        spec = demo.get(community.code)
        grid_ids = list(db.session.scalars(
            select(Grid.id).where(Grid.community_id == community.id).order_by(Grid.code)))
        officer = users.get(community.officer_id)
        places.append(Place(
            id=community.id, code=community.code, short=community.name.removesuffix("社区"),
            officer_id=community.officer_id, officer_name=officer.display_name if officer else "",
            grid_ids=grid_ids, bounds=data.community_bounds(spec) if spec else None,
            volunteer_ids=sorted(u.id for u in users.values()
                                 if u.community_id == community.id and Role.VOLUNTEER in roles.get(u.id, ())),
            kind=community.kind,
        ))
    if not places:
        raise SystemExit("the station has no communities")
    # Busy commercial communities produce more disputes than quiet residential ones.
    weights = {"plaza": 20, "pedestrian_street": 18, "night_market": 22, "market": 15}
    return Station(
        id=station.id, places=places,
        place_weights=[weights.get(p.kind, 12) for p in places],
        volunteers=sorted(uid for uid, r in roles.items() if Role.VOLUNTEER in r),
        officers=sorted((uid, users[uid].display_name) for uid, r in roles.items() if Role.OFFICER in r),
        supervisors=sorted(uid for uid, r in roles.items() if Role.SUPERVISOR in r),
        dv_team=sorted(uid for uid, r in roles.items() if Role.DV_TEAM in r),
        mediators=sorted((uid, users[uid].display_name) for uid, r in roles.items() if Role.MEDIATOR in r),
        prosecutors=sorted(db.session.scalars(select(MediatorProfile.user_id).where(
            MediatorProfile.prosecutor, MediatorProfile.user_id.in_(users)))),
        lawyers=sorted(uid for uid, r in roles.items() if Role.LAWYER in r),
    )


class Generator:
    """Makes the rows of lead number `index` (0-based) with id `first_id + index`.

    With several stations each lead goes to one of them in proportion to its communities' weights;
    `extras` (bench/city.py) then adds the lead's later timeline and related records."""

    def __init__(self, stations: list[Station], count: int, first_id: int, now: datetime, seed: int,
                 deadlines, lead_columns: set[str], years: int = YEARS, extras=None):
        self.stations = stations
        self.station_pick = Picker([(s, sum(s.place_weights)) for s in stations])
        self.count = count
        self.first_id = first_id
        self.now = now
        self.start = now - timedelta(days=365 * years)
        self.span = (now - self.start).total_seconds()
        self.rng = random.Random(seed)
        self.deadlines = deadlines
        self.places = {s.id: Picker([(p, w) for p, w in zip(s.places, s.place_weights, strict=True)])
                       for s in stations}
        self.extras = extras
        self.duplicates = bytearray(count)
        self.missing_columns = sorted({"cycle_started_at"} - lead_columns)

    def due(self, risk: str, received: datetime) -> datetime:
        from webapp.leads.deadlines import due_at

        return due_at(self.deadlines, risk, received)

    def lead(self, index: int, batch: dict[str, list]) -> None:
        rng, now = self.rng, self.now
        leads, parties, events = batch["lead"], batch["lead_party"], batch["lead_event"]
        station = self.station_pick(rng) if len(self.stations) > 1 else self.stations[0]
        lead_id = self.first_id + index
        received = self.start + timedelta(seconds=self.span * (index + rng.random()) / self.count)
        received = received.replace(microsecond=0)
        recorded = received - timedelta(seconds=rng.randrange(0, 1800) if rng.random() < 0.9
                                        else rng.randrange(1800, 6 * 3600))  # phones offline a while
        age_days = (now - received).total_seconds() / 86400

        place = None if rng.random() < 0.02 else self.places[station.id](rng)
        source = SOURCE(rng)
        dv, minor, watched, repeat = (rng.random() < 0.03, rng.random() < 0.02, rng.random() < 0.01,
                                      rng.random() < 0.02)
        category = "marriage_family" if dv or (minor and rng.random() < 0.6) else CATEGORY(rng)
        subtype = SUBTYPE[category](rng) if category in SUBTYPE else ""
        many_people = category in {"labour", "property_management"} and rng.random() < 0.1
        head_count = rng.randrange(10, 60) if many_people else None

        risk = RISK(rng)
        factors = set()
        if dv:
            factors.add("domestic_violence")
        if minor:
            factors.add("minor")
        if watched:
            factors.add("watched_person")
        if many_people:
            factors.add("many_people")
        if repeat:
            factors.add("repeat_calls")
        if factors - {"repeat_calls"} and risk in {"yellow", "blue"}:
            risk = "orange"
        if risk == "red":
            factors.add(rng.choice(("criminal_tendency", "extreme_act", "group_incident")))
        elif risk == "orange" and not factors and rng.random() < 0.5:
            factors.add("large_amount")

        # Status: old leads are done; a few thousand recent ones are still open.
        open_rate = next(rate for limit, rate in OPEN_RATE if limit is None or age_days < limit)
        is_open = rng.random() < open_rate
        returned_reason = ""
        duplicate_of = None
        if is_open:
            if place is None:
                status = "graded"  # unroutable: waits in the supervisors' intake queue
            elif rng.random() < 0.03:
                status = "graded"
                returned_reason = rng.choice(RETURN_REASONS)
            else:
                status = OPEN_STATE(rng)
            confirmed = rng.random() < (0.3 if age_days < 3 else 0.95)
        else:
            status = (DONE_RECENT_STATE if age_days < 30 else DONE_OLD_STATE)(rng)
            confirmed = rng.random() < 0.98
            if status == "closed" and index > 50 and rng.random() < 0.01:
                original = index - rng.randrange(1, 50)
                if not self.duplicates[original]:
                    self.duplicates[index] = 1
                    duplicate_of = self.first_id + original

        if status == "graded":
            assignee_id, assignee_name = None, ""
        elif place is not None and place.officer_id is not None:
            assignee_id, assignee_name = place.officer_id, place.officer_name
        else:  # unroutable at intake, assigned by a supervisor later
            assignee_id, assignee_name = station.officers[index % len(station.officers)]

        if source in VOLUNTEER_SOURCES or not (place and place.officer_id):
            pool = place.volunteer_ids if place and place.volunteer_ids and rng.random() < 0.8 \
                else station.volunteers
            reporter_id = pool[rng.randrange(len(pool))]
        else:  # desk intake by the community officer
            reporter_id = place.officer_id

        handled = min(now, received + timedelta(hours=rng.uniform(0.5, max(1.0, min(age_days, 40) * 24))))
        closed_at = handled if status == "closed" else None
        if status in {"resolved", "monitoring", "return_visit"} or (status == "closed" and not duplicate_of):
            roll = rng.random()
            outcome = (rng.choice(RESOLUTIONS) if roll < 0.8 else
                       rng.choice(FAILURE_ROUTES) if roll < 0.9 else rng.choice(TRANSFER_TARGETS))
        elif status == "failed":
            outcome = rng.choice(FAILURE_ROUTES)
        elif status == "transferred":
            outcome = rng.choice(TRANSFER_TARGETS)
        elif duplicate_of:
            outcome = "duplicate"
        else:
            outcome = ""
        active = is_open or status in {"monitoring", "return_visit"}
        supervised_until = None
        if active and rng.random() < 0.03:
            supervised_until = received + timedelta(days=rng.randrange(2, 20))
        extension = status in {"accepted", "in_mediation"} and rng.random() < 0.02
        # The city's timelines (bench/city.py) have no reopened cycles.
        reopened = self.extras is None and rng.random() < 0.005 and status != "graded" and not duplicate_of
        # Deadlines count from the receipt, or from the last reopening.
        cycle_started = min(now, received + timedelta(days=rng.randrange(10, 60))) if reopened else received
        gps = place is not None and (place.bounds is not None or place.points) and rng.random() < 0.4
        point = place.points[rng.randrange(len(place.points))] if gps and place.points else None
        if gps and not point:
            west, south, east, north = place.bounds

        summary = _summary(rng, category, subtype, place.short if place else "", head_count, dv, minor)
        ref = ""
        if source == "hotline_12345":
            ref = f"12345-{received:%Y%m%d}-{rng.randrange(10**4):04d}"
        elif source == "police_110":
            ref = f"110-{received:%Y%m%d}-{rng.randrange(10**4):04d}"
        leads.append({
            "id": lead_id, "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "station_id": station.id, "version": 1, "source": source, "source_ref": ref,
            "category": category, "subtype": subtype, "summary": summary,
            "flag_dv": dv, "flag_minor": minor, "flag_watched": watched, "flag_repeat": repeat,
            "flag_many_people": many_people, "head_count": head_count,
            "risk": risk, "risk_rank": RISK_RANK[risk], "risk_confirmed": confirmed,
            "risk_factors": ",".join(sorted(factors)),
            "community_id": place.id if place else None,
            "grid_id": point[2] if point else place.grid_ids[rng.randrange(len(place.grid_ids))]
            if place and place.grid_ids and rng.random() < 0.85 else None,
            "address": _address(rng, place),
            "latitude": point[1] if point else round(rng.uniform(south, north), 6) if gps else None,
            "longitude": point[0] if point else round(rng.uniform(west, east), 6) if gps else None,
            "gps_accuracy_m": round(rng.uniform(5, 50), 1) if gps else None,
            "reporter_id": reporter_id, "visit_id": None, "recorded_at": recorded, "received_at": received,
            "cycle_started_at": cycle_started,
            "status": status, "assignee_id": assignee_id,
            "assigned_at": received if assignee_id else None,
            "accepted_at": received + timedelta(minutes=rng.randrange(5, 600))
            if assignee_id and status != "assigned" else None,
            "due_at": self.due(risk, cycle_started), "returned_reason": returned_reason,
            "extension_requested": extension, "extension_reason": "需要等待鉴定结果" if extension else "",
            "supervised_until": supervised_until,
            "supervision_comment": "限期上门组织双方协商并反馈" if supervised_until else "",
            "reopened_count": 1 if reopened else 0,
            "outcome": outcome, "outcome_note": rng.choice(OUTCOME_NOTES) if outcome else "",
            "closed_at": closed_at, "duplicate_of_id": duplicate_of,
        })
        for column in self.missing_columns:  # the schema is older than this generator
            del leads[-1][column]

        roll = rng.random()
        party_count = 0 if roll < 0.1 else 2 if roll < 0.2 else 1
        first_party = len(parties)
        for number in range(party_count):
            if number == 0:
                role = "victim" if dv else "guardian" if minor else rng.choice(
                    ("applicant",) * 17 + ("respondent", "respondent", "reporter"))
            else:
                role = "abuser" if dv else "respondent"
            parties.append({
                "lead_id": lead_id, "role": role, "name": _name(rng),
                "phone": _phone(rng),
                "id_number": _id_number(rng, received) if rng.random() < 0.3 else "",
                "relation": "妻子" if dv and number == 0 else "丈夫" if dv else rng.choice(RELATIONS),
            })

        events.append({"lead_id": lead_id, "at": received, "actor_id": reporter_id, "kind": "registered",
                       "from_status": "", "to_status": "registered",
                       "detail": json.dumps({"source": source}, ensure_ascii=False)})
        if status == "graded" and returned_reason:
            kind, before, actor, detail = "return", "assigned", place.officer_id, {"reason": returned_reason}
        elif status == "graded":
            kind, before, actor, detail = "unroutable", "", None, {"matched_by": "none"}
        elif duplicate_of:
            kind, before, actor = "link_duplicate", "assigned", assignee_id
            detail = {"original": duplicate_of}
        else:
            kind, before = LAST_STEP[status]
            actor = None if kind == "assigned" else assignee_id
            detail = {"assignee": assignee_name, "matched_by": "community"} if kind == "assigned" else (
                {"outcome": outcome, "note": ""} if kind in {"resolve", "fail", "transfer"} else {})
        step = {"lead_id": lead_id, "at": received if kind == "assigned" else handled,
                "actor_id": actor, "kind": kind, "from_status": before,
                "to_status": "" if kind == "unroutable" else status,
                "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else ""}
        if self.extras is None:
            events.append(step)
        else:
            self.extras(leads[-1], parties[first_party:], step, handled, station, place, batch)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--leads", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--now", help="ISO time the data ends at (default: today 00:00 UTC)")
    parser.add_argument("--keep-indexes", action="store_true",
                        help="keep the secondary indexes during the load (slower)")
    parser.add_argument("--city", action="store_true",
                        help="30 stations with 1,000 staff and 20,000 volunteers, leads over 5 years with "
                             "their timelines, mediation cases, DV letters and return visits (bench/city.py)")
    parser.add_argument("--stations", type=int, default=None,
                        help="with --city: fewer stations (a small city for tests), staff and volunteers "
                             "scaled down with them")
    args = parser.parse_args(argv)
    if args.stations is not None and not (args.city and 2 <= args.stations <= city.STATIONS):
        parser.error(f"--stations goes with --city and is 2 to {city.STATIONS}")
    return args


def main(argv: list[str] | None = None) -> int:
    from webapp import create_app

    args = parse_args(argv)
    return generate(create_app({"SQLALCHEMY_DATABASE_URI": args.database_url}), args)


def generate(app, args: argparse.Namespace) -> int:
    """Migrate, load the demo station (and with --city the other stations), then the leads."""
    import flask_migrate

    from webapp.demo import data
    from webapp.demo.services import load_demo_station
    from webapp.extensions import db
    from webapp.leads.deadlines import parse_deadlines
    from webapp.leads.models import Lead, LeadEvent, LeadParty, LeadSearch

    now = (datetime.fromisoformat(args.now) if args.now
           else datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0))
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    with app.app_context():
        started = time.perf_counter()
        flask_migrate.upgrade()
        added = load_demo_station(app.config["BEATBOOK_DEMO_PASSWORD"])
        db.session.commit()
        print(f"migrations + demo station: {time.perf_counter() - started:.1f} s  (added {added})")

        extras, stations, years = None, [], YEARS
        # lead_search after the leads: its rows are made from the batch's leads (search.index_rows),
        # as the app makes them after each flush.
        tables = [Lead.__table__, LeadParty.__table__, LeadEvent.__table__, LeadSearch.__table__]
        if args.city:
            extras, stations = _build_city(db, app, args, now)
            tables += [db.metadata.tables[name] for name in extras.TABLES]
            years = city.YEARS
        station = _load_station(db, data.STATION["code"])
        first_id = (db.session.scalar(select(func.max(Lead.id))) or 0) + 1
        if first_id > 1:
            print(f"note: the database already holds leads; new ids start at {first_id}")
        db.session.close()
        generator = Generator([station, *stations], args.leads, first_id, now, args.seed,
                              parse_deadlines(app.config["BEATBOOK_DEADLINES"]), set(Lead.__table__.c.keys()),
                              years=years, extras=extras)

        with db.engine.connect() as conn:
            totals, insert_seconds, seconds = _insert_all(conn, generator, args, tables)
            if extras is not None:
                with conn.begin():
                    extras.store_counters(conn)
        print(f"inserted {totals['lead']:,} leads and {sum(totals.values()):,} rows in {seconds:.1f} s "
              f"({sum(totals.values()) / seconds:,.0f} rows/s, {totals['lead'] / seconds:,.0f} leads/s)")
        for name, rows in totals.items():  # rows/s of the INSERT time of that table alone
            print(f"  {name:<22} {rows:>10,} rows  {insert_seconds[name]:6.1f} s in INSERTs  "
                  f"{rows / max(insert_seconds[name], 1e-9):>9,.0f} rows/s")
        print(f"total, migrations to ANALYZE: {time.perf_counter() - started:.1f} s")
        _report(db, now)
    return 0


def _build_city(db, app, args, now: datetime):
    """Stations 2..n with their people (one transaction), and the maker of each lead's related rows."""
    from webapp.dv.services import parse_followup_days
    from webapp.org.models import Station as StationRow
    from webapp.org.models import User

    started = time.perf_counter()
    demo = db.session.scalar(select(StationRow).order_by(StationRow.id).limit(1))
    password_hash = db.session.scalar(select(User.password_hash).where(User.username == "officer"))
    stations_before = db.session.scalar(select(func.count()).select_from(StationRow))
    db.session.close()
    with db.engine.connect() as conn:
        if stations_before > 1:
            raise SystemExit("the database already holds a city: generate into an empty database")
        with conn.begin():
            plan = city.build_city(conn, args.seed, password_hash, demo.id, now, stations=args.stations)
        extras = city.CityRows(conn, args.seed, now,
                               parse_followup_days(app.config["BEATBOOK_DV_FOLLOWUP_DAYS"]),
                               int(app.config["BEATBOOK_RETURN_VISIT_DAYS"]))
    made = ", ".join(f"{rows:,} {name}" for name, rows in plan.counts.items())
    print(f"city: {len(plan.stations) + 1} stations, {made} in {time.perf_counter() - started:.1f} s")
    return extras, plan.stations


def _secondary_indexes(conn, tables) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of the indexes that back no constraint."""
    if conn.dialect.name == "sqlite":  # constraints' own indexes have no SQL
        return [(name, sql) for name, sql in conn.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name IN ({}) ORDER BY name".format(", ".join(f"'{t.name}'" for t in tables))))]
    rows = conn.execute(text("""
        SELECT c.relname, pg_get_indexdef(i.indexrelid)
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
        WHERE t.relname = ANY(:tables) AND t.relnamespace = current_schema()::regnamespace
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
        ORDER BY c.relname"""), {"tables": [table.name for table in tables]})
    return [(name, definition) for name, definition in rows]


def _insert_all(conn, generator: Generator, args, tables) -> tuple[dict[str, int], dict[str, float], float]:
    """Insert every batch; the next batch is built while the database stores the previous one.
    Returns the rows and the seconds spent in INSERTs per table, and the whole time.

    The secondary indexes are dropped for the load and rebuilt after it (one sort per index instead
    of millions of random index insertions); on PostgreSQL ANALYZE runs then.
    """
    from webapp.leads import search

    postgres = conn.dialect.name == "postgresql"
    totals = {table.name: 0 for table in tables}
    insert_seconds = {table.name: 0.0 for table in tables}
    indexes = []
    if not postgres:
        conn.exec_driver_sql("PRAGMA synchronous=OFF")  # bench data: speed over durability
        conn.commit()
    if not args.keep_indexes:
        indexes = _secondary_indexes(conn, tables)
        conn.commit()
        with conn.begin():
            for name, _ in indexes:
                conn.exec_driver_sql(f'DROP INDEX "{name}"')
        print(f"dropped {len(indexes)} secondary indexes for the load")

    def store(batch: dict[str, list]) -> None:
        with conn.begin():
            for table in tables:  # parents before children
                rows = batch[table.name]
                if rows:
                    clock = time.perf_counter()
                    if postgres and _copyable(table, rows[0]):
                        _copy(conn, table, rows)
                    else:
                        conn.execute(insert(table), rows)
                    insert_seconds[table.name] += time.perf_counter() - clock
                totals[table.name] += len(rows)

    # The rows are consistent by construction (tests/bench/test_city.py checks them): the foreign-key
    # triggers, one lookup per reference per row, are skipped for the load (superuser) — unless the
    # tables have triggers of their own, which replica mode would skip too.
    skip_checks = postgres and not _own_triggers(conn, tables)
    if skip_checks:
        conn.exec_driver_sql("SET session_replication_role = replica")
        conn.commit()
    started = last_report = time.perf_counter()
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = None
            for batch_start in range(0, args.leads, args.batch):
                batch: dict[str, list] = {table.name: [] for table in tables}
                for index in range(batch_start, min(args.leads, batch_start + args.batch)):
                    generator.lead(index, batch)
                batch["lead_search"].extend(search.index_rows(
                    (row["id"], row["summary"], row["address"], row["source_ref"], row["uuid"])
                    for row in batch["lead"]))
                if pending is not None:
                    pending.result()
                pending = pool.submit(store, batch)
                clock = time.perf_counter()
                if clock - last_report >= 5:
                    last_report = clock
                    _progress(totals, clock - started)
            if pending is not None:
                pending.result()
        _progress(totals, time.perf_counter() - started)
    finally:
        if skip_checks:
            conn.rollback()
            conn.exec_driver_sql("SET session_replication_role = DEFAULT")
            conn.commit()
        if indexes:
            rebuilt = time.perf_counter()
            with conn.begin():
                for _, definition in indexes:
                    conn.exec_driver_sql(definition)
            print(f"rebuilt {len(indexes)} indexes: {time.perf_counter() - rebuilt:.1f} s")
    if postgres:
        with conn.begin():
            for table in (t for t in tables if "id" in t.c):  # lead_search's key is the lead's
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                  f"(SELECT coalesce(max(id), 1) FROM {table.name}))"))
        analyzed = time.perf_counter()
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
        print(f"ANALYZE: {time.perf_counter() - analyzed:.1f} s")
    return totals, insert_seconds, time.perf_counter() - started


def _own_triggers(conn, tables) -> list[str]:
    """PostgreSQL: the triggers on these tables that are not a constraint's."""
    return list(conn.scalars(text("""
        SELECT g.tgname FROM pg_trigger g JOIN pg_class t ON t.oid = g.tgrelid
        WHERE NOT g.tgisinternal AND t.relname = ANY(:tables)
          AND t.relnamespace = current_schema()::regnamespace"""),
        {"tables": [table.name for table in tables]}))


def _copyable(table, row: dict) -> bool:
    """COPY skips SQLAlchemy's column defaults: only rows that name every column with one qualify."""
    return all(column.name in row for column in table.c if column.default is not None)


def _copy(conn, table, rows: list[dict]) -> None:
    """PostgreSQL: COPY the rows in (psycopg adapts the values; UTC-aware datetimes go in as they are)."""
    names = list(rows[0])
    columns = ", ".join(f'"{name}"' for name in names)
    cursor = conn.connection.driver_connection.cursor()
    with cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([row[name] for name in names])


def _progress(totals: dict[str, int], elapsed: float) -> None:
    rows = sum(totals.values())
    print(f"  {totals['lead']:>8,} leads  {rows:>9,} rows  {elapsed:6.1f} s  "
          f"{totals['lead'] / elapsed:8,.0f} leads/s  {rows / elapsed:8,.0f} rows/s", flush=True)


def _report(db, now: datetime) -> None:
    from webapp.leads.codes import OPEN_STATUSES
    from webapp.leads.models import Lead

    open_values = [s.value for s in OPEN_STATUSES]
    scalar = db.session.scalar
    overdue = scalar(select(func.count()).where(Lead.status.in_(open_values), Lead.due_at < now))
    print("status:", dict(db.session.execute(
        select(Lead.status, func.count()).group_by(Lead.status).order_by(func.count().desc())).all()))
    print("risk:", dict(db.session.execute(select(Lead.risk, func.count()).group_by(Lead.risk)).all()))
    print(f"open: {scalar(select(func.count()).where(Lead.status.in_(open_values))):,}  "
          f"overdue: {overdue:,}  "
          f"unroutable: {scalar(select(func.count()).where(Lead.community_id.is_(None))):,}  "
          f"dv: {scalar(select(func.count()).where(Lead.flag_dv.is_(True))):,}")


if __name__ == "__main__":
    sys.exit(main())

"""A city for `bench/generate_leads.py --city`: 29 more stations around the demo station, their
communities and grids with polygon boundaries, their staff and volunteers (`build_city`), and for
each lead the rows its handling would have left behind (`CityRows`): the full timeline, mediation
cases with sessions and agreements, DV warning letters with deliveries and follow-ups, and return
visits. Every row is made with Core executemany; values follow the services that would have made
them (webapp/mediation/services.py, webapp/dv/services.py, webapp/returnvisits/services.py).

Deterministic for a seed. The stored PDFs of letters and agreements are left out (NULL, empty
hash): making ~100k PDFs would take far longer than the rest of the load.
"""

from __future__ import annotations

import json
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import shapely
from shapely.geometry import MultiPoint, box, mapping
from sqlalchemy import bindparam, func, insert, select, update

STATIONS = 30  # the demo station is one of them
STAFF = 1_000  # everyone but the volunteers: officers, supervisors, teams, mediators, lawyers…
VOLUNTEERS = 20_000
YEARS = 5

# Station districts are tiles of this size (about 2.8 km square) east and north of the demo's origin.
TILE_LON, TILE_LAT = 0.030, 0.025
TILES_PER_ROW = 6
GPS_POINTS_PER_COMMUNITY = 256

STATION_NAMES = [
    "三里庵",
    "逍遥津",
    "杏花村",
    "亳州路",
    "双岗",
    "琥珀山庄",
    "稻香村",
    "安庆路",
    "五里墩",
    "井岗",
    "南七",
    "稻香楼",
    "大杨",
    "望湖",
    "骆岗",
    "芜湖路",
    "包河",
    "义井",
    "淝河",
    "常青",
    "荷叶地",
    "龙岗",
    "三孝口",
    "七里塘",
    "瑶海",
    "长江路",
    "明光路",
    "胜利路",
    "城隍庙",
]
ESTATE_WORDS = [
    "金桂",
    "银杏",
    "翡翠",
    "明珠",
    "春晖",
    "秋实",
    "枫林",
    "荷塘",
    "梧桐",
    "香樟",
    "紫薇",
    "海棠",
    "玉兰",
    "松柏",
    "书香",
    "和平",
    "幸福",
    "安居",
    "锦绣",
    "清风",
    "望江",
    "临湖",
    "东郊",
    "西苑",
    "南山",
    "北城",
    "绿洲",
    "阳光",
    "滨河",
    "新华",
]
ESTATE_SUFFIXES = ("园", "苑", "里", "新村", "花园", "家园")
KIND_NAMES = {
    "plaza": "广场",
    "pedestrian_street": "步行街",
    "night_market": "夜市",
    "market": "商圈",
    "other": "片区",
}
KINDS = (
    ("residential", 55),
    ("market", 12),
    ("plaza", 8),
    ("pedestrian_street", 7),
    ("night_market", 6),
    ("other", 12),
)
GRID_ORDINALS = "一二三四"
VOLUNTEER_TITLES = (("网格员", 30), ("楼栋长", 40), ("治安积极分子", 30))
# Staff of a station beside its community officers: (role codes, title, how many).
TEAMS = (
    (("supervisor",), "所长", 1),
    (("supervisor",), "教导员", 1),
    (("supervisor",), "副所长", 1),
    (("dv_team",), "反家暴专班", 3),
    (("youth_team",), "青少年辅导员", 2),
    (("mediator",), "人民调解员，退休检察官", 1),
    (("mediator",), "人民调解员", 3),
    (("lawyer",), "律师", 2),
    (("liaison",), "属地街道综治办", 1),
    (("admin",), "信息中心", 1),
)
FILLER = (("officer",), "民警")  # the rest of the staff: patrol and case officers

ORIGINS = (("own_initiative", 50), ("on_request", 40), ("referred", 10))
PLACES = (("room", 60), ("on_site", 30), ("video", 10))
RELATIONSHIPS = (("spouse", 70), ("former_spouse", 10), ("cohabitant", 15), ("parent", 3), ("child", 2))
EVIDENCE = (
    "admission",
    "victim_statement,witness",
    "victim_statement,audio_video",
    "victim_statement,messages",
    "admission,victim_statement",
    "victim_statement,medical",
)
STATEMENTS = (
    "双方陈述各自诉求，情绪基本平稳",
    "申请人要求赔偿损失，被申请人同意部分承担",
    "双方分别陈述，调解员释法说理",
    "当事人分开谈话，了解真实想法",
)
TERMS = (
    "被申请人于十五日内一次性赔偿申请人损失",
    "双方互谅互让，今后和睦相处，不再发生争执",
    "被申请人分三期归还欠款，每月底前支付",
    "物业公司限期维修，业主按时缴纳物业费",
)
FAILURE_REASONS = ("双方分歧过大，无法达成一致", "被申请人拒绝继续调解", "赔偿数额差距过大")
FOLLOWUP_NOTES = ("家庭关系趋于平稳，未再发生暴力", "双方情绪平稳，已告知求助渠道", "施暴人已作出书面保证")
VISIT_NOTES = ("双方表示协议已履行，关系和睦", "电话回访，当事人满意", "上门回访，未再发生纠纷")


def _weighted(rng: random.Random, pairs):
    return rng.choices([v for v, _ in pairs], [w for _, w in pairs])[0]


def _geojson(polygon) -> str:
    """A (convex) polygon as the compact GeoJSON the demo stores, coordinates to 6 decimals."""
    rings = mapping(polygon)["coordinates"]
    return json.dumps(
        {"type": "Polygon", "coordinates": [[[round(x, 6), round(y, 6)] for x, y in ring] for ring in rings]},
        separators=(",", ":"),
    )


def _points_inside(rng: random.Random, polygon, count: int) -> list[tuple[float, float]]:
    west, south, east, north = polygon.bounds
    points: list[tuple[float, float]] = []
    while len(points) < count:  # candidates in the bounding box, tested together
        xs = [rng.uniform(west, east) for _ in range(2 * count)]
        ys = [rng.uniform(south, north) for _ in range(2 * count)]
        inside = shapely.contains_xy(polygon, xs, ys)
        points.extend((x, y) for x, y, keep in zip(xs, ys, inside, strict=True) if keep)
    return points[:count]


def _gps_points(rng: random.Random, grid_cells: list) -> None:
    """Fill each grid's share of GPS points: rounded as stored, inside the grid's stored boundary and
    in no grid whose code sorts before it, so routing (webapp/leads/routing.py) puts them there."""
    cells = sorted(
        (code, shapely.from_geojson(boundary), grid_id, share, points)
        for code, boundary, grid_id, share, points in grid_cells
    )
    for position, (_code, polygon, grid_id, share, points) in enumerate(cells):
        earlier = [cell[1] for cell in cells[:position]]
        west, south, east, north = polygon.bounds
        found: list[tuple[float, float, int]] = []
        while len(found) < share:
            xs = [round(rng.uniform(west, east), 6) for _ in range(2 * share)]
            ys = [round(rng.uniform(south, north), 6) for _ in range(2 * share)]
            keep = shapely.contains_xy(polygon, xs, ys)
            for other in earlier:
                keep &= ~shapely.intersects_xy(other, xs, ys)
            found.extend((x, y, grid_id) for x, y, ok in zip(xs, ys, keep, strict=True) if ok)
        points.extend(found[:share])


def _split(rng: random.Random, polygon, parts: int) -> list:
    """Cut a polygon into `parts` Voronoi cells around random seeds inside it (irregular, adjacent
    areas that cover it exactly), in the seeds' order."""
    seeds = MultiPoint(_points_inside(rng, polygon, parts))
    cells = shapely.voronoi_polygons(seeds, extend_to=polygon, ordered=True).geoms
    return [cell.intersection(polygon) for cell in cells]


@dataclass
class CityPlan:
    """What build_city made, for the lead generator: stations in generate_leads' shape."""

    stations: list = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


class _Ids:
    """Explicit ids from max(id)+1 per table: children need their parents' ids before the insert."""

    def __init__(self, conn, tables):
        self.next = {t.name: (conn.scalar(select(func.max(t.c.id))) or 0) + 1 for t in tables}

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] += 1
        return value


def build_city(
    conn, seed: int, password_hash: str, demo_station_id: int, now: datetime, stations: int | None = None
) -> CityPlan:
    """Insert stations 2..n (n = 30 unless `stations` says fewer, with staff and volunteers scaled to
    match) with communities, grids and people, and volunteers for the demo station's communities;
    return the stations for the lead generator (the demo's is loaded apart)."""
    from bench.generate_leads import Place, Station
    from webapp.mediation.models import MediatorProfile
    from webapp.org.models import Community, Grid, User, UserRole
    from webapp.org.models import Station as StationRow

    rng = random.Random(f"city-{seed}")
    ids = _Ids(conn, (StationRow.__table__, Community.__table__, Grid.__table__, User.__table__))
    rows: dict[str, list[dict]] = defaultdict(list)
    demo_staff = conn.scalar(
        select(func.count())
        .select_from(User.__table__)
        .where(User.station_id == demo_station_id, User.community_id.is_(None))
    )
    demo_communities = list(
        conn.execute(
            select(Community.id, Community.code)
            .where(Community.station_id == demo_station_id)
            .order_by(Community.code)
        )
    )
    demo_grids = {
        cid: list(conn.scalars(select(Grid.id).where(Grid.community_id == cid).order_by(Grid.code)))
        for cid, _ in demo_communities
    }
    demo_volunteers = conn.scalar(
        select(func.count())
        .select_from(User.__table__)
        .where(User.station_id == demo_station_id, User.community_id.is_not(None))
    )
    count = stations or STATIONS
    others = count - 1
    staff_left = STAFF * count // STATIONS - demo_staff
    volunteers_left = VOLUNTEERS * count // STATIONS - demo_volunteers
    officer_updates = []

    def person(station_id, number, name, title, roles, community=None, grid=None, branch=False) -> int:
        user_id = ids.take("user")
        prefix = f"s{station_id:02d}"
        rows["user"].append(
            {
                "id": user_id,
                "username": f"{prefix}.{number}",
                "display_name": name,
                "password_hash": password_hash,
                "station_id": station_id,
                "community_id": community,
                "grid_id": grid,
                "in_volunteer_branch": branch,
                "is_branch_secretary": False,
                "title": title,
                "phone": "1" + rng.choice("3589") + f"{rng.randrange(10**9):09d}",
                "locale": None,
                "is_enabled": True,
                "session_generation": 0,
                "created_at": now - timedelta(days=365 * YEARS + rng.randrange(30, 400)),
            }
        )
        rows["user_role"].extend({"user_id": user_id, "role": role} for role in roles)
        return user_id

    def volunteers(station_id, count, places: list[tuple[int, list[int]]]) -> dict[int, list[int]]:
        """Each grid gets its grid worker first; the rest are building heads and activists."""
        from bench.generate_leads import _name

        by_community: dict[int, list[int]] = defaultdict(list)
        slots = [(cid, gid, "网格员") for cid, grids in places for gid in grids]
        while len(slots) < count:
            cid, grids = places[rng.randrange(len(places))]
            slots.append((cid, grids[rng.randrange(len(grids))], _weighted(rng, VOLUNTEER_TITLES)))
        for number, (cid, gid, title) in enumerate(slots[:count], 1):
            uid = person(
                station_id, f"v{number:04d}", _name(rng), title, ("volunteer",), cid, gid, rng.random() < 0.4
            )
            by_community[cid].append(uid)
        return by_community

    counts_per_station = [
        volunteers_left // count + (1 if i < volunteers_left % count else 0) for i in range(count)
    ]
    volunteers(
        demo_station_id, counts_per_station[0], [(cid, demo_grids[cid]) for cid, _ in demo_communities]
    )

    plan = CityPlan()
    for index in range(1, count):
        station = _build_station(
            rng,
            ids,
            rows,
            index,
            person,
            volunteers,
            officer_updates,
            staff_left // others + (1 if index - 1 < staff_left % others else 0),
            counts_per_station[index],
            Place,
            Station,
        )
        plan.stations.append(station)

    for table in (
        StationRow.__table__,
        Community.__table__,
        Grid.__table__,
        User.__table__,
        UserRole.__table__,
        MediatorProfile.__table__,
    ):
        if rows[table.name]:
            conn.execute(insert(table), rows[table.name])
        plan.counts[table.name] = len(rows[table.name])
    table = Community.__table__
    conn.execute(
        update(table).where(table.c.id == bindparam("community")).values(officer_id=bindparam("officer")),
        officer_updates,
    )
    if conn.dialect.name == "postgresql":  # the ids were given here: the sequences continue after them
        for name in ("station", "community", "grid", "user"):
            conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), (SELECT max(id) FROM \"{name}\"))"
            )
    return plan


def _build_station(
    rng, ids, rows, index, person, volunteers, officer_updates, staff, volunteer_count, Place, Station
):
    from bench.generate_leads import _name

    station_id = ids.take("station")
    name = STATION_NAMES[(index - 1) % len(STATION_NAMES)]
    rows["station"].append(
        {
            "id": station_id,
            "code": f"CITY{index:02d}-PS",
            "name": f"{name}派出所",
            "name_en": f"City station {index:02d}",
            "figures_stamp": f"{rng.getrandbits(128):032x}",
        }
    )
    west = 117.2800 + (index % TILES_PER_ROW) * TILE_LON
    south = 31.8600 + (index // TILES_PER_ROW) * TILE_LAT
    district = box(west, south, west + TILE_LON, south + TILE_LAT)
    areas = _split(rng, district, rng.randint(6, 12))
    estates = rng.sample(ESTATE_WORDS, len(areas))
    places: list = []
    grid_cells: list = []
    for number, (area, estate) in enumerate(zip(areas, estates, strict=True), 1):
        kind = _weighted(rng, KINDS)
        short = estate + (rng.choice(ESTATE_SUFFIXES) if kind == "residential" else KIND_NAMES[kind])
        community_id = ids.take("community")
        code = f"C{index:02d}{number:02d}"
        rows["community"].append(
            {
                "id": community_id,
                "station_id": station_id,
                "code": code,
                "name": f"{short}社区",
                "name_en": f"Community {code}",
                "kind": kind,
                "boundary": _geojson(area),
                "officer_id": None,
            }
        )
        grid_ids, points = [], []
        for ordinal, cell in enumerate(_split(rng, area, rng.randint(2, 4))):
            grid_id = ids.take("grid")
            rows["grid"].append(
                {
                    "id": grid_id,
                    "community_id": community_id,
                    "code": f"{code}-{ordinal + 1}",
                    "name": f"{short}{GRID_ORDINALS[ordinal]}网格",
                    "boundary": _geojson(cell),
                }
            )
            grid_ids.append(grid_id)
            share = max(1, round(GPS_POINTS_PER_COMMUNITY * cell.area / area.area))
            grid_cells.append((f"{code}-{ordinal + 1}", rows["grid"][-1]["boundary"], grid_id, share, points))
        places.append(
            Place(
                id=community_id,
                code=code,
                short=short,
                officer_id=None,
                officer_name="",
                grid_ids=grid_ids,
                bounds=None,
                volunteer_ids=[],
                kind=kind,
                points=points,
            )
        )

    _gps_points(rng, grid_cells)
    staff_roles: dict[str, list[tuple[int, str]]] = defaultdict(list)
    number = 0

    def hire(roles, title, community=None):
        nonlocal number
        number += 1
        display = _name(rng)
        uid = person(station_id, f"p{number:02d}", display, title, roles, community)
        for role in roles:
            staff_roles[role].append((uid, display))
        return uid, display

    for place in places:  # one community officer per community, some also on a team
        extra = rng.choices(((), ("mediator",), ("dv_team",)), (80, 10, 10))[0]
        place.officer_id, place.officer_name = hire(("officer", *extra), "社区民警")
        officer_updates.append({"community": place.id, "officer": place.officer_id})
    for roles, title, count in TEAMS:
        for _ in range(count):
            hire(roles, title)
    prosecutor = staff_roles["mediator"][-4][0]  # the retired prosecutor of TEAMS
    rows["mediator_profile"].append({"user_id": prosecutor, "prosecutor": True})
    while number < staff:
        hire(*FILLER)

    by_community = volunteers(station_id, volunteer_count, [(p.id, p.grid_ids) for p in places])
    for place in places:
        place.volunteer_ids = by_community.get(place.id, [])
    weights = {"plaza": 20, "pedestrian_street": 18, "night_market": 22, "market": 15}
    return Station(
        id=station_id,
        places=places,
        place_weights=[weights.get(p.kind, 12) for p in places],
        volunteers=sorted(uid for uids in by_community.values() for uid in uids),
        officers=sorted(staff_roles["officer"]),
        supervisors=sorted(u for u, _ in staff_roles["supervisor"]),
        dv_team=sorted(u for u, _ in staff_roles["dv_team"]),
        mediators=sorted(staff_roles["mediator"]),
        prosecutors=[prosecutor],
        lawyers=sorted(u for u, _ in staff_roles["lawyer"]),
    )


# --- the rows a lead's handling leaves behind ----------------------------------------------------------


@dataclass
class Times:
    """When each step of a lead happened (None: it did not)."""

    assigned: datetime | None = None
    accepted: datetime | None = None
    opened: datetime | None = None
    settled: datetime | None = None
    visited: datetime | None = None


SETTLE_STEP = {
    "resolved": "resolve",
    "monitoring": "resolve",
    "return_visit": "resolve",
    "failed": "fail",
    "transferred": "transfer",
}
CASE_STATUS = {"resolve": "resolved", "fail": "failed", "transfer": "transferred"}
SETTLED_STATUS = CASE_STATUS


class CityRows:
    """Adds, for one generated lead, its timeline after registration and its related records."""

    TABLES = (
        "mediation_case",
        "mediation_member",
        "mediation_session",
        "mediation_outcome",
        "mediation_agreement",
        "agreement_signature",
        "agreement_copy",
        "performance_term",
        "dv_letter",
        "dv_delivery",
        "dv_followup",
        "return_visit",
    )

    def __init__(self, conn, seed: int, now: datetime, followup_days: list[int], return_visit_days: int):
        from webapp.dv.models import LetterCounter
        from webapp.extensions import db

        self.rng = random.Random(f"city-rows-{seed}")
        self.now = now
        self.followup_days = followup_days
        self.return_visit_days = return_visit_days
        tables = [
            db.metadata.tables[name]
            for name in ("mediation_case", "mediation_agreement", "dv_letter", "return_visit")
        ]
        self.ids = _Ids(conn, tables)
        counter = LetterCounter.__table__
        self.existing_counters = {
            (s, y): n
            for s, y, n in conn.execute(select(counter.c.station_id, counter.c.year, counter.c.last_number))
        }
        self.letter_numbers: dict[tuple[int, int], int] = dict(self.existing_counters)
        self.last_issue: dict[int, datetime] = {}

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def __call__(
        self,
        lead: dict,
        parties: list[dict],
        step_event: dict,
        handled: datetime,
        station,
        place,
        batch: dict[str, list],
    ) -> None:
        self._timeline(lead, parties, step_event, handled, station, place, batch)
        self._oversight(lead, station, batch["lead_event"])

    def _oversight(self, lead: dict, station, events: list) -> None:
        """A supervisor's 督办 and an officer's extension request come after the lead's last step
        (they leave its status as it is), before `now`."""
        rng = self.rng
        if lead["supervised_until"]:
            last = events[-1]["at"]
            at = (last + (self.now - last) * rng.uniform(0.1, 0.9)).replace(microsecond=0)
            lead["supervised_until"] = at + timedelta(days=rng.randrange(2, 20))
            until, comment = lead["supervised_until"].isoformat(), lead["supervision_comment"]
            self._event(
                events,
                lead,
                at,
                station.supervisors[0],
                "supervise",
                lead["status"],
                lead["status"],
                {"comment": comment, "until": until},
            )
        if lead["extension_requested"]:
            last = events[-1]["at"]
            at = (last + (self.now - last) * rng.uniform(0.1, 0.9)).replace(microsecond=0)
            self._event(
                events,
                lead,
                at,
                lead["assignee_id"],
                "request_extension",
                lead["status"],
                lead["status"],
                {"reason": lead["extension_reason"]},
            )

    def _timeline(self, lead, parties, step_event, handled, station, place, batch) -> None:
        from webapp.returnvisits.services import end_of_local_day

        self.end_of_local_day = end_of_local_day
        rng, events = self.rng, batch["lead_event"]
        received, status = lead["received_at"], lead["status"]
        graded = {
            "by_rules": True,
            "factors": lead["risk_factors"].split(",") if lead["risk_factors"] else [],
            "repeat": lead["flag_repeat"],
            "risk": lead["risk"],
        }
        self._event(events, lead, received, None, "graded", "registered", "graded", graded)
        if status == "graded" and not lead["returned_reason"] or place is None:
            self._event(events, lead, received, None, "unroutable", "", "", {"matched_by": "none"})
        if status == "graded" and not lead["returned_reason"]:
            self._shared(events, lead, received)
            return
        times = Times()
        if place is None:  # a supervisor assigned it from the intake queue
            times.assigned = min(self.now, received + timedelta(minutes=rng.randrange(20, 600)))
            lead["assigned_at"] = times.assigned
            self._event(
                events,
                lead,
                times.assigned,
                station.supervisors[0],
                "assign",
                "graded",
                "assigned",
                {"assignee": self._name_of(station, lead["assignee_id"])},
            )
        else:
            times.assigned = received
            self._event(
                events,
                lead,
                received,
                None,
                "assigned",
                "graded",
                "assigned",
                {"assignee": place.officer_name, "matched_by": "community"},
            )
        self._shared(events, lead, times.assigned)
        if status == "graded" or lead["duplicate_of_id"]:  # returned to the queue, or a duplicate
            step_event["at"] = max(step_event["at"], times.assigned)
            events.append(step_event)
            if lead["closed_at"]:
                lead["closed_at"] = step_event["at"]
            return
        if status == "assigned":
            return
        self._handle(lead, parties, handled, station, batch, times)

    def _name_of(self, station, user_id: int) -> str:
        return next((name for uid, name in station.officers if uid == user_id), "")

    def _event(self, events, lead, at, actor, kind, before, after, detail) -> None:
        events.append(
            {
                "lead_id": lead["id"],
                "at": at,
                "actor_id": actor,
                "kind": kind,
                "from_status": before,
                "to_status": after,
                "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else "",
            }
        )

    def _shared(self, events, lead, at) -> None:
        for flag, team in (("flag_dv", "dv_team"), ("flag_minor", "youth_team")):
            if lead[flag]:
                self._event(events, lead, at, None, "shared_with_team", "", "", {"team": team})

    def _plan(
        self, lead: dict, handled: datetime, times: Times, has_case: bool, settle: str | None, visit: bool
    ) -> None:
        """Place the steps in time: minutes to hours apart, days for mediation, the return visit on
        its due day; squeezed to end before `now` when the lead is recent."""
        rng = self.rng
        offsets = {"accepted": timedelta(minutes=rng.randrange(5, 600))}
        if has_case:
            offsets["opened"] = offsets["accepted"] + timedelta(hours=rng.uniform(1, 48))
        last = offsets.get("opened", offsets["accepted"])
        if settle:
            offsets["settled"] = last + timedelta(days=rng.uniform(0.2, 20 if has_case else 6))
            last = offsets["settled"]
        start = times.assigned
        if visit:
            due = self.end_of_local_day(start + last, self.return_visit_days)
            offsets["visited"] = due - start - timedelta(hours=rng.uniform(2, 30))
            last = max(last, offsets["visited"])
        room = self.now - timedelta(minutes=1) - start
        scale = max(0.0, min(1.0, room / last)) if last > timedelta(0) else 1.0
        for name, offset in offsets.items():
            setattr(times, name, (start + offset * scale).replace(microsecond=0))

    def _handle(self, lead, parties, handled, station, batch, times: Times) -> None:
        rng, events, status = self.rng, batch["lead_event"], lead["status"]
        outcome = lead["outcome"]
        if status == "closed":
            settle = (
                "resolve"
                if outcome in ("written", "oral", "on_the_spot")
                else ("fail" if outcome in ("court", "arbitration", "administrative") else "transfer")
            )
        else:
            settle = SETTLE_STEP.get(status)
        # Failing needs a case (fail starts from in_mediation); a written resolution needs a signed agreement.
        has_case = (
            status == "in_mediation"
            or settle == "fail"
            or outcome == "written"
            or (settle is not None and rng.random() < 0.15)
        )
        visit = status in ("return_visit", "closed")
        self._plan(lead, handled, times, has_case, settle, visit)
        actor = lead["assignee_id"]
        lead["accepted_at"] = times.accepted
        self._event(events, lead, times.accepted, actor, "accept", "assigned", "accepted", {})
        if has_case:
            self._event(events, lead, times.opened, actor, "start_mediation", "accepted", "in_mediation", {})
            self._case(lead, parties, station, batch, times, settle)
        if lead["flag_dv"]:
            self._letter(lead, parties, station, batch, times)
        if settle is None:
            return
        after = SETTLED_STATUS[settle]
        self._event(
            events,
            lead,
            times.settled,
            actor,
            settle,
            "in_mediation" if has_case else "accepted",
            after,
            {"note": lead["outcome_note"], "outcome": outcome},
        )
        if status == "monitoring":
            times_monitor = min(self.now, times.settled + timedelta(hours=1))
            self._event(events, lead, times_monitor, actor, "monitor", "resolved", "monitoring", {})
            after = "monitoring"
        self._return_visits(lead, batch, times, after)

    def _return_visits(self, lead, batch, times: Times, settled_status: str) -> None:
        rng, actor = self.rng, lead["assignee_id"]
        due = self.end_of_local_day(times.settled, self.return_visit_days)
        base = {
            "station_id": lead["station_id"],
            "lead_id": lead["id"],
            "cycle": 0,
            "assignee_id": actor,
            "created_at": times.settled,
        }
        visits = batch["return_visit"]
        if times.visited is None:  # still waiting; long-forgotten ones were tried three times
            if due >= self.now - timedelta(days=14):
                visits.append(
                    {
                        **base,
                        "id": self.ids.take("return_visit"),
                        "attempt": 1,
                        "due_at": due,
                        **self._pending(),
                    }
                )
                return
            for attempt in range(1, 4):  # unreachable: the next attempt is due the next day
                at = due - timedelta(hours=rng.uniform(2, 8))
                visits.append(
                    {
                        **base,
                        "id": self.ids.take("return_visit"),
                        "attempt": attempt,
                        "due_at": due,
                        **self._recorded("unreachable", "电话无人接听", actor, at),
                    }
                )
                due = self.end_of_local_day(at, 1)
            return
        visit_id = self.ids.take("return_visit")
        visits.append(
            {
                **base,
                "id": visit_id,
                "attempt": 1,
                "due_at": due,
                **self._recorded("holding", rng.choice(VISIT_NOTES), actor, times.visited),
            }
        )
        events = batch["lead_event"]
        self._event(events, lead, times.visited, actor, "return_visit", settled_status, "return_visit", {})
        if lead["status"] == "closed":
            note = f"回访 #{visit_id}：{visits[-1]['note']}"
            self._event(events, lead, times.visited, actor, "close", "return_visit", "closed", {"note": note})
            lead["closed_at"] = times.visited

    def _pending(self) -> dict:
        return {
            "state": "pending",
            "result": "",
            "note": "",
            "uuid": None,
            "recorded_at": None,
            "received_at": None,
            "recorded_by_id": None,
        }

    def _recorded(self, result: str, note: str, actor: int, at: datetime) -> dict:
        return {
            "state": "recorded",
            "result": result,
            "note": note,
            "uuid": self.uuid(),
            "recorded_at": at,
            "received_at": at + timedelta(seconds=self.rng.randrange(1, 600)),
            "recorded_by_id": actor,
        }

    # --- mediation ------------------------------------------------------------------------------------

    def _case(self, lead, parties, station, batch, times: Times, settle: str | None) -> None:
        from bench.generate_leads import _name

        rng, officer = self.rng, lead["assignee_id"]
        case_id = self.ids.take("mediation_case")
        mediator_id, mediator_name = station.mediators[rng.randrange(len(station.mediators))]
        lawyer = station.lawyers[rng.randrange(len(station.lawyers))] if rng.random() < 0.3 else None
        status = CASE_STATUS[settle] if settle else "open"
        batch["mediation_case"].append(
            {
                "id": case_id,
                "station_id": lead["station_id"],
                "lead_id": lead["id"],
                "origin": _weighted(rng, ORIGINS),
                "status": status,
                "opened_by_id": officer,
                "opened_at": times.opened,
                "consent_at": times.opened if rng.random() < 0.9 else None,
                "consent_note": "双方同意调解",
                "concluded_at": times.settled,
                "guide_id": None,
            }
        )
        mediator_role = "prosecutor" if mediator_id in station.prosecutors else "mediator"
        members = [(officer, "officer"), (mediator_id, mediator_role)] + (
            [(lawyer, "lawyer")] if lawyer else []
        )
        batch["mediation_member"].extend(
            {"case_id": case_id, "user_id": uid, "role": role, "added_at": times.opened}
            for uid, role in members
        )
        names = [p["name"] for p in parties][:2]
        while len(names) < 2:
            names.append(_name(rng))
        end = times.settled or self.now
        count = 1 + (rng.random() < 0.4) + (rng.random() < 0.15)
        for number in range(count):
            last = number == count - 1
            starts = times.opened + (end - times.opened) * (number + 1) / (count + 1)
            if not settle and last and rng.random() < 0.5:  # the next session, planned
                starts = self.now + timedelta(days=rng.randrange(1, 10))
            result = (
                "continuing"
                if not last or settle in (None, "transfer")
                else ("agreement" if settle == "resolve" else "failed")
            )
            place = _weighted(rng, PLACES)
            batch["mediation_session"].append(
                {
                    "case_id": case_id,
                    "starts_at": starts.replace(microsecond=0),
                    "place": place,
                    "place_detail": "所调解室" if place == "room" else "",
                    "video_url": f"https://meeting.example.cn/{case_id}-{number}" if place == "video" else "",
                    "officer_id": officer,
                    "prosecutor_id": mediator_id if mediator_role == "prosecutor" else None,
                    "lawyer_id": lawyer,
                    "attendees": "、".join(names),
                    "statements": rng.choice(STATEMENTS),
                    "private": rng.random() < 0.05,
                    "result": result,
                    "terms": rng.choice(TERMS) if result == "agreement" else "",
                    "failure_reason": rng.choice(FAILURE_REASONS) if result == "failed" else "",
                    "next_step": "",
                    "recorded_by_id": mediator_id,
                    "recorded_at": min(self.now, starts + timedelta(hours=2)).replace(microsecond=0),
                }
            )
        if not settle:
            return
        if lead["outcome"] == "written":
            self._agreement(lead, case_id, names, mediator_name, officer, batch, times)
        batch["mediation_outcome"].append(
            {
                "case_id": case_id,
                "status": status,
                "code": lead["outcome"],
                "note": lead["outcome_note"],
                "actor_id": officer,
                "at": times.settled,
            }
        )

    def _agreement(self, lead, case_id, names, mediator_name, officer, batch, times: Times) -> None:
        rng = self.rng
        agreement_id = self.ids.take("mediation_agreement")
        signed = times.settled - timedelta(minutes=rng.randrange(10, 120))
        perform_by = (signed + timedelta(days=rng.randrange(10, 60))).date()
        batch["mediation_agreement"].append(
            {
                "id": agreement_id,
                "case_id": case_id,
                "parties": f"甲方：{names[0]}\n乙方：{names[1]}",
                "facts": lead["summary"],
                "issues": "双方就赔偿及今后相处方式存在争议",
                "responsibilities": "双方各有过错，被申请人承担主要责任",
                "terms": rng.choice(TERMS),
                "performance": "按约定期限履行，社区民警监督",
                "perform_by": perform_by,
                "signed_at": signed,
                "pdf": None,
                "pdf_sha256": "",
                "updated_at": signed,
            }
        )
        batch["agreement_signature"].extend(
            {"agreement_id": agreement_id, "name": name, "capacity": capacity, "signed_at": signed}
            for name, capacity in ((names[0], "party"), (names[1], "party"), (mediator_name, "mediator"))
        )
        batch["agreement_copy"].extend(
            {"agreement_id": agreement_id, "recipient": name, "handed_at": signed, "handed_by_id": officer}
            for name in names
        )
        for number in range(1 + (rng.random() < 0.3)):
            due_on = perform_by - timedelta(days=number * 7)
            done = due_on < self.now.date() and rng.random() < 0.9
            batch["performance_term"].append(
                {
                    "agreement_id": agreement_id,
                    "description": "支付赔偿款" if number == 0 else "修复受损设施",
                    "due_on": due_on,
                    "done_at": datetime.combine(due_on, signed.timetz()) if done else None,
                    "done_note": "已履行" if done else "",
                }
            )

    # --- domestic violence ----------------------------------------------------------------------------

    def _letter(self, lead, parties, station, batch, times: Times) -> None:
        """Six in ten accepted DV leads get a warning letter; numbers run 1..n per station and local
        year in the order of issue (issue times kept increasing per station), as _next_number gives."""
        from bench.generate_leads import _name
        from webapp.timeutil import STATION_TZ

        rng = self.rng
        if rng.random() >= 0.6:
            return
        requester = station.dv_team[rng.randrange(len(station.dv_team))]
        requested = min(self.now, times.accepted + timedelta(hours=rng.uniform(1, 72))).replace(microsecond=0)
        decided = (requested + timedelta(hours=rng.uniform(2, 24))).replace(microsecond=0)
        issued = (decided + timedelta(hours=rng.uniform(1, 6))).replace(microsecond=0)
        station_id = lead["station_id"]
        issued = max(issued, self.last_issue.get(station_id, issued) + timedelta(seconds=1))
        refused = rng.random() < 0.05
        status = (
            "requested"
            if decided > self.now
            else "refused"
            if refused
            else "approved"
            if issued > self.now
            else "issued"
        )
        abuser = next((p for p in parties if p["role"] == "abuser"), None)
        victim = next((p for p in parties if p["role"] == "victim"), None)
        letter_id = self.ids.take("dv_letter")
        row = {
            "id": letter_id,
            "station_id": station_id,
            "lead_id": lead["id"],
            "status": status,
            "abuser_name": abuser["name"] if abuser else _name(rng),
            "abuser_id_number": abuser["id_number"] if abuser else "",
            "relationship_to_victim": _weighted(rng, RELATIONSHIPS),
            "victim_name": victim["name"] if victim else _name(rng),
            "minors_in_household": rng.choice((0, 0, 1, 2)),
            "police_ref": lead["source_ref"] if lead["source"] == "police_110" else "",
            "facts": lead["summary"],
            "evidence": ",".join(sorted(rng.choice(EVIDENCE).split(","))),
            "evidence_note": "",
            "supersedes_id": None,
            "requested_by_id": requester,
            "requested_at": requested,
            "decided_by_id": None,
            "decided_at": None,
            "refusal_reason": "",
            "issued_by_id": None,
            "issued_at": None,
            "number_year": None,
            "number_seq": None,
            "pdf_sha256": "",
            "pdf": None,
        }
        if status != "requested":
            row.update(
                decided_by_id=station.supervisors[0],
                decided_at=decided,
                refusal_reason="证据不足，建议补充材料" if status == "refused" else "",
            )
        if status == "issued":
            self.last_issue[station_id] = issued
            year = issued.astimezone(STATION_TZ).year
            number = self.letter_numbers.get((station_id, year), 0) + 1
            self.letter_numbers[(station_id, year)] = number
            row.update(issued_by_id=requester, issued_at=issued, number_year=year, number_seq=number)
        batch["dv_letter"].append(row)
        if status == "issued":
            self._delivered(row, batch)
            self._followups(row, lead, batch, rng.random() < 0.2)

    def _delivered(self, letter, batch) -> None:
        rng = self.rng
        for recipient in ("abuser", "victim", "committee"):
            at = letter["issued_at"] + timedelta(hours=rng.uniform(0.5, 24))
            if at > self.now:
                return
            refused = recipient == "abuser" and rng.random() < 0.15
            batch["dv_delivery"].append(
                {
                    "uuid": self.uuid(),
                    "letter_id": letter["id"],
                    "recipient": recipient,
                    "method": "with_witness" if refused else "in_person",
                    "outcome": "refused" if refused else "signed",
                    "witness": "社区主任" if refused else "",
                    "note": "",
                    "delivered_at": at.replace(microsecond=0),
                    "recorded_by_id": letter["issued_by_id"],
                    "received_at": (at + timedelta(minutes=2)).replace(microsecond=0),
                    "photo": None,
                    "photo_sha256": "",
                }
            )

    def _followups(self, letter, lead, batch, by_committee: bool) -> None:
        from webapp.timeutil import STATION_TZ

        rng = self.rng
        start = letter["issued_at"].astimezone(STATION_TZ)
        for after in self.followup_days:
            due_on = start.date() + timedelta(days=after)
            done_at = datetime.combine(due_on, start.timetz()) - timedelta(hours=rng.uniform(0, 48))
            done = done_at < self.now and rng.random() < 0.95
            recurred = done and rng.random() < 0.08
            batch["dv_followup"].append(
                {
                    "letter_id": letter["id"],
                    "lead_id": lead["id"],
                    "station_id": letter["station_id"],
                    "due_on": due_on,
                    "days_after": after,
                    "assignee_id": letter["requested_by_id"],
                    "by_committee": by_committee,
                    "uuid": self.uuid() if done else None,
                    "done_at": done_at.replace(microsecond=0) if done else None,
                    "done_by_id": letter["requested_by_id"] if done else None,
                    "recurred": recurred if done else None,
                    "note": ("再次发生家暴，已固定证据" if recurred else rng.choice(FOLLOWUP_NOTES))
                    if done
                    else "",
                }
            )

    def store_counters(self, conn) -> int:
        """The letter counters end where the numbering ended (the next issue takes the next number)."""
        from webapp.dv.models import LetterCounter

        table = LetterCounter.__table__
        changed = {key: n for key, n in self.letter_numbers.items() if self.existing_counters.get(key) != n}
        new = [
            {"station_id": s, "year": y, "last_number": n}
            for (s, y), n in changed.items()
            if (s, y) not in self.existing_counters
        ]
        old = [{"s": s, "y": y, "n": n} for (s, y), n in changed.items() if (s, y) in self.existing_counters]
        if new:
            conn.execute(insert(table), new)
        if old:
            conn.execute(
                update(table)
                .where(table.c.station_id == bindparam("s"), table.c.year == bindparam("y"))
                .values(last_number=bindparam("n")),
                old,
            )
        return len(changed)

"""Demo station definition. Deterministic: the same input every time, keyed by codes and user names.

Geography: communities are laid out as adjacent rectangles around the plaza (WGS84 lon/lat);
each community is split into two grids, so every GPS point inside the district routes somewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from webapp.org.models import CommunityKind, Role

STATION = {"code": "XMK-PS", "name": "西门口派出所", "name_en": "Ximenkou Police Station"}

# South-west corner of the district and the size of one community cell (~380 m × 400 m).
ORIGIN_LON, ORIGIN_LAT = 117.2800, 31.8600
CELL_LON, CELL_LAT = 0.0040, 0.0036


@dataclass(frozen=True)
class DemoCommunity:
    code: str
    name: str
    name_en: str
    kind: CommunityKind
    column: int
    row: int
    officer: str
    grids: tuple[str, str]


COMMUNITIES = (
    DemoCommunity("GGGC", "国购广场社区", "Guogou Plaza", CommunityKind.PLAZA, 0, 0, "officer",
                  ("广场东网格", "广场西网格")),
    DemoCommunity("CGYJ", "春归苑步行街社区", "Chunguiyuan Pedestrian Street",
                  CommunityKind.PEDESTRIAN_STREET, 1, 0, "officer2", ("步行街北网格", "步行街南网格")),
    DemoCommunity("XMKY", "西门口夜市社区", "Ximenkou Night Market", CommunityKind.NIGHT_MARKET,
                  2, 0, "officer3", ("夜市一网格", "夜市二网格")),
    DemoCommunity("SCSQ", "双超商圈社区", "Twin Hypermarkets", CommunityKind.MARKET, 2, 1,
                  "officer3", ("超市甲网格", "超市乙网格")),
    DemoCommunity("JGYS", "金桂园社区", "Jinguiyuan Residences", CommunityKind.RESIDENTIAL, 0, 1,
                  "officer4", ("金桂园一期网格", "金桂园二期网格")),
    DemoCommunity("YXYS", "银杏苑社区", "Yinxingyuan Residences", CommunityKind.RESIDENTIAL, 1, 1,
                  "officer5", ("银杏苑东区网格", "银杏苑西区网格")),
)


@dataclass(frozen=True)
class DemoPerson:
    username: str
    display_name: str
    roles: frozenset[Role]
    title: str = ""
    community: str | None = None  # community code
    grid: int | None = None  # 0 or 1: which of the community's two grids
    branch: bool = False  # member of the volunteer-police party branch


def _p(username, name, roles, title="", community=None, grid=None, branch=False) -> DemoPerson:
    return DemoPerson(username, name, frozenset(roles), title, community, grid, branch)


R = Role
PEOPLE: tuple[DemoPerson, ...] = (
    _p("admin", "系统管理员 周敏", {R.ADMIN}, "信息中心"),
    _p("supervisor", "所长 陈志强", {R.SUPERVISOR}, "所长"),
    _p("supervisor2", "教导员 刘芳", {R.SUPERVISOR}, "教导员、义警临时党支部书记"),
    _p("officer", "王建国", {R.OFFICER}, "社区民警"),
    _p("officer2", "李卫东", {R.OFFICER}, "社区民警"),
    _p("officer3", "张海涛", {R.OFFICER, R.MEDIATOR}, "社区民警"),
    _p("officer4", "赵丽华", {R.OFFICER, R.DV_TEAM}, "社区民警（女）"),
    _p("officer5", "孙明", {R.OFFICER}, "社区民警"),
    _p("mediator", "钱德厚", {R.MEDIATOR}, "人民调解员，退休检察官"),
    _p("mediator2", "吴桂兰", {R.MEDIATOR}, "人民调解员，社区主任"),
    _p("mediator3", "郑国平", {R.MEDIATOR}, "人民调解员"),
    _p("lawyer", "冯律师 冯晓", {R.LAWYER}, "律师，法律援助"),
    _p("lawyer2", "陈律师 陈思远", {R.LAWYER}, "律师"),
    _p("expert", "何心怡", {R.EXPERT}, "心理咨询师"),
    _p("expert2", "罗建平", {R.EXPERT}, "注册会计师"),
    _p("expert3", "高工 高峰", {R.EXPERT}, "建筑工程师"),
    _p("expert4", "许医生 许晴", {R.EXPERT}, "医生"),
    _p("expert5", "马会长 马强", {R.EXPERT}, "餐饮行业协会"),
    _p("dvteam", "杨雪", {R.DV_TEAM}, "反家暴专班，女民警"),
    _p("dvteam2", "朱红", {R.DV_TEAM}, "街道妇联"),
    _p("dvteam3", "秦月", {R.DV_TEAM}, "街道综治中心"),
    _p("youth", "林老师 林静", {R.YOUTH_TEAM}, "心理辅导老师"),
    _p("youth2", "宋家明", {R.YOUTH_TEAM}, "家庭教育指导师"),
    _p("liaison", "街道办 韩立", {R.LIAISON}, "属地街道综治办"),
    # Volunteers: one grid worker per grid, plus building heads and public-security activists.
    _p("volunteer", "刘大姐 刘秀英", {R.VOLUNTEER}, "网格员", "GGGC", 0, True),
    _p("volunteer02", "黄伟", {R.VOLUNTEER}, "网格员", "GGGC", 1, True),
    _p("volunteer03", "周玉梅", {R.VOLUNTEER}, "网格员", "CGYJ", 0, True),
    _p("volunteer04", "吴刚", {R.VOLUNTEER}, "网格员", "CGYJ", 1, True),
    _p("volunteer05", "徐晓燕", {R.VOLUNTEER}, "网格员", "XMKY", 0, True),
    _p("volunteer06", "孙磊", {R.VOLUNTEER}, "网格员", "XMKY", 1, True),
    _p("volunteer07", "胡建华", {R.VOLUNTEER}, "网格员", "SCSQ", 0, True),
    _p("volunteer08", "朱丽", {R.VOLUNTEER}, "网格员", "SCSQ", 1, False),
    _p("volunteer09", "郭志刚", {R.VOLUNTEER}, "网格员", "JGYS", 0, True),
    _p("volunteer10", "何敏", {R.VOLUNTEER}, "网格员", "JGYS", 1, True),
    _p("volunteer11", "马玉兰", {R.VOLUNTEER}, "网格员", "YXYS", 0, True),
    _p("volunteer12", "罗斌", {R.VOLUNTEER}, "网格员", "YXYS", 1, False),
    _p("volunteer13", "梁桂芳", {R.VOLUNTEER}, "楼栋长", "JGYS", 0, True),
    _p("volunteer14", "宋建军", {R.VOLUNTEER}, "楼栋长", "JGYS", 1, False),
    _p("volunteer15", "唐淑珍", {R.VOLUNTEER}, "楼栋长", "YXYS", 0, True),
    _p("volunteer16", "韩冬", {R.VOLUNTEER}, "楼栋长", "YXYS", 1, True),
    _p("volunteer17", "冯涛", {R.VOLUNTEER}, "治安积极分子，夜市摊主", "XMKY", 0, True),
    _p("volunteer18", "曹亮", {R.VOLUNTEER}, "治安积极分子，KTV保安", "XMKY", 1, False),
    _p("volunteer19", "彭丽娟", {R.VOLUNTEER}, "治安积极分子，商户", "CGYJ", 0, True),
    _p("volunteer20", "曾勇", {R.VOLUNTEER}, "治安积极分子，商场保安", "GGGC", 1, True),
)

# The one login per role that the README and `demo logins` list.
LOGIN_PER_ROLE: tuple[tuple[Role, str], ...] = (
    (R.VOLUNTEER, "volunteer"),
    (R.OFFICER, "officer"),
    (R.MEDIATOR, "mediator"),
    (R.LAWYER, "lawyer"),
    (R.EXPERT, "expert"),
    (R.DV_TEAM, "dvteam"),
    (R.YOUTH_TEAM, "youth"),
    (R.SUPERVISOR, "supervisor"),
    (R.LIAISON, "liaison"),
    (R.ADMIN, "admin"),
)


def rectangle(west: float, south: float, east: float, north: float) -> dict:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [[[round(x, 6), round(y, 6)] for x, y in ring]]}


def community_bounds(community: DemoCommunity) -> tuple[float, float, float, float]:
    west = ORIGIN_LON + community.column * CELL_LON
    south = ORIGIN_LAT + community.row * CELL_LAT
    return west, south, west + CELL_LON, south + CELL_LAT


def grid_bounds(community: DemoCommunity, index: int) -> tuple[float, float, float, float]:
    """Grids split their community into a western (0) and an eastern (1) half."""
    west, south, east, north = community_bounds(community)
    middle = (west + east) / 2
    return (west, south, middle, north) if index == 0 else (middle, south, east, north)

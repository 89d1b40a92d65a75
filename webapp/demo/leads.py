"""Demo leads: a few weeks of the station's work, made through the real services.

Each lead has a fixed UUID, so loading twice registers nothing twice. After registering, its
clock is moved back by `age_hours` (received, recorded, due and timeline times together): the
demo then shows what a real station has — overdue work, cases mid-way, closed ones.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from webapp.demo import data
from webapp.extensions import db
from webapp.leads.codes import Risk, Source
from webapp.leads.deadlines import Deadline, due_at
from webapp.leads.lifecycle import perform
from webapp.leads.models import Lead
from webapp.leads.services import LeadInput, PartyInput, register_lead
from webapp.org.models import Community, User

NAMESPACE = uuid.UUID("6f1c2b1e-5d0a-4c3e-9a51-0b7e2f5d8c11")


@dataclass(frozen=True)
class DemoLead:
    key: str
    reporter: str
    source: Source
    category: str
    summary: str
    community: str | None = None  # community code; None with `gps` = located by GPS
    gps: tuple[float, float] | None = None  # (column, row) inside the district grid, in cells
    subtype: str = ""
    address: str = ""
    source_ref: str = ""
    risk: Risk | None = None
    factors: frozenset[str] = frozenset()
    dv: bool = False
    minor: bool = False
    watched: bool = False
    head_count: int | None = None
    parties: tuple[PartyInput, ...] = ()
    age_hours: float = 0
    steps: tuple[tuple[str, str, dict], ...] = field(default=())  # (actor, step, params)


def _gps(column: float, row: float) -> tuple[float, float]:
    return (data.ORIGIN_LON + column * data.CELL_LON, data.ORIGIN_LAT + row * data.CELL_LAT)


P = PartyInput
LEADS: tuple[DemoLead, ...] = (
    DemoLead("plaza-stall", "volunteer", Source.VOLUNTEER, "business",
             "广场东门两家商户因占道摆放促销架发生争吵，双方情绪激动。", gps=(0.25, 0.5),
             subtype="trivial_quarrel", age_hours=30,
             steps=(("officer", "accept", {}), ("officer", "start_mediation", {}))),
    DemoLead("milk-tea", "volunteer03", Source.VOLUNTEER, "consumer",
             "步行街奶茶店顾客称饮品有异物，要求十倍赔偿，店员与顾客争执。", community="CGYJ",
             age_hours=200,
             steps=(("officer2", "accept", {}),
                    ("officer2", "resolve", {"outcome": "on_the_spot", "note": "店方退款并赔偿200元"}))),
    DemoLead("night-price", "volunteer05", Source.VOLUNTEER, "consumer",
             "夜市烧烤摊与食客因结账价格不一致争吵，围观人员较多。", gps=(2.3, 0.4),
             subtype="trivial_quarrel", age_hours=6),
    DemoLead("ktv-drunk", "volunteer17", Source.VOLUNTEER, "damage_compensation",
             "KTV门口两伙醉酒人员推搡，其中一人为重点人员，扬言要叫人报复。", gps=(2.7, 0.8),
             watched=True, age_hours=3),
    DemoLead("dv-jinguiyuan", "officer4", Source.WALK_IN, "marriage_family",
             "女方来所反映丈夫酒后多次殴打，手臂有淤青，担心孩子受影响。", community="JGYS",
             address="金桂园3栋2单元402", dv=True, minor=True, age_hours=20,
             parties=(P("victim", "李秀兰", "13955120001", "340104198801011234", "妻子"),
                      P("abuser", "王强", "13955120002", "340104198505054321", "丈夫")),
             steps=(("officer4", "accept", {}),)),
    DemoLead("youth-truancy", "volunteer15", Source.BUILDING_HEAD, "marriage_family",
             "银杏苑一名初中生连续多日不上学，夜间在网吧逗留，父母外出务工。", community="YXYS",
             address="银杏苑西区7栋", minor=True, age_hours=50, subtype="custody"),
    DemoLead("wage-arrears", "officer3", Source.HOTLINE_12345, "labour",
             "超市装修工程15名工人反映被拖欠工资约18万元，准备到超市门口聚集。", community="SCSQ",
             source_ref="12345-20261120-0031", subtype="wage_arrears", head_count=15,
             factors=frozenset({"large_amount", "many_people"}), risk=Risk.ORANGE, age_hours=70,
             parties=(P("applicant", "赵德胜", "13800551234", "", "工人代表"),
                      P("respondent", "合肥某装饰公司", "055165550000", "", "承包方")),
             steps=(("officer3", "accept", {}), ("officer3", "start_mediation", {}))),
    DemoLead("knife-threat", "officer", Source.POLICE_110, "neighbour",
             "110警情流转：邻居因楼道堆物多次争吵，一方持刀威胁，已被劝离。", community="GGGC",
             source_ref="110-20261128-0457", address="国购广场南侧公寓12楼",
             risk=Risk.RED, factors=frozenset({"criminal_tendency", "extreme_act"}), age_hours=30,
             parties=(P("applicant", "陈伟", "13712340000", "", "邻居"),
                      P("respondent", "刘建军", "13712349999", "", "邻居")),
             steps=(("officer", "accept", {}),)),
    DemoLead("online-property", "supervisor2", Source.ONLINE, "property_management",
             "公众号留言：某小区物业停水三天未通知，业主群情绪激烈。", age_hours=10),
    DemoLead("returned-parking", "volunteer04", Source.VOLUNTEER, "neighbour",
             "步行街后巷住户与商户因车辆停放堵门争执。", community="CGYJ", age_hours=26,
             steps=(("officer2", "return", {"reason": "实际位置属于相邻的西门口夜市社区"}),)),
    DemoLead("noise-1", "volunteer09", Source.GRID_WORKER, "neighbour",
             "金桂园5栋楼上夜间噪音，楼下住户多次投诉。", community="JGYS",
             address="金桂园5栋1单元", subtype="noise_leak", age_hours=400,
             steps=(("officer4", "accept", {}),
                    ("officer4", "resolve", {"outcome": "oral", "note": "双方口头约定22点后不装修"}))),
    DemoLead("noise-2", "volunteer13", Source.BUILDING_HEAD, "neighbour",
             "金桂园5栋噪音纠纷再起，楼下住户敲门理论发生口角。", community="JGYS",
             address="金桂园5栋1单元", subtype="noise_leak", age_hours=100,
             steps=(("officer4", "accept", {}),)),
    DemoLead("noise-3", "volunteer10", Source.GRID_WORKER, "neighbour",
             "金桂园5栋噪音问题第三次反映，双方扬言要动手。", community="JGYS",
             address="金桂园5栋1单元", subtype="noise_leak", age_hours=5),
    DemoLead("leak-overdue", "volunteer11", Source.GRID_WORKER, "neighbour",
             "银杏苑东区楼上卫生间漏水到楼下，协商维修费用未果。", community="YXYS",
             subtype="noise_leak", risk=Risk.RED, factors=frozenset({"extreme_act"}), age_hours=60,
             steps=(("officer5", "accept", {}), ("supervisor", "supervise",
                    {"until_days": 2, "comment": "两日内上门组织双方协商并反馈"}))),
    DemoLead("tenancy-deposit", "volunteer19", Source.VOLUNTEER, "contract",
             "步行街商铺租户与房东因押金退还发生纠纷。", community="CGYJ", subtype="tenancy",
             age_hours=900,
             steps=(("officer2", "accept", {}), ("officer2", "start_mediation", {}),
                    ("officer2", "resolve", {"outcome": "written", "note": "签订调解协议，退还押金8000元"}),
                    ("officer2", "return_visit", {}), ("officer2", "close", {"note": "回访双方满意"}))),
    DemoLead("lending", "volunteer07", Source.VOLUNTEER, "debt",
             "超市员工之间民间借贷3万元到期未还，双方在卖场内争吵。", community="SCSQ",
             subtype="private_lending", age_hours=300,
             steps=(("officer3", "accept", {}), ("officer3", "start_mediation", {}),
                    ("officer3", "fail", {"outcome": "court", "note": "已告知可向法院起诉"}))),
    DemoLead("romance", "volunteer20", Source.VOLUNTEER, "marriage_family",
             "商场内一对情侣分手后男方纠缠女方，在店铺门口哭闹。", community="GGGC",
             subtype="romance", age_hours=12),
    DemoLead("traffic", "volunteer06", Source.GRID_WORKER, "traffic_accident",
             "夜市路口电动车与行人轻微碰撞，就医疗费协商不下。", community="XMKY", age_hours=48,
             steps=(("officer3", "accept", {}), ("officer3", "transfer",
                    {"outcome": "police_case", "note": "移交交警大队处理"}))),
)


def load_demo_leads(deadlines: dict[Risk, Deadline], max_photo_bytes: int) -> int:
    """Register the demo leads that are missing; return how many were added."""
    users = {u.username: u for u in db.session.scalars(select(User))}
    communities = {c.code: c for c in db.session.scalars(select(Community))}
    added = 0
    for spec in LEADS:
        lead_uuid = str(uuid.uuid5(NAMESPACE, spec.key))
        if db.session.scalar(select(Lead.id).where(Lead.uuid == lead_uuid)) is not None:
            continue
        longitude, latitude = _gps(*spec.gps) if spec.gps else (None, None)
        result = register_lead(users[spec.reporter], LeadInput(
            uuid=lead_uuid, source=spec.source, category=spec.category, subtype=spec.subtype,
            summary=spec.summary, source_ref=spec.source_ref, risk=spec.risk,
            risk_factors=set(spec.factors), flag_dv=spec.dv, flag_minor=spec.minor,
            flag_watched=spec.watched, flag_many_people=spec.head_count is not None,
            head_count=spec.head_count, community=communities.get(spec.community or ""),
            address=spec.address, latitude=latitude, longitude=longitude,
            gps_accuracy_m=12.0 if spec.gps else None, parties=list(spec.parties),
        ), deadlines, max_photo_bytes)
        lead = result.lead
        age_lead(lead, deadlines, timedelta(hours=spec.age_hours))
        for index, (actor, step, params) in enumerate(spec.steps):
            # Steps are spread over the lead's age, so the timeline reads like real work.
            spacing = max(spec.age_hours, 1) / (len(spec.steps) + 2)
            when = lead.received_at + timedelta(hours=(index + 1) * spacing)
            params = dict(params)
            if "until_days" in params:
                params["until"] = when + timedelta(days=params.pop("until_days"))
            perform(lead, users[actor], step, deadlines, now=when, **params)
        added += 1
    db.session.flush()
    return added


def age_lead(lead: Lead, deadlines: dict[Risk, Deadline], age: timedelta) -> None:
    """Move a just-registered lead's clock back by `age`, as if it had arrived then."""
    for event in lead.events:
        event.at -= age
    lead.received_at -= age
    lead.cycle_started_at -= age
    lead.recorded_at -= age
    if lead.assigned_at:
        lead.assigned_at -= age
    lead.due_at = due_at(deadlines, lead.risk, lead.received_at)

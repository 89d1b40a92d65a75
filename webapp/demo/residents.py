"""Demo return visits and online submissions, made through the real services.

Return visits for the plaza's officer (`officer`): one due today, one overdue, one recorded
(holding: its lead is closed), and one given to the plaza volunteer (`volunteer`), due today.
Two residents' online submissions with published sample case codes (demo only: a resident's
real code is random and shown once), to try the progress page.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from webapp.extensions import db
from webapp.leads.codes import Source
from webapp.leads.deadlines import parse_deadlines
from webapp.leads.lifecycle import perform
from webapp.leads.models import Lead
from webapp.leads.services import LeadInput, PartyInput, register_lead
from webapp.org.models import Community, Station, User
from webapp.residents.models import OnlineSubmission
from webapp.residents.services import Submission, code_hash, submit
from webapp.returnvisits.services import Recording, end_of_local_day, pending_for, reassign, record
from webapp.timeutil import utcnow

NAMESPACE = uuid.UUID("2b7d4c0e-9f1a-4e6b-8c3d-5a0f1e2d3c4b")
# (key, category, summary, address, days until due (negative: overdue), what happens)
RETURN_VISITS = (
    ("rv-due-today", "neighbour", "国购广场南侧公寓两户因空调外机滴水争吵，已口头调解。",
     "国购广场南侧公寓8楼", 0, "officer"),
    ("rv-overdue", "consumer", "广场三楼服装店顾客退货纠纷，店方同意退款。", "国购广场三楼", -3, "officer"),
    ("rv-recorded", "neighbour", "广场东门商户占道摆放促销架争吵，已当场调解。", "国购广场东门", 0,
     "holding"),
    ("rv-volunteer", "neighbour", "广场北侧住户与夜宵摊因油烟扰民争执，已书面调解。",
     "国购广场北侧住宅2栋", 0, "volunteer"),
)
# Published sample codes for the demo's progress page (see README).
ONLINE = (
    ("DEMO-online-noise-0001-xmk", "neighbour",
     "楼上住户每晚十一点后拖动家具，多次沟通无果，希望派出所协调。",
     "金桂园5栋", "JGYS", "周女士", "13905510001"),
    ("DEMO-online-deposit-0002-xmk", "consumer", "在步行街健身房办卡后门店关门，要求退还剩余费用。",
     "春归苑步行街", "CGYJ", "孙先生", "13905510002"),
)


def load_demo_residents(deadlines_spec: str) -> int:
    """Add what is missing; returns how many return visits and submissions were added."""
    deadlines = parse_deadlines(deadlines_spec)
    users = {u.username: u for u in db.session.scalars(select(User))}
    plaza = db.session.scalar(select(Community).where(Community.code == "GGGC"))
    communities = {c.code: c for c in db.session.scalars(select(Community))}
    now = utcnow()
    added = 0
    for key, category, summary, address, due_in, then in RETURN_VISITS:
        lead_uuid = str(uuid.uuid5(NAMESPACE, key))
        if db.session.scalar(select(Lead.id).where(Lead.uuid == lead_uuid)) is not None:
            continue
        lead = register_lead(users["volunteer"], LeadInput(
            uuid=lead_uuid, source=Source.VOLUNTEER, category=category, summary=summary, community=plaza,
            address=address, parties=[PartyInput(role="applicant", name="吴红", phone="13605519876")],
        ), deadlines, 0).lead
        officer = users["officer"]
        perform(lead, officer, "accept", deadlines)
        perform(lead, officer, "resolve", deadlines, outcome="oral", note="双方达成口头协议")
        [visit] = pending_for(lead)
        visit.due_at = end_of_local_day(now, due_in)
        if then == "holding":
            record(visit, officer, Recording(result="holding", note="电话回访，双方相安无事",
                                             recorded_at=now - timedelta(hours=2)))
        elif then == "volunteer":
            reassign(visit, officer, users["volunteer"])
        added += 1
    station = db.session.scalar(select(Station).order_by(Station.id).limit(1))
    for code, category, description, address, community, name, phone in ONLINE:
        known = select(OnlineSubmission.id).where(OnlineSubmission.code_hash == code_hash(code))
        if db.session.scalar(known) is not None:
            continue
        submit(station, Submission(category=category, description=description, name=name, phone=phone,
                                   community=communities.get(community), address=address), code=code)
        added += 1
    db.session.flush()
    return added

"""The DV task force's demo records: a new DV lead with no letter yet, letters in every state (one
superseded by its correction), deliveries, and follow-up visits done, due today and overdue.
Idempotent: missing leads are added; the letters only when the station has none yet."""

from __future__ import annotations

import uuid
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from webapp.demo.leads import NAMESPACE
from webapp.dv.models import WarningLetter
from webapp.dv.services import (
    DeliveryInput,
    LetterInput,
    decide_letter,
    issue_letter,
    parse_followup_days,
    record_delivery,
    record_followup,
    request_letter,
)
from webapp.extensions import db
from webapp.leads.codes import Source
from webapp.leads.deadlines import parse_deadlines
from webapp.leads.models import Lead
from webapp.leads.services import LeadInput, PartyInput, register_lead
from webapp.org.models import Community, User
from webapp.timeutil import utcnow

P = PartyInput
# More DV leads for the task force (the first DV lead is the leads demo's "dv-jinguiyuan").
EXTRA_LEADS = (
    (
        "dv-new-xmky",
        "SCSQ",
        "夜市一摊主称丈夫昨晚收摊后在家中掐其脖子，今早来所求助，尚未出具告诫书。",
        "双超商圈员工宿舍2栋",
        (P("victim", "何静", "13955120051", "", "妻子"), P("abuser", "曹军", "13955120052", "", "丈夫")),
    ),
    (
        "dv-yinxingyuan",
        "JGYS",
        "银杏苑一女士称前夫多次上门辱骂、推搡，并发短信威胁。",
        "银杏苑东区2栋301",
        (P("victim", "周敏", "13955120011", "", "前妻"), P("abuser", "郑大勇", "13955120012", "", "前夫")),
    ),
    (
        "dv-shuangchao",
        "SCSQ",
        "超市员工反映其父亲酒后殴打母亲，邻居多次听到哭喊。",
        "双超商圈员工宿舍5栋",
        (P("victim", "钱桂英", "13955120021", "", "母亲"), P("abuser", "孙国平", "13955120022", "", "父亲")),
    ),
    (
        "dv-jingui-2",
        "JGYS",
        "金桂园一老人称儿子因索要钱财将其推倒，手腕受伤。",
        "金桂园8栋1单元101",
        (P("victim", "吴秀珍", "13955120031", "", "母亲"), P("abuser", "吴磊", "13955120032", "", "儿子")),
    ),
    (
        "dv-jingui-3",
        "JGYS",
        "社区网格员发现一住户妻子脸部有伤，自述被丈夫打伤。",
        "金桂园6栋3单元702",
        (P("victim", "陈丽", "13955120041", "", "妻子"), P("abuser", "林涛", "13955120042", "", "丈夫")),
    ),
)


def _letter(abuser: str, victim: str, relationship: str, facts: str, evidence: list[str]) -> LetterInput:
    return LetterInput(
        abuser_name=abuser,
        relationship=relationship,
        victim_name=victim,
        facts=facts,
        evidence=evidence,
        minors_in_household=1,
        police_ref="",
    )


def load_demo_dv() -> int:
    """Add the DV demo records if the station has no letter yet; return how many letters were added."""
    config = current_app.config
    deadlines = parse_deadlines(config["BEATBOOK_DEADLINES"])
    days = parse_followup_days(config["BEATBOOK_DV_FOLLOWUP_DAYS"])
    users = {u.username: u for u in db.session.scalars(select(User))}
    communities = {c.code: c for c in db.session.scalars(select(Community))}
    leads = {}
    for key, community, summary, address, parties in EXTRA_LEADS:
        lead_uuid = str(uuid.uuid5(NAMESPACE, key))
        lead = db.session.scalar(select(Lead).where(Lead.uuid == lead_uuid))
        if lead is None:
            lead = register_lead(
                users["officer4"],
                LeadInput(
                    uuid=lead_uuid,
                    source=Source.RESIDENTS_COMMITTEE,
                    category="marriage_family",
                    summary=summary,
                    flag_dv=True,
                    community=communities[community],
                    address=address,
                    parties=list(parties),
                ),
                deadlines,
                config["BEATBOOK_MAX_PHOTO_MB"] << 20,
            ).lead
        leads[key] = lead
    if db.session.scalar(select(WarningLetter.id).limit(1)) is not None:
        return 0  # the letters are there already (leads above are added only when missing)
    leads["dv-jinguiyuan"] = db.session.scalar(
        select(Lead).where(Lead.uuid == str(uuid.uuid5(NAMESPACE, "dv-jinguiyuan")))
    )
    team, chief = users["dvteam"], users["supervisor"]
    now = utcnow()

    def issued(lead, text: LetterInput, ago_days: int, supersedes=None) -> WarningLetter:
        letter = request_letter(team, lead, text, supersedes)
        decide_letter(chief, letter, approve=True)
        issue_letter(team, letter, days, now=now - timedelta(days=ago_days))
        return letter

    def deliver(letter, recipient: str, method: str = "in_person", outcome: str = "signed") -> None:
        record_delivery(
            team,
            letter,
            DeliveryInput(
                recipient=recipient,
                method=method,
                outcome=outcome,
                witness="社区主任" if method == "with_witness" else "",
            ),
        )

    # 1. Issued 40 days ago, then corrected (the abuser's name was misspelt): both kept, linked.
    first = issued(
        leads["dv-jinguiyuan"],
        _letter(
            "王刚",
            "李秀兰",
            "spouse",
            "王某酒后多次殴打妻子李某，致其手臂多处淤青。",
            ["victim_statement", "injury_report"],
        ),
        40,
    )
    corrected = issued(
        leads["dv-jinguiyuan"],
        _letter(
            "王强",
            "李秀兰",
            "spouse",
            "王某酒后多次殴打妻子李某，致其手臂多处淤青。",
            ["victim_statement", "injury_report"],
        ),
        39,
        supersedes=first,
    )
    for recipient in ("abuser", "victim", "committee"):
        deliver(corrected, recipient)
    for followup in first.followups[:2]:  # day 7 and day 30: done, nothing recurred
        record_followup(
            team,
            followup,
            recurred=False,
            note="回访双方，未再发生家暴，孩子情况稳定。",
            recorded_at=now - timedelta(days=40 - followup.days_after),
        )
    # 2. Issued 10 days ago, delivered to the abuser only: the day-7 visit is overdue.
    overdue = issued(
        leads["dv-yinxingyuan"],
        _letter(
            "郑大勇",
            "周敏",
            "former_spouse",
            "郑某多次到前妻周某住处辱骂、推搡，并发送威胁短信。",
            ["victim_statement", "messages"],
        ),
        10,
    )
    deliver(overdue, "abuser", method="with_witness", outcome="refused")
    # 3. Issued 7 days ago, not delivered yet: the day-7 visit is due today.
    issued(
        leads["dv-shuangchao"],
        _letter(
            "孙国平",
            "钱桂英",
            "spouse",
            "孙某酒后殴打妻子钱某，邻居作证多次听到哭喊。",
            ["witness", "earlier_complaints"],
        ),
        7,
    )
    # 4. Awaiting approval; an earlier request for the same case was refused.
    refused = request_letter(
        team,
        leads["dv-jingui-2"],
        _letter("吴磊", "吴秀珍", "child", "吴某索要钱财时推倒其母吴某。", ["victim_statement", "witness"]),
    )
    decide_letter(chief, refused, approve=False, reason="事实不清：请写明时间、地点和伤情。")
    request_letter(
        team,
        leads["dv-jingui-2"],
        _letter(
            "吴磊",
            "吴秀珍",
            "child",
            "吴某索要钱财时推倒其母吴某，致其手腕受伤。",
            ["victim_statement", "medical_record"],
        ),
    )
    # 5. Approved, waiting to be issued.
    approved = request_letter(
        team,
        leads["dv-jingui-3"],
        _letter("林涛", "陈丽", "spouse", "林某殴打妻子陈某致面部受伤，林某承认动手。", ["admission"]),
    )
    decide_letter(chief, approved, approve=True)
    db.session.flush()
    return db.session.scalar(select(db.func.count()).select_from(WarningLetter)) or 0

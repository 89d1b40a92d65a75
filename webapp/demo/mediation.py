"""Demo mediation: the station's method guides and cases in every state, made through the services.

Each demo lead has a fixed UUID: loading twice adds nothing. Times are moved back so the demo shows
a term due today, an overdue one, and a court-confirmation window that is closing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import select

from webapp.demo.leads import age_lead
from webapp.extensions import db
from webapp.leads.codes import Source
from webapp.leads.deadlines import parse_deadlines
from webapp.leads.lifecycle import perform
from webapp.leads.models import Lead
from webapp.leads.services import LeadInput, PartyInput, register_lead
from webapp.mediation import services
from webapp.mediation.codes import MemberRole
from webapp.mediation.models import MethodGuide
from webapp.org.models import Community, Station, User
from webapp.timeutil import STATION_TZ, utcnow

NAMESPACE = uuid.UUID("0d5cf1a4-2f7e-4b8e-9e53-7c1b0a6d4e21")

GUIDES = (
    (
        "marriage_family",
        "疏散化通：婚恋家庭纠纷调解法",
        "疏：先疏导情绪，让双方把话说完，缓和紧张气氛\n散：把双方分开，分别谈话，避免当面激化\n"
        "化：找准症结，提出双方都能接受的化解方案\n通：化解后保持沟通渠道畅通，定期回访",
    ),
    (
        "neighbour",
        "邻里纠纷调解要点",
        "到现场查看（噪音、漏水、占道）\n请楼栋长或网格员一起参加\n分别听取双方意见\n以邻里情分促成和解\n约定回访时间",
    ),
    (
        "debt",
        "民间借贷纠纷调解要点",
        "核对借条、转账记录等证据\n告知双方诉讼时效与法律后果\n提出分期还款方案\n约定履行期限与违约后果",
    ),
)

# (key, community, category, subtype, summary, parties, final state)
CASES = (
    (
        "med-open",
        "GGGC",
        "marriage_family",
        "romance",
        "商场店员与前男友分手后反复纠缠，双方在店门口争吵。",
        ("林晓", "周浩"),
        "open",
    ),
    (
        "med-terms",
        "GGGC",
        "neighbour",
        "noise_leak",
        "金桂园楼上楼下因漏水赔偿争执，已调解签订协议。",
        ("王秀英", "陈立新"),
        "signed",
    ),
    (
        "med-resolved",
        "GGGC",
        "debt",
        "private_lending",
        "两名商户之间借款2万元到期未还，经调解分期归还。",
        ("刘强", "孙伟"),
        "resolved",
    ),
    (
        "med-failed",
        "GGGC",
        "contract",
        "",
        "装修合同纠纷，业主与装修队就返工费用无法达成一致。",
        ("赵敏", "钱进"),
        "failed",
    ),
    (
        "med-transferred",
        "GGGC",
        "labour",
        "wage_arrears",
        "餐馆拖欠三名服务员工资，涉及劳动关系认定。",
        ("吴芳", "郑老板"),
        "transferred",
    ),
)


def _lead(spec, users: dict[str, User], communities: dict[str, Community]) -> Lead | None:
    key, community, category, subtype, summary, parties, _state = spec
    lead_uuid = str(uuid.uuid5(NAMESPACE, key))
    if db.session.scalar(select(Lead.id).where(Lead.uuid == lead_uuid)) is not None:
        return None
    config = current_app.config
    result = register_lead(
        users["volunteer"],
        LeadInput(
            uuid=lead_uuid,
            source=Source.VOLUNTEER,
            category=category,
            subtype=subtype,
            summary=summary,
            community=communities[community],
            parties=[
                PartyInput(role="applicant", name=parties[0]),
                PartyInput(role="respondent", name=parties[1]),
            ],
        ),
        parse_deadlines(config["BEATBOOK_DEADLINES"]),
        config["BEATBOOK_MAX_PHOTO_MB"] << 20,
    )
    return result.lead


def _agreement(case, parties, days_ago: int, officer: User) -> None:
    today = utcnow().astimezone(STATION_TZ).date()
    services.save_agreement(
        case,
        services.AgreementInput(
            parties=f"申请人：{parties[0]}\n被申请人：{parties[1]}",
            facts="双方因本纠纷多次发生争执，经社区民警及调解员调解。",
            issues="赔偿数额及履行方式。",
            responsibilities="被申请人承担主要责任。",
            terms="被申请人分两期向申请人支付赔偿款共计人民币6000元；双方今后互不追究。",
            performance="银行转账，由社区民警监督履行。",
            perform_by=today + timedelta(days=30),
            performance_terms=[
                (today - timedelta(days=3), "支付第一期赔偿款3000元"),
                (today, "支付第二期赔偿款3000元"),
            ],
        ),
    )
    mediator = next(m.user for m in case.members if m.role in (MemberRole.MEDIATOR, MemberRole.PROSECUTOR))
    signed = (utcnow() - timedelta(days=days_ago)).replace(microsecond=0)
    services.sign_agreement(case, list(parties), mediator, now=signed)
    services.hand_copy(case, parties[0], officer)
    services.hand_copy(case, parties[1], officer)


def load_demo_mediation() -> int:
    """Guides and cases that are missing; returns how many cases were added."""
    station = db.session.scalar(select(Station))
    users = {u.username: u for u in db.session.scalars(select(User))}
    communities = {c.code: c for c in db.session.scalars(select(Community))}
    services.set_prosecutor(users["mediator"], True)  # 钱德厚, a retired prosecutor
    supervisor = users["supervisor"]
    for category, title, items in GUIDES:
        if db.session.scalar(select(MethodGuide.id).where(MethodGuide.category == category)) is None:
            services.save_guide(station, category, title, items, supervisor)
    added = 0
    deadlines = parse_deadlines(current_app.config["BEATBOOK_DEADLINES"])
    for spec in CASES:
        lead = _lead(spec, users, communities)
        if lead is None:
            continue
        officer = lead.assignee
        age_lead(lead, deadlines, timedelta(days=7))  # registered a week ago, opened a day later
        opened = utcnow() - timedelta(days=6)
        perform(lead, officer, "accept", deadlines, now=opened)
        case = services.open_case(lead, officer, "on_request", now=opened)
        services.record_consent(case, "双方当面同意由派出所调解", now=opened)
        services.add_member(case, users["mediator2"], MemberRole.MEDIATOR)
        at = datetime.combine(
            utcnow().astimezone(STATION_TZ).date() + timedelta(days=1),
            datetime.min.time().replace(hour=10),
            tzinfo=STATION_TZ,
        ).astimezone(UTC)
        past = opened + timedelta(days=1)
        panel = services.propose_panel(case, past)
        services.record_session(
            case,
            services.SessionInput(
                starts_at=past,
                place="room",
                place_detail="国购广场警务室调解室",
                officer=panel[0],
                prosecutor=panel[1],
                lawyer=panel[2],
                attendees="双方当事人",
                statements="双方陈述各自诉求。",
                result="continuing",
                next_step="下次调解前准备证据",
            ),
            officer,
        )
        state = spec[-1]
        if state == "open":
            services.record_session(
                case,
                services.SessionInput(
                    starts_at=at,
                    place="video",
                    video_url="https://meeting.example.cn/j/20261201",
                    officer=panel[0],
                    prosecutor=panel[1],
                    lawyer=panel[2],
                    result="continuing",
                ),
                officer,
            )
        elif state in ("signed", "resolved"):
            _agreement(case, spec[5], 23 if state == "signed" else 5, officer)
        if state == "resolved":
            services.conclude_case(case, "resolved", "written", "签订书面调解协议", officer)
        elif state == "failed":
            services.conclude_case(case, "failed", "court", "已告知可向人民法院起诉", officer)
        elif state == "transferred":
            services.conclude_case(case, "transferred", "labour_arbitration", "移交劳动仲裁", officer)
        added += 1
    db.session.flush()
    return added

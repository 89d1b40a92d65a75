"""Demo expert pool (联调智库): 50 people from the trades the district's disputes need, five of them
with accounts (`expert` … `expert5`), and one invitation (`expert` to the romance dispute's video
mediation). Loading twice adds nothing (a profile is known by its name)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from webapp.demo.leads import NAMESPACE
from webapp.experts.models import Expert, ExpertInvitation
from webapp.experts.services import ExpertInput, invite, save_expert
from webapp.extensions import db
from webapp.leads.models import Lead
from webapp.org.models import Station, User
from webapp.timeutil import utcnow

# (trade, fields, languages, bio, employer)
TRADES = (
    ("心理咨询师", "marriage_family,neighbour", "mandarin,dialect",
     "国家二级心理咨询师，擅长婚恋家庭情绪疏导。",
     "市心理健康服务中心"),
    ("注册会计师", "debt,business,contract", "mandarin",
     "注册会计师，帮助双方核对账目、厘清欠款。",
     "安诚会计师事务所"),
    ("建筑工程师", "housing_homestead,property_management,neighbour", "mandarin,dialect",
     "高级工程师，鉴定房屋渗漏、装修质量问题。",
     "市建筑设计研究院"),
    ("医生", "medical,damage_compensation", "mandarin,english",
     "主治医师，解读病历与伤情。",
     "市第一人民医院"),
    ("餐饮行业协会", "consumer,business", "mandarin,dialect",
     "餐饮行业协会会长，熟悉夜市与商户经营纠纷。",
     "市餐饮行业协会"),
    ("退休法官", "contract,debt,marriage_family", "mandarin",
     "退休法官，讲清法律后果，促成和解。",
     ""),
    ("人民教师", "marriage_family", "mandarin",
     "中学教师，协助处理涉及子女教育的家庭矛盾。",
     "西门口中学"),
    ("交通事故鉴定员", "traffic_accident,damage_compensation", "mandarin",
     "交通事故责任认定与定损经验丰富。",
     "诚信车辆鉴定所"),
    ("物业经理", "property_management,neighbour", "mandarin,dialect",
     "资深物业经理，熟悉业主公约与公共维修。",
     "金桂园物业服务公司"),
    ("劳动关系协调员", "labour", "mandarin,dialect",
     "劳动关系协调员，熟悉欠薪与工伤处理流程。",
     "区人社局劳动保障服务站"),
    ("社区工作者", "neighbour,marriage_family", "mandarin,dialect",
     "二十年社区工作经验，邻里纠纷调解能手。",
     "春归苑社区居委会"),
    ("消费维权志愿者", "consumer,tourism", "mandarin,english",
     "消费者协会志愿者，熟悉退换货与价格纠纷。",
     "区消费者协会"),
    ("律师助理", "contract,internet,ip", "mandarin,english",
     "熟悉网络购物与知识产权纠纷。",
     "明理律师事务所"),
    ("房产经纪人", "housing_homestead,contract", "mandarin,dialect",
     "熟悉房屋租赁押金、中介合同纠纷。",
     "安居房产经纪"),
    ("退休民警", "neighbour,damage_compensation", "mandarin,dialect",
     "退休社区民警，熟悉辖区情况。",
     ""),
    ("环保工程师", "pollution,neighbour", "mandarin",
     "监测噪声与油烟，提出整改办法。",
     "市环境监测站"),
    ("手语翻译", "other,marriage_family", "mandarin,sign",
     "为听障当事人提供手语翻译。",
     "市残疾人联合会"),
    ("外语翻译", "consumer,tourism,contract", "english,japanese,korean",
     "为外籍游客和商户提供翻译。",
     "外事翻译服务中心"),
)
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢"
            "宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈")
GIVEN = ("建华", "秀英", "志明", "海燕", "国强", "丽娟", "文斌", "晓红", "德胜", "玉兰", "振宇",
         "美玲", "春生", "慧敏", "立新", "雪梅", "永刚", "静怡", "宏伟", "淑芬", "子涵", "家豪",
         "桂芳", "明辉", "艳平")
LINKED = (("expert", "何心怡", 0), ("expert2", "罗建平", 1), ("expert3", "高峰", 2),
          ("expert4", "许晴", 3), ("expert5", "马强", 4))
AVAILABILITY = ("available", "available", "available", "busy", "away")


def _profiles() -> list[tuple[str | None, str, int, str]]:
    """(username or None, name, trade index, availability) for 50 experts."""
    people = [(username, name, trade, "available") for username, name, trade in LINKED]
    for index in range(45):
        name = SURNAMES[(index * 7) % len(SURNAMES)] + GIVEN[(index * 11) % len(GIVEN)]
        people.append((None, name, index % len(TRADES), AVAILABILITY[index % len(AVAILABILITY)]))
    return people


def load_demo_experts(station: Station) -> int:
    """Add the missing profiles and the demo invitation; returns how many profiles were added."""
    added = 0
    for username, name, trade_index, availability in _profiles():
        if db.session.scalar(select(Expert.id).where(Expert.station_id == station.id, Expert.name == name)):
            continue
        trade, fields, languages, bio, employer = TRADES[trade_index]
        user = db.session.scalar(select(User).where(User.username == username)) if username else None
        digits = f"{(sum(map(ord, name)) * 7919) % 10**8:08d}"
        save_expert(station, None, ExpertInput(
            name=name, fields=fields.split(","), languages=languages.split(","), bio=f"{trade}。{bio}",
            availability=availability, employer=employer, phone=f"139{digits}", user=user))
        added += 1
    _invite_demo(station)
    return added


def _invite_demo(station: Station) -> None:
    lead = db.session.scalar(select(Lead).where(Lead.uuid == str(uuid.uuid5(NAMESPACE, "romance"))))
    expert = db.session.scalar(select(Expert).where(Expert.station_id == station.id, Expert.name == "何心怡"))
    if lead is None or expert is None or expert.user is None:
        return
    if db.session.scalar(select(ExpertInvitation.id).where(ExpertInvitation.lead_id == lead.id,
                                                           ExpertInvitation.expert_id == expert.id)):
        return
    invite(lead, expert, "https://meeting.tencent.com/dm/demo-romance", utcnow() + timedelta(days=1), None)

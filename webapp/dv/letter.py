"""The warning letter's wording (a legal document: always in Chinese, whatever the reader's
language) and its PDF, built the same way every time (webapp/pdf.py), so the stored bytes and
their SHA-256 stand as evidence.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from webapp.dv.models import WarningLetter
from webapp.pdf import RIGHT, TITLE, a4_pdf, para
from webapp.timeutil import STATION_TZ

# The letter's fixed wording (反家庭暴力法 第十六条). Court documents are in Chinese: not translated.
EVIDENCE_ZH = {
    "admission": "加害人陈述",
    "victim_statement": "受害人陈述",
    "witness": "证人证言",
    "audio_video": "视听资料",
    "messages": "电子数据（短信、聊天记录）",
    "minor_testimony": "未成年子女证言",
    "apology_pledge": "悔过书、保证书",
    "injury_report": "伤情鉴定",
    "medical_record": "就诊记录",
    "earlier_complaints": "此前的投诉、报警记录",
}
RELATIONSHIP_ZH = {
    "spouse": "配偶",
    "former_spouse": "前配偶",
    "cohabitant": "共同生活人员",
    "parent": "父母",
    "child": "子女",
    "sibling": "兄弟姐妹",
    "other_family": "其他家庭成员",
}
LAW = "根据《中华人民共和国反家庭暴力法》第十六条之规定，现对你予以告诫。"
PROHIBITION = (
    "你应当立即停止实施家庭暴力行为，不得再对受害人实施殴打、捆绑、残害、限制人身自由以及经常性谩骂、"
    "恐吓等侵害行为。如再次实施家庭暴力，公安机关将依法给予治安管理处罚；构成犯罪的，依法追究刑事责任。"
    "受害人可以依法向人民法院申请人身安全保护令。"
)


@dataclass(frozen=True)
class LetterText:
    title: str
    number_line: str
    paragraphs: list[str]
    signature: str
    date_line: str


def letter_text(letter: WarningLetter, station_name: str) -> LetterText:
    """What the letter says: the same words on the print page and in the PDF."""
    issued = letter.issued_at.astimezone(STATION_TZ) if letter.issued_at else None
    evidence = "、".join(EVIDENCE_ZH[code] for code in EVIDENCE_ZH if code in letter.evidence_codes)
    identity = f"加害人：{letter.abuser_name}"
    if letter.abuser_id_number:
        identity += f"，身份证号：{letter.abuser_id_number}"
    paragraphs = [
        identity,
        f"与受害人关系：{RELATIONSHIP_ZH.get(letter.relationship_to_victim, letter.relationship_to_victim)}",
        f"受害人：{letter.victim_name}",
        f"家庭中的未成年人：{letter.minors_in_household}人",
    ]
    if letter.police_ref:
        paragraphs.append(f"关联警情（110）：{letter.police_ref}")
    paragraphs += [f"经查：{letter.facts}", f"以上事实有{evidence}等证据证实。", LAW, PROHIBITION]
    if letter.supersedes is not None:
        paragraphs.append(f"本告诫书更正并取代{letter.supersedes.number}告诫书。")
    return LetterText(
        title="家庭暴力告诫书",
        number_line=f"{station_name} 家暴告字{letter.number}" if letter.number else "",
        paragraphs=paragraphs,
        signature=station_name,
        date_line=f"{issued.year}年{issued.month}月{issued.day}日" if issued else "",
    )


def build_pdf(text: LetterText) -> bytes:
    """The letter as an A4 PDF; the same letter always gives the same bytes."""
    story = [para(text.title, TITLE), para(text.number_line, RIGHT), Spacer(1, 6 * mm)]
    story += [para(paragraph) for paragraph in text.paragraphs]
    story += [Spacer(1, 20 * mm), para(text.signature, RIGHT), para(text.date_line, RIGHT)]
    return a4_pdf(text.title, story)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()

"""The signed agreement as a PDF (A4, Chinese): see webapp/pdf.py for the font and why the bytes
never change for the same agreement."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from webapp.pdf import BODY, HEAD, TITLE, a4_pdf, para
from webapp.timeutil import STATION_TZ

if TYPE_CHECKING:
    from webapp.mediation.models import Agreement


def _day(value) -> str:
    local = value.astimezone(STATION_TZ) if hasattr(value, "astimezone") and hasattr(value, "hour") else value
    return f"{local.year}年{local.month}月{local.day}日"


def agreement_pdf(agreement: Agreement) -> bytes:
    """The agreement's PDF bytes (the document itself is always in Chinese, like the paper form)."""
    case = agreement.case
    story = [
        para("人民调解协议书", TITLE),
        para(f"编号：调〔{case.opened_at.astimezone(STATION_TZ).year}〕{case.id}号"),
    ]
    sections = (
        ("当事人", agreement.parties),
        ("纠纷事实", agreement.facts),
        ("争议事项", agreement.issues),
        ("各方责任", agreement.responsibilities),
        ("协议内容", agreement.terms),
        ("履行方式", agreement.performance),
        ("履行期限", _day(agreement.perform_by) + "前"),
    )
    for heading, body in sections:
        story += [para(heading, HEAD), para(body)]
    if agreement.performance_terms:
        story.append(para("履行事项", HEAD))
        story += [
            para(f"{n}. {_day(t.due_on)}前：{t.description}")
            for n, t in enumerate(agreement.performance_terms, start=1)
        ]
    story += [
        Spacer(1, 6 * mm),
        para(
            "本协议经当事人签名、人民调解员签名后生效。当事人可自本协议生效之日起三十日内共同向人民法院申请司法确认。"
            "本协议一式多份，当事人各执一份，调解组织留存一份。",
            BODY,
        ),
        Spacer(1, 6 * mm),
    ]
    for signature in agreement.signatures:
        capacity = "当事人" if signature.capacity == "party" else "人民调解员"
        story.append(
            para(f"{capacity}（签名）：{signature.name}    {_day(signature.signed_at)}")
        )
    return a4_pdf("人民调解协议书", story)

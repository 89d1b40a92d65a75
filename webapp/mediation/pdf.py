"""The signed agreement as a PDF (A4, Chinese), made with reportlab's built-in CJK font.

`STSong-Light` is one of the Adobe CID fonts every PDF reader has: no font file is shipped or
embedded. `invariant=1` fixes the document's dates and id, so the same agreement always gives the
same bytes — and so the same SHA-256, which is printed on the page and stored.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from webapp.timeutil import STATION_TZ

if TYPE_CHECKING:
    from webapp.mediation.models import Agreement

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

_BODY = ParagraphStyle("body", fontName=FONT, fontSize=11, leading=17, wordWrap="CJK")
_HEAD = ParagraphStyle("head", parent=_BODY, fontSize=12, leading=20, spaceBefore=6)
_TITLE = ParagraphStyle("title", parent=_BODY, fontSize=18, leading=26, alignment=TA_CENTER, spaceAfter=8)


def _text(value: str) -> str:
    return escape(value).replace("\n", "<br/>")


def _day(value) -> str:
    local = value.astimezone(STATION_TZ) if hasattr(value, "astimezone") and hasattr(value, "hour") else value
    return f"{local.year}年{local.month}月{local.day}日"


def agreement_pdf(agreement: Agreement) -> bytes:
    """The agreement's PDF bytes (the document itself is always in Chinese, like the paper form)."""
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=22 * mm,
        rightMargin=22 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        invariant=1,
        title="人民调解协议书",
        author="",
        subject="",
        creator="Beatbook",
    )
    case = agreement.case
    story = [
        Paragraph("人民调解协议书", _TITLE),
        Paragraph(_text(f"编号：调〔{case.opened_at.astimezone(STATION_TZ).year}〕{case.id}号"), _BODY),
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
        story += [Paragraph(heading, _HEAD), Paragraph(_text(body), _BODY)]
    if agreement.performance_terms:
        story.append(Paragraph("履行事项", _HEAD))
        story += [
            Paragraph(_text(f"{n}. {_day(t.due_on)}前：{t.description}"), _BODY)
            for n, t in enumerate(agreement.performance_terms, start=1)
        ]
    story += [
        Spacer(1, 6 * mm),
        Paragraph(
            "本协议经当事人签名、人民调解员签名后生效。当事人可自本协议生效之日起三十日内共同向人民法院申请司法确认。"
            "本协议一式多份，当事人各执一份，调解组织留存一份。",
            _BODY,
        ),
        Spacer(1, 6 * mm),
    ]
    for signature in agreement.signatures:
        capacity = "当事人" if signature.capacity == "party" else "人民调解员"
        story.append(
            Paragraph(_text(f"{capacity}（签名）：{signature.name}    {_day(signature.signed_at)}"), _BODY)
        )
    document.build(story)
    return out.getvalue()

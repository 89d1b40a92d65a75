"""A4 documents in Chinese as PDF (agreements, warning letters), made with reportlab.

`STSong-Light` is one of the Adobe CID fonts every PDF reader has: no font file is shipped or
embedded. `invariant=1` fixes the document's dates and id, so the same document always gives the
same bytes — and so the same SHA-256, which is printed on the page and stored as evidence.
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

BODY = ParagraphStyle("body", fontName=FONT, fontSize=11, leading=17, wordWrap="CJK")
HEAD = ParagraphStyle("head", parent=BODY, fontSize=12, leading=20, spaceBefore=6)
TITLE = ParagraphStyle("title", parent=BODY, fontSize=18, leading=26, alignment=TA_CENTER, spaceAfter=8)
RIGHT = ParagraphStyle("right", parent=BODY, alignment=TA_RIGHT)


def para(text: str, style: ParagraphStyle = BODY) -> Paragraph:
    """Plain text (escaped; line breaks kept) as a paragraph."""
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def a4_pdf(title: str, story: list[Flowable]) -> bytes:
    """The flowables on A4 pages; the same story always gives the same bytes."""
    out = io.BytesIO()
    SimpleDocTemplate(
        out, pagesize=A4, leftMargin=22 * mm, rightMargin=22 * mm, topMargin=20 * mm,
        bottomMargin=20 * mm, invariant=1, title=title, author="", subject="", creator="Beatbook",
    ).build(story)
    return out.getvalue()

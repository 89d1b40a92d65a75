"""What "de-identified" means for the government feed: the one definition (docs/domain.md).

Kept: codes only (category, subtype, source channel, community and grid code, status, risk grade,
outcome), the day received and the day closed (station time), and the summary with identifying
text removed. Never: party names, phones or ID numbers, the reporter, the exact address or
position, source reference, notes. DV and minor leads (compartmented) keep only what counts them:
the compartment flag, the day received and the status — no summary, no place, no reference.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime

from flask import current_app

from webapp.leads.models import Lead
from webapp.timeutil import STATION_TZ

REMOVED = "[已隐去]"
# A code is short plain ASCII; anything else (free text typed where a code belongs) is not passed on.
_CODE = re.compile(r"^[A-Za-z0-9_.\-]{0,32}$")
# Seven or more digits, optionally split by spaces, dots or hyphens, optional +86 and a final X:
# mobile and landline numbers, 15/18-character ID numbers, bank cards. Digits written as dates
# (2024-05-01) go too, on purpose: better a lost date than a kept number.
_DIGIT_RUN = re.compile(r"(?:\+?86[\s\-]?)?\d(?:[\s.\-]?\d){6,}[Xx]?")
# "姓名：张三" and its kin: the label stays, what follows it (up to a separator) goes.
_NAME_LABEL = re.compile(
    r"(姓名|名字|当事人|联系人|报警人|申请人|被申请人|身份证号?|电话|手机号?|住址|地址|name)\s*[:：]\s*[^\s,，。;；、]{1,30}",
    re.IGNORECASE)


# Full-width digits and letters (and ＋ －) read as ASCII, so "１３８…" is a number too; Chinese
# punctuation stays as written.
_HALF_WIDTH = {code: code - 0xFEE0 for code in (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B),
                                                  *range(0xFF41, 0xFF5B), 0xFF0B, 0xFF0D)}


def _half_width(text: str) -> str:
    return text.translate(_HALF_WIDTH)


def _code(value: str | None) -> str:
    value = value or ""
    return value if _CODE.match(value) else "other"


def _day(moment: datetime | None) -> str | None:
    return moment.astimezone(STATION_TZ).date().isoformat() if moment else None


def _reference(lead: Lead) -> str:
    """A stable, opaque reference (links a lead's later entries) that reveals nothing of the lead."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"govfeed-lead-{lead.id}".encode(), hashlib.sha256).hexdigest()[:20]


def scrub(text: str, known: list[str]) -> str:
    """The summary without phone/ID/card numbers, labelled names, or the lead's own known names,
    phones, ID numbers and address."""
    text = _half_width(text or "")
    text = "".join(ch for ch in text if ch.isprintable() or ch in "\n")
    for value in sorted({_half_width(k).strip() for k in known if k}, key=len, reverse=True):
        if len(value) >= 2:
            text = text.replace(value, REMOVED)
    text = _NAME_LABEL.sub(lambda m: f"{m.group(1)}：{REMOVED}", text)
    return _DIGIT_RUN.sub(REMOVED, text)


def deidentify(lead: Lead) -> dict:
    if lead.is_compartmented:
        return {
            "ref": None,
            "compartment": "domestic_violence" if lead.flag_dv else "minor",
            "received_on": _day(lead.received_at),
            "status": _code(lead.status),
        }
    known = [lead.address, lead.source_ref, lead.reporter.display_name if lead.reporter else "",
             lead.reporter.username if lead.reporter else ""]
    for party in lead.parties:
        known += [party.name, party.phone, party.id_number, party.relation]
    return {
        "ref": _reference(lead),
        "compartment": None,
        "category": _code(lead.category),
        "subtype": _code(lead.subtype),
        "source": _code(lead.source),
        "community": _code(lead.community.code) if lead.community else None,
        "grid": _code(lead.grid.code) if lead.grid else None,
        "received_on": _day(lead.received_at),
        "closed_on": _day(lead.closed_at),
        "status": _code(lead.status),
        "risk": _code(lead.risk) if lead.risk else None,
        "outcome": _code(lead.outcome),
        "summary": scrub(lead.summary, known),
    }

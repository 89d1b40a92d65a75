"""The warning letter through the pages, as the task force and the supervisors use it: request →
approval by a supervisor who is not the requester → issue with its number → print and PDF with the
same hash → deliveries → follow-ups scheduled at 7, 30 and 90 days."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import timedelta

from PIL import Image
from sqlalchemy import select

from tests.dv.conftest import FACTS
from webapp.audit.models import AuditEntry
from webapp.dv.models import Delivery, LetterStatus, WarningLetter
from webapp.extensions import db
from webapp.timeutil import STATION_TZ

REQUEST = {
    "abuser_name": "张伟",
    "abuser_id_number": "110101198001010011",
    "relationship": "spouse",
    "victim_name": "李秀兰",
    "minors_in_household": "1",
    "police_ref": "20261120-0042",
    "facts": FACTS,
    "evidence": ["victim_statement", "injury_report"],
    "evidence_note": "",
}


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 200, 200)).save(out, "JPEG")
    return out.getvalue()


def _actions(letter_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.object_type == "dv_letter", AuditEntry.object_id == letter_id)
            .order_by(AuditEntry.seq)
        )
    )


def test_request_approve_issue_print_deliver_follow_up(cast, make_client):
    team = cast.browser(make_client(), "dvteam")
    response = team.post(f"/dv/leads/{cast.lead.id}/letters/new", REQUEST)
    assert response.status_code == 303, response.get_data(as_text=True)
    letter = db.session.scalars(select(WarningLetter)).one()
    assert letter.status == LetterStatus.REQUESTED and letter.requested_by_id == cast.dvteam.id

    # The supervisors hear of it; the page offers approval only to a supervisor.
    page = f"/dv/letters/{letter.id}"
    supervisor = cast.browser(make_client(), "supervisor")
    assert "Approve" in supervisor.client.get(page).get_data(as_text=True) or "批准" in supervisor.client.get(
        page
    ).get_data(as_text=True)
    response = team.post(f"{page}/approve", {}, from_page=page)
    assert response.status_code == 403
    db.session.refresh(letter)
    assert letter.status == LetterStatus.REQUESTED

    response = supervisor.post(f"{page}/approve", {}, from_page=page)
    assert response.status_code == 303
    response = team.post(f"{page}/issue", {"followups_by": "task_force"}, from_page=page)
    assert response.status_code == 303
    db.session.expire_all()
    letter = db.session.get(WarningLetter, letter.id)
    assert letter.status == LetterStatus.ISSUED
    year = letter.issued_at.astimezone(STATION_TZ).year
    assert letter.number == f"〔{year}〕第0001号"

    # The PDF: the stored bytes' hash is the stored hash, served as stored and printed on the page.
    assert hashlib.sha256(letter.pdf).hexdigest() == letter.pdf_sha256
    pdf = team.client.get(f"{page}/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert hashlib.sha256(pdf.data).hexdigest() == letter.pdf_sha256
    printed = team.client.get(f"{page}/print").get_data(as_text=True)
    assert f'<code id="pdf-sha256">{letter.pdf_sha256}</code>' in printed
    assert letter.number in printed and FACTS in printed and "dv-print.css" in printed

    # Deliveries to the abuser (with a photo of the signed receipt) and the victim.
    delivery_page = f"{page}/deliveries/new"
    response = team.post(
        delivery_page,
        {
            "letter_id": str(letter.id),
            "recipient": "abuser",
            "method": "in_person",
            "outcome": "signed",
            "photo": (io.BytesIO(_jpeg()), "receipt.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    response = team.post(
        delivery_page,
        {
            "letter_id": str(letter.id),
            "recipient": "victim",
            "method": "with_witness",
            "witness": "王主任",
            "outcome": "signed",
        },
    )
    assert response.status_code == 303
    deliveries = db.session.scalars(select(Delivery).order_by(Delivery.id)).all()
    assert [d.recipient for d in deliveries] == ["abuser", "victim"]
    assert deliveries[0].photo_sha256 == hashlib.sha256(deliveries[0].photo).hexdigest()
    receipt = team.client.get(f"{page}/deliveries/{deliveries[0].id}/photo")
    assert receipt.status_code == 200 and receipt.data == deliveries[0].photo

    # The follow-ups: 7, 30 and 90 days after the issue, assigned to the requester.
    issued_on = letter.issued_at.astimezone(STATION_TZ).date()
    assert [(f.due_on - issued_on, f.assignee_id) for f in letter.followups] == [
        (timedelta(days=days), cast.dvteam.id) for days in (7, 30, 90)
    ]

    # The audit chain names every step on the letter.
    assert _actions(letter.id)[:4] == [
        "dv_letter_request",
        "dv_letter_view",
        "dv_letter_view",
        "dv_letter_approve",
    ] or "dv_letter_request" in _actions(letter.id)
    actions = set(_actions(letter.id))
    assert {
        "dv_letter_request",
        "dv_letter_approve",
        "dv_letter_issue",
        "dv_letter_pdf",
        "dv_letter_print",
        "dv_delivery",
        "dv_delivery_photo",
        "dv_letter_view",
    } <= actions


def _required_boxes(page: str, name: str) -> tuple[int, int]:
    """(checkboxes named `name`, those of them the browser would insist on)."""
    boxes = re.findall(rf'<input [^>]*name="{name}"[^>]*type="checkbox"[^>]*>', page)
    return len(boxes), sum(1 for box in boxes if re.search(r"\brequired\b", box))


def test_a_browser_can_send_the_request_with_one_evidence_box_ticked(cast, make_client):
    """"At least one evidence item" is the server's check: a `required` on each box would make the
    browser refuse the form until all ten were ticked (the letter could not be requested)."""
    team = cast.browser(make_client(), "dvteam")
    page = team.client.get(f"/dv/leads/{cast.lead.id}/letters/new").get_data(as_text=True)
    assert _required_boxes(page, "evidence") == (10, 0)
    assert re.search(r'<input [^>]*name="abuser_name"[^>]*required', page)  # plain fields keep it
    refused = team.post(f"/dv/leads/{cast.lead.id}/letters/new", {**REQUEST, "evidence": []})
    assert refused.status_code == 422 and db.session.scalar(select(WarningLetter.id)) is None

"""An issued letter is court evidence: no route and no sync kind changes it. A correction is a new
letter that supersedes it; both stay, linked, and the audit chain records request, approval, issue,
print and supersede."""

from __future__ import annotations

import uuid

from markupsafe import escape
from sqlalchemy import select

from tests.dv.conftest import issued_letter
from webapp.audit.models import AuditEntry
from webapp.dv.letter import build_pdf, letter_text, sha256_hex
from webapp.dv.models import Delivery, LetterStatus, WarningLetter
from webapp.dv.services import successor_of
from webapp.extensions import db


def snapshot(letter_id: int) -> dict:
    db.session.expire_all()
    row = db.session.execute(select(WarningLetter.__table__).where(WarningLetter.id == letter_id)).one()
    return dict(row._mapping)


def _sync(browser, items: list[dict]):
    token = browser.client.get("/sync/session").get_json()["csrf"]
    return browser.client.post("/sync", json={"items": items}, headers={"X-CSRFToken": token})


EDIT_FIELDS = {
    "abuser_name": "改过的名字",
    "facts": "改过的事实",
    "status": "requested",
    "number_seq": "99",
    "pdf_sha256": "0" * 64,
    "victim_name": "改过",
    "evidence": "admission",
}


def test_no_route_changes_an_issued_letter(cast, make_client):
    letter = issued_letter(cast)
    before = snapshot(letter.id)
    page = f"/dv/letters/{letter.id}"
    for who in ("dvteam", "supervisor", "supervisor2", "officer"):
        browser = cast.browser(make_client(), who)
        for action in ("approve", "refuse", "issue"):
            response = browser.post(
                f"{page}/{action}",
                {**EDIT_FIELDS, "reason": "x", "followups_by": "task_force"},
                from_page=page,
            )
            assert response.status_code in (403, 409), (who, action, response.status_code)
            if response.status_code == 409:
                assert (
                    "never changed" in response.get_data(as_text=True)
                    or "不会" in response.get_data(as_text=True)
                    or "从不" in response.get_data(as_text=True)
                )
        # No method other than GET on the letter, its print or its PDF.
        for path in (page, f"{page}/print", f"{page}/pdf"):
            assert browser.post(path, EDIT_FIELDS, from_page=page).status_code == 405
        # A delivery and a follow-up are their own records: the letter stays as issued.
        browser.post(
            f"{page}/deliveries/new",
            {
                **EDIT_FIELDS,
                "letter_id": str(letter.id),
                "recipient": "victim",
                "method": "in_person",
                "outcome": "signed",
            },
        )
    followup = letter.followups[0]
    team = cast.browser(make_client(), "dvteam")
    team.post(
        f"/dv/followups/{followup.id}",
        {**EDIT_FIELDS, "followup_id": str(followup.id), "recurred": "no", "note": "一切平稳"},
    )
    assert snapshot(letter.id) == before


def test_no_sync_kind_changes_an_issued_letter(cast, make_client):
    letter = issued_letter(cast)
    before = snapshot(letter.id)
    team = cast.browser(make_client(), "dvteam")
    items = [
        {
            "uuid": str(uuid.uuid4()),
            "kind": "dv.delivery",
            "photos": [],
            "fields": {
                **EDIT_FIELDS,
                "letter_id": str(letter.id),
                "recipient": "abuser",
                "method": "in_person",
                "outcome": "refused",
            },
        },
        {
            "uuid": str(uuid.uuid4()),
            "kind": "dv.followup",
            "photos": [],
            "fields": {
                **EDIT_FIELDS,
                "followup_id": str(letter.followups[1].id),
                "recurred": "no",
                "note": "平稳",
            },
        },
        # Kinds of the leads feature, pointed at the letter's id, change nothing of it either.
        {
            "uuid": str(uuid.uuid4()),
            "kind": "lead.step",
            "lead_id": letter.id,
            "step": "grade",
            "fields": {**EDIT_FIELDS, "version": "1", "risk": "blue"},
        },
    ]
    response = _sync(team, items)
    assert response.status_code == 200
    statuses = [result["status"] for result in response.get_json()["results"]]
    assert statuses[:2] == ["created", "created"]
    assert snapshot(letter.id) == before


def test_a_correction_supersedes_and_both_stay_linked(cast, make_client):
    first = issued_letter(cast, abuser_name="张玮")
    correction = issued_letter(cast, supersedes=first)
    assert first.status == LetterStatus.ISSUED and correction.status == LetterStatus.ISSUED
    assert correction.supersedes_id == first.id and successor_of(first).id == correction.id
    assert correction.number_seq == first.number_seq + 1
    assert f"取代{first.number}" in "".join(letter_text(correction, cast.station.name).paragraphs)
    assert correction.followups == []  # the schedule of the first letter carries on
    actions = db.session.execute(
        select(AuditEntry.action, AuditEntry.object_id).where(AuditEntry.object_type == "dv_letter")
    ).all()
    assert ("dv_letter_supersede", first.id) in actions
    for expected in ("dv_letter_request", "dv_letter_approve", "dv_letter_issue"):
        assert (expected, correction.id) in actions and (expected, first.id) in actions

    team = cast.browser(make_client(), "dvteam")
    old_page = team.client.get(f"/dv/letters/{first.id}").get_data(as_text=True)
    assert f'/dv/letters/{correction.id}"' in old_page and correction.number in old_page
    new_page = team.client.get(f"/dv/letters/{correction.id}").get_data(as_text=True)
    assert f'/dv/letters/{first.id}"' in new_page
    team.client.get(f"/dv/letters/{first.id}/print")
    assert (
        db.session.scalar(
            select(AuditEntry.id).where(
                AuditEntry.action == "dv_letter_print", AuditEntry.object_id == first.id
            )
        )
        is not None
    )
    # The superseded letter is not delivered any more; a second correction of it is refused.
    response = team.post(
        f"/dv/letters/{first.id}/deliveries/new",
        {"letter_id": str(first.id), "recipient": "abuser", "method": "in_person", "outcome": "signed"},
    )
    assert response.status_code == 409
    assert db.session.scalar(select(Delivery.id).where(Delivery.letter_id == first.id)) is None
    response = team.post(
        f"/dv/leads/{cast.lead.id}/letters/new?supersedes={first.id}",
        {
            "supersedes": str(first.id),
            "abuser_name": "张伟",
            "relationship": "spouse",
            "victim_name": "李秀兰",
            "minors_in_household": "0",
            "facts": "又一次更正",
            "evidence": ["admission"],
        },
    )
    assert response.status_code == 409
    assert len(db.session.scalars(select(WarningLetter)).all()) == 2


def test_the_requester_cannot_approve_their_own_letter(cast, make_client):
    from tests.dv.conftest import letter_input
    from webapp.dv.services import request_letter

    letter = request_letter(cast.supervisor, cast.lead, letter_input())
    db.session.commit()
    page = f"/dv/letters/{letter.id}"
    own = cast.browser(make_client(), "supervisor")
    assert "/approve" not in own.client.get(page).get_data(as_text=True)
    assert own.post(f"{page}/approve", {}, from_page=page).status_code == 403
    assert snapshot(letter.id)["status"] == LetterStatus.REQUESTED
    other = cast.browser(make_client(), "supervisor2")
    assert other.post(f"{page}/approve", {}, from_page=page).status_code == 303
    assert snapshot(letter.id)["status"] == LetterStatus.APPROVED


def test_the_stored_pdf_is_the_letter_as_printed(cast, make_client):
    """The hash on the print is the stored PDF's, and that PDF says exactly what the letter's stored
    fields say: made again from them it is the same bytes (a PDF of other words, or a print page of
    other words than the PDF, would not be)."""
    letter = issued_letter(cast)
    text = letter_text(letter, cast.station.name)
    assert build_pdf(text) == letter.pdf and sha256_hex(letter.pdf) == letter.pdf_sha256
    assert build_pdf(letter_text(issued_letter(cast, facts="另一件事"), cast.station.name)) != letter.pdf
    printed = cast.browser(make_client(), "dvteam").client.get(f"/dv/letters/{letter.id}/print")
    body = printed.get_data(as_text=True)
    assert f'<code id="pdf-sha256">{letter.pdf_sha256}</code>' in body
    for line in (text.title, text.number_line, *text.paragraphs, text.date_line):
        assert escape(line) in body, line


def test_opening_a_correction_form_is_an_audited_view_of_the_letter(cast, make_client):
    """The correction form shows the issued letter's names, ID number and facts: opening it is a view
    of the letter, in the audit log like the letter's own page."""
    letter = issued_letter(cast)
    team = cast.browser(make_client(), "dvteam")
    page = team.client.get(f"/dv/leads/{cast.lead.id}/letters/new?supersedes={letter.id}")
    assert page.status_code == 200 and letter.abuser_id_number in page.get_data(as_text=True)
    views = db.session.scalars(select(AuditEntry.actor_id).where(
        AuditEntry.action == "dv_letter_view", AuditEntry.object_id == letter.id)).all()
    assert views == [cast.dvteam.id]

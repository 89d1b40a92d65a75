"""The warning letter's life and the work after it. Typed functions that flush, never commit.

request → approve (a supervisor, not the requester) or refuse → issue (number, PDF, follow-up
schedule) → deliveries (abuser, victim; the residents' committee notified) → follow-up visits.
Once issued, nothing here changes a letter: corrections are new letters that supersede it.
"""

from __future__ import annotations

import uuid as uuid_module
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update

from webapp.access.dv import can_act_on, is_open_for
from webapp.audit.services import record as audit
from webapp.dv.codes import EVIDENCE_LABELS, RELATIONSHIP_LABELS, SUPPORTING
from webapp.dv.events import letter_issued, violence_recurred
from webapp.dv.letter import build_pdf, letter_text, sha256_hex
from webapp.dv.models import (
    Delivery,
    FollowUp,
    LetterCounter,
    LetterStatus,
    Recipient,
    WarningLetter,
)
from webapp.extensions import db, insert_for
from webapp.leads.models import Lead
from webapp.org.models import Station, User
from webapp.timeutil import CLOCK_TOLERANCE, STATION_TZ, utcnow


class DvError(ValueError):
    """Refused: `code` picks the message; `field` the form field; `status` the HTTP answer."""

    def __init__(self, code: str, field: str | None = None, status: int = 422):
        super().__init__(code)
        self.code = code
        self.field = field
        self.status = status


def parse_followup_days(spec: str) -> list[int]:
    """`BEATBOOK_DV_FOLLOWUP_DAYS` ("7,30,90") as sorted distinct positive days."""
    days = sorted({int(part) for part in spec.split(",") if part.strip()})
    if not days or days[0] <= 0:
        raise ValueError("follow-up days must be positive")
    return days


# --- request, decide ----------------------------------------------------------------------------------


@dataclass
class LetterInput:
    abuser_name: str
    relationship: str
    victim_name: str
    facts: str
    evidence: list[str] = field(default_factory=list)
    abuser_id_number: str = ""
    minors_in_household: int = 0
    police_ref: str = ""
    evidence_note: str = ""


def check_evidence(codes: list[str]) -> None:
    """docs/domain.md ("Domestic violence"): the abuser's admission, or the victim's statement or a
    witness plus one supporting item."""
    chosen = set(codes)
    if not chosen or chosen - EVIDENCE_LABELS.keys():
        raise DvError("bad_evidence", "evidence")
    if "admission" in chosen:
        return
    if "victim_statement" in chosen and chosen & SUPPORTING:
        return
    if "witness" in chosen and (chosen & SUPPORTING) - {"witness"}:
        return
    raise DvError("weak_evidence", "evidence")


def request_letter(
    requester: User, lead: Lead, data: LetterInput, supersedes: WarningLetter | None = None, address: str = ""
) -> WarningLetter:
    if not lead.flag_dv or lead.station_id != requester.station_id:
        raise DvError("not_dv", status=404)
    if data.relationship not in RELATIONSHIP_LABELS:
        raise DvError("bad_relationship", "relationship")
    check_evidence(data.evidence)
    if supersedes is not None:
        if supersedes.lead_id != lead.id or not supersedes.is_issued:
            raise DvError("bad_supersedes", status=409)
        if successor_of(supersedes) is not None:
            raise DvError("already_superseded", status=409)
    letter = WarningLetter(
        station_id=lead.station_id,
        lead_id=lead.id,
        status=LetterStatus.REQUESTED.value,
        abuser_name=data.abuser_name.strip(),
        abuser_id_number=data.abuser_id_number.strip().upper(),
        relationship_to_victim=data.relationship,
        victim_name=data.victim_name.strip(),
        minors_in_household=data.minors_in_household,
        police_ref=data.police_ref.strip(),
        facts=data.facts.strip(),
        evidence=",".join(sorted(set(data.evidence))),
        evidence_note=data.evidence_note.strip(),
        supersedes=supersedes,
        requested_by_id=requester.id,
        requested_at=utcnow(),
    )
    db.session.add(letter)
    db.session.flush()
    audit(
        requester,
        "dv_letter_request",
        "dv_letter",
        letter.id,
        address,
        lead=lead.id,
        supersedes=supersedes.id if supersedes else None,
    )
    return letter


def _check_action(actor: User, letter: WarningLetter, action: str) -> None:
    if not can_act_on(actor, letter, action):
        raise DvError("not_permitted", status=403)
    if not is_open_for(letter, action):
        raise DvError("wrong_status", status=409)


def decide_letter(
    supervisor: User, letter: WarningLetter, approve: bool, reason: str = "", address: str = ""
) -> WarningLetter:
    action = "approve" if approve else "refuse"
    _check_action(supervisor, letter, action)
    if not approve and not reason.strip():
        raise DvError("reason_required", "reason")
    letter.status = (LetterStatus.APPROVED if approve else LetterStatus.REFUSED).value
    letter.decided_by_id, letter.decided_at = supervisor.id, utcnow()
    letter.refusal_reason = "" if approve else reason.strip()[:500]
    db.session.flush()
    audit(supervisor, f"dv_letter_{action}", "dv_letter", letter.id, address)
    return letter


# --- issue ---------------------------------------------------------------------------------------------


def _next_number(station_id: int, year: int) -> int:
    """The station's next letter number for `year`, held until this transaction ends.

    One UPDATE … RETURNING on the counter row: on PostgreSQL it locks the row (a second issuer waits
    for the commit, then takes the next number), on SQLite it takes the write lock. A rolled-back
    issue rolls its increment back with it: numbers never repeat and never skip.
    """
    table = LetterCounter.__table__
    advance = (
        update(table)
        .where(table.c.station_id == station_id, table.c.year == year)
        .values(last_number=table.c.last_number + 1)
        .returning(table.c.last_number)
    )
    number = db.session.execute(advance).scalar()
    if number is None:  # the year's first letter: make the row once, even with parallel issuers
        upsert = insert_for(db.engine.dialect.name)
        db.session.execute(
            upsert(table)
            .values(station_id=station_id, year=year, last_number=0)
            .on_conflict_do_nothing(index_elements=["station_id", "year"])
        )
        number = db.session.execute(advance).scalar()
    return number


def issue_letter(
    actor: User,
    letter: WarningLetter,
    followup_days: list[int],
    by_committee: bool = False,
    now: datetime | None = None,
    address: str = "",
) -> WarningLetter:
    """Give the approved letter its number, store its PDF and hash, and schedule the follow-ups.

    A correction supersedes its letter here; the database refuses a second issued correction of the
    same letter (a race), and the whole issue, its number included, rolls back."""
    _check_action(actor, letter, "issue")
    now = now or utcnow()
    station = db.session.get(Station, letter.station_id)
    local = now.astimezone(STATION_TZ)
    letter.number_seq = _next_number(letter.station_id, local.year)
    letter.number_year = local.year
    letter.issued_at, letter.issued_by_id = now, actor.id
    letter.status = LetterStatus.ISSUED.value
    pdf = build_pdf(letter_text(letter, station.name))
    letter.pdf, letter.pdf_sha256 = pdf, sha256_hex(pdf)
    db.session.flush()  # the unique number and the one issued correction per letter are checked here
    if letter.supersedes is None:
        _schedule_followups(letter, actor, followup_days, by_committee, local.date())
    audit(
        actor,
        "dv_letter_issue",
        "dv_letter",
        letter.id,
        address,
        number=letter.number,
        sha256=letter.pdf_sha256,
    )
    if letter.supersedes is not None:
        audit(
            actor,
            "dv_letter_supersede",
            "dv_letter",
            letter.supersedes_id,
            address,
            by=letter.id,
            number=letter.number,
        )
    letter_issued.send(letter, actor=actor, at=now)
    return letter


def _schedule_followups(
    letter: WarningLetter, actor: User, days: list[int], by_committee: bool, start
) -> None:
    requester = letter.requested_by
    for after in days:
        db.session.add(
            FollowUp(
                letter=letter,
                lead_id=letter.lead_id,
                station_id=letter.station_id,
                due_on=start + timedelta(days=after),
                days_after=after,
                assignee_id=requester.id,
                by_committee=by_committee,
            )
        )
    db.session.flush()


def successor_of(letter: WarningLetter) -> WarningLetter | None:
    """The issued correction that supersedes `letter`, if any."""
    return db.session.scalar(
        select(WarningLetter).where(
            WarningLetter.supersedes_id == letter.id, WarningLetter.status == LetterStatus.ISSUED.value
        )
    )


def pending_correction(letter: WarningLetter) -> WarningLetter | None:
    """A correction of `letter` requested or approved, not yet issued."""
    return db.session.scalar(
        select(WarningLetter).where(
            WarningLetter.supersedes_id == letter.id,
            WarningLetter.status.in_([LetterStatus.REQUESTED.value, LetterStatus.APPROVED.value]),
        )
    )


# --- deliveries ------------------------------------------------------------------------------------------


@dataclass
class DeliveryInput:
    recipient: str
    method: str
    outcome: str
    witness: str = ""
    note: str = ""
    photo: bytes | None = None  # cleaned already (webapp.leads.photos.clean_photo)
    uuid: str | None = None
    recorded_at: datetime | None = None


def record_delivery(
    user: User, letter: WarningLetter, data: DeliveryInput, address: str = ""
) -> tuple[Delivery, bool]:
    """Return (delivery, created). A replay of the same phone-made id is the same delivery."""
    if data.uuid:
        existing = db.session.scalar(select(Delivery).where(Delivery.uuid == data.uuid))
        if existing is not None:
            if existing.recorded_by_id != user.id or existing.letter_id != letter.id:
                raise DvError("uuid_taken", status=409)
            return existing, False
    if not letter.is_issued:
        raise DvError("not_issued", status=409)
    if successor_of(letter) is not None:
        raise DvError("superseded", status=409)
    if data.recipient not in Recipient.__members__.values():
        raise DvError("bad_recipient", "recipient")
    if data.method == "with_witness" and not data.witness.strip():
        raise DvError("witness_required", "witness")
    now = utcnow()
    delivery = Delivery(
        uuid=data.uuid or str(uuid_module.uuid4()),
        letter_id=letter.id,
        recipient=data.recipient,
        method=data.method,
        outcome=data.outcome,
        witness=data.witness.strip(),
        note=data.note.strip(),
        delivered_at=min(data.recorded_at or now, now + CLOCK_TOLERANCE),
        recorded_by_id=user.id,
        received_at=now,
        photo=data.photo,
        photo_sha256=sha256_hex(data.photo) if data.photo else "",
    )
    db.session.add(delivery)
    db.session.flush()
    audit(
        user, "dv_delivery", "dv_letter", letter.id, address, delivery=delivery.id, recipient=data.recipient
    )
    return delivery, True


def delivered_to(letter: WarningLetter) -> set[str]:
    return {delivery.recipient for delivery in letter.deliveries}


# --- follow-up visits --------------------------------------------------------------------------------------


def record_followup(
    user: User,
    followup: FollowUp,
    recurred: bool,
    note: str,
    uuid: str | None = None,
    recorded_at: datetime | None = None,
    address: str = "",
) -> tuple[FollowUp, bool]:
    """Record what a follow-up visit found; returns (follow-up, recorded now). Recorded once: a replay
    of the same phone-made id answers as a duplicate, another recording of a done visit is refused."""
    if followup.done_at is not None:
        if uuid and followup.uuid == uuid:
            return followup, False
        raise DvError("already_done", status=409)
    if uuid and db.session.scalar(select(FollowUp.id).where(FollowUp.uuid == uuid)) is not None:
        raise DvError("uuid_taken", status=409)
    now = utcnow()
    # One conditional UPDATE: of two people recording the same visit at once, exactly one wins and
    # the other is told it is recorded (checking done_at first let both write, and both alert).
    claimed = db.session.execute(
        update(FollowUp)
        .where(FollowUp.id == followup.id, FollowUp.done_at.is_(None))
        .values(
            uuid=uuid or str(uuid_module.uuid4()),
            done_at=min(recorded_at or now, now + CLOCK_TOLERANCE),
            done_by_id=user.id,
            recurred=recurred,
            note=note.strip()[:1000],
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(followup)
    if not claimed:
        if uuid and followup.uuid == uuid:
            return followup, False
        raise DvError("already_done", status=409)
    audit(user, "dv_followup", "dv_followup", followup.id, address, recurred=recurred)
    if recurred:
        violence_recurred.send(followup, actor=user, at=now)
    return followup, True

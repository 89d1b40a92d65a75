"""What the DV task force's pages list: every query starts from the viewer's compartment
(webapp/access/dv.py), so a record a person may not see is absent from every list and count."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import aliased, selectinload

from webapp.access.dv import dv_lead_ids, followup_scope, letter_scope
from webapp.dv.models import Delivery, FollowUp, LetterStatus, Recipient, WarningLetter
from webapp.extensions import db
from webapp.leads.codes import ACTIVE_STATUSES
from webapp.leads.models import Lead
from webapp.org.models import User

DUE_AHEAD = timedelta(days=7)  # "due": within the coming week; before today: overdue


def _superseded():
    successor = aliased(WarningLetter)
    return exists().where(
        successor.supersedes_id == WarningLetter.id, successor.status == LetterStatus.ISSUED.value
    )


def new_leads(viewer: User, limit: int = 50) -> list[Lead]:
    """Active DV leads with no letter requested yet (refused requests aside)."""
    has_letter = exists().where(
        WarningLetter.lead_id == Lead.id, WarningLetter.status != LetterStatus.REFUSED.value
    )
    return list(
        db.session.scalars(
            select(Lead)
            .where(
                Lead.id.in_(dv_lead_ids(viewer)),
                ~has_letter,
                Lead.status.in_([s.value for s in ACTIVE_STATUSES]),
            )
            .order_by(Lead.risk_rank, Lead.id.desc())
            .limit(limit)
        )
    )


def letters(
    viewer: User, status: LetterStatus | None = None, q: str = "", limit: int = 100
) -> list[WarningLetter]:
    statement = select(WarningLetter).where(letter_scope(viewer))
    if status is not None:
        statement = statement.where(WarningLetter.status == status.value)
    if q:
        like = f"%{q}%"
        statement = statement.where(
            or_(
                WarningLetter.abuser_name.like(like),
                WarningLetter.victim_name.like(like),
                WarningLetter.police_ref.like(like),
                WarningLetter.facts.like(like),
            )
        )
    return list(db.session.scalars(statement.order_by(WarningLetter.id.desc()).limit(limit)))


def awaiting_delivery(viewer: User, limit: int = 100) -> list[WarningLetter]:
    """Issued, not superseded, and not yet delivered to both the abuser and the victim."""

    def delivered(recipient: Recipient):
        return exists().where(Delivery.letter_id == WarningLetter.id, Delivery.recipient == recipient.value)

    return list(
        db.session.scalars(
            select(WarningLetter)
            .where(
                letter_scope(viewer),
                WarningLetter.status == LetterStatus.ISSUED.value,
                ~_superseded(),
                ~(delivered(Recipient.ABUSER) & delivered(Recipient.VICTIM)),
            )
            .order_by(WarningLetter.issued_at)
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class FollowUps:
    overdue: list[FollowUp]
    due: list[FollowUp]


def followups(viewer: User, today: date, mine_only: bool = False) -> FollowUps:
    """Follow-up visits not yet recorded: overdue (before today) and due within the week."""
    statement = select(FollowUp).where(
        followup_scope(viewer), FollowUp.done_at.is_(None), FollowUp.due_on <= today + DUE_AHEAD
    )
    if mine_only:
        statement = statement.where(FollowUp.assignee_id == viewer.id)
    rows = list(db.session.scalars(statement.options(selectinload(FollowUp.assignee))
                                   .order_by(FollowUp.due_on, FollowUp.id)))
    return FollowUps(
        overdue=[f for f in rows if f.due_on < today], due=[f for f in rows if f.due_on >= today]
    )

"""Mediation's part of the minute sweep (履行监督 and 司法确认):

- an agreement term past its date, not yet performed: the lead's assignee hears of it, once;
- a signed agreement's 30-day window to ask the court to confirm it (司法确认): the assignee is
  reminded once, when `CONFIRMATION_REMIND_BEFORE` of the window is left.
Notices are deduplicated (kind, subject, occurrence), so running the sweep twice changes nothing.
"""

from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from webapp import notices
from webapp.extensions import db
from webapp.jobs import sweep_step
from webapp.leads.models import Lead
from webapp.mediation.models import Agreement, MediationCase, PerformanceTerm
from webapp.mediation.services import CONFIRMATION_DUE, TERM_OVERDUE
from webapp.org.models import User
from webapp.timeutil import STATION_TZ, utcnow

CONFIRMATION_WINDOW = timedelta(days=30)
CONFIRMATION_REMIND_BEFORE = timedelta(days=7)


def _tell(person: User | None, kind: str, case_id: int, occurrence: str) -> int:
    if person is None:
        return 0
    return notices.announce(
        [person],
        notices.Notice(
            kind=kind,
            subject_kind="mediation",
            subject_id=case_id,
            link=notices.link_to("mediation.case", case_id=case_id),
            text=_l("Mediation case #%(id)s needs a look — open Beatbook to see it.", id=case_id),
            occurrence=occurrence,
        ),
    )


@sweep_step("agreement_terms_overdue")
def warn_overdue_terms(stale_after: timedelta) -> int:
    """Open terms whose date has passed (Shanghai days): the assignee hears once per term."""
    today = utcnow().astimezone(STATION_TZ).date()
    rows = db.session.execute(
        select(PerformanceTerm.id, MediationCase.id, Lead.assignee_id)
        .join(Agreement, Agreement.id == PerformanceTerm.agreement_id)
        .join(MediationCase, MediationCase.id == Agreement.case_id)
        .join(Lead, Lead.id == MediationCase.lead_id)
        .where(
            PerformanceTerm.done_at.is_(None),
            PerformanceTerm.due_on < today,
            Agreement.signed_at.is_not(None),
            Lead.assignee_id.is_not(None),
        )
    ).all()
    told = sum(
        _tell(db.session.get(User, assignee), TERM_OVERDUE, case_id, f"term-{term_id}")
        for term_id, case_id, assignee in rows
    )
    db.session.commit()
    return told


@sweep_step("court_confirmation_reminders")
def remind_court_confirmation(stale_after: timedelta) -> int:
    """A signed agreement whose 30-day court-confirmation window has a week left: remind once."""
    now = utcnow()
    since = now - CONFIRMATION_WINDOW
    until = now - (CONFIRMATION_WINDOW - CONFIRMATION_REMIND_BEFORE)
    rows = db.session.execute(
        select(Agreement.id, MediationCase.id, Lead.assignee_id)
        .join(MediationCase, MediationCase.id == Agreement.case_id)
        .join(Lead, Lead.id == MediationCase.lead_id)
        .where(
            Agreement.signed_at.is_not(None),
            Agreement.signed_at > since,
            Agreement.signed_at <= until,
            Lead.assignee_id.is_not(None),
        )
    ).all()
    told = sum(
        _tell(db.session.get(User, assignee), CONFIRMATION_DUE, case_id, f"agreement-{agreement_id}")
        for agreement_id, case_id, assignee in rows
    )
    db.session.commit()
    return told

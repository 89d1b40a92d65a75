"""The station's mediation figures, counted the way the station counts them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, select

from webapp.extensions import db
from webapp.leads.models import LeadEvent
from webapp.mediation.codes import CaseStatus
from webapp.mediation.models import CaseOutcome, MediationCase


@dataclass(frozen=True)
class SuccessRate:
    resolved: int
    failed: int  # failed outright, or resolved and then relapsed (the lead was reopened)
    transferred: int  # handed to another body: not counted either way

    @property
    def rate(self) -> float | None:
        counted = self.resolved + self.failed
        return self.resolved / counted if counted else None


def success_rate(station_id: int, start: datetime, end: datetime) -> SuccessRate:
    """The mediation success rate: resolved ÷ (resolved + failed), over conclusions in [start, end).

    - Counted: each conclusion of a case (a `CaseOutcome`) made in the period, at this station.
      A case concluded twice (its lead reopened and mediated again) counts each conclusion.
    - Resolved: concluded "resolved" (written, oral or on the spot) and its lead has not been
      reopened since — a relapse is not a success.
    - Failed: concluded "failed", or resolved and then relapsed (the lead reopened after the
      conclusion, whenever — the figure for a past period can drop when a relapse comes later).
    - Transferred (to the justice office, court, petitions office, …) is neither: the station did
      not decide it. Open cases are not counted. There is no "withdrawn" state in Beatbook.
    - No conclusion in the period: the rate is None (not 100%, not 0%).
    """
    relapsed = exists(
        select(LeadEvent.id).where(
            LeadEvent.lead_id == MediationCase.lead_id,
            LeadEvent.kind == "reopen",
            LeadEvent.at > CaseOutcome.at,
        )
    )
    rows = db.session.execute(
        select(CaseOutcome.status, relapsed.label("relapsed"))
        .join(MediationCase, MediationCase.id == CaseOutcome.case_id)
        .where(and_(MediationCase.station_id == station_id, CaseOutcome.at >= start, CaseOutcome.at < end))
    ).all()
    resolved = sum(1 for status, back in rows if status == CaseStatus.RESOLVED and not back)
    failed = sum(
        1 for status, back in rows if status == CaseStatus.FAILED or (status == CaseStatus.RESOLVED and back)
    )
    transferred = sum(1 for status, _back in rows if status == CaseStatus.TRANSFERRED)
    return SuccessRate(resolved=resolved, failed=failed, transferred=transferred)

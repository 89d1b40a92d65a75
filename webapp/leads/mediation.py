"""Leads' receiver of mediation's outcomes: a concluded case moves its lead along the lifecycle.

Mediation announces `case_concluded`; this module takes the matching step through the one
lifecycle service (`perform`), so the timeline, the checks and `lead_stepped` all apply. It imports
only mediation's signals module (the contract allows exactly that edge), never its models.
"""

from __future__ import annotations

from datetime import datetime

from webapp.extensions import db
from webapp.leads.intake import deadlines
from webapp.leads.lifecycle import perform
from webapp.leads.models import Lead
from webapp.mediation.events import case_concluded
from webapp.org.models import User

STEP_FOR_OUTCOME = {"resolved": "resolve", "failed": "fail", "transferred": "transfer"}


@case_concluded.connect
def _concluded(
    case_id: int, lead_id: int, outcome: str, code: str, note: str, actor: User, at: datetime
) -> None:
    lead = db.session.get(Lead, lead_id)
    # Raises LifecycleError when the step is not allowed: the conclusion is refused with it.
    perform(lead, actor, STEP_FOR_OUTCOME[outcome], deadlines(), now=at, outcome=code, note=note)

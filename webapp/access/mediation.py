"""Who may see and do what with mediation cases.

- The people on a case (mediators, prosecutor-mediators, lawyers, officers named) see it — except a
  DV or minor lead's case, which stays in its compartment: only who may open the lead sees it.
- Whoever may open the lead as a case (its handler, the community's officer, supervisors, the
  task force / youth team for their leads) sees its mediation case: the lead rules decide.
- The lead's handler (assignee or supervisor) runs the case: people, consent, agreement, outcome.
  Mediators on the case also record sessions and tick the method guide.
Others: 404, and the case is absent from every list.
"""

from __future__ import annotations

from flask import abort
from sqlalchemy import and_, exists, false, or_, select

from webapp.access.leads import can_handle_lead, case_scope
from webapp.extensions import db
from webapp.leads.models import Lead
from webapp.mediation.models import CaseMember, MediationCase
from webapp.org.models import Role, User

# Who has anything to do with mediation (lists, the guides to read).
MEDIATION_VIEWERS = (
    Role.OFFICER,
    Role.SUPERVISOR,
    Role.DV_TEAM,
    Role.YOUTH_TEAM,
    Role.MEDIATOR,
    Role.LAWYER,
    Role.EXPERT,
)
RECORDING_ROLES = ("mediator", "prosecutor")


def mediation_case_scope(user: User):
    """A WHERE clause on MediationCase: the cases `user` may see."""
    if not user.is_authenticated:
        return false()
    # Correlated EXISTS, one lookup of the case's own lead: `lead_id IN (SELECT … FROM lead WHERE …)`
    # made SQLite list every lead in scope first (half a second per home page at 500k leads).
    of_the_case = Lead.id == MediationCase.lead_id
    through_lead = exists().where(of_the_case, case_scope(user))
    ordinary = exists().where(of_the_case, ~or_(Lead.flag_dv, Lead.flag_minor))
    on_case = and_(
        MediationCase.station_id == user.station_id,
        MediationCase.id.in_(select(CaseMember.case_id).where(CaseMember.user_id == user.id)),
        ordinary,
    )
    return or_(through_lead, on_case)


MAX_ID = 2**63 - 1  # ids beyond a 64-bit integer exist nowhere (and no driver can ask for them)


def find_mediation_case(user: User, case_id: int) -> MediationCase | None:
    if not 0 < case_id <= MAX_ID:
        return None
    return db.session.scalar(
        select(MediationCase).where(MediationCase.id == case_id, mediation_case_scope(user))
    )


def mediation_case(user: User, case_id: int) -> MediationCase:
    """`find_mediation_case`, or 404: a case a person may not see does not exist for them."""
    case = find_mediation_case(user, case_id)
    if case is None:
        abort(404)
    return case


def can_see_mediation(user: User) -> bool:
    return user.is_authenticated and user.has_role(*MEDIATION_VIEWERS)


def can_edit_guides(user: User) -> bool:
    return user.is_authenticated and user.has_role(Role.SUPERVISOR)


def can_mark_prosecutors(user: User) -> bool:
    """Say which mediators are prosecutor-mediators (a flag on the mediator, not a role)."""
    return user.is_authenticated and user.has_role(Role.SUPERVISOR)


def can_open_case(user: User, lead: Lead) -> bool:
    """Open a lead's mediation case: whoever handles the lead (it takes the lead's step)."""
    return can_handle_lead(user, lead)


def can_manage_case(user: User, case: MediationCase) -> bool:
    """Run the case: its people, consent and refusals, agreement, signing and the outcome."""
    return can_handle_lead(user, case.lead)


def can_record_session(user: User, case: MediationCase) -> bool:
    """Record sessions and tick the guide: the handler, and the case's mediators."""
    return can_manage_case(user, case) or any(
        m.user_id == user.id and m.role in RECORDING_ROLES for m in case.members
    )

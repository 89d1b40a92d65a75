"""Who may see and do what with the expert pool.

- The pool (search, profiles) is for the station's case workers and mediation staff; private notes
  (employer, phone — masked in lists) for supervisors only, who also keep the profiles.
- Conflicts and invitations are recorded by whoever handles the lead.
- An invited expert sees the invitation (minimal fields) and nothing else of the lead: every
  lead and case page answers them 404, and no list or search shows them one.
"""

from __future__ import annotations

from flask import abort
from sqlalchemy import select

from webapp.access.leads import can_handle_lead, find_case
from webapp.experts.models import Expert, ExpertInvitation
from webapp.extensions import db
from webapp.leads.models import Lead
from webapp.org.models import Role, User

POOL_READERS = (Role.OFFICER, Role.SUPERVISOR, Role.MEDIATOR, Role.LAWYER)
POOL_KEEPERS = (Role.SUPERVISOR,)  # the profile form shows the private notes: supervisors only
MAX_ID = 2**63 - 1


def can_search_experts(user: User) -> bool:
    return user.is_authenticated and user.has_role(*POOL_READERS)


def can_manage_experts(user: User) -> bool:
    return user.is_authenticated and user.has_role(*POOL_KEEPERS)


def can_see_private_notes(user: User) -> bool:
    return user.is_authenticated and user.has_role(Role.SUPERVISOR)


def is_expert(user: User) -> bool:
    return user.is_authenticated and user.has_role(Role.EXPERT)


def can_invite_experts(user: User, lead: Lead) -> bool:
    """Record conflicts and invite experts: whoever handles the lead."""
    return can_handle_lead(user, lead)


def find_expert(user: User, expert_id: int) -> Expert | None:
    if not 0 < expert_id <= MAX_ID:
        return None
    expert = db.session.get(Expert, expert_id)
    return expert if expert is not None and expert.station_id == user.station_id else None


def station_expert(user: User, expert_id: int) -> Expert:
    expert = find_expert(user, expert_id)
    if expert is None:
        abort(404)
    return expert


def expert_lead(user: User, lead_id: int) -> Lead:
    """A lead whose experts `user` may look at: one they may open as a case, else 404."""
    lead = find_case(user, lead_id) if 0 < lead_id <= MAX_ID else None
    if lead is None:
        abort(404)
    return lead


def find_invitation(user: User, invitation_id: int) -> ExpertInvitation | None:
    """The invitation if `user` is the invited expert or handles the lead, else None."""
    if not user.is_authenticated or not 0 < invitation_id <= MAX_ID:
        return None
    invitation = db.session.scalar(select(ExpertInvitation).where(ExpertInvitation.id == invitation_id))
    if invitation is None:
        return None
    expert = db.session.get(Expert, invitation.expert_id)
    if expert.user_id == user.id and user.has_role(Role.EXPERT):
        return invitation
    lead = db.session.get(Lead, invitation.lead_id)
    return invitation if can_handle_lead(user, lead) else None


def seen_invitation(user: User, invitation_id: int) -> ExpertInvitation:
    invitation = find_invitation(user, invitation_id)
    if invitation is None:
        abort(404)
    return invitation

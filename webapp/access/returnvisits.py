"""Who may see, record and hand on return visits (回访).

A return visit is its assignee's (the lead's officer, or a volunteer they gave it to) and the
lead's handlers' (the assignee officer, supervisors). A DV or minor lead's return visit is never
given to a volunteer: it stays in the compartment.
"""

from __future__ import annotations

from flask import abort
from sqlalchemy import or_, select

from webapp.access.leads import REPORTER_ROLES, can_handle_lead, case_scope
from webapp.extensions import db
from webapp.leads.models import Lead
from webapp.org.models import Role, User
from webapp.returnvisits.models import ReturnVisit


def can_do_return_visits(user: User) -> bool:
    """Officers, supervisors, the teams and volunteers may be given return visits."""
    return user.is_authenticated and user.has_role(*REPORTER_ROLES)


def return_visit_scope(user: User):
    """The return visits `user` may see: those given to them, and those of leads they handle."""
    handled = select(Lead.id).where(case_scope(user))
    if not user.has_role(Role.SUPERVISOR):
        handled = handled.where(Lead.assignee_id == user.id)
    return (ReturnVisit.station_id == user.station_id) & or_(
        ReturnVisit.assignee_id == user.id, ReturnVisit.lead_id.in_(handled))


def find_return_visit(user: User, visit_id: int) -> ReturnVisit | None:
    if not user.is_authenticated or not 0 < visit_id < 2**31:  # beyond any id: no database error
        return None
    return db.session.scalar(select(ReturnVisit).where(ReturnVisit.id == visit_id,
                                                       return_visit_scope(user)))


def seen_return_visit(user: User, visit_id: int) -> ReturnVisit:
    """`find_return_visit`, or 404: another person's return visit does not exist for you."""
    visit = find_return_visit(user, visit_id)
    if visit is None:
        abort(404)
    return visit


def can_record_return_visit(user: User, visit: ReturnVisit) -> bool:
    """Its assignee records it; the lead's handlers (officer, supervisors) may too."""
    if visit.station_id != user.station_id:
        return False
    return visit.assignee_id == user.id or can_handle_lead(user, visit.lead)


def can_reassign_return_visit(user: User, visit: ReturnVisit) -> bool:
    """The lead's officer and supervisors decide who goes."""
    return visit.station_id == user.station_id and can_handle_lead(user, visit.lead)


def may_be_given_return_visit(person: User, visit: ReturnVisit) -> bool:
    """The lead's officer, or a volunteer of the lead's community for an ordinary lead."""
    lead = visit.lead
    if person.station_id != lead.station_id or not person.is_enabled:
        return False
    if person.id == lead.assignee_id:
        return True
    return (person.has_role(Role.VOLUNTEER) and not lead.is_compartmented
            and lead.community_id is not None and person.community_id == lead.community_id)

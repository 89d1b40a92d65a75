"""Who may see and do what with leads. docs/domain.md's privacy rules, enforced in queries:

1. DV and minor leads: the assigned officer, the task force / youth team and supervisors only.
2. Volunteers (and anyone else) see what they reported, as status only.
3. Reporter identity: supervisors only.
4. Phones, ID numbers, exact addresses: masked by default; revealing one is audited.
"""

from __future__ import annotations

from flask import abort
from sqlalchemy import and_, false, or_, select

from webapp.extensions import db
from webapp.leads.models import Lead, LeadPhoto
from webapp.org.models import Community, Role, User

# Who works cases (and so sees the lead lists): the rest follow their own reports.
CASE_ROLES = (Role.OFFICER, Role.SUPERVISOR, Role.DV_TEAM, Role.YOUTH_TEAM)
REPORTER_ROLES = (Role.VOLUNTEER, *CASE_ROLES)
DESK_ROLES = (Role.OFFICER, Role.SUPERVISOR)
# Who can be given a case to work.
ASSIGNABLE_ROLES = (Role.OFFICER, Role.DV_TEAM, Role.YOUTH_TEAM)


# --- scopes: WHERE clauses, so what a person may not see is absent from every list and count ------


def lead_scope(user: User):
    """A WHERE clause for the leads `user` may see at all: their cases, and their own reports."""
    if not user.is_authenticated:
        return false()
    return or_(case_scope(user), (Lead.reporter_id == user.id) & (Lead.station_id == user.station_id))


def case_scope(user: User):
    """The leads `user` may open as a case (not just follow as their own report)."""
    if not user.is_authenticated:
        return false()
    in_station = Lead.station_id == user.station_id
    if user.has_role(Role.SUPERVISOR):
        return in_station
    visible = []
    compartmented = or_(Lead.flag_dv, Lead.flag_minor)
    if user.has_role(Role.OFFICER):
        my_communities = select(Community.id).where(Community.officer_id == user.id)
        visible.append(Lead.assignee_id == user.id)
        visible.append(and_(Lead.community_id.in_(my_communities), ~compartmented))
    if user.has_role(Role.DV_TEAM):
        visible.append(Lead.flag_dv)
    if user.has_role(Role.YOUTH_TEAM):
        visible.append(Lead.flag_minor)
    if not visible:
        return false()
    return and_(in_station, or_(*visible))


# --- loaders: the record if the person may see it ---------------------------------------------------


def visible_lead(user: User, lead_id: int) -> Lead | None:
    """The lead if `user` may see it at all (a case, or their own report), else None."""
    return db.session.scalar(select(Lead).where(Lead.id == lead_id, lead_scope(user)))


def find_case(user: User, lead_id: int) -> Lead | None:
    """The lead if `user` may open it as a case, else None."""
    return db.session.scalar(select(Lead).where(Lead.id == lead_id, case_scope(user)))


def seen_lead(user: User, lead_id: int) -> Lead:
    """`visible_lead`, or 404: a lead a person may not see does not exist for them."""
    lead = visible_lead(user, lead_id)
    if lead is None:
        abort(404)
    return lead


def case_lead(user: User, lead_id: int) -> Lead:
    """`find_case`, or 404."""
    lead = find_case(user, lead_id)
    if lead is None:
        abort(404)
    return lead


def lead_to_reveal(user: User, lead_id: int) -> Lead:
    """The lead whose parties' identities `user` may reveal: 404 if they cannot see it at all,
    403 if they see it but may not reveal."""
    lead = seen_lead(user, lead_id)
    if not can_reveal_identities(user, lead):
        abort(403)
    return lead


def lead_photo(user: User, lead_id: int, photo_id: int) -> tuple[Lead, LeadPhoto]:
    """A photo of a lead `user` may see (the lead and the photo), or 404."""
    lead = visible_lead(user, lead_id)
    picture = db.session.get(LeadPhoto, photo_id)
    if lead is None or picture is None or picture.lead_id != lead.id:
        abort(404)
    return lead, picture


def is_case_for(user: User, lead: Lead) -> bool:
    return db.session.scalar(select(Lead.id).where(Lead.id == lead.id, case_scope(user))) is not None


# --- rules about people ----------------------------------------------------------------------------


def can_list_leads(user: User) -> bool:
    return user.is_authenticated and user.has_role(*CASE_ROLES)


def can_report_leads(user: User) -> bool:
    return user.is_authenticated and user.has_role(*REPORTER_ROLES)


def can_use_desk_intake(user: User) -> bool:
    return user.is_authenticated and user.has_role(*DESK_ROLES)


def can_see_branch(user: User) -> bool:
    return user.is_authenticated and (user.has_role(Role.SUPERVISOR) or user.is_branch_secretary)


def can_see_queues(user: User) -> bool:
    """The station's intake and supervision queues (ungraded, unroutable, overdue, …)."""
    return user.is_authenticated and user.has_role(Role.SUPERVISOR)


def can_see_reporter(user: User) -> bool:
    return user.has_role(Role.SUPERVISOR)


def can_be_assigned(person: User, lead: Lead) -> bool:
    return person.station_id == lead.station_id and person.has_role(*ASSIGNABLE_ROLES)


# --- rules about one lead --------------------------------------------------------------------------


def can_handle_lead(user: User, lead: Lead) -> bool:
    """Work the case: edit it and move it along its lifecycle."""
    if lead.station_id != user.station_id:
        return False
    return user.has_role(Role.SUPERVISOR) or lead.assignee_id == user.id


def can_reveal_identities(user: User, lead: Lead) -> bool:
    """See parties' full phones and ID numbers (each reveal is audited)."""
    if can_handle_lead(user, lead):
        return True
    return (lead.flag_dv and user.has_role(Role.DV_TEAM)) or (
        lead.flag_minor and user.has_role(Role.YOUTH_TEAM)
    )


def can_grade(user: User, lead: Lead) -> bool:
    """Assess the risk: whoever handles the case, and the community's officer for ordinary leads."""
    return can_handle_lead(user, lead) or (
        user.has_role(Role.OFFICER) and lead.community is not None
        and lead.community.officer_id == user.id and not lead.is_compartmented
    )


def may_take_step(user: User, lead: Lead, who: str) -> bool:
    """May `user` take a lifecycle step meant for `who` on `lead` (status aside)?
    `who`: "handler" (assignee or supervisor), "assignee", "supervisor" or "grader"."""
    if lead.station_id != user.station_id:
        return False
    if who == "supervisor":
        return user.has_role(Role.SUPERVISOR)
    if who == "assignee":
        return lead.assignee_id == user.id
    if who == "grader":
        return can_grade(user, lead)
    return can_handle_lead(user, lead)

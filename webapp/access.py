"""Who may see and do what. Every view and every query that needs a rule goes through here."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import abort
from flask_login import current_user, login_required

from webapp.org.models import Role, User

F = TypeVar("F", bound=Callable)

# A person with several roles lands on the home of the first one listed here.
HOME_BY_ROLE: tuple[tuple[Role, str], ...] = (
    (Role.SUPERVISOR, "home.supervisor"),
    (Role.OFFICER, "home.officer"),
    (Role.DV_TEAM, "home.dv_team"),
    (Role.YOUTH_TEAM, "home.youth_team"),
    (Role.MEDIATOR, "home.mediation"),
    (Role.LAWYER, "home.mediation"),
    (Role.EXPERT, "home.mediation"),
    (Role.LIAISON, "home.liaison"),
    (Role.ADMIN, "home.admin"),
    (Role.VOLUNTEER, "home.volunteer"),
)

ORG_MANAGERS = (Role.ADMIN,)
MEDIATION_ROLES = (Role.MEDIATOR, Role.LAWYER, Role.EXPERT)


def home_endpoint(user: User) -> str:
    for role, endpoint in HOME_BY_ROLE:
        if user.has_role(role):
            return endpoint
    return "home.no_role"


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Allow the view to users holding any of `roles`; others get 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def can_manage_org(user: User) -> bool:
    return user.is_authenticated and user.has_role(*ORG_MANAGERS)


# --- leads ------------------------------------------------------------------------------------
# DOMAIN.md privacy rules, enforced in queries:
# 1. DV and minor leads: the assigned officer, the task force / youth team and supervisors only.
# 2. Volunteers (and anyone else) see what they reported, as status only.
# 3. Reporter identity: supervisors only.
# 4. Phones, ID numbers, exact addresses: masked by default; revealing one is audited.


def lead_scope(user: User):
    """A WHERE clause for the leads `user` may see at all: their cases, and their own reports."""
    from sqlalchemy import false, or_

    from webapp.leads.models import Lead

    if not user.is_authenticated:
        return false()
    return or_(case_scope(user), (Lead.reporter_id == user.id) & (Lead.station_id == user.station_id))


def case_scope(user: User):
    """The leads `user` may open as a case (not just follow as their own report)."""
    from sqlalchemy import and_, false, or_, select

    from webapp.leads.models import Lead
    from webapp.org.models import Community

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


def can_handle_lead(user: User, lead) -> bool:
    """Work the case: edit it and move it along its lifecycle."""
    if lead.station_id != user.station_id:
        return False
    return user.has_role(Role.SUPERVISOR) or lead.assignee_id == user.id


def can_reveal_identities(user: User, lead) -> bool:
    """See parties' full phones and ID numbers (each reveal is audited)."""
    if can_handle_lead(user, lead):
        return True
    return (lead.flag_dv and user.has_role(Role.DV_TEAM)) or (
        lead.flag_minor and user.has_role(Role.YOUTH_TEAM)
    )


def can_see_reporter(user: User) -> bool:
    return user.has_role(Role.SUPERVISOR)


def can_report_leads(user: User) -> bool:
    return user.is_authenticated and user.has_role(
        Role.VOLUNTEER, Role.OFFICER, Role.SUPERVISOR, Role.DV_TEAM, Role.YOUTH_TEAM
    )


def can_use_desk_intake(user: User) -> bool:
    return user.is_authenticated and user.has_role(Role.OFFICER, Role.SUPERVISOR)


def can_see_branch(user: User) -> bool:
    return user.is_authenticated and (user.has_role(Role.SUPERVISOR) or user.is_branch_secretary)

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

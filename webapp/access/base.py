"""The policy's core: the one view decorator, role rules and each role's home. Knows no record kind,
so the low features (org, notify) can use it without reaching the leads models through it."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import abort
from flask_login import current_user, login_required

from webapp.org.models import Role, User

F = TypeVar("F", bound=Callable)
Rule = Callable[[User], bool]

# A person with several roles lands on the home of the first one listed here.
HOME_BY_ROLE: tuple[tuple[Role, str], ...] = (
    (Role.SUPERVISOR, "home.supervisor"),
    (Role.OFFICER, "home.officer"),
    (Role.DV_TEAM, "home.dv_team"),
    (Role.YOUTH_TEAM, "home.youth_team"),
    (Role.MEDIATOR, "home.mediation"),
    (Role.LAWYER, "home.mediation"),
    (Role.EXPERT, "experts.mine"),  # an expert opens on the mediations they are invited to
    (Role.LIAISON, "home.liaison"),
    (Role.ADMIN, "home.admin"),
    (Role.VOLUNTEER, "home.volunteer"),
)

ORG_MANAGERS = (Role.ADMIN,)
MEDIATION_ROLES = (Role.MEDIATOR, Role.LAWYER, Role.EXPERT)

# Views of features that do not use the decorator (auth is hardened separately): their rule, for
# the route test and for readers. Keep in step with webapp/auth/views.py.
DECLARED_ELSEWHERE: dict[str, str] = {
    "static": "public",
    "auth.index": "public: sends to the sign-in page or the person's home",
    "auth.login": "public",
    "auth.set_language": "public: a language cookie",
    "auth.logout": "signed in (login_required)",
    "auth.account": "signed in (login_required)",
    "auth.sign_out_everywhere": "signed in (login_required)",
    "auth.revoke_device": "signed in (login_required); only the person's own sessions",
    "auth.login_code": "public: only after the password, for the person it names (pending in the session)",
    "auth.two_factor": "signed in (login_required); others than those who must have a second factor "
                       "(auth.totp.may_enrol) get 403",
    "auth.change_password": "signed in (login_required)",
}


def home_endpoint(user: User) -> str:
    for role, endpoint in HOME_BY_ROLE:
        if user.has_role(role):
            return endpoint
    return "home.no_role"


# --- the decorator ---------------------------------------------------------------------------------


def allow(rule: Rule) -> Callable[[F], F]:
    """The view's rule: signed-in people for whom `rule(person)` holds; others get 403, and people
    not signed in go to the sign-in page. Record-level checks use the loaders (404 for what a
    person may not see)."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not rule(current_user):
                abort(403)
            return view(*args, **kwargs)

        wrapped.access_rule = rule.__name__  # type: ignore[attr-defined]
        wrapped.access_check = rule  # type: ignore[attr-defined]  # the rule itself, for the generated matrix
        return wrapped  # type: ignore[return-value]

    return decorator


def public(view: F) -> F:
    """Open to anyone, signed in or not (sign-in, health, the service worker, the manifest)."""
    view.access_rule = "public"  # type: ignore[attr-defined]
    return view


def guards_itself(reason: str) -> Callable[[F], F]:
    """The view answers access in its own terms (e.g. /sync: 401 JSON, then a rule per item)."""

    def decorator(view: F) -> F:
        view.access_rule = f"inside: {reason}"  # type: ignore[attr-defined]
        return view

    return decorator


# --- rules about people ----------------------------------------------------------------------------


def signed_in(user: User) -> bool:
    return user.is_authenticated


def any_role(*roles: Role) -> Rule:
    """A rule: the person holds any of `roles`."""

    def rule(user: User) -> bool:
        return user.is_authenticated and user.has_role(*roles)

    rule.__name__ = "any_role(" + ", ".join(role.value for role in roles) + ")"
    return rule


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Allow the view to people holding any of `roles`; others get 403."""
    return allow(any_role(*roles))


def can_manage_org(user: User) -> bool:
    return user.is_authenticated and user.has_role(*ORG_MANAGERS)

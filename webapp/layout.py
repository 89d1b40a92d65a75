"""The navigation a person sees: built from their roles, the same on every page."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from webapp.access import can_manage_org, home_endpoint


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    icon: str  # a symbol id in templates/_macros/icons.html


def navigation_for(user) -> list[NavItem]:
    if not user or not user.is_authenticated:
        return []
    items = [NavItem(home_endpoint(user), _l("Home"), "home")]
    if can_manage_org(user):
        items.append(NavItem("org.index", _l("Admin"), "admin"))
    items.append(NavItem("auth.account", _l("Me"), "me"))
    return items

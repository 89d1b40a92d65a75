"""The navigation a person sees: built from their roles, the same on every page (at most five
tabs on a phone, so each one is in thumb reach)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from webapp.access import (
    can_list_leads,
    can_manage_org,
    can_record_visits,
    can_report_leads,
    can_use_desk_intake,
    home_endpoint,
)
from webapp.access.duty import can_see_roster


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    icon: str  # a symbol id in templates/_macros/icons.html
    badge: str = ""  # "inbox": shows the unread count


def navigation_for(user) -> list[NavItem]:
    if not user or not user.is_authenticated:
        return []
    home = home_endpoint(user)
    items = [NavItem(home, _l("My work") if home == "home.officer" else _l("Home"), "home")]
    if can_list_leads(user):
        items.append(NavItem("leads.index", _l("Leads"), "list"))
    if can_use_desk_intake(user):
        items.append(NavItem("leads.desk", _l("Register"), "plus"))
    elif can_report_leads(user):
        items.append(NavItem("leads.report", _l("Report"), "plus"))
    if can_record_visits(user) and not can_use_desk_intake(user):
        items.append(NavItem("visits.index", _l("Visits"), "door"))
    if can_see_roster(user) and not can_list_leads(user):
        items.append(NavItem("duty.roster", _l("Duty"), "list"))
    if can_manage_org(user):
        items.append(NavItem("org.index", _l("Admin"), "admin"))
    items.append(NavItem("notify.index", _l("Inbox"), "bell", badge="inbox"))
    items.append(NavItem("auth.account", _l("Me"), "me"))
    return items

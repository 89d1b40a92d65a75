"""Who may see and do what: the one place that decides. Views and services ask here; nothing else does.

One module per record kind (`leads`, `visits`, `mediation`, `org`) and the core (`base`: the view decorator,
role rules); one surface: import from `webapp.access`. The low features (org, notify, sync)
import `webapp.access.base` or `webapp.access.org` directly: the surface also loads the leads
rules, and through them the leads models, which those features must not depend on.

A view declares its rule with `@allow(rule)` (or `@public`); tests/test_access_routes.py walks the
URL map and fails on any route without one. Loaders (`case_lead`, `seen_lead`, `own_visit`, …)
answer 404 for records a person may not see.
"""

from webapp.access.base import (
    DECLARED_ELSEWHERE,
    HOME_BY_ROLE,
    MEDIATION_ROLES,
    ORG_MANAGERS,
    allow,
    any_role,
    can_manage_org,
    guards_itself,
    home_endpoint,
    public,
    roles_required,
    signed_in,
)
from webapp.access.leads import (
    ASSIGNABLE_ROLES,
    can_be_assigned,
    can_grade,
    can_handle_lead,
    can_list_leads,
    can_report_leads,
    can_reveal_identities,
    can_see_branch,
    can_see_queues,
    can_see_reporter,
    can_use_desk_intake,
    case_lead,
    case_scope,
    find_case,
    is_case_for,
    lead_photo,
    lead_scope,
    lead_to_reveal,
    may_take_step,
    seen_lead,
    visible_lead,
)
from webapp.access.mediation import (
    can_edit_guides,
    can_manage_case,
    can_mark_prosecutors,
    can_open_case,
    can_record_session,
    can_see_mediation,
    find_mediation_case,
    mediation_case,
    mediation_case_scope,
)
from webapp.access.org import community_grid, station_community, station_person
from webapp.access.visits import can_record_visits, find_own_visit, own_visit

__all__ = [
    "ASSIGNABLE_ROLES",
    "DECLARED_ELSEWHERE",
    "HOME_BY_ROLE",
    "MEDIATION_ROLES",
    "ORG_MANAGERS",
    "allow",
    "any_role",
    "can_be_assigned",
    "can_edit_guides",
    "can_grade",
    "can_handle_lead",
    "can_list_leads",
    "can_manage_case",
    "can_manage_org",
    "can_mark_prosecutors",
    "can_open_case",
    "can_record_session",
    "can_record_visits",
    "can_report_leads",
    "can_reveal_identities",
    "can_see_branch",
    "can_see_mediation",
    "can_see_queues",
    "can_see_reporter",
    "can_use_desk_intake",
    "case_lead",
    "case_scope",
    "community_grid",
    "find_case",
    "find_mediation_case",
    "find_own_visit",
    "guards_itself",
    "home_endpoint",
    "is_case_for",
    "lead_photo",
    "lead_scope",
    "lead_to_reveal",
    "may_take_step",
    "mediation_case",
    "mediation_case_scope",
    "own_visit",
    "public",
    "roles_required",
    "seen_lead",
    "signed_in",
    "station_community",
    "station_person",
    "visible_lead",
]

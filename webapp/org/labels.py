"""Human names for codes, in the person's language (codes stay English in the database)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from webapp.org.models import CommunityKind, Role

ROLE_LABELS = {
    Role.VOLUNTEER: _l("Volunteer"),
    Role.OFFICER: _l("Community officer"),
    Role.MEDIATOR: _l("Mediator"),
    Role.LAWYER: _l("Lawyer"),
    Role.EXPERT: _l("Expert"),
    Role.DV_TEAM: _l("DV task force"),
    Role.YOUTH_TEAM: _l("Youth team"),
    Role.SUPERVISOR: _l("Supervisor"),
    Role.LIAISON: _l("Government liaison"),
    Role.ADMIN: _l("Administrator"),
}

COMMUNITY_KIND_LABELS = {
    CommunityKind.PLAZA: _l("Shopping plaza"),
    CommunityKind.PEDESTRIAN_STREET: _l("Pedestrian street"),
    CommunityKind.NIGHT_MARKET: _l("Night-market street"),
    CommunityKind.RESIDENTIAL: _l("Residential compound"),
    CommunityKind.MARKET: _l("Hypermarket"),
    CommunityKind.OTHER: _l("Other"),
}


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(Role(role), role))


def community_kind_label(kind: str) -> str:
    try:
        return str(COMMUNITY_KIND_LABELS[CommunityKind(kind)])
    except ValueError:
        return kind

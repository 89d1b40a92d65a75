"""Who may see and do what with the youth team's records (docs/domain.md, "Privacy" 1 and 6).

Assistance profiles and their sessions are sealed: the youth team and the supervisors of the
station only. For everyone else they do not exist — every query that lists, searches, counts,
exports or syncs them starts from `profile_scope` / `session_scope`, and a loader answers 404.
Outreach events hold no personal data: station staff read them, the youth team and supervisors
keep them.
"""

from __future__ import annotations

from flask import abort
from sqlalchemy import false, select

from webapp.extensions import db
from webapp.org.models import Role, User
from webapp.youth.models import OutreachEvent, YouthProfile, YouthSession

YOUTH_ROLES = (Role.YOUTH_TEAM, Role.SUPERVISOR)
# Station staff who read the outreach list: not volunteers, outside lawyers and experts, or the
# local government's liaison.
STAFF_ROLES = (Role.OFFICER, Role.SUPERVISOR, Role.DV_TEAM, Role.YOUTH_TEAM, Role.MEDIATOR, Role.ADMIN)


# --- rules about people ----------------------------------------------------------------------------


def can_work_youth(user: User) -> bool:
    """Open, keep and close assistance profiles and record their sessions."""
    return user.is_authenticated and user.has_role(*YOUTH_ROLES)


def can_read_outreach(user: User) -> bool:
    return user.is_authenticated and user.has_role(*STAFF_ROLES)


def can_edit_outreach(user: User) -> bool:
    return can_work_youth(user)


# --- scopes: WHERE clauses ---------------------------------------------------------------------------


def profile_scope(user: User):
    """The profiles `user` may see at all: their station's, for the youth team and supervisors."""
    if not can_work_youth(user):
        return false()
    return YouthProfile.station_id == user.station_id


def session_scope(user: User):
    """The sessions `user` may see: those of profiles in `profile_scope` (use with a join or alone)."""
    return YouthSession.profile_id.in_(select(YouthProfile.id).where(profile_scope(user)))


def outreach_scope(user: User):
    if not can_read_outreach(user):
        return false()
    return OutreachEvent.station_id == user.station_id


# --- loaders -----------------------------------------------------------------------------------------


def find_profile(user: User, profile_id: int) -> YouthProfile | None:
    return db.session.scalar(select(YouthProfile).where(YouthProfile.id == profile_id, profile_scope(user)))


def sealed_profile(user: User, profile_id: int) -> YouthProfile:
    """`find_profile`, or 404: a sealed profile does not exist for anyone else."""
    profile = find_profile(user, profile_id)
    if profile is None:
        abort(404)
    return profile


def find_outreach(user: User, event_id: int) -> OutreachEvent | None:
    return db.session.scalar(select(OutreachEvent).where(OutreachEvent.id == event_id, outreach_scope(user)))


def station_outreach(user: User, event_id: int) -> OutreachEvent:
    event = find_outreach(user, event_id)
    if event is None:
        abort(404)
    return event

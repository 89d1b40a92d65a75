"""Who may see and record door-to-door visits: a visit is its visitor's own."""

from __future__ import annotations

from flask import abort

from webapp.access.leads import can_report_leads
from webapp.extensions import db
from webapp.org.models import User
from webapp.visits.models import Visit


def can_record_visits(user: User) -> bool:
    """Whoever reports leads records the visits they come from."""
    return can_report_leads(user)


def find_own_visit(user: User, visit_id: int) -> Visit | None:
    """The visit if `user` made it, else None."""
    visit = db.session.get(Visit, visit_id)
    return visit if visit is not None and visit.visitor_id == user.id else None


def own_visit(user: User, visit_id: int) -> Visit:
    """`find_own_visit`, or 404: another person's visit does not exist for you."""
    visit = find_own_visit(user, visit_id)
    if visit is None:
        abort(404)
    return visit

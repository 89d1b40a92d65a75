"""From a submitted intake form to the service: shared by the pages and the outbox sync (one path).

Both the online form post and the phone's replay build the same form class from the same fields,
then come here; errors land on the form's fields either way.
"""

from __future__ import annotations

from flask import current_app, g
from flask_babel import gettext as _
from wtforms import SelectChoice

from webapp import access
from webapp.extensions import db
from webapp.leads.codes import Source
from webapp.leads.deadlines import Deadline, parse_deadlines
from webapp.leads.forms import DeskIntakeForm, QuickReportForm
from webapp.leads.photos import PhotoError
from webapp.leads.services import IntakeError, IntakeResult, register_lead
from webapp.org import services as org
from webapp.org.models import Community, Grid, User
from webapp.visits.models import Visit


def deadlines() -> dict:
    return parse_deadlines(current_app.config["BEATBOOK_DEADLINES"])


def max_photo_bytes() -> int:
    return current_app.config["BEATBOOK_MAX_PHOTO_MB"] * 1024 * 1024


def intake_error_text(code: str) -> str:
    return {
        "reference_required": _("Enter the ticket or incident number."),
        "head_count_required": _("Enter how many people are involved."),
        "grid_outside_community": _("The grid is not in the chosen community."),
        "incomplete_position": _("Not a valid position."),
        "uuid_taken": _("This report id belongs to another report."),
        "too_large": _("The photo is larger than %(mb)d MB.", mb=current_app.config["BEATBOOK_MAX_PHOTO_MB"]),
        "not_an_image": _("This file is not a photo (JPEG, PNG or WebP)."),
        "unknown_visit": _("That visit is not one of yours."),
    }.get(code, code)


def _place(form, reporter: User) -> tuple[Community | None, Grid | None]:
    """The community and grid chosen on the form, only if they belong to the reporter's station."""
    community = db.session.get(Community, form.community_id.data) if form.community_id.data else None
    if community is not None and community.station_id != reporter.station_id:
        community = None
    grid_field = getattr(form, "grid_id", None)
    grid = db.session.get(Grid, grid_field.data) if grid_field is not None and grid_field.data else None
    if grid is not None and grid.community.station_id != reporter.station_id:
        grid = None
    return community, grid


def own_visit(reporter: User, visit_id: int | None) -> Visit | None:
    if not visit_id:
        return None
    visit = access.find_own_visit(reporter, visit_id)
    if visit is None:
        raise IntakeError("visit_id", "unknown_visit")
    return visit


def _photos(form) -> list[bytes]:
    files = [form.photo.data] if hasattr(form, "photo") else list(form.photos.data or [])
    return [file.read() for file in files if file and getattr(file, "filename", "")]


def _attach(form, field: str, message: str) -> None:
    target = getattr(form, {"grid": "grid_id"}.get(field, field), None)
    (target.errors if target is not None else form.form_errors).append(message)


def submit_lead_form(form, reporter: User, limits: tuple[dict[str, Deadline], int] | None = None
                     ) -> IntakeResult | None:
    """Register the lead a validated form describes; on a rule broken, put the error on the form
    and return None (nothing is stored)."""
    rules, photo_cap = limits or (deadlines(), max_photo_bytes())
    try:
        visit = own_visit(reporter, form.visit_id.data)
        community, grid = _place(form, reporter)
        data = form.to_input(_photos(form), community=community, grid=grid)
        if visit is not None:
            data.source = Source.VISIT
            data.visit_id = visit.id
        return register_lead(reporter, data, rules, photo_cap)
    except IntakeError as error:
        _attach(form, error.field, intake_error_text(error.code))
    except PhotoError as error:
        _attach(form, "photo" if hasattr(form, "photo") else "photos", intake_error_text(error.code))
    return None


# --- building the forms (pages and sync fill the same choices) ---------------------------------


def _station_communities(user: User) -> list[org.Place]:
    """The station's communities, read once per request (a sync batch builds many forms)."""
    cache = g.setdefault("beatbook_communities", {})
    if user.station_id not in cache:
        cache[user.station_id] = org.places(user.station_id)
    return cache[user.station_id]


def _community_choices(user: User, blank: str) -> list[SelectChoice]:
    communities = _station_communities(user)
    return [SelectChoice("", blank)] + [SelectChoice(str(c.id), c.name) for c in communities]


def build_report_form(user: User, **kwargs) -> QuickReportForm:
    form = QuickReportForm(**kwargs)
    form.community_id.choices = _community_choices(user, _("— or pick a community —"))
    return form


def build_desk_form(user: User, **kwargs) -> DeskIntakeForm:
    form = DeskIntakeForm(**kwargs)
    form.community_id.choices = _community_choices(user, _("— not known —"))
    form.grid_id.choices = [SelectChoice("", _("— none —"))] + [
        SelectChoice(str(grid.id), grid.name, optgroup=c.name)
        for c in _station_communities(user) for grid in c.grids
    ]
    return form

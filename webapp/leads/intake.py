"""From a submitted form to the service: shared by the pages and the outbox sync (one path).

Both the online form post and the phone's replay build the same form class from the same fields,
then come here; errors land on the form's fields either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from flask import current_app, g
from flask_babel import gettext as _
from wtforms import SelectChoice

from webapp import access
from webapp.extensions import db
from webapp.leads.codes import Source
from webapp.leads.deadlines import Deadline, parse_deadlines
from webapp.leads.forms import ActionForm, DeskIntakeForm, QuickReportForm
from webapp.leads.lifecycle import LifecycleError, perform
from webapp.leads.models import Lead
from webapp.leads.photos import PhotoError
from webapp.leads.services import IntakeError, IntakeResult, register_lead
from webapp.org import services as org
from webapp.org.models import Community, Grid, User
from webapp.timeutil import STATION_TZ
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


def _station_communities(user: User) -> list:
    """The station's communities, read once per request (a sync batch builds many forms)."""
    cache = g.setdefault("beatbook_communities", {})
    if user.station_id not in cache:
        cache[user.station_id] = org.communities(user.station)
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


def build_action_form(user: User, lead: Lead, **kwargs) -> ActionForm:
    kwargs.setdefault("version", lead.version)
    form = ActionForm(**kwargs)
    people = org.people_with_role(user.station, *access.ASSIGNABLE_ROLES)
    form.assignee_id.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(str(p.id), p.display_name) for p in people]
    return form


# --- lifecycle steps from a form ---------------------------------------------------------------

_FIELD_FOR = {"risk": "risk", "factors": "factors", "assignee": "assignee_id", "reason": "reason",
              "comment": "comment", "new_due": "new_due", "until": "until", "original": "original"}


def _end_of_local_day(day):
    """Like computed day deadlines: the midnight after that day, in Shanghai."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=STATION_TZ) if day else None


def step_params(step: str, form: ActionForm, user: User) -> dict:
    if step == "grade":
        return {"risk": form.risk.data, "factors": set(form.factors.data or ()), "note": form.note.data or ""}
    if step == "assign":
        return {"assignee": db.session.get(User, form.assignee_id.data) if form.assignee_id.data else None}
    if step in {"return", "reopen", "request_extension"}:
        return {"reason": form.reason.data or ""}
    if step in {"resolve", "fail", "transfer"}:
        chosen = {"resolve": form.resolution, "fail": form.failure_route, "transfer": form.transfer_to}[step]
        return {"outcome": chosen.data or "", "note": form.note.data or ""}
    if step == "close":
        return {"note": form.note.data or ""}
    if step == "grant_extension":
        return {"new_due": _end_of_local_day(form.new_due.data)}
    if step == "supervise":
        return {"until": _end_of_local_day(form.until.data), "comment": form.comment.data or ""}
    if step == "link_duplicate":
        original = None
        if form.original.data:
            # Only a lead the person may open can be the original: no probing of other leads by number.
            original = access.find_case(user, form.original.data)
        return {"original": original}
    return {}


def lifecycle_error_text(error: LifecycleError) -> str:
    return {
        "wrong_status": _("This step is not possible now: the lead is already past it or not there yet."),
        "reason_required": _("Give a reason."),
        "comment_required": _("Write the instructions."),
        "bad_risk": _("Choose a risk grade."),
        "bad_factor": _("Unknown risk factor."),
        "bad_assignee": _("Choose an officer or team member of this station."),
        "bad_outcome": _("Choose one of the options."),
        "due_in_past": _("Choose a date after today."),
        "no_extension_requested": _("No extension was requested."),
        "bad_original": _("Enter the number of another lead you can see."),
        "unknown_step": _("Unknown step."),
    }.get(error.code, error.code)


@dataclass(frozen=True)
class StepOutcome:
    """What happened to a submitted step: done, or refused and why (errors are on the form)."""

    done: bool
    status: int  # HTTP status for the page: 303 done, 403, 409 (stale or wrong status), 422
    stale: bool = False


def submit_step_form(lead: Lead, user: User, step: str, form: ActionForm,
                     step_uuid: str | None = None) -> StepOutcome:
    """Apply a validated step form. A form based on an older version of the lead is refused as
    stale (never a silent overwrite); the person sees the latest and decides again."""
    if form.version.data != lead.version:
        form.form_errors.append(_("Someone else changed this lead while you were looking at it. "
                                  "Here is the latest; check it and try again."))
        form.version.data = lead.version
        return StepOutcome(False, 409, stale=True)
    try:
        with db.session.begin_nested():
            perform(lead, user, step, deadlines(), step_uuid=step_uuid, **step_params(step, form, user))
    except LifecycleError as error:
        if error.forbidden:
            return StepOutcome(False, 403)
        target = getattr(form, _FIELD_FOR.get(error.field or "", ""), None)
        (target.errors if target is not None else form.form_errors).append(lifecycle_error_text(error))
        return StepOutcome(False, 409 if error.code in {"wrong_status", "no_extension_requested"} else 422)
    return StepOutcome(True, 303)

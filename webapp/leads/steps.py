"""From a submitted lifecycle-step form to the lifecycle: shared by the lead's page and the outbox
sync (one path). A stale form is refused (never a silent overwrite); errors land on the form."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from wtforms import SelectChoice

from webapp import access
from webapp.extensions import db
from webapp.leads.forms import ActionForm
from webapp.leads.intake import deadlines
from webapp.leads.lifecycle import LifecycleError, perform
from webapp.leads.models import Lead
from webapp.org import services as org
from webapp.org.models import User
from webapp.timeutil import STATION_TZ


def build_action_form(user: User, lead: Lead, **kwargs) -> ActionForm:
    """The lead's step form, with the people it can be assigned to."""
    kwargs.setdefault("version", lead.version)
    form = ActionForm(**kwargs)
    people = org.people_with_role(user.station, *access.ASSIGNABLE_ROLES)
    form.assignee_id.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(str(p.id), p.display_name) for p in people]
    return form


_FIELD_FOR = {"risk": "risk", "factors": "factors", "assignee": "assignee_id", "reason": "reason",
              "comment": "comment", "new_due": "new_due", "until": "until", "original": "original"}


def _end_of_local_day(day: date | None) -> datetime | None:
    """Like computed day deadlines: the midnight after that day, in Shanghai."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=STATION_TZ) if day else None


def _reason(form: ActionForm, user: User) -> dict:
    return {"reason": form.reason.data or ""}


def _outcome_from(field: str) -> Callable[[ActionForm, User], dict]:
    def params(form: ActionForm, user: User) -> dict:
        return {"outcome": getattr(form, field).data or "", "note": form.note.data or ""}

    return params


def _original(form: ActionForm, user: User) -> dict:
    # Only a lead the person may open can be the original: no probing of other leads by number.
    return {"original": access.find_case(user, form.original.data) if form.original.data else None}


# What each step takes from the form (steps not listed take nothing).
_PARAMS: dict[str, Callable[[ActionForm, User], dict]] = {
    "grade": lambda form, user: {"risk": form.risk.data, "factors": set(form.factors.data or ()),
                                 "note": form.note.data or ""},
    "assign": lambda form, user: {
        "assignee": db.session.get(User, form.assignee_id.data) if form.assignee_id.data else None},
    "return": _reason,
    "reopen": _reason,
    "request_extension": _reason,
    "resolve": _outcome_from("resolution"),
    "fail": _outcome_from("failure_route"),
    "transfer": _outcome_from("transfer_to"),
    "close": lambda form, user: {"note": form.note.data or ""},
    "grant_extension": lambda form, user: {"new_due": _end_of_local_day(form.new_due.data)},
    "supervise": lambda form, user: {"until": _end_of_local_day(form.until.data),
                                     "comment": form.comment.data or ""},
    "link_duplicate": _original,
}


def step_params(step: str, form: ActionForm, user: User) -> dict:
    params = _PARAMS.get(step)
    return params(form, user) if params else {}


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

"""The youth team's forms: every field bounded, every choice from a list (bad input → 422 + message)."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
    widgets,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from webapp.fields import UUID_PATTERN, RecordedAtField, optional_int
from webapp.forms import AppForm
from webapp.org.forms import MultiCheckboxField
from webapp.org.models import User
from webapp.youth.codes import (
    CLOSED_REASON_LABELS,
    RISK_FACTOR_LABELS,
    SESSION_KIND_LABELS,
    TOPIC_LABELS,
)
from webapp.youth.models import YouthProfile, YouthSession
from webapp.youth.services import SessionInput, YouthError, counsellors, record_session, station_today

EARLIEST = date(2000, 1, 1)  # no record of this work is older; a year 0001 is a typo


def _choices(labels: dict) -> list[SelectChoice]:
    return [SelectChoice(str(code), label) for code, label in labels.items()]


def _not_future(form, field) -> None:
    if field.data and field.data > station_today():
        raise ValidationError(_l("This date is in the future."))
    if field.data and field.data < EARLIEST:
        raise ValidationError(_l("This date is too long ago."))


def _within_a_year(form, field) -> None:
    today = station_today()
    if field.data and not today <= field.data <= date(today.year + 1, today.month, min(today.day, 28)):
        raise ValidationError(_l("Choose a day from today to a year ahead."))


def _counsellor_choices(user: User, blank: str) -> list[SelectChoice]:
    return [SelectChoice("", blank)] + [SelectChoice(str(p.id), p.display_name)
                                        for p in counsellors(user.station)]


class ProfileForm(AppForm):
    version = IntegerField(widget=widgets.HiddenInput(), validators=[Optional(), NumberRange(1, 2**31 - 1)])
    name = StringField(_l("Name of the minor"), validators=[DataRequired(), Length(max=50)])
    birth_year = IntegerField(_l("Year of birth"), validators=[InputRequired()])
    school = StringField(_l("School"), validators=[Optional(), Length(max=100)])
    grade = StringField(_l("Grade or class"), validators=[Optional(), Length(max=30)])
    guardian_name = StringField(_l("Guardian"), validators=[Optional(), Length(max=50)])
    guardian_relation = StringField(_l("Guardian's relation"), validators=[Optional(), Length(max=30)])
    guardian_phone = StringField(_l("Guardian's phone"), validators=[
        Optional(), Regexp(r"^\+?[0-9 -]{5,20}$", message=_l("Not a valid phone number."))])
    situation = TextAreaField(_l("Situation"), validators=[DataRequired(), Length(max=4000)])
    risk_factors = MultiCheckboxField(_l("Risk factors"), choices=_choices(RISK_FACTOR_LABELS))
    counsellor_id = SelectField(_l("Counsellor"), coerce=optional_int)
    next_session_on = DateField(_l("Next session on"), validators=[Optional(), _within_a_year])

    def validate_birth_year(self, field):
        this_year = station_today().year
        if field.data is not None and not this_year - 18 <= field.data <= this_year:
            raise ValidationError(_("A minor is born between %(first)d and %(last)d.",
                                    first=this_year - 18, last=this_year))


def build_profile_form(user: User, **kwargs) -> ProfileForm:
    form = ProfileForm(**kwargs)
    form.counsellor_id.choices = _counsellor_choices(user, _("— nobody yet —"))
    return form


class CloseProfileForm(AppForm):
    reason = SelectField(_l("Why the profile closes"), choices=_choices(CLOSED_REASON_LABELS),
                         validators=[DataRequired()])
    closed_on = DateField(_l("Closed on"), validators=[DataRequired(), _not_future])
    note = TextAreaField(_l("Note"), validators=[DataRequired(), Length(max=500)])


class LinkLeadForm(AppForm):
    lead_id = IntegerField(_l("Lead number"), validators=[InputRequired(), NumberRange(1, 2**31 - 1)])


class SessionForm(AppForm):
    uuid = HiddenField(validators=[Optional(), UUID_PATTERN])
    recorded_at = RecordedAtField()
    kind = SelectField(_l("Kind of session"), choices=_choices(SESSION_KIND_LABELS),
                       validators=[DataRequired()])
    counsellor_id = SelectField(_l("Counsellor"), coerce=optional_int)
    held_on = DateField(_l("Date of the session"), validators=[DataRequired(), _not_future])
    duration_minutes = IntegerField(_l("Duration (minutes)"), validators=[
        InputRequired(), NumberRange(5, 480, message=_l("Between 5 and 480 minutes."))])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=4000)])
    next_session_on = DateField(_l("Next session on"), validators=[Optional(), _within_a_year])


def build_session_form(user: User, **kwargs) -> SessionForm:
    form = SessionForm(**kwargs)
    form.counsellor_id.choices = _counsellor_choices(user, _("— me —"))
    return form


class OutreachForm(AppForm):
    topic = SelectField(_l("Topic"), choices=_choices(TOPIC_LABELS), validators=[DataRequired()])
    held_on = DateField(_l("Date"), validators=[DataRequired()])
    place = StringField(_l("Place"), validators=[DataRequired(), Length(max=200)])
    audience = IntegerField(_l("Audience"), validators=[
        InputRequired(), NumberRange(1, 100000, message=_l("Between 1 and 100,000 people."))])

    def validate_held_on(self, field):
        today = station_today()
        if field.data and not EARLIEST <= field.data <= date(today.year + 1, 12, 31):
            raise ValidationError(_l("Choose a day between 2000 and the end of next year."))


class DeleteOutreachForm(AppForm):
    confirm = BooleanField(_l("Yes, delete this event"),
                           validators=[DataRequired(_l("Tick the box to confirm."))])


# --- the refusals of the youth services, said on the form ------------------------------------------


def error_text(code: str) -> str:
    return {
        "stale": _("Someone else changed this profile meanwhile. Reload it and make your change again."),
        "closed_already": _("This profile is closed."),
        "not_a_counsellor": _("Choose a counsellor of the youth team."),
        "no_such_lead": _("No minor lead with this number that you may open."),
        "uuid_taken": _("This session id belongs to another record."),
    }.get(code, _("This change was refused."))


def refused(form, error: YouthError) -> None:
    """Put a service's refusal on the field it concerns (or the whole form)."""
    target = getattr(form, error.field, None) if error.field else None
    if target is not None and error.field != "uuid":
        target.errors = [*target.errors, error_text(error.code)]
    else:
        form.form_errors.append(error_text(error.code))


def submit_session_form(form: SessionForm, actor: User, profile: YouthProfile,
                        uuid: str | None = None) -> tuple[YouthSession | None, bool]:
    """The page's and the outbox's one path: (session, created), or (None, False) with the
    messages on the form."""
    if not form.validate():
        return None, False
    try:
        return record_session(actor, profile, SessionInput(
            kind=form.kind.data, counsellor_id=form.counsellor_id.data, held_on=form.held_on.data,
            duration_minutes=form.duration_minutes.data, notes=form.notes.data or "",
            next_session_on=form.next_session_on.data, uuid=uuid or form.uuid.data or None,
            recorded_at=form.recorded_at.data))
    except YouthError as error:
        refused(form, error)
        return None, False

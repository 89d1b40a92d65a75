"""Mediation forms: each page's one form class; selects offer only the people a rule allows."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
    widgets,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from webapp.fields import optional_int
from webapp.forms import AppForm
from webapp.leads.codes import (
    CATEGORY_LABELS,
    FAILURE_ROUTE_LABELS,
    RESOLUTION_LABELS,
    TRANSFER_TARGET_LABELS,
)
from webapp.mediation.codes import (
    CASE_STATUS_LABELS,
    MEMBER_ROLE_LABELS,
    ORIGIN_LABELS,
    PLACE_LABELS,
    SESSION_RESULT_LABELS,
    CaseStatus,
)
from webapp.mediation.services import parse_terms
from webapp.org.forms import MultiCheckboxField

TEXT_MAX = 4000


def _choices(labels: dict, blank: str | None = None) -> list[SelectChoice]:
    options = [SelectChoice("", blank)] if blank is not None else []
    return options + [SelectChoice(str(code), label) for code, label in labels.items()]


def people_choices(people, blank: str) -> list[SelectChoice]:
    return [SelectChoice("", blank)] + [SelectChoice(str(p.id), p.display_name) for p in people]


class OpenCaseForm(AppForm):
    origin = SelectField(
        _l("How did the mediation start?"),
        choices=_choices(ORIGIN_LABELS, _l("Choose…")),
        validators=[DataRequired()],
    )


class ProsecutorForm(AppForm):
    user_id = SelectField(_l("Mediator"), coerce=optional_int, validators=[InputRequired()])
    prosecutor = BooleanField(_l("Prosecutor-mediator"))


class MemberForm(AppForm):
    role = SelectField(_l("As"), choices=_choices(MEMBER_ROLE_LABELS), validators=[DataRequired()])
    user_id = SelectField(_l("Person"), coerce=optional_int, validators=[InputRequired()])


class ConsentForm(AppForm):
    note = StringField(
        _l("How the parties agreed to mediation"), validators=[DataRequired(), Length(max=500)]
    )


class RefusalForm(AppForm):
    user_id = SelectField(_l("Mediator refused"), coerce=optional_int, validators=[InputRequired()])
    party = StringField(_l("Refused by (party)"), validators=[DataRequired(), Length(max=64)])
    reason = StringField(_l("Reason given"), validators=[Optional(), Length(max=500)])


class SessionForm(AppForm):
    starts_at = DateTimeLocalField(_l("When"), validators=[DataRequired()])
    place = SelectField(_l("Where"), choices=_choices(PLACE_LABELS), validators=[DataRequired()])
    place_detail = StringField(_l("Room or address"), validators=[Optional(), Length(max=200)])
    video_url = StringField(_l("Video link (URL)"), validators=[Optional(), Length(max=500)])
    officer_id = SelectField(_l("Officer"), coerce=optional_int)
    prosecutor_id = SelectField(_l("Prosecutor-mediator"), coerce=optional_int)
    lawyer_id = SelectField(_l("Lawyer"), coerce=optional_int)
    attendees = TextAreaField(_l("Who came"), validators=[Optional(), Length(max=TEXT_MAX)])
    statements = TextAreaField(_l("What was said"), validators=[Optional(), Length(max=TEXT_MAX)])
    private = BooleanField(_l("Private session (a party heard alone)"))
    result = SelectField(_l("Outcome of the meeting"), choices=_choices(SESSION_RESULT_LABELS),
                         validators=[DataRequired()])
    terms = TextAreaField(_l("Terms agreed"), validators=[Optional(), Length(max=TEXT_MAX)])
    failure_reason = TextAreaField(_l("Why it failed"), validators=[Optional(), Length(max=1000)])
    next_step = StringField(_l("Next step"), validators=[Optional(), Length(max=500)])


class GuideTickForm(AppForm):
    guide_id = IntegerField(widget=widgets.HiddenInput(), validators=[InputRequired(), NumberRange(1, 2**62)])
    items = MultiCheckboxField(_l("Checklist"), coerce=int, validate_choice=False)


class GuideForm(AppForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=100)])
    items = TextAreaField(
        _l("Checklist items, one a line"), validators=[DataRequired(), Length(max=TEXT_MAX)]
    )


class AgreementForm(AppForm):
    parties = TextAreaField(_l("Parties"), validators=[DataRequired(), Length(max=TEXT_MAX)])
    facts = TextAreaField(_l("Facts of the dispute"), validators=[DataRequired(), Length(max=TEXT_MAX)])
    issues = TextAreaField(_l("Issues in dispute"), validators=[DataRequired(), Length(max=TEXT_MAX)])
    responsibilities = TextAreaField(
        _l("Responsibilities"), validators=[DataRequired(), Length(max=TEXT_MAX)]
    )
    terms = TextAreaField(_l("Agreed terms"), validators=[DataRequired(), Length(max=TEXT_MAX)])
    performance = TextAreaField(
        _l("How the terms are performed"), validators=[DataRequired(), Length(max=TEXT_MAX)]
    )
    perform_by = DateField(_l("Performed by"), validators=[DataRequired()])
    term_lines = TextAreaField(
        _l('Performance terms: one a line, "YYYY-MM-DD what"'), validators=[Optional(), Length(max=TEXT_MAX)]
    )

    def validate_term_lines(self, field):
        try:
            field.parsed = parse_terms(field.data or "")
        except ValueError as error:
            raise ValidationError(
                _("Line %(n)s: write a date (YYYY-MM-DD), a space, then what is to be done.", n=error.args[0])
            ) from error


class SignForm(AppForm):
    parties = TextAreaField(
        _l("Parties who signed, one a line"), validators=[DataRequired(), Length(max=1000)]
    )
    mediator_id = SelectField(_l("Mediator who signed"), coerce=optional_int, validators=[InputRequired()])


class CopyForm(AppForm):
    recipient = StringField(_l("Copy handed to"), validators=[DataRequired(), Length(max=64)])


class TermDoneForm(AppForm):
    term_id = IntegerField(widget=widgets.HiddenInput(), validators=[InputRequired(), NumberRange(1, 2**62)])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


CONCLUSIONS = {k: v for k, v in CASE_STATUS_LABELS.items() if k != CaseStatus.OPEN}


class ConcludeForm(AppForm):
    outcome = SelectField(
        _l("Outcome"), choices=_choices(CONCLUSIONS, _l("Choose…")), validators=[DataRequired()]
    )
    resolution = SelectField(
        _l("How it was resolved"), choices=_choices(RESOLUTION_LABELS, ""), validate_choice=False
    )
    failure_route = SelectField(
        _l("Route the parties were told"), choices=_choices(FAILURE_ROUTE_LABELS, ""), validate_choice=False
    )
    transfer_to = SelectField(
        _l("Transferred to"), choices=_choices(TRANSFER_TARGET_LABELS, ""), validate_choice=False
    )
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])

    def code(self) -> str:
        field = {
            "resolved": self.resolution,
            "failed": self.failure_route,
            "transferred": self.transfer_to,
        }.get(self.outcome.data)
        return field.data if field is not None else ""


GUIDE_CATEGORY_CHOICES = _choices(CATEGORY_LABELS)

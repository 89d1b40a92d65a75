"""The DV task force's forms. The delivery and follow-up forms are the offline ones (sync kinds
`dv.delivery` and `dv.followup` build the same forms from the phone's item)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from webapp.access.dv import MAX_ID
from webapp.dv.codes import (
    EVIDENCE_LABELS,
    METHOD_LABELS,
    OUTCOME_LABELS,
    RECIPIENT_LABELS,
    RELATIONSHIP_LABELS,
)
from webapp.fields import UUID_PATTERN, RecordedAtField
from webapp.forms import AppForm
from webapp.org.forms import MultiCheckboxField

ID_NUMBER = Regexp(
    r"^(\d{17}[\dXx])?$", message=_l("An ID number has 18 characters: 17 digits and a digit or X.")
)
POLICE_REF = Regexp(r"^[0-9A-Za-z-]*$", message=_l("Only digits, letters and dashes."))


def _choices(labels: dict, blank: str | None = None) -> list[SelectChoice]:
    options = [SelectChoice("", blank)] if blank is not None else []
    return options + [SelectChoice(str(code), label) for code, label in labels.items()]


class LetterRequestForm(AppForm):
    abuser_name = StringField(_l("Abuser's name"), validators=[DataRequired(), Length(max=64)])
    abuser_id_number = StringField(
        _l("Abuser's ID number"), validators=[Optional(), Length(max=18), ID_NUMBER]
    )
    relationship = SelectField(
        _l("Relationship to the victim"),
        validate_choice=True,
        choices=_choices(RELATIONSHIP_LABELS, blank="—"),
        validators=[DataRequired()],
    )
    victim_name = StringField(_l("Victim's name"), validators=[DataRequired(), Length(max=64)])
    minors_in_household = IntegerField(
        _l("Minors in the household"), default=0, validators=[InputRequired(), NumberRange(min=0, max=20)]
    )
    police_ref = StringField(_l("Linked 110 number"), validators=[Optional(), Length(max=32), POLICE_REF])
    facts = TextAreaField(_l("Facts"), validators=[DataRequired(), Length(max=4000)])
    evidence = MultiCheckboxField(
        _l("Evidence"), choices=_choices(EVIDENCE_LABELS), validators=[DataRequired()]
    )
    evidence_note = TextAreaField(_l("About the evidence"), validators=[Optional(), Length(max=1000)])
    supersedes = IntegerField(widget=widgets.HiddenInput(), validators=[Optional(), NumberRange(1, MAX_ID)])


class DecisionForm(AppForm):
    reason = TextAreaField(_l("Reason (when refusing)"), validators=[Optional(), Length(max=500)])


class IssueForm(AppForm):
    followups_by = RadioField(
        _l("Follow-up visits by"),
        default="task_force",
        validate_choice=True,
        choices=[
            SelectChoice("task_force", _l("The task force")),
            SelectChoice("committee", _l("The residents' committee, reported to the task force")),
        ],
    )


class DeliveryForm(AppForm):
    uuid = StringField(widget=widgets.HiddenInput(), validators=[Optional(), UUID_PATTERN])
    recorded_at = RecordedAtField()
    letter_id = IntegerField(
        widget=widgets.HiddenInput(), validators=[InputRequired(), NumberRange(1, MAX_ID)]
    )
    recipient = SelectField(
        _l("Delivered to"),
        validate_choice=True,
        choices=_choices(RECIPIENT_LABELS, "—"),
        validators=[DataRequired()],
    )
    method = SelectField(
        _l("How"), validate_choice=True, choices=_choices(METHOD_LABELS, "—"), validators=[DataRequired()]
    )
    outcome = SelectField(
        _l("Receipt"),
        validate_choice=True,
        choices=_choices(OUTCOME_LABELS, "—"),
        validators=[DataRequired()],
    )
    witness = StringField(_l("Witness"), validators=[Optional(), Length(max=64)])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=1000)])
    photo = FileField(
        _l("Photo of the signed receipt"), render_kw={"accept": "image/*", "capture": "environment"}
    )


class FollowUpForm(AppForm):
    uuid = StringField(widget=widgets.HiddenInput(), validators=[Optional(), UUID_PATTERN])
    recorded_at = RecordedAtField()
    followup_id = IntegerField(
        widget=widgets.HiddenInput(), validators=[InputRequired(), NumberRange(1, MAX_ID)]
    )
    recurred = RadioField(
        _l("Did violence recur?"),
        validate_choice=True,
        validators=[InputRequired()],
        choices=[SelectChoice("no", _l("No")), SelectChoice("yes", _l("Yes, violence recurred"))],
    )
    note = TextAreaField(_l("Note"), validators=[DataRequired(), Length(max=1000)])

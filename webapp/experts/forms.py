from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateTimeLocalField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from webapp.experts.models import Availability, ConflictKind, Expert
from webapp.experts.services import AVAILABILITY_LABELS, CONFLICT_LABELS, LANGUAGE_LABELS, station_experts
from webapp.fields import optional_int
from webapp.forms import AppForm
from webapp.leads.codes import CATEGORY_LABELS
from webapp.org.models import Role, Station
from webapp.org.services import people_with_role

PHONE = Regexp(r"^[0-9+\- ]*$", message=_l("Digits, spaces, + and - only."))


class ExpertForm(AppForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=64)])
    fields = SelectMultipleField(_l("Fields of expertise"), validators=[InputRequired()],
                                 choices=[SelectChoice(c, label) for c, label in CATEGORY_LABELS.items()])
    languages = SelectMultipleField(_l("Languages"), validators=[Optional()],
                                    choices=[SelectChoice(c, label) for c, label in LANGUAGE_LABELS.items()])
    bio = TextAreaField(_l("Short public bio"), validators=[Optional(), Length(max=300)])
    availability = SelectField(_l("Availability"),
                               choices=[SelectChoice(a.value, AVAILABILITY_LABELS[a]) for a in Availability])
    employer = StringField(_l("Employer (private)"), validators=[Optional(), Length(max=100)])
    phone = StringField(_l("Phone (private)"), validators=[Optional(), Length(max=32), PHONE])
    user_id = SelectField(_l("Account (role expert)"), coerce=optional_int, validators=[Optional()])


def build_expert_form(station: Station, **kwargs) -> ExpertForm:
    form = ExpertForm(**kwargs)
    form.user_id.choices = [SelectChoice("", _l("— no account —"))] + [
        SelectChoice(str(p.id), p.display_name) for p in people_with_role(station, Role.EXPERT)]
    return form


def _expert_choices(experts: list[Expert]) -> list[SelectChoice]:
    return [SelectChoice("", "—")] + [SelectChoice(str(e.id), e.name) for e in experts]


class ConflictForm(AppForm):
    expert_id = SelectField(_l("Expert"), coerce=optional_int, validators=[InputRequired()])
    kind = SelectField(_l("Conflict"),
                       choices=[SelectChoice(k.value, CONFLICT_LABELS[k]) for k in ConflictKind])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])


class InviteForm(AppForm):
    expert_id = SelectField(_l("Expert"), coerce=optional_int, validators=[InputRequired()])
    video_link = StringField(_l("Video-meeting link"), validators=[
        DataRequired(), Length(max=300),
        Regexp(r"^https://\S+$", message=_l("The video link must start with https://."))])
    meets_at = DateTimeLocalField(_l("Session time (station time)"), format="%Y-%m-%dT%H:%M",
                                  validators=[Optional()])

    def validate_meets_at(self, field):
        if field.data and not 2000 <= field.data.year <= 2100:
            raise ValidationError(_l("Give a session time between 2000 and 2100."))


def build_lead_forms(station: Station, **kwargs) -> tuple[ConflictForm, InviteForm]:
    experts = station_experts(station)
    conflict, invitation = ConflictForm(prefix="conflict", **kwargs), InviteForm(prefix="invite", **kwargs)
    conflict.expert_id.choices = _expert_choices(experts)
    invitation.expert_id.choices = _expert_choices([e for e in experts if e.user_id is not None])
    return conflict, invitation

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, RadioField, SelectChoice, SelectField, StringField, TimeField, ValidationError
from wtforms.validators import InputRequired, Length

from webapp.duty.services import duty_people
from webapp.fields import optional_int
from webapp.forms import AppForm
from webapp.org.models import Station


class ShiftForm(AppForm):
    person_id = SelectField(_l("Who"), coerce=optional_int, validators=[InputRequired()])
    day = DateField(_l("Day"), validators=[InputRequired()])
    starts = TimeField(_l("From"), validators=[InputRequired()])
    ends = TimeField(_l("Until"), validators=[InputRequired()])


def build_shift_form(station: Station, **kwargs) -> ShiftForm:
    form = ShiftForm(**kwargs)
    form.person_id.choices = [SelectChoice("", "—")] + [
        SelectChoice(str(p.id), p.display_name) for p in duty_people(station)]
    return form


class RemoveShiftForm(AppForm):
    """Nothing to fill in: the CSRF token says the person meant it."""


class AnswerForm(AppForm):
    decision = RadioField(_l("Your answer"),
                          choices=[SelectChoice("accept", _l("I am going with the police")),
                                   SelectChoice("decline", _l("I cannot go"))],
                          validators=[InputRequired(message=_l("Choose whether you go."))])
    reason = StringField(_l("Reason (optional)"), validators=[Length(max=200)])

    def validate_decision(self, field):
        if field.raw_data and len(field.raw_data) != 1:
            raise ValidationError(_l("Choose one answer."))

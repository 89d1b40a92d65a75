from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, Length, Optional

from webapp.fields import UUID_PATTERN, RecordedAtField, optional_int
from webapp.forms import AppForm
from webapp.org.services import communities
from webapp.timeutil import STATION_TZ, utcnow


class VisitForm(AppForm):
    uuid = HiddenField(validators=[Optional(), UUID_PATTERN])
    recorded_at = RecordedAtField()
    household = StringField(_l("Household or address"), validators=[DataRequired(), Length(max=200)])
    visited_on = DateField(_l("Date of the visit"), validators=[DataRequired()])
    community_id = SelectField(_l("Community"), coerce=optional_int)
    findings = TextAreaField(_l("What you found"), validators=[DataRequired(), Length(max=2000)])

    def validate_visited_on(self, field):
        if field.data and field.data > utcnow().astimezone(STATION_TZ).date():
            raise ValidationError(_l("A visit cannot be in the future."))


def build_visit_form(user, **kwargs) -> VisitForm:
    """The visit form with this person's station's communities to choose from."""
    form = VisitForm(**kwargs)
    form.community_id.choices = [SelectChoice("", _("— my community —"))] + [
        SelectChoice(str(c.id), c.name) for c in communities(user.station)]
    return form

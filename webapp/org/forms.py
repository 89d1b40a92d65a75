from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
    widgets,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp

from webapp.fields import optional_int
from webapp.forms import AppForm
from webapp.org.labels import COMMUNITY_KIND_LABELS, ROLE_LABELS
from webapp.org.services import validate_boundary

CODE_PATTERN = Regexp(r"^[A-Za-z0-9_-]+$", message=_l("Letters, digits, - and _ only."))


class MultiCheckboxField(SelectMultipleField):
    """One checkbox per choice. A required field means "tick at least one", which HTML cannot say:
    a box marked `required` must itself be ticked, so a browser would refuse the form until every
    box was. No box carries it; the field's validators still check the choice on the server."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def __iter__(self):
        for option in super().__iter__():
            option.flags.required = False  # each option shares the field's validators, and so its flag
            yield option


class BoundaryField(TextAreaField):
    """GeoJSON Polygon/MultiPolygon text; stored normalised, empty means no boundary."""

    def pre_validate(self, form):
        try:
            self.data = validate_boundary(self.data)
        except ValueError as error:
            raise ValidationError(
                _l("Not a valid GeoJSON polygon (%(reason)s).", reason=str(error))
            ) from error


class CommunityForm(AppForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32), CODE_PATTERN])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    name_en = StringField(_l("English name"), validators=[Optional(), Length(max=100)])
    kind = SelectField(
        _l("Kind"), choices=[SelectChoice(k.value, label) for k, label in COMMUNITY_KIND_LABELS.items()]
    )
    officer_id = SelectField(_l("Community officer"), coerce=optional_int)
    boundary = BoundaryField(_l("Boundary (GeoJSON)"), validators=[Length(max=200_000)])


class GridForm(AppForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32), CODE_PATTERN])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    boundary = BoundaryField(_l("Boundary (GeoJSON)"), validators=[Length(max=200_000)])


class UserForm(AppForm):
    username = StringField(
        _l("User name"),
        validators=[
            DataRequired(),
            Length(min=2, max=64),
            Regexp(r"^[A-Za-z0-9._-]+$", message=_l("Letters, digits, '.', '-' and '_' only.")),
        ],
    )
    display_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=100)])
    title = StringField(_l("Title or trade"), validators=[Optional(), Length(max=100)])
    phone = StringField(
        _l("Phone"),
        validators=[Optional(), Length(max=32), Regexp(r"^[0-9+\- ]*$", message=_l("Digits only."))],
    )
    roles = MultiCheckboxField(
        _l("Roles"), choices=[SelectChoice(r.value, label) for r, label in ROLE_LABELS.items()],
        validators=[DataRequired(message=_l("Choose at least one role."))],
    )
    community_id = SelectField(_l("Community"), coerce=optional_int)
    grid_id = SelectField(_l("Grid"), coerce=optional_int)
    in_volunteer_branch = BooleanField(_l("Member of the volunteer-police party branch"))
    is_branch_secretary = BooleanField(_l("Secretary of the branch (sees its figures)"))
    is_enabled = BooleanField(_l("Account enabled"), default=True)
    password = PasswordField(
        _l("Password"), validators=[Optional(), Length(min=10, max=256)],
    )

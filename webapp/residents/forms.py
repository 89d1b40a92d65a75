from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from webapp.experts.models import Expert
from webapp.experts.services import station_experts
from webapp.fields import optional_int
from webapp.forms import AppForm
from webapp.leads.codes import CATEGORY_LABELS
from webapp.org.models import Station
from webapp.org.services import communities

# A short list a resident can choose from on a phone; the officer may re-categorise.
RESIDENT_CATEGORIES = ("neighbour", "marriage_family", "property_management", "housing_homestead",
                       "labour", "consumer", "debt", "damage_compensation", "traffic_accident", "other")
# Mainland mobile (11 digits, also written 3-4-4 as on a card: 138 0000 1234), or a landline with its
# area code; spaces and dashes are allowed where people put them (the service drops them).
PHONE = Regexp(r"^\s*(1[3-9]\d[-\s]?\d{4}[-\s]?\d{4}|0\d{2,3}[-\s]?\d{7,8})\s*$",
               message=_l("Enter a mobile number (11 digits) or a landline with its area code."))


class ResidentForm(AppForm):
    category = SelectField(_l("What kind of dispute?"),
                           validators=[DataRequired(message=_l("Choose a kind of dispute."))])
    community_id = SelectField(_l("Community"), coerce=optional_int, validators=[Optional()])
    address = StringField(_l("Where (street, estate)"), validators=[Optional(), Length(max=200)])
    description = TextAreaField(_l("What happened? Who is involved?"),
                                validators=[DataRequired(message=_l("Describe the dispute.")),
                                            Length(min=5, max=2000)])
    name = StringField(_l("Your name"), validators=[DataRequired(message=_l("Enter your name.")),
                                                   Length(max=64)])
    phone = StringField(_l("Your phone"), validators=[DataRequired(message=_l("Enter your phone number.")),
                                                     Length(max=32), PHONE])
    # From the expert pool's public profiles (the same list as /experts/public); shown only when
    # the station has any.
    expert_id = SelectField(_l("An expert you would like (optional)"), coerce=optional_int,
                            validators=[Optional()])


def public_experts(station: Station) -> list[Expert]:
    """The expert pool's public profiles a resident may choose from."""
    return station_experts(station)


def build_resident_form(station: Station, **kwargs) -> ResidentForm:
    form = ResidentForm(**kwargs)
    form.category.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(code, CATEGORY_LABELS[code]) for code in RESIDENT_CATEGORIES]
    form.community_id.choices = [SelectChoice("", _("— not sure —"))] + [
        SelectChoice(str(c.id), c.name) for c in communities(station)]
    experts = public_experts(station)
    if experts:
        form.expert_id.choices = [SelectChoice("", _("— no preference —"))] + [
            SelectChoice(str(e.id), e.name) for e in experts]
    else:
        del form.expert_id  # no pool at this station: the page does not offer (or read) a choice
    return form

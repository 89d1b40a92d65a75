"""Lead forms. The online pages and the offline outbox replay use these same classes."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, MultipleFileField
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
    widgets,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from webapp.fields import UUID_PATTERN, RecordedAtField, StoredIntegerField, optional_int
from webapp.forms import AppForm, wtforms_translations
from webapp.leads.codes import (
    CATEGORY_LABELS,
    FAILURE_ROUTE_LABELS,
    PARTY_ROLE_LABELS,
    RESOLUTION_LABELS,
    RISK_FACTOR_LABELS,
    RISK_LABELS,
    SOURCE_LABELS,
    SUBTYPE_LABELS,
    TRANSFER_TARGET_LABELS,
    Risk,
    Source,
)
from webapp.leads.services import LeadInput, PartyInput
from webapp.org.forms import MultiCheckboxField

# Factors that are flags of their own (DV, a minor, a watched person, many people): the flags put
# the lead in its compartment and give these factors (grading.factors_from_flags), so the desk
# form asks only for the rest.
FLAG_FACTORS = frozenset({"domestic_violence", "minor", "watched_person", "many_people"})
FACTORS_ASKED = [code for code in RISK_FACTOR_LABELS if code not in FLAG_FACTORS]

SUMMARY_QUICK_MAX = 500
SUMMARY_DESK_MAX = 2000


def _choices(labels: dict, blank: str | None = None) -> list[SelectChoice]:
    options = [SelectChoice("", blank)] if blank is not None else []
    return options + [SelectChoice(str(code), label) for code, label in labels.items()]


class PlaceMixin:
    """Where: a community picked from the list, or the phone's GPS position."""

    community_id = SelectField(_l("Community"), coerce=optional_int, validate_choice=True)
    latitude = HiddenField(validators=[Optional()])
    longitude = HiddenField(validators=[Optional()])
    gps_accuracy_m = HiddenField(validators=[Optional()])
    address = StringField(_l("Address or landmark"), validators=[Optional(), Length(max=200)])

    def position(self) -> tuple[float | None, float | None, float | None]:
        def number(field, low, high):
            if not field.data:
                return None
            try:
                value = float(field.data)
            except ValueError as error:
                raise ValidationError(_l("Not a valid position.")) from error
            if not low <= value <= high:
                raise ValidationError(_l("Not a valid position."))
            return value

        return (number(self.latitude, -90, 90), number(self.longitude, -180, 180),
                number(self.gps_accuracy_m, 0, 100_000))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        # Checked here, not per field: the three hidden fields only make sense together, and an
        # empty latitude would stop a field validator before it looked at the others.
        try:
            latitude, longitude, _ = self.position()
            if (latitude is None) != (longitude is None):
                raise ValidationError(_l("Not a valid position."))
        except ValidationError as error:
            self.latitude.errors = [*self.latitude.errors, str(error)]
            return False
        return valid



class QuickReportForm(PlaceMixin, AppForm):
    """A volunteer's report from the street: under a minute, one thumb."""

    uuid = HiddenField(validators=[Optional(), UUID_PATTERN])
    recorded_at = RecordedAtField()
    visit_id = StoredIntegerField(widget=widgets.HiddenInput(), validators=[Optional()])
    category = SelectField(_l("What kind of dispute?"), choices=_choices(CATEGORY_LABELS, _l("Choose…")),
                           validators=[DataRequired(message=_l("Choose a kind of dispute."))])
    summary = TextAreaField(_l("What is happening? One or two sentences."),
                            validators=[DataRequired(), Length(max=SUMMARY_QUICK_MAX)])
    flag_dv = BooleanField(_l("Domestic violence"))
    flag_minor = BooleanField(_l("A minor is involved"))
    photo = FileField(_l("Photo (optional)"))

    source = Source.VOLUNTEER

    def validate_community_id(self, field):
        if field.data is None and not (self.latitude.data and self.longitude.data):
            raise ValidationError(_l("Use your location or pick a community."))

    def to_input(self, photos: list[bytes], community=None, grid=None) -> LeadInput:
        latitude, longitude, accuracy = self.position()
        return LeadInput(
            uuid=self.uuid.data or None, source=self.source, category=self.category.data,
            summary=self.summary.data, flag_dv=self.flag_dv.data, flag_minor=self.flag_minor.data,
            address=self.address.data or "", latitude=latitude, longitude=longitude,
            gps_accuracy_m=accuracy, recorded_at=self.recorded_at.data, photos=photos,
            community=community, grid=grid,
        )


class PartyForm(Form):
    class Meta:
        # A nested plain Form does not get the app's language by itself: ask for it, like AppForm does.
        def get_translations(self, form):
            return wtforms_translations()

    # No role is chosen for the officer: two blocks both saying "applicant" were filed unread.
    role = SelectField(_l("Role"), choices=_choices(PARTY_ROLE_LABELS, _l("Choose…")))
    # A person's name (姓名), not a thing's (名称): its own msgid.
    name = StringField(_l("Full name"), validators=[Optional(), Length(max=64)])
    phone = StringField(_l("Phone"), validators=[
        Optional(), Regexp(r"^\+?[0-9 -]{5,20}$", message=_l("Not a valid phone number."))])
    id_number = StringField(_l("ID number"), validators=[
        Optional(), Regexp(r"^[0-9]{15}$|^[0-9]{17}[0-9Xx]$", message=_l("Not a valid ID number."))])
    relation = StringField(_l("Relation"), validators=[Optional(), Length(max=64)])

    def is_empty(self) -> bool:
        return not any((self.name.data, self.phone.data, self.id_number.data))

    def validate_role(self, field):
        if not field.data and not self.is_empty():
            raise ValidationError(_l("Choose this person's role."))


class DeskIntakeForm(PlaceMixin, AppForm):
    """The full registration at the station: walk-ins, 12345 tickets, 110 transfers and more."""

    uuid = HiddenField(validators=[Optional(), UUID_PATTERN])
    recorded_at = RecordedAtField()
    visit_id = StoredIntegerField(widget=widgets.HiddenInput(), validators=[Optional()])
    source = SelectField(_l("Source"), choices=_choices(SOURCE_LABELS))
    source_ref = StringField(_l("Ticket or incident number"), validators=[Optional(), Length(max=64)])
    category = SelectField(_l("Category"), choices=_choices(CATEGORY_LABELS, _l("Choose…")),
                           validators=[DataRequired(message=_l("Choose a category."))])
    subtype = SelectField(_l("Subtype"), choices=_choices(SUBTYPE_LABELS, _l("— none —")))
    summary = TextAreaField(_l("Summary"), validators=[DataRequired(), Length(max=SUMMARY_DESK_MAX)])
    flag_dv = BooleanField(_l("Domestic violence"))
    flag_minor = BooleanField(_l("A minor is involved"))
    flag_watched = BooleanField(_l("A watched person is involved"))
    flag_many_people = BooleanField(_l("Many people involved"))
    head_count = StoredIntegerField(_l("How many people"), validators=[Optional(), NumberRange(1, 100_000)])
    risk = SelectField(_l("Risk grade"), choices=_choices(RISK_LABELS, _l("Let the rules grade it")))
    # Every factor is accepted (an outbox item made before the form changed may carry any), but
    # the form shows only FACTORS_ASKED: the others are the flags above, asked once.
    risk_factors = MultiCheckboxField(_l("Other risk factors"), choices=_choices(RISK_FACTOR_LABELS))
    grid_id = SelectField(_l("Grid"), coerce=optional_int)
    factors_asked = FACTORS_ASKED
    parties = FieldList(FormField(PartyForm), min_entries=2, max_entries=10)
    photos = MultipleFileField(_l("Photos"))

    def validate_source_ref(self, field):
        if self.source.data in {Source.HOTLINE_12345, Source.POLICE_110} and not (field.data or "").strip():
            raise ValidationError(_l("Enter the ticket or incident number."))

    def validate(self, extra_validators=None) -> bool:
        # "How many people" belongs to "many people involved": without the flag the count is
        # hidden on the page, so whatever it holds is dropped rather than checked.
        if not self.flag_many_people.data:
            self.head_count.raw_data = []
            self.head_count.process_errors = []
            self.head_count.data = None
        valid = super().validate(extra_validators)
        # Checked here, not by a field validator: an empty count stops the field's own chain
        # (Optional), and the officer should see it together with any other error.
        if self.flag_many_people.data and self.head_count.data is None and not self.head_count.errors:
            self.head_count.errors.append(str(_l("Enter how many people are involved.")))
            return False
        return valid

    def to_input(self, photos: list[bytes], community=None, grid=None) -> LeadInput:
        latitude, longitude, accuracy = self.position()
        parties = [
            PartyInput(role=party.role.data, name=party.name.data or "", phone=party.phone.data or "",
                       id_number=party.id_number.data or "", relation=party.relation.data or "")
            for party in (entry.form for entry in self.parties) if not party.is_empty()
        ]
        return LeadInput(
            uuid=self.uuid.data or None, source=Source(self.source.data),
            source_ref=self.source_ref.data or "",
            category=self.category.data, subtype=self.subtype.data or "", summary=self.summary.data,
            flag_dv=self.flag_dv.data, flag_minor=self.flag_minor.data, flag_watched=self.flag_watched.data,
            flag_many_people=self.flag_many_people.data, head_count=self.head_count.data,
            risk=Risk(self.risk.data) if self.risk.data else None, risk_factors=set(self.risk_factors.data),
            address=self.address.data or "", latitude=latitude, longitude=longitude,
            gps_accuracy_m=accuracy, recorded_at=self.recorded_at.data, parties=parties, photos=photos,
            community=community, grid=grid,
        )


class ActionForm(AppForm):
    """One form for every lifecycle step; each step reads the fields it needs.

    The choice fields do not validate here: a step's form sends only its own fields, and the
    lifecycle service checks the values each step uses (one validation path).
    """

    uuid = HiddenField(validators=[Optional(), UUID_PATTERN])  # made on the phone: a step is applied once
    version = StoredIntegerField(validators=[InputRequired()])
    risk = SelectField(_l("Risk grade"), choices=_choices(RISK_LABELS, ""), validate_choice=False)
    factors = MultiCheckboxField(_l("Risk factors"), choices=_choices(RISK_FACTOR_LABELS),
                                 validate_choice=False)
    assignee_id = SelectField(_l("Assign to"), coerce=optional_int, validate_choice=False)
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=500)])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=500)])
    comment = TextAreaField(_l("Instructions"), validators=[Optional(), Length(max=500)])
    resolution = SelectField(_l("How it was resolved"), choices=_choices(RESOLUTION_LABELS, ""),
                             validate_choice=False)
    failure_route = SelectField(_l("Routes the parties were told of"),
                                choices=_choices(FAILURE_ROUTE_LABELS, ""), validate_choice=False)
    transfer_to = SelectField(_l("Transferred to"), choices=_choices(TRANSFER_TARGET_LABELS, ""),
                              validate_choice=False)
    new_due = DateField(_l("New due date"), validators=[Optional()])
    until = DateField(_l("Supervised until"), validators=[Optional()])
    original = StoredIntegerField(_l("Number of the original lead"), validators=[Optional()])

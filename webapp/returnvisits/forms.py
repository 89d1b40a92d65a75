from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from webapp.extensions import db
from webapp.fields import UUID_PATTERN, RecordedAtField, optional_int
from webapp.forms import AppForm
from webapp.org.models import Role, Station, User
from webapp.org.services import people_with_role
from webapp.returnvisits.models import Result, ReturnVisit

RESULT_LABELS = {
    Result.HOLDING: _l("Holding — the settlement holds"),
    Result.RELAPSED: _l("Relapsed — the dispute is back"),
    Result.UNREACHABLE: _l("Unreachable — nobody reached"),
}


class RecordForm(AppForm):
    uuid = HiddenField(validators=[Optional(), UUID_PATTERN])
    recorded_at = RecordedAtField()
    # The visit's id travels with the fields, so an item from the outbox names its visit.
    return_visit_id = HiddenField(validators=[
        DataRequired(), Regexp(r"^\d{1,12}$", message=_l("Not a valid return visit."))])
    result = RadioField(_l("Result"), validators=[InputRequired()],
                        choices=[SelectChoice(r.value, label) for r, label in RESULT_LABELS.items()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=1000)])


class ReassignForm(AppForm):
    assignee_id = SelectField(_l("Who goes"), coerce=optional_int, validators=[InputRequired()])


def build_record_form(visit_id: int | None = None, **kwargs) -> RecordForm:
    form = RecordForm(**kwargs)
    if visit_id is not None and not form.return_visit_id.data:
        form.return_visit_id.data = str(visit_id)
    return form


def candidates(visit: ReturnVisit) -> list[User]:
    """Who may be given the visit: the lead's officer, and for an ordinary lead the volunteers of
    its community."""
    lead = visit.lead
    station = db.session.get(Station, lead.station_id)
    people = [lead.assignee] if lead.assignee is not None else []
    if not lead.is_compartmented and lead.community_id is not None:
        people += [p for p in people_with_role(station, Role.VOLUNTEER)
                   if p.community_id == lead.community_id and p not in people]
    return people


def build_reassign_form(visit: ReturnVisit, **kwargs) -> ReassignForm:
    form = ReassignForm(**kwargs)
    form.assignee_id.choices = [SelectChoice("", _("— choose —"))] + [
        SelectChoice(str(p.id), p.display_name) for p in candidates(visit)]
    return form

"""Return visits' outbox item: a recorded return visit, through the same form and service as its
page. A replay of the same recording answers "duplicate"; it is applied once."""

from __future__ import annotations

from flask import url_for

from webapp import access
from webapp.org.models import User
from webapp.returnvisits.forms import build_record_form
from webapp.returnvisits.services import Recording, ReturnVisitError, record, recorded_with
from webapp.returnvisits.views import error_text
from webapp.sync.kinds import ItemResult, SyncKind, field_errors, formdata, register


def _record_item(user: User, uuid: str, item: dict) -> ItemResult:
    earlier = recorded_with(uuid)
    if earlier is not None:
        if earlier.recorded_by_id != user.id:
            return ItemResult(uuid, "forbidden")
        return ItemResult(uuid, "duplicate", url_for("returnvisits.detail", visit_id=earlier.id))
    form = build_record_form(formdata=formdata(item, None), meta={"csrf": False})
    form.uuid.data = uuid
    if not form.validate():
        return ItemResult(uuid, "invalid", errors=field_errors(form))
    form.uuid.data = uuid  # the item's id wins over any copy in its fields
    visit = access.find_return_visit(user, int(form.return_visit_id.data))
    if visit is None:
        return ItemResult(uuid, "forbidden")
    url = url_for("returnvisits.detail", visit_id=visit.id)
    try:
        record(visit, user, Recording(result=form.result.data, note=form.note.data or "", uuid=uuid,
                                      recorded_at=form.recorded_at.data))
    except ReturnVisitError as error:
        if error.forbidden:
            return ItemResult(uuid, "forbidden", url)
        form.form_errors.append(error_text(error.code))
        return ItemResult(uuid, "invalid", url, errors=field_errors(form))
    return ItemResult(uuid, "created", url)


register(SyncKind("returnvisit.record", access.can_do_return_visits, _record_item))

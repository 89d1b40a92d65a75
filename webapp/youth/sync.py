"""The youth team's outbox item: an assistance session recorded with no signal, through the same
form and service as its page. The phone keeps it sealed (the form is marked `data-sealed`): the
profile it belongs to travels inside the sealed fields, never in the clear."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import select

from webapp import access
from webapp.extensions import db
from webapp.org.models import User
from webapp.sync.kinds import ItemResult, SyncKind, field_errors, formdata, register
from webapp.youth.forms import build_session_form, submit_session_form
from webapp.youth.models import YouthSession


def _profile_id(fields: dict) -> int | None:
    raw = str(fields.get("profile_id", "")).strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10:
        return None
    value = int(raw)
    return value if 0 < value < 2**31 else None


def _session_item(user: User, uuid: str, item: dict) -> ItemResult:
    data = formdata(item, None)
    existing = db.session.scalar(select(YouthSession).where(YouthSession.uuid == uuid))
    if existing is not None and existing.recorded_by_id == user.id \
            and access.find_profile(user, existing.profile_id) is not None:
        return ItemResult(uuid, "duplicate", url_for("youth.profile", profile_id=existing.profile_id))
    profile_id = _profile_id(item.get("fields") or {})
    if profile_id is None:
        return ItemResult(uuid, "invalid", errors={"profile_id": [_("Not a valid profile.")]})
    profile = access.find_profile(user, profile_id)
    if profile is None:
        return ItemResult(uuid, "forbidden")
    form = build_session_form(user, formdata=data, meta={"csrf": False})
    session, created = submit_session_form(form, user, profile, uuid=uuid)
    if session is None:
        return ItemResult(uuid, "invalid", errors=field_errors(form))
    return ItemResult(uuid, "created" if created else "duplicate",
                      url_for("youth.profile", profile_id=profile.id))


register(SyncKind("youth.session", access.can_work_youth, _session_item))

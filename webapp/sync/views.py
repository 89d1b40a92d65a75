"""`POST /sync` — the outbox's one endpoint — and its OpenAPI description."""

from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from webapp.access.base import guards_itself, public
from webapp.extensions import db, take_write_lock
from webapp.org.models import User
from webapp.sync import bp
from webapp.sync.kinds import ItemResult
from webapp.sync.openapi import openapi_document
from webapp.sync.sealing import SealError, seal_keys, unseal
from webapp.sync.services import MAX_ITEMS, BadItem, apply_item


@bp.route("/sync", methods=["POST"])
@guards_itself("401 JSON when not signed in (the phone keeps the items); then each kind's rule")
def sync():
    if not current_user.is_authenticated:
        # The phone keeps the items and asks the person to sign in; nothing is lost.
        return jsonify(error="sign_in_required"), 401
    payload = request.get_json(silent=True)
    items = payload.get("items") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        return jsonify(error="bad_request", detail="expected {\"items\": [...]}"), 400
    if len(items) > MAX_ITEMS:
        return jsonify(error="too_many_items", max_items=MAX_ITEMS), 413
    take_write_lock()
    try:
        results = [_apply(current_user, item).as_json() for item in items]
    except BadItem as error:
        db.session.rollback()
        return jsonify(error="bad_item", detail=str(error)), 400
    db.session.commit()
    return jsonify(results=results)


def _apply(user: User, item: object) -> ItemResult:
    """One item; a sealed one (a DV or minor case, encrypted on the phone) is opened first."""
    if isinstance(item, dict) and "sealed" in item:
        try:
            item = unseal(item, seal_keys())
        except SealError:
            return ItemResult(uuid=str(item.get("uuid", ""))[:36], status="invalid", errors={"_form": [
                _("This item was sealed on the phone for another key and cannot be opened. "
                  "Discard it and report again.")]})
    return apply_item(user, item)


@bp.route("/sync/session")
@guards_itself("401 JSON when not signed in: the worker renews its token here")
def session():
    """Who is signed in, and a token to sync with: how the service worker renews a refused token.

    A browser reopened after a shift keeps only the remember-me cookie; this answer (reached with
    that cookie alone) starts the new session, so the outbox drains without a page being opened.
    """
    if not current_user.is_authenticated:
        response = jsonify(error="sign_in_required")
        response.status_code = 401
    else:
        response = jsonify(user_id=current_user.id, csrf=generate_csrf())
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/api/openapi.json")
@public
def openapi():
    return jsonify(openapi_document())

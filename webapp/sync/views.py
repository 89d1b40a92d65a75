"""`POST /sync` — the outbox's one endpoint — and its OpenAPI description."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import jsonify, request
from flask import session as cookie_session
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from flask_wtf.csrf import generate_csrf

from webapp.access.base import guards_itself, public
from webapp.audit.services import record as audit
from webapp.auth.services import WipeClaim, wipe_claim
from webapp.edge import checks_its_items
from webapp.extensions import db, take_write_lock
from webapp.org.models import User
from webapp.sync import bp
from webapp.sync.kinds import ItemResult, SyncKind
from webapp.sync.openapi import openapi_document
from webapp.sync.sealing import SealError, seal_keys, unseal
from webapp.sync.services import (
    MAX_ITEMS,
    ItemBatch,
    check_content,
    check_envelope,
    fingerprint,
    usable_uuid,
)


@bp.route("/sync", methods=["POST"])
@guards_itself("401 JSON when not signed in (the phone keeps the items); then each kind's rule")
@checks_its_items("items")
def sync():
    claim = None
    if not current_user.is_authenticated:
        claim = wipe_claim()
        if claim is None:
            # The phone keeps the items and asks the person to sign in; nothing is lost.
            return jsonify(error="sign_in_required"), 401
    payload = request.get_json(silent=True)
    items = payload.get("items") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        return jsonify(error="bad_request", detail="expected {\"items\": [...]}"), 400
    if len(items) > MAX_ITEMS:
        return jsonify(error="too_many_items", max_items=MAX_ITEMS), 413
    user = current_user if claim is None else db.session.get(User, claim.user_id)
    take_write_lock()
    seen: dict[str, tuple[str, ItemResult]] = {}  # uuid → (content, answer) of its first copy
    batch = ItemBatch()
    batch.look_up(items)
    results = []
    for index, item in enumerate(items):
        result = _answer(user, item, seen, batch, claim)
        result.index = index
        results.append(result)
    batch.write()
    results = [result.as_json() for result in results]  # after the write: new records' ids
    db.session.commit()
    if claim is not None:
        # Revoked as lost: what it recorded before is in; now it must wipe itself.
        return jsonify(error="wipe", wipe=True, results=results), 401
    return jsonify(results=results)


def _answer(user: User | None, item: object, seen: dict[str, tuple[str, ItemResult]], batch: ItemBatch,
            claim: WipeClaim | None = None) -> ItemResult:
    """One item, checked on its own: a malformed one is `invalid` alone and stores nothing."""
    uuid = usable_uuid(item)
    errors, kind = check_envelope(item)
    if errors or kind is None or uuid is None:
        return ItemResult(uuid, "invalid", errors=errors)
    content = fingerprint(item)
    if uuid in seen and seen[uuid][0] != content:
        first = seen[uuid][1]
        batch.write()  # the server's copy is shown as stored
        server = kind.stored(user, uuid) if kind.stored and first.status in ("created", "duplicate") else None
        return ItemResult(uuid, "conflict", first.url, server=server, errors={"_form": [
            _("Another item with the same id and different content was in this batch; the first "
              "one counts. Check this one and report it again if it is still needed.")]})
    result = _open_and_apply(user, uuid, item, kind, batch, claim)
    seen.setdefault(uuid, (content, result))
    return result


def _open_and_apply(user: User | None, uuid: str, item: dict, kind: SyncKind, batch: ItemBatch,
                    claim: WipeClaim | None) -> ItemResult:
    """A sealed item (a DV or minor case, encrypted on the phone) is opened first, then checked."""
    if "sealed" in item:
        try:
            item = unseal(item, seal_keys())
        except SealError:
            return ItemResult(uuid, "invalid", errors={"_form": [
                _("This item was sealed on the phone for another key and cannot be opened. "
                  "Discard it and report again.")]})
    errors = check_content(item, kind)
    if errors:
        return ItemResult(uuid, "invalid", errors=errors)
    if claim is None:
        return batch.apply(user, uuid, item, kind)
    return _apply_before_wipe(user, uuid, item, kind, batch, claim)


def _recorded_at(item: dict) -> datetime | None:
    """The phone's clock when the item was made (`fields.recorded_at`), or None."""
    fields = item.get("fields")
    raw = fields.get("recorded_at") if isinstance(fields, dict) else None
    if not isinstance(raw, str) or len(raw) > 40:
        return None
    try:
        parsed = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _apply_before_wipe(user: User | None, uuid: str, item: dict, kind: SyncKind, batch: ItemBatch,
                       claim: WipeClaim) -> ItemResult:
    """From a phone revoked as lost, only items recorded before the revocation go in."""
    recorded = _recorded_at(item)
    if user is None or not user.is_enabled or recorded is None or recorded >= claim.revoked_at:
        # Whoever holds the phone now is not the officer: nothing made after the revocation counts.
        return ItemResult(uuid, "forbidden", errors={"_form": [
            _("This phone was signed out as lost: only what was recorded before that is accepted.")]})
    result = batch.apply(user, uuid, item, kind)
    batch.write()  # the audit records the item's final answer (a staged one could still be a replay)
    audit(None, "sync_after_revocation", "user_session", claim.session_id, request.remote_addr or "",
          user_id=user.id, uuid=uuid, status=result.status)
    return result


@bp.route("/sync/session")
@guards_itself("401 JSON when not signed in: the worker renews its token here")
def session():
    """Who is signed in, and a token to sync with: how the service worker renews a refused token.

    A browser reopened after a shift keeps only the remember-me cookie; this answer (reached with
    that cookie alone) starts the new session, so the outbox drains without a page being opened.
    """
    claim = None if current_user.is_authenticated else wipe_claim()
    if claim is not None:
        # Revoked as lost: it may send what it recorded before (with this token), then wipe.
        response = jsonify(error="wipe", wipe=True, user_id=claim.user_id, csrf=generate_csrf())
        response.status_code = 401
    elif not current_user.is_authenticated:
        response = jsonify(error="sign_in_required")
        response.status_code = 401
    else:
        response = jsonify(user_id=current_user.id, csrf=generate_csrf())
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/sync/session/forget", methods=["POST"])
@guards_itself("204 for a signed-out browser; 409 JSON when someone is signed in")
def forget_session():
    """A wiped phone's last step: drop the cookies that still name the revoked session.

    Until then every page it loads says "wipe" again (X-Wipe), and a wipe that starts while the
    person is signing in again would take the page away from under them."""
    if current_user.is_authenticated:
        response = jsonify(error="signed_in", detail=_("Someone is signed in on this browser."))
        response.status_code = 409
        return response
    cookie_session.clear()
    logout_user()  # after clear(): it leaves the mark that deletes the remember-me cookie
    return "", 204


@bp.route("/api/openapi.json")
@public
def openapi():
    return jsonify(openapi_document())

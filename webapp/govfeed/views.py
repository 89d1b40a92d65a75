"""The pull feed (/api/feed, token auth, signed JSON) and the token management page."""

from __future__ import annotations

import json

from flask import Response, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from webapp.access import allow, can_manage_feed, guards_itself, station_token
from webapp.audit.services import record
from webapp.extensions import csrf, db
from webapp.govfeed import bp, services
from webapp.govfeed.forms import RevokeForm, TokenForm
from webapp.rendering import never_stored, render_page, see_other
from webapp.sync.openapi import register_path


def _json(payload: dict, status: int, token: str | None = None) -> Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    response = Response(body, status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    if token is not None:
        response.headers["X-Beatbook-Signature"] = services.sign(body, token)
    return response


@bp.route("/api/feed")
@guards_itself("bearer token of a liaison system (401 otherwise)")
@csrf.exempt
def feed():
    found = services.authenticate(request.headers.get("Authorization"))
    if found is None:
        db.session.rollback()
        return _json({"error": "unauthorized", "detail": "a valid, unrevoked bearer token is required"}, 401)
    token, plain = found
    try:
        cursor, limit = services.parse_paging(request.args.get("cursor"), request.args.get("limit"))
    except services.FeedRequestError as error:
        db.session.rollback()
        return _json({"error": "bad_request", "detail": str(error)}, 400)
    db.session.commit()  # last used
    services.number_new_entries()
    db.session.commit()
    return _json(services.read_page(token.station_id, cursor, limit), 200, plain)


@bp.route("/feed/tokens", methods=["GET", "POST"])
@allow(can_manage_feed)
def tokens():
    form = TokenForm()
    plain = None
    if form.validate_on_submit():
        token, plain = services.issue_token(current_user.station, form.name.data, current_user)
        record(current_user, "feed_token_issued", "feed_token", token.id, name=token.name)
        db.session.commit()
        form = TokenForm(formdata=None)
    status = 422 if form.errors else 200
    return never_stored(render_page("govfeed/tokens.html", status=status, form=form, plain=plain,
                                    revoke_form=RevokeForm(),
                                    tokens=services.tokens_of(current_user.station)))


@bp.route("/feed/tokens/<int:token_id>/revoke", methods=["POST"])
@allow(can_manage_feed)
def revoke(token_id: int):
    token = station_token(current_user, token_id)
    if RevokeForm().validate_on_submit():
        services.revoke_token(token)
        record(current_user, "feed_token_revoked", "feed_token", token.id)
        db.session.commit()
        flash(_("Token revoked: the system using it can no longer pull the feed."))
    return see_other(url_for("govfeed.tokens"))


register_path("/api/feed", {"get": {
    "summary": "The station's de-identified dispute feed, after a cursor (government liaison systems)",
    "description": "Authorization: Bearer <token> (issued at /feed/tokens, revocable). Entries come in "
                   "`seq` order; pass `next_cursor` back as `cursor` until `more` is false. A cursor "
                   "never skips nor repeats an entry. X-Beatbook-Signature: sha256=<hex HMAC-SHA256 of "
                   "the exact body bytes, keyed with the bearer token>.",
    "parameters": [
        {"name": "cursor", "in": "query", "schema": {"type": "string", "pattern": "^[0-9]{1,10}$"}},
        {"name": "limit", "in": "query",
         "schema": {"type": "integer", "minimum": 1, "maximum": services.MAX_LIMIT}},
        {"name": "Authorization", "in": "header", "required": True, "schema": {"type": "string"}},
    ],
    "responses": {
        "200": {"description": "entries, next_cursor, more", "content": {"application/json": {"schema": {
            "type": "object", "required": ["entries", "next_cursor", "more"], "properties": {
                "entries": {"type": "array", "items": {"type": "object", "properties": {
                    "seq": {"type": "integer"}, "event": {"type": "string"}, "at": {"type": "string"},
                    "lead": {"type": "object",
                             "description": "govfeed.deidentify: codes, days, scrubbed summary"}}}},
                "next_cursor": {"type": "string"}, "more": {"type": "boolean"}}}}}},
        "400": {"description": "Malformed cursor or limit (error, detail)"},
        "401": {"description": "Missing, unknown or revoked token"},
    },
}})

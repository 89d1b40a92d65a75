"""The pull feed (/api/feed, token auth, signed JSON), the token page, the webhook and its delivery log."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from flask import Response, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from webapp.access import allow, can_manage_feed, guards_itself, station_delivery, station_token
from webapp.audit.services import record
from webapp.extensions import csrf, db
from webapp.govfeed import bp, services, webhook
from webapp.govfeed.forms import ConfirmForm, RevokeForm, TokenForm, WebhookForm
from webapp.govfeed.tasks import deliver_webhook
from webapp.jobs import after_commit_enqueue
from webapp.rendering import never_stored, render_page, see_other
from webapp.sync.openapi import register_path
from webapp.timeutil import utcnow


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



DELIVERY_STATUS_LABELS = {
    "pending": _l("waiting"),
    "sending": _l("sending"),
    "retrying": _l("failed, will retry"),
    "delivered": _l("delivered"),
    "gave_up": _l("gave up"),
}


@bp.app_template_global()
def delivery_status_label(status: str) -> str:
    return str(DELIVERY_STATUS_LABELS.get(status, status))

@bp.route("/feed/webhook", methods=["GET", "POST"])
@allow(can_manage_feed)
def webhook_settings():
    """The station's webhook: its address and on/off; the signing secret is shown once, when made."""
    station = current_user.station
    current = webhook.webhook_of(station)
    form = WebhookForm(obj=current)
    secret = None
    if form.validate_on_submit():
        now = utcnow()
        saved, secret = webhook.save_webhook(station, form.url.data.strip(), form.enabled.data,
                                             current_user, now)
        record(current_user, "feed_webhook_created" if secret else "feed_webhook_changed", "feed_webhook",
               saved.id, host=_host(saved.url), enabled=saved.enabled)
        db.session.commit()
        if secret is None:
            flash(_("Webhook saved."))
            return see_other(url_for("govfeed.webhook_settings"))
        current = saved
    status = 422 if form.errors else 200
    return never_stored(render_page("govfeed/webhook.html", status=status, form=form, webhook=current,
                                    secret=secret, confirm_form=ConfirmForm()))


def _host(url: str) -> str:
    """What the audit keeps of the address: the host, not a path or query that may carry a key."""
    return (urlsplit(url).hostname or "")[:100]


@bp.route("/feed/webhook/secret", methods=["POST"])
@allow(can_manage_feed)
def webhook_secret():
    current = webhook.webhook_of(current_user.station)
    if current is None:
        return see_other(url_for("govfeed.webhook_settings"))  # nothing to give a secret to yet
    secret = None
    if ConfirmForm().validate_on_submit():
        secret = webhook.rotate_secret(current, utcnow())
        record(current_user, "feed_webhook_secret_changed", "feed_webhook", current.id)
        db.session.commit()
    return never_stored(render_page("govfeed/webhook.html", form=WebhookForm(obj=current), webhook=current,
                                    secret=secret, confirm_form=ConfirmForm()))


@bp.route("/feed/webhook/remove", methods=["POST"])
@allow(can_manage_feed)
def webhook_remove():
    current = webhook.webhook_of(current_user.station)
    if current is not None and ConfirmForm().validate_on_submit():
        record(current_user, "feed_webhook_removed", "feed_webhook", current.id, host=_host(current.url))
        webhook.remove_webhook(current)
        db.session.commit()
        flash(_("Webhook removed: the feed is no longer sent."))
    return see_other(url_for("govfeed.webhook_settings"))


@bp.route("/feed/deliveries")
@allow(can_manage_feed)
def deliveries():
    """The webhook's delivery log, newest first, with every attempt."""
    page = request.args.get("page", "1")
    if not (page.isascii() and page.isdigit()) or not 1 <= int(page) <= 100_000:
        abort(400, _("The page must be a whole number from 1."))
    page = int(page)
    current = webhook.webhook_of(current_user.station)
    rows, older = webhook.deliveries_of(current, page) if current else ([], False)
    return never_stored(render_page("govfeed/deliveries.html", webhook=current, deliveries=rows, page=page,
                                    older=older, attempts=webhook.attempts_of(rows),
                                    confirm_form=ConfirmForm()))


@bp.route("/feed/deliveries/<int:batch_id>/resend", methods=["POST"])
@allow(can_manage_feed)
def resend(batch_id: int):
    delivery = station_delivery(current_user, batch_id)
    if ConfirmForm().validate_on_submit():
        if webhook.resend(delivery, utcnow()):
            record(current_user, "feed_webhook_resend", "webhook_delivery", delivery.id,
                   first_seq=delivery.first_seq, last_seq=delivery.last_seq)
            after_commit_enqueue(deliver_webhook, delivery.webhook_id, session=db.session)
            db.session.commit()
            flash(_("Batch queued to be sent again."))
        else:
            flash(_("This batch is still being sent: it cannot be sent again yet."))
    return see_other(url_for("govfeed.deliveries"))

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

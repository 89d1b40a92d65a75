from __future__ import annotations

from flask import abort, current_app, jsonify, request, url_for
from flask_login import current_user

from webapp.access.base import allow, signed_in
from webapp.extensions import db
from webapp.notices import title_of
from webapp.notify import bp
from webapp.notify.services import devices_of, forget_device, inbox, mark_read, subscribe_device
from webapp.rendering import render_page, see_other


@bp.route("/")
@allow(signed_in)
def index():
    return render_page("notify/inbox.html", notifications=inbox(current_user),
                       title_of=title_of)


@bp.route("/<int:notification_id>/open", methods=["POST"])
@allow(signed_in)
def open_notification(notification_id: int):
    notification = mark_read(current_user, notification_id)
    if notification is None:
        abort(404)
    db.session.commit()
    return see_other(notification.link or url_for("notify.index"))


@bp.route("/devices")
@allow(signed_in)
def devices():
    """Push settings: subscribe this phone, see and remove the others."""
    return render_page(
        "notify/devices.html",
        devices=devices_of(current_user),
        public_key=current_app.extensions["beatbook_vapid"].public_key,
    )


@bp.route("/devices", methods=["POST"])
@allow(signed_in)
def subscribe():
    """Store this device's push subscription (JSON from PushManager.subscribe())."""
    data = request.get_json(silent=True) or {}
    endpoint = str(data.get("endpoint") or "")
    keys = data.get("keys") or {}
    p256dh, auth = str(keys.get("p256dh") or ""), str(keys.get("auth") or "")
    device = subscribe_device(current_user, endpoint, p256dh, auth, request.user_agent.string or "")
    if device is None:
        return jsonify(error="bad_subscription"), 422
    db.session.commit()
    return jsonify(id=device.id), 201


@bp.route("/devices/<int:device_id>/delete", methods=["POST"])
@allow(signed_in)
def unsubscribe(device_id: int):
    if not forget_device(current_user, device_id):
        abort(404)
    db.session.commit()
    if request.is_json:
        return jsonify(deleted=device_id)
    return see_other(url_for("notify.devices"))

from __future__ import annotations

from flask import abort, current_app, jsonify, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, user_logged_out

from webapp.access.base import allow, signed_in
from webapp.extensions import db
from webapp.notices import describe, title_of
from webapp.notify import bp, endpoints
from webapp.notify.endpoints import PushPolicy
from webapp.notify.services import (
    BAD_SUBSCRIPTION,
    DEVICE_TAKEN,
    SubscriptionRefused,
    devices_of,
    forget_device,
    forget_devices,
    inbox,
    mark_read,
    subscribe_device,
)
from webapp.rendering import render_page, see_other


@bp.route("/")
@allow(signed_in)
def index():
    notifications = inbox(current_user)
    about = describe(current_user, [(note.subject_kind, note.subject_id) for note in notifications])
    return render_page("notify/inbox.html", notifications=notifications, title_of=title_of, about=about)


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


# What a refused subscription is told, by reason (JSON for the settings page's script).
_REFUSALS = {
    BAD_SUBSCRIPTION: (422, _l("This browser's push subscription is not usable.")),
    endpoints.NOT_A_URL: (422, _l("This browser's push subscription is not usable.")),
    endpoints.NOT_HTTPS: (422, _l("Alerts can only be sent through a secure (https) push service.")),
    endpoints.HOST_NOT_ALLOWED: (422, _l("This browser's push service is not one Beatbook sends alerts to.")),
    endpoints.PORT_NOT_ALLOWED: (422, _l("This browser's push service is not one Beatbook sends alerts to.")),
    endpoints.UNRESOLVABLE: (422, _l("This browser's push service cannot be reached now. Try again later.")),
    endpoints.NOT_PUBLIC: (422, _l("This browser's push service is not one Beatbook sends alerts to.")),
    DEVICE_TAKEN: (409, _l("Alerts on this browser belong to someone else. They must sign out here, or "
                           "remove this device from their list, before you can turn alerts on.")),
}
# This browser session's devices, dropped when it signs out (a phone handed to the next person).
_SESSION_DEVICES = "push_device_ids"


@bp.route("/devices", methods=["POST"])
@allow(signed_in)
def subscribe():
    """Store this device's push subscription (JSON from PushManager.subscribe())."""
    data = request.get_json(silent=True)
    data = data if isinstance(data, dict) else {}
    keys = data.get("keys") if isinstance(data.get("keys"), dict) else {}
    endpoint = str(data.get("endpoint") or "")
    p256dh, auth = str(keys.get("p256dh") or ""), str(keys.get("auth") or "")
    try:
        device = subscribe_device(current_user, endpoint, p256dh, auth, request.user_agent.string or "",
                                  PushPolicy.from_config(current_app.config),
                                  session_id=getattr(current_user, "session_row_id", None))
    except SubscriptionRefused as refused:
        status, message = _REFUSALS.get(refused.reason, _REFUSALS[BAD_SUBSCRIPTION])
        error = BAD_SUBSCRIPTION if refused.reason == endpoints.NOT_A_URL else refused.reason
        return jsonify(error=error, message=str(message)), status
    db.session.commit()
    session[_SESSION_DEVICES] = sorted({*session.get(_SESSION_DEVICES, []), device.id})
    return jsonify(id=device.id), 201


@user_logged_out.connect
def _forget_this_browsers_devices(sender, user, **extra) -> None:
    # Signing out of a phone stops its alerts, so the next person on it can turn on their own.
    device_ids = session.pop(_SESSION_DEVICES, [])
    if device_ids and user is not None and user.is_authenticated:
        forget_devices(user, device_ids)
        db.session.commit()  # sign-out itself may not commit after signing out


@bp.route("/devices/<int:device_id>/delete", methods=["POST"])
@allow(signed_in)
def unsubscribe(device_id: int):
    if not forget_device(current_user, device_id):
        abort(404)
    db.session.commit()
    if request.is_json:
        return jsonify(deleted=device_id)
    return see_other(url_for("notify.devices"))

from __future__ import annotations

from flask import abort, url_for
from flask_login import current_user, login_required

from webapp.extensions import db
from webapp.notify import bp
from webapp.notify.services import KIND_TITLES, Kind, inbox, mark_read
from webapp.rendering import render_page, see_other


@bp.route("/")
@login_required
def index():
    return render_page("notify/inbox.html", notifications=inbox(current_user),
                       title_of=lambda kind: KIND_TITLES.get(Kind(kind), kind))


@bp.route("/<int:notification_id>/open", methods=["POST"])
@login_required
def open_notification(notification_id: int):
    notification = mark_read(current_user, notification_id)
    if notification is None:
        abort(404)
    db.session.commit()
    return see_other(url_for("leads.detail", lead_id=notification.lead_id))

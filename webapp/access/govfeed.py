"""Who manages the government feed's pull tokens and webhook (its deliveries, their resend): the
liaison, supervisors and admins of the station."""

from __future__ import annotations

from flask import abort
from sqlalchemy import select

from webapp.access.base import any_role
from webapp.extensions import db
from webapp.govfeed.models import FeedToken, FeedWebhook, WebhookDelivery
from webapp.org.models import Role, User

FEED_MANAGERS = (Role.LIAISON, Role.SUPERVISOR, Role.ADMIN)
can_manage_feed = any_role(*FEED_MANAGERS)
can_manage_feed.__name__ = "can_manage_feed"


def station_token(user: User, token_id: int) -> FeedToken:
    """A token of the person's station, or 404."""
    token = db.session.scalar(select(FeedToken).where(FeedToken.id == token_id,
                                                      FeedToken.station_id == user.station_id))
    if token is None:
        abort(404)
    return token


def station_delivery(user: User, delivery_id: int) -> WebhookDelivery:
    """A webhook delivery of the person's station, or 404."""
    delivery = db.session.scalar(
        select(WebhookDelivery).join(FeedWebhook, FeedWebhook.id == WebhookDelivery.webhook_id)
        .where(WebhookDelivery.id == delivery_id, FeedWebhook.station_id == user.station_id))
    if delivery is None:
        abort(404)
    return delivery

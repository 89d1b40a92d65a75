"""Who manages the government feed's pull tokens: the liaison, supervisors and admins of the station."""

from __future__ import annotations

from flask import abort
from sqlalchemy import select

from webapp.access.base import any_role
from webapp.extensions import db
from webapp.govfeed.models import FeedToken
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

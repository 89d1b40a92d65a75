"""Who may see and manage the organisation's records: admins, within their own station."""

from __future__ import annotations

from flask import abort

from webapp.extensions import db
from webapp.org.models import Community, Grid, User


def station_community(viewer: User, community_id: int) -> Community:
    """A community of the viewer's station, or 404."""
    community = db.session.get(Community, community_id)
    if community is None or community.station_id != viewer.station_id:
        abort(404)
    return community


def station_person(viewer: User, user_id: int) -> User:
    """A person of the viewer's station, or 404."""
    person = db.session.get(User, user_id)
    if person is None or person.station_id != viewer.station_id:
        abort(404)
    return person


def community_grid(community: Community, grid_id: int) -> Grid:
    """A grid of `community` (already checked to be the viewer's), or 404."""
    grid = db.session.get(Grid, grid_id)
    if grid is None or grid.community_id != community.id:
        abort(404)
    return grid

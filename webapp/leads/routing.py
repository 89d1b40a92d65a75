"""Routing: which community, grid and officer a lead belongs to.

A chosen community wins. Otherwise a GPS point is matched against grid boundaries, then
community boundaries (shapely). A point exactly on a shared edge belongs to the polygon whose
code sorts first, so the answer never depends on query order. No match, or a community without
an (enabled) officer: the lead goes to the supervisors' intake queue.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

from shapely import Point, prepared
from shapely.geometry import shape
from sqlalchemy import select

from webapp.extensions import db
from webapp.org.models import Community, Grid, Station, User


@dataclass(frozen=True)
class Route:
    community: Community | None
    grid: Grid | None
    officer: User | None
    matched_by: str  # "community", "grid_boundary", "community_boundary", "none"

    @property
    def routable(self) -> bool:
        return self.officer is not None


@lru_cache(maxsize=4096)
def _polygon(geojson: str):
    return prepared.prep(shape(json.loads(geojson)))


def _first_covering(rows, point: Point):
    """Rows are (code, boundary, object); the lowest code that covers the point, or None."""
    for _code, boundary, obj in sorted(rows, key=lambda row: row[0]):
        if boundary and _polygon(boundary).covers(point):
            return obj
    return None


def locate(station: Station, longitude: float, latitude: float) -> tuple[Community | None, Grid | None]:
    point = Point(longitude, latitude)
    grids = db.session.execute(
        select(Grid.code, Grid.boundary, Grid).join(Community)
        .where(Community.station_id == station.id, Grid.boundary.is_not(None))
    ).all()
    grid = _first_covering(grids, point)
    if grid is not None:
        return grid.community, grid
    communities = db.session.execute(
        select(Community.code, Community.boundary, Community)
        .where(Community.station_id == station.id, Community.boundary.is_not(None))
    ).all()
    return _first_covering(communities, point), None


def _active(officer: User | None) -> User | None:
    """A disabled account takes no leads: the lead goes to the supervisors instead."""
    return officer if officer is not None and officer.is_enabled else None


def route(station: Station, community: Community | None = None, grid: Grid | None = None,
          longitude: float | None = None, latitude: float | None = None) -> Route:
    if community is not None:
        if grid is not None and grid.community_id != community.id:
            grid = None
        return Route(community, grid, _active(community.officer), "community")
    if grid is not None:
        return Route(grid.community, grid, _active(grid.community.officer), "grid")
    if longitude is not None and latitude is not None:
        found_community, found_grid = locate(station, longitude, latitude)
        if found_community is not None:
            matched = "grid_boundary" if found_grid is not None else "community_boundary"
            return Route(found_community, found_grid, _active(found_community.officer), matched)
    return Route(None, None, None, "none")

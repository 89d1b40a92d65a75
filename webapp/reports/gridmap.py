"""The grid map: community and grid polygons (GeoJSON on Community/Grid) drawn as SVG paths.

An equirectangular projection scaled to the bounding box of every polygon drawn (longitude
squeezed by cos(latitude) so the areas keep their shape). Works offline: no tiles, no script.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

WIDTH = 320.0
# Shading steps by open leads (the class is map-s0 … map-s3): 0, 1–4, 5–19, 20 or more.
STEPS = (0, 1, 5, 20)


@dataclass(frozen=True)
class Area:
    kind: str  # "community" or "grid"
    id: int
    name: str
    path: str  # SVG path data
    count: int
    step: int
    label_x: float
    label_y: float


def step_of(count: int) -> int:
    return max(i for i, low in enumerate(STEPS) if count >= low)


def _rings(boundary: str | None) -> list[list[tuple[float, float]]]:
    """The outer rings of a Polygon/MultiPolygon; [] for anything unreadable."""
    if not boundary:
        return []
    try:
        geometry = json.loads(boundary)
        if geometry.get("type") == "Feature":
            geometry = geometry.get("geometry") or {}
        if geometry.get("type") == "Polygon":
            polygons = [geometry["coordinates"]]
        elif geometry.get("type") == "MultiPolygon":
            polygons = geometry["coordinates"]
        else:
            return []
        return [[(float(x), float(y)) for x, y, *_ in polygon[0]] for polygon in polygons if polygon]
    except (ValueError, TypeError, KeyError, AttributeError):
        return []


@dataclass(frozen=True)
class GridMap:
    width: float
    height: float
    areas: list[Area]


def draw(shapes: list[tuple[str, int, str, str | None, int]]) -> GridMap | None:
    """shapes: (kind, id, name, GeoJSON boundary, count). None when no shape has a boundary."""
    parsed = [(kind, id_, name, _rings(boundary), count) for kind, id_, name, boundary, count in shapes]
    points = [p for *_, rings, _count in parsed for ring in rings for p in ring]
    if not points:
        return None
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    min_x, max_x, min_y, max_y = min(xs), max(xs), min(ys), max(ys)
    squeeze = math.cos(math.radians((min_y + max_y) / 2))
    span_x = max((max_x - min_x) * squeeze, 1e-9)
    span_y = max(max_y - min_y, 1e-9)
    scale = WIDTH / span_x
    height = max(span_y * scale, 40.0)

    def project(lon: float, lat: float) -> tuple[float, float]:
        return ((lon - min_x) * squeeze * scale, (max_y - lat) * scale)

    areas = []
    for kind, id_, name, rings, count in parsed:
        if not rings:
            continue
        parts, projected = [], []
        for ring in rings:
            xy = [project(x, y) for x, y in ring]
            projected.extend(xy)
            # Whole units (a 320-wide map: about a CSS pixel each), a point equal to the one before left out.
            points = [f"{x:.0f} {y:.0f}" for x, y in xy]
            points = [p for i, p in enumerate(points) if i == 0 or p != points[i - 1]]
            parts.append("M" + "L".join(points) + "Z")
        cx = sum(x for x, _ in projected) / len(projected)
        cy = sum(y for _, y in projected) / len(projected)
        areas.append(Area(kind, id_, name, "".join(parts), count, step_of(count), round(cx), round(cy)))
    return GridMap(WIDTH, round(height, 1), areas)

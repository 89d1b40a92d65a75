"""Make organisation rows the way the app does (through its services)."""

from __future__ import annotations

from itertools import count

from webapp.extensions import db
from webapp.org import services as org
from webapp.org.models import Community, Grid, Role, Station, User

PASSWORD = "correct horse battery"
_sequence = count(1)


def make_station(code: str = "TEST-PS") -> Station:
    station = Station(code=code, name="测试派出所", name_en="Test Station")
    db.session.add(station)
    db.session.flush()
    return station


def make_community(station: Station, code: str | None = None, officer: User | None = None,
                   boundary: str | None = None) -> Community:
    code = code or f"C{next(_sequence)}"
    return org.create_community(station, code=code, name=f"社区{code}", name_en=f"Community {code}",
                                kind="residential", officer=officer, boundary=boundary)


def make_grid(community: Community, code: str | None = None) -> Grid:
    code = code or f"G{next(_sequence)}"
    return org.save_grid(community, None, code=code, name=f"网格{code}", boundary=None)


def make_user(station: Station, *roles: Role, username: str | None = None, password: str = PASSWORD,
              community: Community | None = None, grid: Grid | None = None, **extra) -> User:
    username = username or f"user{next(_sequence)}"
    return org.create_user(station, username=username, display_name=f"Person {username}",
                           password=password, roles=set(roles) or {Role.VOLUNTEER},
                           community=community, grid=grid, **extra)


def commit() -> None:
    db.session.commit()

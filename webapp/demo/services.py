"""Load the demo station. Idempotent: existing rows (by code or user name) are left untouched."""

from __future__ import annotations

import json

from flask import current_app
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from webapp.demo import data
from webapp.demo.devices import load_demo_devices
from webapp.demo.duty import load_demo_roster
from webapp.demo.exports import load_demo_exports
from webapp.demo.govfeed import load_demo_feed
from webapp.demo.mediation import load_demo_mediation
from webapp.demo.residents import load_demo_residents
from webapp.extensions import db
from webapp.org.models import Community, Grid, Station, User


def _geojson(geometry: dict) -> str:
    return json.dumps(geometry, separators=(",", ":"))


def station_exists() -> bool:
    return db.session.scalar(select(Station.id).limit(1)) is not None


def load_demo_station(password: str) -> dict[str, int]:
    """Create whatever part of the demo station is missing; return how many rows were added."""
    added = {"station": 0, "communities": 0, "grids": 0, "users": 0}

    station = db.session.scalar(select(Station).where(Station.code == data.STATION["code"]))
    if station is None:
        station = Station(**data.STATION)
        db.session.add(station)
        added["station"] += 1

    communities: dict[str, Community] = {}
    new_communities: set[str] = set()
    grids: dict[tuple[str, int], Grid] = {}
    for spec in data.COMMUNITIES:
        community = db.session.scalar(select(Community).where(Community.code == spec.code))
        if community is None:
            community = Community(
                station=station, code=spec.code, name=spec.name, name_en=spec.name_en,
                kind=spec.kind.value,
                boundary=_geojson(data.rectangle(*data.community_bounds(spec))),
            )
            db.session.add(community)
            added["communities"] += 1
            new_communities.add(spec.code)
        communities[spec.code] = community
        for index, grid_name in enumerate(spec.grids):
            code = f"{spec.code}-{index + 1}"
            grid = db.session.scalar(select(Grid).where(Grid.code == code))
            if grid is None:
                grid = Grid(
                    community=community, code=code, name=grid_name,
                    boundary=_geojson(data.rectangle(*data.grid_bounds(spec, index))),
                )
                db.session.add(grid)
                added["grids"] += 1
            grids[(spec.code, index)] = grid

    # Every demo login shares one published password, so one hash serves them all (hashing is
    # deliberately slow: 44 separate hashes would make loading the demo take seconds).
    shared_hash = generate_password_hash(password, method=current_app.config["BEATBOOK_PASSWORD_METHOD"])
    users: dict[str, User] = {}
    for person in data.PEOPLE:
        user = db.session.scalar(select(User).where(User.username == person.username))
        if user is None:
            user = User(
                station=station, username=person.username, display_name=person.display_name,
                title=person.title, in_volunteer_branch=person.branch,
                community=communities.get(person.community) if person.community else None,
                grid=grids.get((person.community, person.grid)) if person.community else None,
            )
            user.password_hash = shared_hash
            user.set_roles(set(person.roles))
            db.session.add(user)
            added["users"] += 1
        users[person.username] = user

    # Officers are set on communities made in this run only: an admin's later change stands.
    for spec in data.COMMUNITIES:
        if spec.code in new_communities:
            communities[spec.code].officer = users[spec.officer]
    db.session.flush()
    added["devices"] = load_demo_devices(users)
    added["shifts"] = load_demo_roster(station, users)
    added["return visits and online submissions"] = load_demo_residents(
        current_app.config["BEATBOOK_DEADLINES"])
    added["mediation cases"] = load_demo_mediation()
    added["prepared exports"] = load_demo_exports(users)
    added["feed tokens"] = load_demo_feed(station, users)
    return added

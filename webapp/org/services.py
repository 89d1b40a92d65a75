"""Organisation rules: communities, grids, people and their roles."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from webapp.extensions import db
from webapp.org.events import person_disabled
from webapp.org.models import Community, Grid, Role, Station, User, UserRole


class OrgError(Exception):
    """A rule of the organisation was broken; the message is shown to the person."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def validate_boundary(raw: str | None) -> str | None:
    """Return normalised GeoJSON for a Polygon/MultiPolygon, or None when empty.

    Raises ValueError with a short reason when the text is not a usable boundary.
    """
    if raw is None or not raw.strip():
        return None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ValueError("not JSON") from error
    if isinstance(data, dict) and data.get("type") == "Feature":
        data = data.get("geometry")
    if not isinstance(data, dict) or data.get("type") not in {"Polygon", "MultiPolygon"}:
        raise ValueError("not a Polygon or MultiPolygon")
    polygons = data["coordinates"] if data["type"] == "MultiPolygon" else [data["coordinates"]]
    try:
        for polygon in polygons:
            for ring in polygon:
                _check_ring(ring)
    except (TypeError, IndexError) as error:
        raise ValueError("malformed coordinates") from error
    return json.dumps(data, separators=(",", ":"))


def _check_ring(ring: list) -> None:
    if len(ring) < 4 or ring[0] != ring[-1]:
        raise ValueError("each ring needs 4+ points and must be closed")
    for lon, lat, *_ in ring:
        if not (-180 <= float(lon) <= 180 and -90 <= float(lat) <= 90):
            raise ValueError("coordinates out of range")


def the_station() -> Station:
    """The station this deployment serves (one tenant per deployment)."""
    station = db.session.scalar(select(Station).order_by(Station.id).limit(1))
    if station is None:
        raise LookupError("no station: run `flask --app wsgi demo load` or create one")
    return station


def communities(station: Station) -> list[Community]:
    return list(
        db.session.scalars(
            select(Community)
            .where(Community.station_id == station.id)
            .options(selectinload(Community.grids), selectinload(Community.officer))
            .order_by(Community.code)
        )
    )


def communities_of_officer(officer: User) -> list[Community]:
    return list(
        db.session.scalars(
            select(Community)
            .where(Community.officer_id == officer.id)
            .options(selectinload(Community.grids))
            .order_by(Community.code)
        )
    )


def people_with_role(station: Station, *roles: Role) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(UserRole)
            .where(User.station_id == station.id, UserRole.role.in_([r.value for r in roles]),
                   User.is_enabled.is_(True))
            .distinct()
            .order_by(User.display_name)
        )
    )


def volunteers_in(community: Community) -> int:
    return db.session.scalar(
        select(func.count(User.id.distinct()))
        .join(UserRole)
        .where(User.community_id == community.id, UserRole.role == Role.VOLUNTEER.value)
    ) or 0


def role_counts(station: Station) -> Counter[str]:
    rows = db.session.execute(
        select(UserRole.role, func.count())
        .join(User)
        .where(User.station_id == station.id, User.is_enabled.is_(True))
        .group_by(UserRole.role)
    )
    return Counter({role: count for role, count in rows})


@dataclass(frozen=True)
class UserPage:
    users: list[User]
    page: int
    has_next: bool


def search_users(station: Station, query: str, role: str | None, page: int, per_page: int = 25) -> UserPage:
    """Users matching a name/user-name fragment and an optional role, a page at a time."""
    statement = select(User).where(User.station_id == station.id)
    if query:
        like = f"%{query.strip()}%"
        statement = statement.where(or_(User.username.ilike(like), User.display_name.ilike(like)))
    if role:
        statement = statement.where(
            User.id.in_(select(UserRole.user_id).where(UserRole.role == role))
        )
    rows = list(
        db.session.scalars(
            statement.order_by(User.username).offset((page - 1) * per_page).limit(per_page + 1)
        )
    )
    return UserPage(users=rows[:per_page], page=page, has_next=len(rows) > per_page)


def _check_unique_username(username: str, exclude_id: int | None = None) -> None:
    statement = select(User.id).where(User.username == username)
    if exclude_id is not None:
        statement = statement.where(User.id != exclude_id)
    if db.session.scalar(statement) is not None:
        raise OrgError("username", "taken")


MIN_PASSWORD_LENGTH = 10


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise OrgError("password", "too_short")


def _check_placement(community: Community | None, grid: Grid | None) -> None:
    if grid is not None and (community is None or grid.community_id != community.id):
        raise OrgError("grid_id", "grid_outside_community")


def create_user(
    station: Station,
    *,
    username: str,
    display_name: str,
    password: str,
    roles: set[Role],
    community: Community | None = None,
    grid: Grid | None = None,
    in_volunteer_branch: bool = False,
    is_branch_secretary: bool = False,
    title: str = "",
    phone: str = "",
) -> User:
    username = username.strip().lower()
    _check_unique_username(username)
    _check_password(password)
    _check_placement(community, grid)
    user = User(
        station=station,
        username=username,
        display_name=display_name.strip(),
        community=community,
        grid=grid,
        in_volunteer_branch=in_volunteer_branch,
        is_branch_secretary=is_branch_secretary,
        title=title.strip(),
        phone=phone.strip(),
    )
    user.set_password(password)
    user.set_roles(roles)
    db.session.add(user)
    db.session.flush()
    return user


def update_user(
    user: User,
    *,
    display_name: str,
    roles: set[Role],
    community: Community | None,
    grid: Grid | None,
    in_volunteer_branch: bool,
    title: str,
    phone: str,
    is_enabled: bool,
    is_branch_secretary: bool = False,
    new_password: str | None = None,
) -> User:
    _check_placement(community, grid)
    user.display_name = display_name.strip()
    user.set_roles(roles)
    user.community = community
    user.grid = grid
    user.in_volunteer_branch = in_volunteer_branch
    user.is_branch_secretary = is_branch_secretary
    user.title = title.strip()
    user.phone = phone.strip()
    if user.is_enabled and not is_enabled:
        # Disabling must also end the sessions the person still has on their phones, and (through
        # the event) whatever other features keep to reach them.
        user.session_generation += 1
        user.is_enabled = False
        person_disabled.send(user)  # e.g. notify forgets their push devices
    user.is_enabled = is_enabled
    if new_password:
        _check_password(new_password)
        user.set_password(new_password)
    db.session.flush()
    return user


def update_community(
    community: Community, *, name: str, name_en: str, kind: str, officer: User | None,
    boundary: str | None,
) -> Community:
    if officer is not None and not officer.has_role(Role.OFFICER):
        raise OrgError("officer_id", "not_an_officer")
    community.name = name.strip()
    community.name_en = name_en.strip()
    community.kind = kind
    community.officer = officer
    community.boundary = boundary
    db.session.flush()
    return community


def create_community(
    station: Station, *, code: str, name: str, name_en: str, kind: str, officer: User | None,
    boundary: str | None,
) -> Community:
    code = code.strip().upper()
    if db.session.scalar(select(Community.id).where(Community.code == code)) is not None:
        raise OrgError("code", "taken")
    community = Community(station=station, code=code, name="", name_en="", kind=kind)
    db.session.add(community)
    return update_community(
        community, name=name, name_en=name_en, kind=kind, officer=officer, boundary=boundary
    )


def save_grid(
    community: Community, grid: Grid | None, *, code: str, name: str, boundary: str | None
) -> Grid:
    code = code.strip().upper()
    clash = select(Grid.id).where(Grid.code == code)
    if grid is not None:
        clash = clash.where(Grid.id != grid.id)
    if db.session.scalar(clash) is not None:
        raise OrgError("code", "taken")
    if grid is None:
        grid = Grid(community=community, code=code, name=name.strip(), boundary=boundary)
        db.session.add(grid)
    else:
        grid.code, grid.name, grid.boundary = code, name.strip(), boundary
    db.session.flush()
    return grid

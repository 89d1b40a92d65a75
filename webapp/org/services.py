"""Organisation rules: communities, grids, people and their roles."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from webapp import notices
from webapp.extensions import db
from webapp.org.events import person_disabled
from webapp.org.models import Community, GrantStatus, Grid, Role, RoleGrant, Station, User, UserRole
from webapp.timeutil import utcnow

# Roles that open compartments (DV, minors, every case) or the power to hand them out: nobody
# gets one on a single person's word. An admin's grant waits for a supervisor or a second admin,
# and neither the requester nor the person concerned may approve it.
GUARDED_ROLES = frozenset({Role.SUPERVISOR, Role.DV_TEAM, Role.YOUTH_TEAM, Role.ADMIN})


# The people concerned hear of role and password changes in their inbox (neutral words only).
ROLE_REQUESTED, ROLE_DECIDED, PASSWORD_CHANGED = "role_requested", "role_decided", "password_changed"
DEVICE_REVOKED = "device_revoked"
notices.register_kinds({
    ROLE_REQUESTED: _l("A role change waits for your decision"),
    ROLE_DECIDED: _l("A role change was decided"),
    PASSWORD_CHANGED: _l("Your password was changed"),
    DEVICE_REVOKED: _l("A device was signed out"),
})


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


@dataclass(frozen=True)
class GridPlace:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class Place:
    """A community as the forms and lists show it: no boundary, no officer record, no roles."""
    id: int
    code: str
    name: str
    kind: str
    officer_name: str | None
    grids: tuple[GridPlace, ...]


def places(station_id: int) -> list[Place]:
    """The station's communities and grids in two plain queries.

    Forms and lists need names and ids only; loading the full records (boundaries, the officer and
    their roles: five statements) was a quarter of the report form's CPU (docs/architecture.md,
    Performance)."""
    grids: dict[int, list[GridPlace]] = {}
    for row in db.session.execute(
        select(Grid.community_id, Grid.id, Grid.code, Grid.name)
        .join(Community, Community.id == Grid.community_id)
        .where(Community.station_id == station_id)
        .order_by(Grid.code)
    ):
        grids.setdefault(row.community_id, []).append(GridPlace(row.id, row.code, row.name))
    return [
        Place(row.id, row.code, row.name, row.kind, row.display_name, tuple(grids.get(row.id, ())))
        for row in db.session.execute(
            select(Community.id, Community.code, Community.name, Community.kind, User.display_name)
            .outerjoin(User, User.id == Community.officer_id)
            .where(Community.station_id == station_id)
            .order_by(Community.code)
        )
    ]


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


def volunteer_counts(communities: list[Community]) -> Counter[int]:
    """Volunteers per community, in one query for all of them."""
    rows = db.session.execute(
        select(User.community_id, func.count(User.id.distinct()))
        .join(UserRole)
        .where(User.community_id.in_([c.id for c in communities]), UserRole.role == Role.VOLUNTEER.value)
        .group_by(User.community_id)
    ) if communities else []
    return Counter({community_id: count for community_id, count in rows})


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
MIN_PASSWORD_SCORE = 3  # zxcvbn: 3 = "safely unguessable", ~10^8 guesses


def password_problem(password: str, username: str, display_name: str = "") -> str | None:
    """Why `password` is refused ("too_short", "contains_name", "too_weak"), or None.

    zxcvbn scores against common passwords, names, keyboard patterns, repeats and sequences, so
    aaaaaaaaaa, 1234567890, password12 and ten spaces are all refused.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return "too_short"
    lowered = password.lower()
    names = {username.strip().lower(), *display_name.strip().lower().split()}
    if any(len(name) >= 3 and name in lowered for name in names):
        return "contains_name"
    from zxcvbn import zxcvbn

    # zxcvbn's cost grows with length; the first 64 characters decide well enough.
    if zxcvbn(password[:64], user_inputs=sorted(names))["score"] < MIN_PASSWORD_SCORE:
        return "too_weak"
    return None


def _check_password(password: str, username: str, display_name: str = "") -> None:
    problem = password_problem(password, username, display_name)
    if problem:
        raise OrgError("password", problem)


def _audit(actor: User | None, action: str, person: User, address: str = "", **detail) -> None:
    from webapp.audit.services import record

    record(actor, action, "user", person.id, address, **detail)


def change_password(person: User, new_password: str, actor: User | None, address: str = "") -> None:
    """Set a new password, end the person's other sessions and write it in the audit log."""
    from webapp.auth.services import revoke_all_sessions

    _check_password(new_password, person.username, person.display_name)
    person.set_password(new_password)
    # Whoever knew the old password (or holds a cookie from then) is out; the person changing
    # their own password keeps this session.
    revoke_all_sessions(person, keep_current=actor is not None and actor.id == person.id)
    _audit(actor, "password_changed", person, address, by_self=actor is not None and actor.id == person.id)
    notices.announce([person], notices.Notice(
        kind=PASSWORD_CHANGED, subject_kind="user", subject_id=person.id,
        link=notices.link_to("auth.account"), occurrence=str(utcnow().timestamp()),
        text=_l("Your password was changed. If it was not you, tell the station's administrator at once.")))


def revoke_lost_phone(person: User, session_id: int, actor: User, address: str = "") -> bool:
    """One of `person`'s devices is lost: end its session, drop its alerts, have it wiped when it
    next reaches the server. Audited; the person hears of it when someone else did it.
    False when that session is not the person's, or already ended."""
    from webapp.auth.services import revoke_device

    row = revoke_device(person, session_id)
    if row is None:
        return False
    _audit(actor, "device_revoked", person, address, session=row.id, by_self=actor.id == person.id)
    if actor.id != person.id:
        notices.announce([person], notices.Notice(
            kind=DEVICE_REVOKED, subject_kind="user", subject_id=person.id,
            link=notices.link_to("auth.account"), occurrence=f"session-{row.id}",
            text=_l("The station's administrator signed out one of your devices. What it had not "
                    "sent yet is sent, then Beatbook's data on it is deleted.")))
    return True


def _apply_roles(person: User, wanted: set[Role], actor: User | None, address: str) -> list[RoleGrant]:
    """Give and take roles; guarded roles given by a person become requests for a second person.

    `actor` None is the server console (`flask user create`, the demo), which is trusted.
    """
    current = person.roles
    added, removed = wanted - current, current - wanted
    guarded = added & GUARDED_ROLES if actor is not None else set()
    person.set_roles((current - removed) | (added - guarded))
    db.session.flush()
    for role in sorted(removed):
        _audit(actor, "role_removed", person, address, role=role.value)
    for role in sorted(added - guarded):
        _audit(actor, "role_added", person, address, role=role.value)
    return [request_role(person, role, actor, address) for role in sorted(guarded)]


def request_role(person: User, role: Role, requested_by: User, address: str = "") -> RoleGrant:
    """Ask for a guarded role for `person`; an already pending request is reused."""
    pending = db.session.scalar(select(RoleGrant).where(
        RoleGrant.user_id == person.id, RoleGrant.role == role.value,
        RoleGrant.status == GrantStatus.PENDING.value))
    if pending is not None:
        return pending
    grant = RoleGrant(user_id=person.id, role=role.value, requested_by_id=requested_by.id)
    db.session.add(grant)
    db.session.flush()
    _audit(requested_by, "role_requested", person, address, role=role.value, grant=grant.id)
    approvers = [user for user in people_with_role(person.station, Role.SUPERVISOR, Role.ADMIN)
                 if can_decide_grant(user, grant)]
    notices.announce(approvers, notices.Notice(
        kind=ROLE_REQUESTED, subject_kind="role_grant", subject_id=grant.id,
        link=notices.link_to("org.role_grants"),
        text=_l("A role change waits for a second person's decision.")))
    return grant


def can_decide_grant(user: User, grant: RoleGrant) -> bool:
    """A supervisor or another admin of the station; never the requester or the person concerned."""
    return (
        user.is_authenticated
        and user.has_role(Role.SUPERVISOR, Role.ADMIN)
        and user.id not in (grant.user_id, grant.requested_by_id)
        and grant.user.station_id == user.station_id
    )


def decide_grant(grant: RoleGrant, decider: User, approve: bool, address: str = "") -> RoleGrant:
    """Approve (the role is given now) or refuse a pending request; both are audited."""
    if grant.status != GrantStatus.PENDING.value:
        raise OrgError("grant", "already_decided")
    if not can_decide_grant(decider, grant):
        raise OrgError("grant", "not_yours_to_decide")
    grant.status = (GrantStatus.APPROVED if approve else GrantStatus.REFUSED).value
    grant.decided_by_id = decider.id
    grant.decided_at = utcnow()
    if approve:
        grant.user.set_roles(grant.user.roles | {Role(grant.role)})
    db.session.flush()
    _audit(decider, "role_granted" if approve else "role_refused", grant.user, address,
           role=grant.role, grant=grant.id, requested_by=grant.requested_by_id)
    requester = db.session.get(User, grant.requested_by_id)
    concerned = {grant.user_id: grant.user, grant.requested_by_id: requester}
    notices.announce(concerned.values(), notices.Notice(
        kind=ROLE_DECIDED, subject_kind="role_grant", subject_id=grant.id,
        link=notices.link_to("auth.account"),
        text=_l("A role change for your account was approved.") if approve
        else _l("A role change for your account was refused.")))
    return grant


def pending_grants(station: Station) -> list[RoleGrant]:
    return list(db.session.scalars(
        select(RoleGrant).join(User, RoleGrant.user_id == User.id)
        .where(RoleGrant.status == GrantStatus.PENDING.value, User.station_id == station.id)
        .options(selectinload(RoleGrant.user), selectinload(RoleGrant.requested_by))
        .order_by(RoleGrant.requested_at)
    ))


def pending_grants_for(person: User) -> list[RoleGrant]:
    return list(db.session.scalars(
        select(RoleGrant).where(RoleGrant.user_id == person.id,
                                RoleGrant.status == GrantStatus.PENDING.value)
        .order_by(RoleGrant.requested_at)
    ))


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
    actor: User | None = None,
    address: str = "",
) -> User:
    """Create a person; guarded roles chosen by `actor` wait for a second person's approval."""
    username = username.strip().lower()
    _check_unique_username(username)
    _check_password(password, username, display_name)
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
    db.session.add(user)
    db.session.flush()
    _audit(actor, "user_created", user, address)
    _apply_roles(user, set(roles), actor, address)
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
    actor: User | None = None,
    address: str = "",
) -> User:
    """Save a person's details; role and password changes are audited, guarded roles requested."""
    _check_placement(community, grid)
    if new_password:
        _check_password(new_password, user.username, display_name)
    user.display_name = display_name.strip()
    wanted = set(roles)
    # Whoever sets another person's password can sign in as them: a password set for someone who
    # holds a guarded role would hand the setter that role alone (an admin resetting a DV task
    # force member's password reads every DV case). Those roles are taken away with the new
    # password and asked back for a second person to approve, who can check with the person.
    reset_by_other = bool(new_password) and actor is not None and actor.id != user.id
    suspended = wanted & user.roles & GUARDED_ROLES if reset_by_other else set()
    _apply_roles(user, wanted - suspended, actor, address)
    for role in sorted(suspended):
        request_role(user, role, actor, address)
    user.community = community
    user.grid = grid
    user.in_volunteer_branch = in_volunteer_branch
    user.is_branch_secretary = is_branch_secretary
    user.title = title.strip()
    user.phone = phone.strip()
    if user.is_enabled and not is_enabled:
        # Disabling ends whatever the person still has on their phones: their sessions (auth) and
        # push devices (notify) hear the event.
        user.is_enabled = False
        person_disabled.send(user)
        _audit(actor, "user_disabled", user, address)
    elif is_enabled and not user.is_enabled:
        _audit(actor, "user_enabled", user, address)
    user.is_enabled = is_enabled
    if new_password:
        change_password(user, new_password, actor, address)
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

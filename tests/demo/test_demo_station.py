import json

from shapely.geometry import Point, shape
from sqlalchemy import func, select

from webapp.demo import data
from webapp.extensions import db
from webapp.org.models import Community, Grid, Role, Station, User, UserRole


def _counts():
    return {
        model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Station, Community, Grid, User, UserRole)
    }


def _fingerprint():
    users = db.session.execute(
        select(User.username, User.password_hash, User.community_id, User.grid_id).order_by(User.username)
    ).all()
    communities = db.session.execute(
        select(Community.code, Community.officer_id, Community.boundary).order_by(Community.code)
    ).all()
    return users, communities


def test_demo_load_twice_changes_nothing(app_ctx):
    runner = app_ctx.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    counts, fingerprint = _counts(), _fingerprint()
    assert counts["community"] >= 4 and counts["grid"] >= 8 and counts["user"] >= 40

    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0, second.output
    assert "0 users added" in second.output
    assert _counts() == counts
    assert _fingerprint() == fingerprint


def test_demo_load_if_empty_leaves_an_existing_station_alone(app_ctx):
    runner = app_ctx.test_cli_runner()
    db.session.add(Station(code="OTHER", name="另一个所", name_en="Other"))
    db.session.commit()
    result = runner.invoke(args=["demo", "load", "--if-empty"])
    assert result.exit_code == 0
    assert "not loaded" in result.output
    assert _counts()["user"] == 0


def test_demo_station_has_every_role_and_a_login_per_role(app_ctx):
    app_ctx.test_cli_runner().invoke(args=["demo", "load"])
    for role, username in data.LOGIN_PER_ROLE:
        user = db.session.scalar(select(User).where(User.username == username))
        assert user is not None and user.has_role(role), username
        assert user.check_password(app_ctx.config["BEATBOOK_DEMO_PASSWORD"])
    volunteers = db.session.scalar(
        select(func.count()).select_from(UserRole).where(UserRole.role == Role.VOLUNTEER.value)
    )
    assert 18 <= volunteers <= 30
    prosecutor = db.session.scalar(select(User).where(User.title.contains("退休检察官")))
    assert prosecutor is not None and prosecutor.has_role(Role.MEDIATOR)
    # Every community has its responsible officer, who really is an officer.
    for community in db.session.scalars(select(Community)):
        assert community.officer is not None and community.officer.has_role(Role.OFFICER)


def test_demo_boundaries_route_every_grid_centre_to_exactly_one_grid(app_ctx):
    """Grids tile their community and communities do not overlap: a GPS point routes one way."""
    app_ctx.test_cli_runner().invoke(args=["demo", "load"])
    grids = list(db.session.scalars(select(Grid)))
    shapes = {g.code: shape(json.loads(g.boundary)) for g in grids}
    for grid in grids:
        community_shape = shape(json.loads(grid.community.boundary))
        assert community_shape.contains(shapes[grid.code].representative_point())
        centre = shapes[grid.code].centroid
        inside = [code for code, polygon in shapes.items() if polygon.contains(Point(centre))]
        assert inside == [grid.code]
    communities = [shape(json.loads(c.boundary)) for c in db.session.scalars(select(Community))]
    for i, a in enumerate(communities):
        for b in communities[i + 1:]:
            assert a.intersection(b).area == 0


def test_demo_logins_lists_one_user_per_role(app_ctx):
    result = app_ctx.test_cli_runner().invoke(args=["demo", "logins"])
    assert result.exit_code == 0
    for role, username in data.LOGIN_PER_ROLE:
        assert username in result.output
        assert role.value in result.output
    assert app_ctx.config["BEATBOOK_DEMO_PASSWORD"] in result.output

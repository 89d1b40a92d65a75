"""`flask --app wsgi user create`: the way to make the first accounts of a real station."""

from sqlalchemy import select

from tests.factories import commit, make_community, make_station
from webapp.extensions import db
from webapp.org.models import Role, User


def test_user_create_makes_a_person_who_can_sign_in(app_ctx, client):
    station = make_station()
    make_community(station, code="HP")
    commit()
    result = app_ctx.test_cli_runner().invoke(args=[
        "user", "create", "Zhou.Min", "--name", "周敏", "--role", "officer", "--role", "mediator",
        "--community", "HP", "--password", "a long enough password"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "zhou.min"))
    assert user.roles == {Role.OFFICER, Role.MEDIATOR} and user.community.code == "HP"
    from tests.conftest import Browser

    assert Browser(client).login("zhou.min", "a long enough password").status_code == 303


def test_user_create_refuses_bad_input_and_stores_nothing(app_ctx):
    make_station()
    commit()
    runner = app_ctx.test_cli_runner()
    cases = [
        ["user", "create", "x", "--name", "X", "--role", "sheriff", "--password", "a long enough password"],
        ["user", "create", "x", "--name", "X", "--role", "officer", "--password", "short"],
        ["user", "create", "x", "--name", "X", "--role", "officer", "--community", "NOPE",
         "--password", "a long enough password"],
    ]
    for args in cases:
        result = runner.invoke(args=args)
        assert result.exit_code != 0, args
    assert db.session.scalar(select(User).where(User.username == "x")) is None


def test_vapid_prints_the_public_key_the_phones_subscribe_with(app_ctx):
    result = app_ctx.test_cli_runner().invoke(args=["vapid"])
    assert result.exit_code == 0
    assert app_ctx.extensions["beatbook_vapid"].public_key in result.output

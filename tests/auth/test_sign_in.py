import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import commit, make_community, make_user
from webapp.auth.models import LoginThrottle
from webapp.extensions import db
from webapp.org.models import Role, User


def failures(username: str = "wang") -> int:
    """Failed sign-ins counted against the account (on no known device)."""
    row = db.session.get(LoginThrottle, f"account:{username}")
    db.session.expire_all()
    return row.failures if row else 0


def test_good_password_signs_in_and_lands_home(person, officer):
    response = person.login("wang")
    assert response.status_code == 303
    assert response.headers["Location"] == "/home/officer"
    assert person.client.get("/home/officer").status_code == 200


def test_user_name_is_case_and_space_insensitive(person, officer):
    assert person.login("  WANG ").headers["Location"] == "/home/officer"


def test_bad_password_is_refused_with_a_message(person, officer):
    response = person.login("wang", "wrong password!")
    assert response.status_code == 422
    assert "用户名或密码错误" in response.get_data(as_text=True)  # zh-CN is the default
    assert person.client.get("/home/officer").status_code == 302  # still signed out
    assert failures() == 1


def test_unknown_user_is_refused_like_a_bad_password(person, officer):
    response = person.login("nobody", "whatever pass")
    assert response.status_code == 422
    assert failures("nobody") == 1


def test_disabled_account_cannot_sign_in(person, station):
    user = make_user(station, Role.OFFICER, username="gone")
    user.is_enabled = False
    commit()
    assert person.login("gone").status_code == 422


def test_throttle_per_account_kicks_in_and_lifts(app, person, officer):
    limit = app.config["BEATBOOK_LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    for _ in range(limit):
        assert person.login("wang", "wrong password!").status_code == 422

    # Even the right password is refused while the account is throttled.
    blocked = person.login("wang")
    assert blocked.status_code == 429
    body = blocked.get_data(as_text=True)
    assert "登录失败次数过多，请 1 分钟后再试" in body
    assert person.client.get("/home/officer").status_code == 302

    # Once the delay has passed, the throttle lifts.
    for row in db.session.scalars(select(LoginThrottle)):
        row.blocked_until -= timedelta(minutes=1)
    commit()
    assert person.login("wang").status_code == 303


def test_throttle_per_address_covers_other_accounts(app, make_client, station, officer):
    from tests.conftest import Browser

    limit = app.config["BEATBOOK_LOGIN_MAX_FAILURES_PER_ADDRESS"]
    attacker = Browser(make_client())
    attacker.client.environ_base["REMOTE_ADDR"] = "10.9.8.7"
    for n in range(limit):
        attacker.login(f"guess{n}", "wrong password!")
    assert attacker.login("wang").status_code == 429

    # The officer on their own phone (another address) is not locked out by the attacker.
    phone = Browser(make_client())
    phone.client.environ_base["REMOTE_ADDR"] = "10.1.1.1"
    assert phone.login("wang").status_code == 303


def test_success_clears_the_account_failures(person, officer):
    person.login("wang", "wrong password!")
    person.login("wang", "wrong password!")
    assert person.login("wang").status_code == 303
    assert failures() == 0


def test_missing_csrf_is_400_and_changes_nothing(client, officer):
    response = client.post("/login", data={"username": "wang", "password": "wrong password!"})
    assert response.status_code == 400
    assert failures() == 0
    assert db.session.scalar(select(func.count()).select_from(LoginThrottle)) == 0
    assert client.get("/home/officer").status_code == 302


def test_missing_csrf_on_a_signed_in_change_is_400(person, station, officer):
    admin = make_user(station, Role.ADMIN, username="boss")
    commit()
    person.login("boss")
    before = db.session.scalar(select(func.count()).select_from(User))
    response = person.client.post("/admin/users/new", data={
        "username": "intruder", "display_name": "X", "roles": "officer",
        "password": "long enough password",
    })
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(User)) == before
    response = person.client.post(f"/admin/users/{officer.id}/sign-out-everywhere")
    assert response.status_code == 400
    db.session.refresh(officer)
    assert officer.session_generation == 0
    assert admin.session_generation == 0


def test_remembered_phone_gets_a_long_lived_cookie(app, person, officer):
    person.login("wang", remember=True)
    cookie = person.client.get_cookie("remember_token")
    assert cookie is not None
    assert cookie.expires is not None
    days = app.config["REMEMBER_COOKIE_DURATION"].days
    assert days >= 7


def test_remember_cookie_alone_keeps_the_phone_signed_in(person, officer):
    person.login("wang", remember=True)
    person.client.delete_cookie("session")  # the browser was closed; only the cookie remains
    assert person.client.get("/home/officer").status_code == 200


def test_sign_out_everywhere_ends_other_sessions(make_client, officer):
    from tests.conftest import Browser

    lost_phone, desk = Browser(make_client()), Browser(make_client())
    lost_phone.login("wang", remember=True)
    desk.login("wang")
    assert lost_phone.client.get("/home/officer").status_code == 200

    response = desk.post("/account/sign-out-everywhere", from_page="/account")
    assert response.status_code == 303

    assert lost_phone.client.get("/home/officer").status_code == 302
    # The remember cookie on the lost phone is dead too.
    lost_phone.client.delete_cookie("session")
    assert lost_phone.client.get("/home/officer").status_code == 302
    assert desk.client.get("/home/officer").status_code == 302
    # Signing in again works and starts a new generation.
    assert lost_phone.login("wang").status_code == 303


def test_admin_can_sign_someone_out_everywhere(make_client, station, officer):
    from tests.conftest import Browser

    make_user(station, Role.ADMIN, username="boss")
    commit()
    phone, admin = Browser(make_client()), Browser(make_client())
    phone.login("wang")
    admin.login("boss")
    response = admin.post(f"/admin/users/{officer.id}/sign-out-everywhere",
                          from_page=f"/admin/users/{officer.id}")
    assert response.status_code == 303
    assert phone.client.get("/home/officer").status_code == 302


def test_sign_out(person, officer):
    person.login("wang")
    assert person.logout().status_code == 303
    assert person.client.get("/home/officer").status_code == 302


def test_next_is_followed_only_within_the_site(person, officer):
    page = person.client.get("/login?next=/account")
    assert 'value="/account"' in page.get_data(as_text=True)
    assert person.post("/login", {"username": "wang", "password": "correct horse battery",
                                  "next": "/account"}).headers["Location"] == "/account"
    person.logout()
    response = person.post("/login", {"username": "wang", "password": "correct horse battery",
                                      "next": "//evil.example/phish"})
    assert response.headers["Location"] == "/home/officer"


HOMES = [
    (Role.VOLUNTEER, "/home/volunteer"),
    (Role.OFFICER, "/home/officer"),
    (Role.MEDIATOR, "/home/mediation"),
    (Role.LAWYER, "/home/mediation"),
    (Role.EXPERT, "/experts/mine"),  # their invitations
    (Role.DV_TEAM, "/home/dv-team"),
    (Role.YOUTH_TEAM, "/home/youth-team"),
    (Role.SUPERVISOR, "/home/supervisor"),
    (Role.LIAISON, "/home/liaison"),
    (Role.ADMIN, "/home/admin"),
]


@pytest.mark.parametrize(("role", "home"), HOMES, ids=[r.value for r, _ in HOMES])
def test_every_role_lands_on_its_own_home(person, station, role, home):
    community = make_community(station)
    make_user(station, role, username="someone", community=community)
    commit()
    response = person.login("someone")
    assert response.headers["Location"] == home
    page = person.client.get(home)
    assert page.status_code == 200
    # Another role's home is not theirs to see.
    other = "/home/admin" if role != Role.ADMIN else "/home/officer"
    assert person.client.get(other).status_code == 403


def test_a_person_with_several_roles_lands_on_the_first_in_priority(person, station):
    make_user(station, Role.VOLUNTEER, Role.OFFICER, username="both")
    commit()
    assert person.login("both").headers["Location"] == "/home/officer"
    assert person.client.get("/home/volunteer").status_code == 200


def test_signed_out_visitor_is_sent_to_login(client, officer):
    response = client.get("/home/officer")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_passwords_are_hashed_with_scrypt_unless_configured(database):
    """The suite uses a cheap hash for speed; a real deployment must get scrypt."""
    from webapp import create_app

    config = {k: v for k, v in database.items() if k.isupper()}
    production = create_app({"SECRET_KEY": "x", **config})
    assert production.config["BEATBOOK_PASSWORD_METHOD"] == "scrypt"
    with production.app_context():
        user = User(username="probe", display_name="Probe", station_id=0)
        user.set_password("correct horse battery")
        assert user.password_hash.startswith("scrypt:")
        assert user.check_password("correct horse battery")


def test_keep_me_signed_in_is_off_until_ticked(person, officer):
    # A station phone is shared: the next person must not inherit a remembered sign-in.
    page = person.client.get("/login").get_data(as_text=True)
    box = re.search(r"<input[^>]*name=\"remember\"[^>]*>", page).group(0)
    assert 'type="checkbox"' in box and "checked" not in box

    assert person.login("wang", remember=False).status_code == 303
    assert person.client.get_cookie("remember_token") is None
    assert person.client.get("/home/officer").status_code == 200  # signed in for this session


def test_ticking_keep_me_signed_in_gives_the_remember_cookie(person, officer):
    assert person.login("wang", remember=True).status_code == 303
    assert person.client.get_cookie("remember_token") is not None

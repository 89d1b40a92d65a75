"""zh-CN first, English too; the switch sticks for the browser and for the person."""

import pytest
from sqlalchemy import select

from tests.conftest import Browser
from tests.factories import commit, make_station, make_user
from webapp.extensions import db
from webapp.org.models import Role, User


@pytest.fixture
def officer(app_ctx):
    station = make_station()
    user = make_user(station, Role.OFFICER, username="wang")
    commit()
    return user


def test_chinese_is_the_default(client, officer):
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page
    assert "登录" in page


def test_switch_sticks_for_an_anonymous_browser(client, officer):
    person = Browser(client)
    response = person.post("/language", {"lang": "en", "next": "/login"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in page and "Sign in" in page


def test_switch_sticks_for_the_person_on_any_device(make_client, officer):
    phone = Browser(make_client())
    phone.login("wang")
    phone.post("/language", {"lang": "en", "next": "/home/officer"}, from_page="/home/officer")
    assert "My communities" in phone.client.get("/home/officer").get_data(as_text=True)
    assert db.session.scalar(select(User.locale).where(User.username == "wang")) == "en"

    desk = Browser(make_client())  # no language cookie on this device
    desk.login("wang")
    assert "My communities" in desk.client.get("/home/officer").get_data(as_text=True)

    desk.post("/language", {"lang": "zh_CN"}, from_page="/home/officer")
    assert "我的社区" in desk.client.get("/home/officer").get_data(as_text=True)


def test_unknown_language_is_refused(client, officer):
    person = Browser(client)
    response = person.post("/language", {"lang": "fr"})
    assert response.status_code == 422
    assert client.get_cookie("lang") is None
    assert '<html lang="zh-CN">' in client.get("/login").get_data(as_text=True)


def test_the_switch_does_not_redirect_off_site(client, officer):
    response = Browser(client).post("/language", {"lang": "en", "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(("status", "path", "zh", "en"), [
    (404, "/no-such-page", "页面不存在", "This page does not exist"),
    (403, "/admin/users", "您无权访问此页面", "You do not have access to this page"),
])
def test_error_pages_in_both_languages(client, officer, status, path, zh, en):
    Browser(client).login("wang")
    response = client.get(path)
    assert response.status_code == status
    assert zh in response.get_data(as_text=True)
    fragment = client.get(path, headers={"HX-Request": "true"})
    assert fragment.status_code == status and zh in fragment.get_data(as_text=True)
    assert "<html" not in fragment.get_data(as_text=True)
    client.set_cookie("lang", "en")
    db.session.execute(User.__table__.update().values(locale=None))
    commit()
    assert en in client.get(path).get_data(as_text=True)


def test_500_page_in_both_languages(database):
    """A crash shows a calm page in the person's language, never a traceback."""
    from webapp import create_app

    config = {k: v for k, v in database.items() if k.isupper()}
    app = create_app({"TESTING": False, "SECRET_KEY": "x", **config})

    @app.route("/boom-for-test")
    def boom():
        raise RuntimeError("boom")

    client = app.test_client()
    response = client.get("/boom-for-test")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "RuntimeError" not in body
    assert "系统出现问题" in body
    client.set_cookie("lang", "en")
    assert "Something went wrong on our side" in client.get("/boom-for-test").get_data(as_text=True)


def test_unknown_language_message(client, officer):
    refused = Browser(client).post("/language", {"lang": "xx"})
    assert refused.status_code == 422
    assert "不支持该语言" in refused.get_data(as_text=True)

import json
import re

import pytest
from sqlalchemy import func, select

from tests.conftest import Browser
from tests.factories import commit, make_community, make_grid, make_station, make_user
from webapp.extensions import db
from webapp.org.models import Community, Grid, Role, User

SQUARE = json.dumps({"type": "Polygon", "coordinates": [[[117.28, 31.86], [117.284, 31.86],
                     [117.284, 31.8636], [117.28, 31.8636], [117.28, 31.86]]]})


@pytest.fixture
def station(app_ctx):
    station = make_station()
    commit()
    return station


@pytest.fixture
def admin(client, station):
    make_user(station, Role.ADMIN, username="boss")
    commit()
    client.set_cookie("lang", "en")  # messages below are checked in English
    person = Browser(client)
    assert person.login("boss").status_code == 303
    return person


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def community_form(**overrides):
    form = {"code": "HP", "name": "和平社区", "name_en": "Heping", "kind": "residential",
            "officer_id": "", "boundary": SQUARE}
    form.update(overrides)
    return form


def test_create_community_with_officer_and_boundary(admin, station):
    officer = make_user(station, Role.OFFICER, username="wang")
    commit()
    response = admin.post("/admin/communities/new", community_form(officer_id=str(officer.id)))
    assert response.status_code == 303
    community = db.session.scalar(select(Community).where(Community.code == "HP"))
    assert community.officer_id == officer.id
    assert json.loads(community.boundary)["type"] == "Polygon"


@pytest.mark.parametrize(("field", "value", "message"), [
    ("boundary", "{not json", "Not a valid GeoJSON polygon"),
    ("boundary", json.dumps({"type": "Point", "coordinates": [117.2, 31.8]}), "Not a valid GeoJSON polygon"),
    ("boundary", json.dumps({"type": "Polygon", "coordinates": [[[1, 2], [3, 4], [5, 6]]]}),
     "Not a valid GeoJSON polygon"),
    ("boundary", json.dumps({"type": "Polygon", "coordinates": [[[500, 2], [3, 4], [5, 6], [500, 2]]]}),
     "Not a valid GeoJSON polygon"),
    ("code", "has space", "Letters, digits"),
    ("code", "", "This field is required"),
    ("name", "x" * 101, "Field cannot be longer than 100 characters"),
    ("kind", "castle", "Not a valid choice"),
    ("officer_id", "99999", "Not a valid choice"),
])
def test_bad_community_input_is_422_and_stores_nothing(admin, field, value, message):
    response = admin.post("/admin/communities/new", community_form(**{field: value}),
                          headers={"HX-Request": "true"}, from_page="/admin/communities/new")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message in body
    assert "<html" not in body  # htmx gets the form fragment back, to swap in place
    assert count(Community) == 0


def test_only_an_officer_can_be_responsible(admin, station):
    volunteer = make_user(station, Role.VOLUNTEER, username="li")
    commit()
    response = admin.post("/admin/communities/new", community_form(officer_id=str(volunteer.id)))
    # The select only offers officers, so a volunteer's id is not even a valid choice.
    assert response.status_code == 422
    assert count(Community) == 0


def test_duplicate_codes_are_refused(admin, station):
    make_community(station, code="HP")
    commit()
    response = admin.post("/admin/communities/new", community_form())
    assert response.status_code == 422
    assert "Already in use" in response.get_data(as_text=True)
    assert count(Community) == 1


def test_htmx_save_navigates_with_hx_redirect(admin):
    response = admin.post("/admin/communities/new", community_form(),
                          headers={"HX-Request": "true"}, from_page="/admin/communities/new")
    assert response.status_code == 200
    community = db.session.scalar(select(Community))
    assert response.headers["HX-Redirect"] == f"/admin/communities/{community.id}"


def test_edit_community_keeps_its_code(admin, station):
    community = make_community(station, code="HP")
    commit()
    response = admin.post(f"/admin/communities/{community.id}",
                          community_form(code="CHANGED", name="和平新社区", boundary=""))
    assert response.status_code == 303
    db.session.refresh(community)
    assert community.code == "HP"
    assert community.name == "和平新社区"
    assert community.boundary is None


def test_grids_belong_to_their_community(admin, station):
    community = make_community(station, code="HP")
    other = make_community(station, code="XX")
    grid = make_grid(other, code="XX-1")
    commit()
    response = admin.post(f"/admin/communities/{community.id}/grids/new",
                          {"code": "HP-1", "name": "一网格", "boundary": SQUARE})
    assert response.status_code == 303
    assert db.session.scalar(select(Grid).where(Grid.code == "HP-1")).community_id == community.id
    # A grid reached through the wrong community is not found.
    assert admin.client.get(f"/admin/communities/{community.id}/grids/{grid.id}").status_code == 404


def user_form(**overrides):
    form = {"username": "new.volunteer", "display_name": "新义警", "title": "楼栋长",
            "phone": "13800000000", "roles": ["volunteer"], "community_id": "", "grid_id": "",
            "in_volunteer_branch": "y", "password": "a long enough password"}
    form.update(overrides)
    return form


def test_create_person_with_several_roles_and_placement(admin, station):
    community = make_community(station)
    grid = make_grid(community)
    commit()
    response = admin.post("/admin/users/new", user_form(
        roles=["volunteer", "mediator"], community_id=str(community.id), grid_id=str(grid.id)))
    assert response.status_code == 303
    user = db.session.scalar(select(User).where(User.username == "new.volunteer"))
    assert user.roles == {Role.VOLUNTEER, Role.MEDIATOR}
    assert (user.community_id, user.grid_id, user.in_volunteer_branch) == (community.id, grid.id, True)
    assert user.check_password("a long enough password")
    # The new person can sign in.
    admin.logout()
    assert admin.login("new.volunteer", "a long enough password").status_code == 303


@pytest.mark.parametrize(("overrides", "message"), [
    ({"roles": []}, "Choose at least one role"),
    ({"roles": ["sheriff"]}, "is not a valid choice"),
    ({"password": "short"}, "Field must be between 10 and 256 characters long"),
    ({"password": ""}, "A new account needs a password"),
    ({"username": "bad name!"}, "Letters, digits"),
    ({"phone": "call me"}, "Digits only"),
    ({"username": "boss"}, "Already in use"),
])
def test_bad_person_input_is_422_and_stores_nothing(admin, overrides, message):
    before = count(User)
    response = admin.post("/admin/users/new", user_form(**overrides))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count(User) == before


def test_grid_must_be_in_the_chosen_community(admin, station):
    one, two = make_community(station), make_community(station)
    grid = make_grid(two)
    commit()
    response = admin.post("/admin/users/new", user_form(community_id=str(one.id), grid_id=str(grid.id)))
    assert response.status_code == 422
    assert "The grid is not in the chosen community" in response.get_data(as_text=True)


def test_disabling_a_person_signs_them_out(make_client, station):
    make_user(station, Role.ADMIN, username="boss")
    target = make_user(station, Role.OFFICER, username="wang")
    commit()
    phone, desk = Browser(make_client()), Browser(make_client())
    phone.login("wang")
    desk.login("boss")
    response = desk.post(f"/admin/users/{target.id}", {
        "display_name": "王", "roles": ["officer"], "community_id": "", "grid_id": "",
        "title": "", "phone": "", "password": ""})  # is_enabled unchecked
    assert response.status_code == 303
    assert phone.client.get("/home/officer").status_code == 302
    assert phone.login("wang").status_code == 422


def test_user_search_filters_as_you_type(admin, station):
    make_user(station, Role.VOLUNTEER, username="zhang.san")
    make_user(station, Role.OFFICER, username="li.si")
    commit()
    rows = admin.client.get("/admin/users?q=zhang", headers={"HX-Request": "true"})
    body = rows.get_data(as_text=True)
    assert rows.status_code == 200 and 'id="user-rows"' in body
    assert "zhang.san" in body and "li.si" not in body
    by_role = admin.client.get("/admin/users?role=officer", headers={"HX-Request": "true"})
    body = by_role.get_data(as_text=True)
    assert "li.si" in body and "zhang.san" not in body


def test_user_list_pages(admin, station):
    for n in range(30):
        make_user(station, Role.VOLUNTEER, username=f"v{n:02d}")
    commit()
    first = admin.client.get("/admin/users?role=volunteer").get_data(as_text=True)
    second = admin.client.get("/admin/users?role=volunteer&page=2").get_data(as_text=True)
    assert "v00" in first and "v29" not in first and "page=2" in first
    assert "v29" in second and "v00" not in second


@pytest.mark.parametrize("role", [r for r in Role if r != Role.ADMIN])
def test_admin_pages_are_for_admins_only(client, station, role):
    community = make_community(station)
    make_user(station, role, username="someone")
    commit()
    person = Browser(client)
    person.login("someone")
    for path in ("/admin/communities", "/admin/users", f"/admin/communities/{community.id}",
                 "/admin/users/new"):
        assert client.get(path).status_code == 403, path
    token = person.token("/account")
    response = client.post("/admin/communities/new", data={**community_form(), "csrf_token": token})
    assert response.status_code == 403
    assert count(Community) == 1


def test_the_roles_boxes_do_not_each_demand_a_tick(admin):
    """A person needs at least one role, not all of them: no role box is `required` in the page
    (a browser would refuse the form until every box was ticked)."""
    page = admin.client.get("/admin/users/new").get_data(as_text=True)
    boxes = re.findall(r'<input [^>]*name="roles"[^>]*>', page)
    assert boxes and not [box for box in boxes if re.search(r"\brequired\b", box)]

"""Roles that open compartments need a second person; every role and password change is audited
(issue 10: an admin could grant themselves the DV task force and read every DV case)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from tests.conftest import Browser
from tests.factories import commit, make_station, make_user
from webapp.audit.models import AuditEntry
from webapp.extensions import db
from webapp.org.models import GrantStatus, Role, RoleGrant, User


@pytest.fixture
def cast(app_ctx, make_client):
    station = make_station()
    people = {name: make_user(station, *roles, username=name) for name, roles in {
        "boss": (Role.ADMIN,), "boss2": (Role.ADMIN,), "sup": (Role.SUPERVISOR,),
        "wang": (Role.OFFICER,)}.items()}
    commit()
    browsers = {}
    for name in people:
        browsers[name] = Browser(make_client())
        browsers[name].client.set_cookie("lang", "en")
        assert browsers[name].login(name).status_code == 303
    return people, browsers


def _user_form(person: User, roles: list[str], **extra) -> dict:
    form = {"display_name": person.display_name, "roles": roles, "is_enabled": "y"}
    form.update(extra)
    return form


def _roles(username: str) -> set[Role]:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username)).roles


def _audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_an_admin_cannot_grant_themselves_the_dv_task_force(cast):
    people, browsers = cast
    boss = people["boss"]
    response = browsers["boss"].post(f"/admin/users/{boss.id}", _user_form(boss, ["admin", "dv_team"]))
    assert response.status_code == 303
    assert Role.DV_TEAM not in _roles("boss")
    grant = db.session.scalar(select(RoleGrant))
    assert (grant.user_id, grant.role, grant.requested_by_id, grant.status) == (
        boss.id, "dv_team", boss.id, "pending")
    assert [json.loads(e.detail)["role"] for e in _audit("role_requested")] == ["dv_team"]
    # Nor approve it: not as the requester, not as the person concerned.
    assert browsers["boss"].post(f"/admin/role-grants/{grant.id}/approve",
                                 from_page="/admin/role-grants").status_code == 403
    assert Role.DV_TEAM not in _roles("boss")


def test_a_supervisor_or_a_second_admin_approves(cast):
    people, browsers = cast
    wang = people["wang"]
    browsers["boss"].post(f"/admin/users/{wang.id}", _user_form(wang, ["officer", "dv_team", "youth_team"]))
    grants = {g.role: g for g in db.session.scalars(select(RoleGrant))}
    assert set(grants) == {"dv_team", "youth_team"}

    page = browsers["sup"].client.get("/admin/role-grants")
    assert page.status_code == 200 and "Approve" in page.get_data(as_text=True)
    for who, home in (("sup", "/home/supervisor"), ("boss2", "/home/admin")):
        assert "Roles waiting for approval" in browsers[who].client.get(home).get_data(as_text=True)

    approve = browsers["sup"].post(f"/admin/role-grants/{grants['dv_team'].id}/approve",
                                   from_page="/admin/role-grants")
    assert approve.status_code == 303
    refuse = browsers["boss2"].post(f"/admin/role-grants/{grants['youth_team'].id}/refuse",
                                    from_page="/admin/role-grants")
    assert refuse.status_code == 303
    assert _roles("wang") == {Role.OFFICER, Role.DV_TEAM}
    db.session.expire_all()
    decided = {g.role: (g.status, g.decided_by_id) for g in db.session.scalars(select(RoleGrant))}
    assert decided == {"dv_team": (GrantStatus.APPROVED, people["sup"].id),
                       "youth_team": (GrantStatus.REFUSED, people["boss2"].id)}
    granted = _audit("role_granted")
    assert len(granted) == 1 and granted[0].actor_id == people["sup"].id
    assert json.loads(granted[0].detail)["requested_by"] == people["boss"].id
    # A decided request cannot be decided again.
    again = browsers["boss2"].post(f"/admin/role-grants/{grants['dv_team'].id}/refuse",
                                   from_page="/admin/role-grants")
    assert again.status_code == 409


def test_officers_cannot_see_or_decide_requests(cast):
    people, browsers = cast
    assert browsers["wang"].client.get("/admin/role-grants").status_code == 403


def test_new_accounts_with_guarded_roles_wait_too(cast):
    _, browsers = cast
    response = browsers["boss"].post("/admin/users/new", {
        "username": "puppet", "display_name": "Sock Puppet", "roles": ["admin", "supervisor"],
        "password": "purple elephant marmalade"})
    assert response.status_code == 303
    assert _roles("puppet") == set()
    assert {g.role for g in db.session.scalars(select(RoleGrant))} == {"admin", "supervisor"}


def test_other_role_changes_apply_at_once_and_are_audited(cast):
    people, browsers = cast
    wang = people["wang"]
    browsers["boss"].post(f"/admin/users/{wang.id}", _user_form(wang, ["mediator"]))
    assert _roles("wang") == {Role.MEDIATOR}
    assert [(json.loads(e.detail)["role"], e.actor_id) for e in _audit("role_added")
            if e.object_id == wang.id and e.actor_id] == [("mediator", people["boss"].id)]
    assert [json.loads(e.detail)["role"] for e in _audit("role_removed")] == ["officer"]


def test_password_changes_are_audited_without_the_password(cast):
    people, browsers = cast
    wang = people["wang"]
    browsers["boss"].post(f"/admin/users/{wang.id}",
                          _user_form(wang, ["officer"], password="tangerine harbour lantern"))
    entries = _audit("password_changed")
    assert [(e.actor_id, e.object_id) for e in entries] == [(people["boss"].id, wang.id)]
    assert "tangerine" not in entries[0].detail


def _inbox(kind: str) -> dict[int, list[str]]:
    """Who has an inbox entry of `kind`, with its text (as the inbox shows it)."""
    from webapp.notify.models import Notification

    db.session.expire_all()
    entries: dict[int, list[str]] = {}
    for entry in db.session.scalars(select(Notification).where(Notification.kind == kind)):
        entries.setdefault(entry.user_id, []).append(entry.text)
    return entries


def test_the_people_concerned_hear_of_role_and_password_changes_in_their_inbox(cast):
    people, browsers = cast
    wang, boss = people["wang"], people["boss"]
    browsers["boss"].post(f"/admin/users/{wang.id}", _user_form(wang, ["officer", "dv_team"]))
    # Those who may decide (never the requester, never the person concerned).
    assert set(_inbox("role_requested")) == {people["sup"].id, people["boss2"].id}
    grant = db.session.scalar(select(RoleGrant))
    browsers["sup"].post(f"/admin/role-grants/{grant.id}/approve", from_page="/admin/role-grants")
    decided = _inbox("role_decided")
    assert set(decided) == {wang.id, boss.id}
    assert all("DV" not in text and "反家暴" not in text for texts in decided.values() for text in texts)

    browsers["boss"].post(f"/admin/users/{wang.id}",
                          _user_form(wang, ["officer", "dv_team"], password="tangerine harbour lantern"))
    changed = _inbox("password_changed")
    assert list(changed) == [wang.id] and "tangerine" not in changed[wang.id][0]


def test_a_password_set_by_an_admin_does_not_hand_them_the_persons_guarded_roles(app_ctx, make_client):
    """An admin who sets a DV task force member's password can sign in as them: the roles that
    open compartments are taken away with that password and wait for a second person."""
    station = make_station()
    boss = make_user(station, Role.ADMIN, username="boss")
    make_user(station, Role.SUPERVISOR, username="sup")
    li = make_user(station, Role.OFFICER, Role.DV_TEAM, Role.YOUTH_TEAM, username="li")
    commit()
    admin = Browser(make_client())
    admin.client.set_cookie("lang", "en")
    assert admin.login("boss").status_code == 303
    response = admin.post(f"/admin/users/{li.id}", _user_form(
        li, ["officer", "dv_team", "youth_team"], password="tangerine harbour lantern"))
    assert response.status_code == 303
    assert "Waiting for a supervisor or a second admin" in admin.client.get(
        response.headers["Location"]).get_data(as_text=True)
    assert _roles("li") == {Role.OFFICER}
    assert {(g.role, g.requested_by_id, g.status) for g in db.session.scalars(select(RoleGrant))} == {
        ("dv_team", boss.id, "pending"), ("youth_team", boss.id, "pending")}
    assert sorted(json.loads(e.detail)["role"] for e in _audit("role_removed")) == ["dv_team", "youth_team"]

    as_li = Browser(make_client())
    assert as_li.login("li", "tangerine harbour lantern").status_code == 303
    # The sealed youth profiles are for the youth team and supervisors only.
    assert as_li.client.get("/youth/").status_code == 403
    # The admin cannot give them back alone; a supervisor (after asking the person) can.
    grants = {g.role: g for g in db.session.scalars(select(RoleGrant))}
    assert admin.post(f"/admin/role-grants/{grants['dv_team'].id}/approve",
                      from_page="/admin/role-grants").status_code == 403
    sup = Browser(make_client())
    assert sup.login("sup").status_code == 303
    assert sup.post(f"/admin/role-grants/{grants['dv_team'].id}/approve",
                    from_page="/admin/role-grants").status_code == 303
    assert _roles("li") == {Role.OFFICER, Role.DV_TEAM}
    assert as_li.client.get("/youth/").status_code == 403


def test_a_password_set_without_guarded_roles_keeps_the_roles(cast):
    people, browsers = cast
    wang = people["wang"]
    browsers["boss"].post(f"/admin/users/{wang.id}",
                          _user_form(wang, ["officer"], password="tangerine harbour lantern"))
    assert _roles("wang") == {Role.OFFICER}
    assert db.session.scalar(select(RoleGrant)) is None

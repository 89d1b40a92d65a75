"""`flask --app wsgi …` commands. `db upgrade` comes from Flask-Migrate."""

from __future__ import annotations

import click
from flask import Flask, current_app
from sqlalchemy import select

from webapp.demo.data import LOGIN_PER_ROLE
from webapp.demo.dv import load_demo_dv
from webapp.demo.experts import load_demo_experts
from webapp.demo.leads import load_demo_leads
from webapp.demo.services import load_demo_station, station_exists
from webapp.demo.youth import load_demo_youth
from webapp.duty.services import on_duty
from webapp.extensions import db
from webapp.leads.deadlines import parse_deadlines
from webapp.ops.cli import backup, restore
from webapp.org import services as org
from webapp.org.labels import role_label
from webapp.org.models import Community, Role
from webapp.timeutil import utcnow


def register_commands(app: Flask) -> None:
    app.cli.add_command(demo)
    app.cli.add_command(user)
    app.cli.add_command(vapid)
    app.cli.add_command(audit)
    app.cli.add_command(backup)
    app.cli.add_command(restore)


@click.group(help="The audit log.")
def audit() -> None:
    pass


@audit.command("verify", help="Check the audit log's hash chain; exits 1 at the first changed, "
                              "deleted or reordered entry.")
def audit_verify() -> None:
    from webapp.audit.anchors import AnchorFileError, anchor_file, read_anchors
    from webapp.audit.services import verify_chain

    path = anchor_file()
    try:
        anchors = {a.seq: a.hash for a in read_anchors(path)} if path else {}
    except AnchorFileError as error:
        click.echo(f"Audit anchors unreadable: {error}", err=True)
        raise SystemExit(2) from error
    report = verify_chain(anchors)
    if not report.intact:
        click.echo(f"Audit log BROKEN: {report.problem} ({report.entries} entries intact before it).",
                   err=True)
        raise SystemExit(1)
    click.echo(f"Audit log intact: {report.entries} entries; head hash {report.head_hash}; "
               f"{len(anchors)} anchors checked")


@audit.command("anchor", help="Copy the chain's head to the anchor file (the job worker does this "
                              "every sweep); prints it, for a log kept elsewhere.")
def audit_anchor() -> None:
    from webapp.audit.anchors import anchor_file, write_anchor

    path = anchor_file()
    if path is None:
        click.echo("Anchoring is off (BEATBOOK_AUDIT_ANCHORS is empty).", err=True)
        raise SystemExit(1)
    anchor = write_anchor(path)
    db.session.commit()
    click.echo(f"Anchored #{anchor.seq} {anchor.hash}" if anchor else "Head unchanged since the last anchor.")


@click.command(help="Show the Web Push (VAPID) public key; generates the key pair in instance/ if none.")
def vapid() -> None:
    keys = current_app.extensions["beatbook_vapid"]
    click.echo(f"VAPID public key (applicationServerKey): {keys.public_key}")
    click.echo("Set VAPID_PRIVATE_KEY (PEM) on every node to share one key pair at scale.")


@click.group(help="The demo station.")
def demo() -> None:
    pass


@demo.command("load", help="Create the demo station (idempotent).")
@click.option("--if-empty", is_flag=True, help="Only when the database has no station yet.")
def demo_load(if_empty: bool) -> None:
    if if_empty and station_exists():
        click.echo("Database already has a station; demo data not loaded.")
        return
    config = current_app.config
    added = load_demo_station(config["BEATBOOK_DEMO_PASSWORD"])
    added["leads"] = load_demo_leads(parse_deadlines(config["BEATBOOK_DEADLINES"]),
                                     config["BEATBOOK_MAX_PHOTO_MB"] * 1024 * 1024)
    added["experts"] = load_demo_experts(org.the_station())  # after the leads: one invitation is to a lead
    added["youth records"] = load_demo_youth()
    added["dv letters"] = load_demo_dv()
    db.session.commit()
    click.echo("Demo station loaded: " + ", ".join(f"{n} {k} added" for k, n in added.items()))


@demo.command("logins", help="Print one demo login per role.")
def demo_logins() -> None:
    password = current_app.config["BEATBOOK_DEMO_PASSWORD"]
    click.echo(f"Demo logins (password for all: {password}):")
    for role, username in LOGIN_PER_ROLE:
        with current_app.test_request_context():
            label = role_label(role)
        click.echo(f"  {username:<12} {role.value:<11} {label}")
    if station_exists():
        # The roster changes at 08:00 and 20:00: a 110 dispute call goes to whoever is on duty, often
        # not the `mediator` above, and a tester signed in as someone else would see nothing arrive.
        mediators = on_duty(org.the_station(), utcnow(), Role.MEDIATOR)
        click.echo("Mediators on duty now (a 110 dispute call goes to the first): "
                   + (", ".join(person.username for person in mediators) or "nobody"))


@click.group(help="Manage people.")
def user() -> None:
    pass


@user.command("create", help="Create a person with one or more roles.")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="Full name shown in the app.")
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice([r.value for r in Role]))
@click.option("--community", "community_code", default=None, help="Community code.")
@click.password_option(help="Prompted when omitted.")
def user_create(username: str, display_name: str, roles: tuple[str, ...],
                community_code: str | None, password: str) -> None:
    station = org.the_station()
    community = None
    if community_code:
        community = db.session.scalar(select(Community).where(Community.code == community_code))
        if community is None:
            raise click.BadParameter(f"no community with code {community_code}")
    try:
        created = org.create_user(station, username=username, display_name=display_name,
                                  password=password, roles={Role(r) for r in roles},
                                  community=community)
    except org.OrgError as error:
        raise click.ClickException(f"{error.field}: {error.message}") from error
    db.session.commit()
    click.echo(f"Created {created.username} ({', '.join(sorted(roles))}).")

"""Back up, wipe, restore: the same rows (every table, every column), the same key and anchor
files, the audit chain intact — on each engine, through the commands an operator runs. And the
refusals that keep a restore from making things worse: a damaged backup, a database with data,
a backup of another schema revision."""

from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask import Flask
from PIL import Image
from sqlalchemy import MetaData, create_engine, select, text

from tests.conftest import ENGINES, _postgres_url
from webapp import create_app
from webapp.dv.models import WarningLetter
from webapp.extensions import db
from webapp.leads.codes import Source
from webapp.leads.deadlines import parse_deadlines
from webapp.leads.models import LeadPhoto
from webapp.leads.services import LeadInput, PartyInput, register_lead
from webapp.org.models import User
from webapp.sync.sealing import seal_keys

# What a station keeps outside its database and cannot rebuild (webapp/ops/backup.py).
KEPT_FILES = ("secret_key", "vapid_private.pem", "seal_private.pem", "audit-anchors.jsonl")


class Databases:
    """New, empty databases on one engine: SQLite files, or PostgreSQL databases of their own
    (a backup is of a whole database, so not the suite's private schema)."""

    def __init__(self, engine: str, directory: Path):
        self.directory = directory
        self.admin = None
        if engine == "postgresql":
            self.admin = create_engine(_postgres_url(), isolation_level="AUTOCOMMIT")
        self.made: list[str] = []

    def new(self) -> str:
        name = f"deploy_test_{os.getpid()}_{secrets.token_hex(4)}"
        self.made.append(name)
        if self.admin is None:
            return f"sqlite:///{self.directory / name}.db"
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        return self.admin.url.set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        """The wipe: the database is gone, not merely emptied."""
        name = url.rsplit("/", 1)[1].removesuffix(".db")
        if self.admin is None:
            Path(url.removeprefix("sqlite:///")).unlink()
        else:
            with self.admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.made.remove(name)

    def drop_all(self) -> None:
        """PostgreSQL's databases outlive the run unless dropped (SQLite's go with the tmp dir)."""
        if self.admin is None:
            return
        for name in list(self.made):
            self.drop(self.admin.url.set(database=name).render_as_string(hide_password=False))
        self.admin.dispose()


def station_app(url: str, instance: Path) -> Flask:
    """The app as a node starts it: its own instance directory (keys generated there on first
    start) and its anchors file in it."""
    previous = os.environ["BEATBOOK_INSTANCE_PATH"]
    os.environ["BEATBOOK_INSTANCE_PATH"] = str(instance)
    try:
        return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": {},
                           "BEATBOOK_PASSWORD_METHOD": "pbkdf2:sha256:1000",
                           "BEATBOOK_AUDIT_ANCHORS": str(instance / "audit-anchors.jsonl")})
    finally:
        os.environ["BEATBOOK_INSTANCE_PATH"] = previous


def run(app: Flask, *args: str):
    with app.app_context():
        result = app.test_cli_runner().invoke(args=list(args))
        db.session.remove()
        db.engine.dispose()  # no connection left open on a database the test drops
    return result


def every_row(app: Flask) -> dict[str, list[tuple]]:
    """Every table the database has (reflected, not our models), every column, in a fixed order."""
    with app.app_context(), db.engine.connect() as connection:
        metadata = MetaData()
        metadata.reflect(connection)
        rows = {name: [tuple(row) for row in connection.execute(select(table).order_by(*table.columns))]
                for name, table in metadata.tables.items()}
    with app.app_context():
        db.engine.dispose()
    return rows


def file_hashes(instance: Path) -> dict[str, str]:
    return {name: hashlib.sha256((instance / name).read_bytes()).hexdigest()
            for name in KEPT_FILES if (instance / name).exists()}


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 140, 200)).save(out, "JPEG")
    return out.getvalue()


def add_leads(app: Flask) -> None:
    """A few leads beyond the demo's, one with a photo (the demo has issued letters, with PDFs)."""
    with app.app_context():
        volunteer = db.session.scalar(select(User).where(User.username == "volunteer"))
        for number in range(3):
            register_lead(volunteer, LeadInput(
                source=Source.VOLUNTEER, category="neighbour", summary=f"楼道堆物争吵 {number}",
                community=volunteer.community, address=f"金桂园3栋20{number}",
                parties=[PartyInput(role="applicant", name="张三", phone=f"1380000000{number}")],
                photos=[photo()] if number == 0 else [],
            ), parse_deadlines(app.config["BEATBOOK_DEADLINES"]), 10_000_000)
        db.session.commit()
        seal_keys()  # the sealing key is generated on first use: make it exist, so it is kept too
        db.session.remove()


@dataclass
class Backup:
    directory: Path
    rows: dict[str, list[tuple]]
    files: dict[str, str]
    databases: Databases
    tmp: Path


@pytest.fixture(scope="module", params=ENGINES)
def backup(request, tmp_path_factory) -> Iterator[Backup]:
    """The demo station (and a photo) backed up, then wiped: its database dropped, its instance
    directory deleted."""
    tmp = tmp_path_factory.mktemp("backup")
    databases = Databases(request.param, tmp)
    try:
        url, instance = databases.new(), tmp / "source-instance"
        app = station_app(url, instance)
        for command in (["db", "upgrade"], ["demo", "load"], ["audit", "anchor"]):
            result = run(app, *command)
            assert result.exit_code == 0, result.output
        add_leads(app)
        rows, files = every_row(app), file_hashes(instance)
        result = run(app, "backup", str(tmp / "backup"))
        assert result.exit_code == 0, result.output
        databases.drop(url)
        shutil.rmtree(instance)
        yield Backup(tmp / "backup", rows, files, databases, tmp)
    finally:
        databases.drop_all()


def fresh_node(backup: Backup, *, upgraded: bool = True) -> tuple[Flask, Path]:
    """A new node on a new, empty database (upgraded, as `flask db upgrade` on deploy leaves it)."""
    instance = backup.tmp / f"instance-{secrets.token_hex(4)}"
    app = station_app(backup.databases.new(), instance)
    if upgraded:
        assert run(app, "db", "upgrade").exit_code == 0
    return app, instance


@pytest.fixture(scope="module")
def empty_node(backup) -> Flask:
    """One new node on a database nothing was ever written to, for the refusals: each must leave it so."""
    app, _ = fresh_node(backup, upgraded=False)
    return app


def test_restore_gives_back_every_row_every_file_and_an_intact_audit_chain(backup):
    assert backup.rows["lead_photo"] and backup.rows["dv_letter"], "the backup must hold a photo and letters"
    assert set(backup.files) == set(KEPT_FILES)
    app, instance = fresh_node(backup)

    result = run(app, "restore", str(backup.directory))

    assert result.exit_code == 0, result.output
    assert every_row(app) == backup.rows
    assert file_hashes(instance) == backup.files
    verified = run(app, "audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert "1 anchors checked" in verified.output
    with app.app_context():  # the photo's and the letters' bytes themselves, against their own hashes
        stored = db.session.scalars(select(LeadPhoto)).one()
        assert hashlib.sha256(stored.data).hexdigest() == stored.sha256
        letters = db.session.scalars(select(WarningLetter).where(WarningLetter.pdf_sha256 != "")).all()
        assert letters
        assert all(hashlib.sha256(letter.pdf).hexdigest() == letter.pdf_sha256 for letter in letters)
        db.session.remove()
    # The database goes on: new rows get new ids (PostgreSQL's sequences came back), audited.
    created = run(app, "user", "create", "newcomer", "--name", "新同事", "--role", "officer",
                  "--password", "river-lantern-97-copper")
    assert created.exit_code == 0, created.output
    assert run(app, "audit", "verify").exit_code == 0


def test_a_damaged_backup_is_refused_before_anything_is_restored(backup):
    damaged = backup.tmp / f"damaged-{secrets.token_hex(4)}"
    shutil.copytree(backup.directory, damaged)
    manifest = json.loads((damaged / "manifest.json").read_text())
    database = next(name for name in manifest["files"] if name.startswith("database."))
    content = bytearray((damaged / database).read_bytes())
    content[len(content) // 2] ^= 0x01  # one bit
    (damaged / database).write_bytes(bytes(content))
    app, instance = fresh_node(backup)
    before = every_row(app)

    result = run(app, "restore", str(damaged))

    assert result.exit_code == 1
    assert f"{database} differs from the manifest" in result.output
    assert every_row(app) == before
    assert not (instance / "audit-anchors.jsonl").exists()


def test_a_database_with_data_is_replaced_only_when_forced(backup):
    app, _ = fresh_node(backup)
    assert run(app, "restore", str(backup.directory)).exit_code == 0
    assert run(app, "user", "create", "newcomer", "--name", "新同事", "--role", "officer",
               "--password", "river-lantern-97-copper").exit_code == 0

    refused = run(app, "restore", str(backup.directory))
    assert refused.exit_code == 1
    assert "the database has data" in refused.output
    assert "newcomer" in str(every_row(app)["user"])

    forced = run(app, "restore", "--force", str(backup.directory))
    assert forced.exit_code == 0, forced.output
    assert every_row(app) == backup.rows


def test_a_backup_of_another_schema_revision_is_refused(backup, empty_node):
    scripts = ScriptDirectory(str(Path(__file__).resolve().parents[2] / "webapp" / "migrations"))
    older = scripts.get_revision(scripts.get_current_head()).down_revision
    app = empty_node
    for revision, message in ((older, "pass --upgrade"), ("0123456789ab", "unknown to this version")):
        edited = backup.tmp / f"revision-{revision}"
        shutil.copytree(backup.directory, edited)
        manifest = json.loads((edited / "manifest.json").read_text())
        (edited / "manifest.json").write_text(json.dumps({**manifest, "revision": revision}))

        result = run(app, "restore", str(edited))

        assert result.exit_code == 1
        assert message in result.output
        assert every_row(app) == {}


def test_an_older_schema_is_restored_and_migrated_when_told(backup):
    """A backup made before the newest migration: refused as it is, restored with --upgrade."""
    scripts = ScriptDirectory(str(Path(__file__).resolve().parents[2] / "webapp" / "migrations"))
    head = scripts.get_current_head()
    older = scripts.get_revision(head).down_revision
    old_node, _ = fresh_node(backup, upgraded=False)
    assert run(old_node, "db", "upgrade", older).exit_code == 0
    old_backup = backup.tmp / f"old-{secrets.token_hex(4)}"
    assert run(old_node, "backup", str(old_backup)).exit_code == 0
    app, _ = fresh_node(backup, upgraded=False)

    assert "pass --upgrade" in run(app, "restore", str(old_backup)).output
    result = run(app, "restore", "--upgrade", str(old_backup))

    assert result.exit_code == 0, result.output
    assert every_row(app)["alembic_version"] == [(head,)]


@pytest.mark.parametrize(("change", "message"), [
    (lambda m: {**m, "files": {**m["files"], "../../escaped": {"sha256": "0" * 64, "bytes": 1}}},
     "never holds: ../../escaped"),
    (lambda m: {**m, "tables": "lead"}, "manifest.json is damaged"),
    (lambda m: {**m, "files": {**m["files"], "audit-anchors.jsonl": "ok"}}, "manifest.json is damaged"),
    (lambda m: [m], "manifest.json is damaged"),
    (lambda m: {**m, "engine": "oracle"}, "names no database file"),
])
def test_a_manifest_naming_other_files_or_of_another_shape_is_refused(backup, empty_node, change, message):
    edited = backup.tmp / f"edited-{secrets.token_hex(4)}"
    shutil.copytree(backup.directory, edited)
    manifest = json.loads((edited / "manifest.json").read_text())
    (edited / "manifest.json").write_text(json.dumps(change(manifest)))

    result = run(empty_node, "restore", str(edited))

    assert result.exit_code == 1
    assert message in result.output
    assert every_row(empty_node) == {}


def test_a_backup_missing_a_file_is_refused(backup, empty_node):
    partial = backup.tmp / f"partial-{secrets.token_hex(4)}"
    shutil.copytree(backup.directory, partial)
    (partial / "instance" / "secret_key").unlink()

    result = run(empty_node, "restore", str(partial))

    assert result.exit_code == 1
    assert "instance/secret_key is missing from the backup" in result.output
    assert every_row(empty_node) == {}

"""Back up the station to a directory, and restore it from one, verified.

A backup directory holds the database (PostgreSQL: `pg_dump -Fc`; SQLite: a copy made with
SQLite's online backup API, so both are consistent while the app runs), the instance files that
cannot be rebuilt, and `manifest.json`: the schema revision, the row count of every table and the
SHA-256 of every file. Restore checks every hash before it touches anything, restores only into
an empty database (unless forced), then checks every table's count and the audit chain.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import current_app
from flask_migrate import upgrade as migrate_upgrade
from sqlalchemy import inspect, text

from webapp.audit.anchors import AnchorFileError, anchor_file, read_anchors
from webapp.audit.services import ChainReport, verify_chain
from webapp.extensions import db
from webapp.timeutil import utcnow

FORMAT = 1
MANIFEST = "manifest.json"
DATABASE_FILES = {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}
ANCHORS_FILE = "audit-anchors.jsonl"
# Generated into instance/ on first start unless given in the environment. Lost, each costs:
INSTANCE_FILES = (
    "secret_key",  # everyone signed out, and every second factor enrolled again (its key derives from it)
    "vapid_private.pem",  # every phone's alerts turned on again (subscriptions are bound to the key)
    "seal_private.pem",  # DV and minor items still queued on phones unreadable (sealed for this key)
)
# Rows `flask db upgrade` writes into an empty database: not data. (A chain head that moved from
# its genesis row has audit entries, which count.)
SEEDED_BY_MIGRATIONS = frozenset({"alembic_version", "audit_chain_head"})
KNOWN_FILES = frozenset({*DATABASE_FILES.values(), ANCHORS_FILE, *(f"instance/{n}" for n in INSTANCE_FILES)})


class BackupError(Exception):
    """A backup cannot be made or restored; the message says why and what to do."""


@dataclass(frozen=True)
class Manifest:
    created_at: str
    engine: str  # "postgresql" or "sqlite"
    revision: str | None  # Alembic's, of the database backed up
    tool_version: str  # pg_dump's (pg_restore must be as new), or SQLite's library
    tables: dict[str, int]  # row count per table
    files: dict[str, dict[str, Any]]  # path in the backup → {"sha256", "bytes"}
    format: int = FORMAT

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


@dataclass(frozen=True)
class RestoreReport:
    manifest: Manifest
    files: list[str]  # instance files and anchors put in place
    kept_aside: list[str]  # files they replaced, renamed beside them
    upgraded_to: str | None  # the code's revision, when the backup was migrated after the restore
    anchors_skipped: bool  # the backup has anchors but BEATBOOK_AUDIT_ANCHORS is off here
    audit: ChainReport


# --- backup ---------------------------------------------------------------------------------------

def make_backup(target: Path) -> Manifest:
    """Back up the database and the instance files into `target` (new or empty)."""
    engine = _engine_name()
    _prepare_directory(target)
    copied = []
    # The anchors before the database: copied first, the newest is never ahead of the chain in the
    # backup (verify would take that for deleted entries).
    anchors = anchor_file()
    if anchors is not None and anchors.exists():
        copied.append(_copy_private(anchors, target, ANCHORS_FILE))
    for name in INSTANCE_FILES:
        source = Path(current_app.instance_path) / name
        if source.exists():
            copied.append(_copy_private(source, target, f"instance/{name}"))
    database = DATABASE_FILES[engine]
    dump = _dump_postgresql if engine == "postgresql" else _copy_sqlite
    revision, tables, tool_version = dump(target / database)
    manifest = Manifest(
        created_at=utcnow().isoformat(), engine=engine, revision=revision, tool_version=tool_version,
        tables=tables, files={name: _describe(target / name) for name in sorted([database, *copied])},
    )
    # The manifest last: a directory without one is an unfinished backup, which restore refuses.
    _write_private(target / MANIFEST, json.dumps(asdict(manifest), indent=2, sort_keys=True) + "\n")
    return manifest


def _prepare_directory(target: Path) -> None:
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} exists and is not an empty directory: a backup never overwrites "
                          "anything; give a new directory")
    # The backup holds the station's secrets: readable by its owner only.
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    target.chmod(0o700)


def _dump_postgresql(path: Path) -> tuple[str | None, dict[str, int], str]:
    pg_dump = _tool("pg_dump")
    client = _tool_version(pg_dump)
    dsn, environment = _libpq()
    with db.engine.connect() as connection:
        # One snapshot for the counts and the dump: pg_dump reads exactly what was counted, while
        # the app goes on writing.
        connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            server = connection.execute(text("SHOW server_version")).scalar_one()
            if _major(client) < _major(server):
                raise BackupError(f"pg_dump {client} cannot dump a PostgreSQL {server} server: install "
                                  f"the client of version {_major(server)} or newer")
            snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            revision, tables = _contents(inspect(connection).get_table_names(),
                                         lambda sql: connection.execute(text(sql)).scalar())
            _run([pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={path}", f"--dbname={dsn}"],
                 environment)
    path.chmod(0o600)
    return revision, tables, client


def _copy_sqlite(path: Path) -> tuple[str | None, dict[str, int], str]:
    live = db.engine.raw_connection()
    try:
        with closing(sqlite3.connect(path)) as copy:
            live.driver_connection.backup(copy)  # the online backup API: a consistent copy, writers go on
            # One self-contained file (no -wal beside it), readable without writing next to it.
            copy.execute("PRAGMA journal_mode=DELETE")
    finally:
        live.close()
    path.chmod(0o600)
    with closing(_open_read_only(path)) as copy:
        revision, tables = _contents(_sqlite_tables(copy), lambda sql: copy.execute(sql).fetchone()[0])
    return revision, tables, sqlite3.sqlite_version


# --- restore --------------------------------------------------------------------------------------

def read_manifest(source: Path) -> Manifest:
    path = source / MANIFEST
    if not path.is_file():
        raise BackupError(f"{source} has no {MANIFEST}: not a Beatbook backup")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        manifest = Manifest(**raw)
        _check_shape(manifest)
    except (ValueError, TypeError) as error:
        raise BackupError(f"{path} is damaged: {error}") from error
    if manifest.format != FORMAT:
        raise BackupError(f"{path} is of format {manifest.format}; this version reads format {FORMAT}")
    if manifest.engine not in DATABASE_FILES or DATABASE_FILES[manifest.engine] not in manifest.files:
        raise BackupError(f"{path} names no database file for engine {manifest.engine!r}")
    unknown = set(manifest.files) - KNOWN_FILES
    if unknown:
        raise BackupError(f"{path} lists files a Beatbook backup never holds: {', '.join(sorted(unknown))}")
    return manifest


def _check_shape(manifest: Manifest) -> None:
    texts = (manifest.created_at, manifest.engine, manifest.tool_version)
    if not all(isinstance(value, str) for value in texts) or not isinstance(manifest.revision, str | None):
        raise TypeError("a date, engine, revision or version is not text")
    if not isinstance(manifest.tables, dict) or not all(
            isinstance(name, str) and type(count) is int for name, count in manifest.tables.items()):
        raise TypeError("tables must map each table to its row count")
    entries = manifest.files.values() if isinstance(manifest.files, dict) else None
    if entries is None or not all(isinstance(e, dict) and set(e) == {"sha256", "bytes"} for e in entries):
        raise TypeError("files must give each file's sha256 and bytes")


def restore_backup(source: Path, *, force: bool = False, upgrade: bool = False) -> RestoreReport:
    """Restore `source` into this app's database and instance; raise BackupError before changing
    anything when the backup is damaged, of another engine or schema, or the database has data."""
    manifest = read_manifest(source)
    engine = _engine_name()
    if manifest.engine != engine:
        raise BackupError(f"the backup is of a {manifest.engine} database and DATABASE_URL is {engine}: "
                          "restore into the same engine")
    for name, expected in manifest.files.items():
        found = _describe(source / name)
        if found is None:
            raise BackupError(f"{name} is missing from the backup; nothing was restored")
        if found != expected:
            raise BackupError(f"{name} differs from the manifest (SHA-256 or size): the backup is damaged; "
                              "nothing was restored")
    needs_upgrade = _check_revision(manifest.revision, upgrade)
    _check_target(manifest, force)

    db.session.remove()
    db.engine.dispose()  # no pooled connection survives into the restored database
    database = source / DATABASE_FILES[engine]
    if engine == "postgresql":
        _restore_postgresql(database, manifest)
    else:
        _restore_sqlite(database)
    db.engine.dispose()
    with db.engine.connect() as connection:
        _, restored = _contents(inspect(connection).get_table_names(),
                                lambda sql: connection.execute(text(sql)).scalar())
    if restored != manifest.tables:
        wrong = sorted(n for n in manifest.tables.keys() | restored.keys()
                       if manifest.tables.get(n) != restored.get(n))
        raise BackupError(f"the restored database differs from the manifest in: {', '.join(wrong)}")

    files, kept_aside, anchors_skipped = _restore_files(source, manifest)
    upgraded_to = None
    if needs_upgrade:
        migrate_upgrade()
        upgraded_to = _code_head()
    return RestoreReport(manifest=manifest, files=files, kept_aside=kept_aside, upgraded_to=upgraded_to,
                         anchors_skipped=anchors_skipped, audit=_verify_audit())


def _check_revision(revision: str | None, upgrade: bool) -> bool:
    """True when the backup must be migrated after the restore; raises when it cannot be restored."""
    head = _code_head()
    if revision == head:
        return False
    try:
        known = revision is not None and _scripts().get_revision(revision) is not None
    except CommandError:
        known = False
    if not known:
        raise BackupError(f"the backup's schema revision {revision} is unknown to this version of Beatbook "
                          f"(at {head}); restore it with the version that made it")
    if not upgrade:
        raise BackupError(f"the backup's schema revision {revision} is older than this code's {head}: "
                          "pass --upgrade to migrate it after the restore")
    return True


def _check_target(manifest: Manifest, force: bool) -> None:
    with db.engine.connect() as connection:
        names = inspect(connection).get_table_names()
        _, present = _contents(names, lambda sql: connection.execute(text(sql)).scalar())
    # The app's own tables only: an engine's index tables (SQLite FTS5's lead_search_fts_config…)
    # hold rows from the moment a migration creates them.
    with_rows = sorted(n for n, count in present.items()
                       if count and n in db.metadata.tables and n not in SEEDED_BY_MIGRATIONS)
    if with_rows and not force:
        raise BackupError(f"the database has data ({', '.join(with_rows[:5])}…): restore into an empty "
                          "database, or pass --force to replace it (stop every node and worker first)")
    foreign = sorted(set(present) - set(manifest.tables))
    if foreign:
        # A restore replaces the tables it brings; others would be left in a mixed schema.
        raise BackupError(f"the database has tables the backup does not ({', '.join(foreign[:5])}): "
                          "restore into a new, empty database")


def _restore_postgresql(dump: Path, manifest: Manifest) -> None:
    pg_restore = _tool("pg_restore")
    client = _tool_version(pg_restore)
    if _major(client) < _major(manifest.tool_version):
        raise BackupError(f"pg_restore {client} cannot read a dump of pg_dump {manifest.tool_version}: "
                          f"install the client of version {_major(manifest.tool_version)} or newer")
    dsn, environment = _libpq()
    # One transaction: a failed restore leaves the database as it was. --clean drops what the dump
    # brings (an upgraded empty schema, or the data --force replaces); owners and grants are the
    # restoring role's.
    _run([pg_restore, "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
          "--exit-on-error", f"--dbname={dsn}", str(dump)], environment)


def _restore_sqlite(copy: Path) -> None:
    live = db.engine.raw_connection()
    try:
        with closing(_open_read_only(copy)) as source:
            source.backup(live.driver_connection)  # replaces every page of the live database
    finally:
        live.close()


def _restore_files(source: Path, manifest: Manifest) -> tuple[list[str], list[str], bool]:
    placed, kept_aside, anchors_skipped = [], [], False
    for name in sorted(manifest.files):
        if name == ANCHORS_FILE:
            destination = anchor_file()
            if destination is None:
                anchors_skipped = True
                continue
        elif name.startswith("instance/"):
            destination = Path(current_app.instance_path) / name.removeprefix("instance/")
        else:
            continue  # the database, restored above
        replaced = _replace_private(source / name, destination)
        placed.append(name)
        if replaced:
            kept_aside.append(str(replaced))
    return placed, kept_aside, anchors_skipped


def _replace_private(source: Path, destination: Path) -> Path | None:
    """Put `source` at `destination`; a different file there is renamed aside (returned)."""
    aside = None
    if destination.exists():
        if _describe(destination) == _describe(source):
            return None
        # Kept, not overwritten: an anchor file is evidence, and a key may be someone's only copy.
        aside = destination.with_name(f"{destination.name}.replaced-{utcnow():%Y%m%dT%H%M%SZ}")
        destination.rename(aside)
    destination.parent.mkdir(parents=True, exist_ok=True)
    _write_private(destination, source.read_bytes())
    return aside


def _verify_audit() -> ChainReport:
    path = anchor_file()
    try:
        anchors = {a.seq: a.hash for a in read_anchors(path)} if path else {}
    except AnchorFileError as error:
        raise BackupError(f"the restored audit anchors are unreadable: {error}") from error
    report = verify_chain(anchors)
    db.session.remove()
    return report


# --- shared ---------------------------------------------------------------------------------------

def _engine_name() -> str:
    name = db.engine.url.get_backend_name()
    if name not in DATABASE_FILES:
        raise BackupError(f"backups support PostgreSQL and SQLite, not {name}")
    return name


def _contents(names: list[str], scalar: Callable[[str], Any]) -> tuple[str | None, dict[str, int]]:
    """The schema revision and every table's row count."""
    tables = {name: int(scalar(f'SELECT count(*) FROM "{name.replace(chr(34), chr(34) * 2)}"'))
              for name in sorted(names)}
    revision = scalar("SELECT version_num FROM alembic_version") if "alembic_version" in tables else None
    return revision, tables


def _sqlite_tables(connection: sqlite3.Connection) -> list[str]:
    rows = connection.execute("SELECT name FROM sqlite_master "
                              "WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    return [name for (name,) in rows]


def _open_read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def _scripts() -> ScriptDirectory:
    return ScriptDirectory(current_app.extensions["migrate"].directory)


def _code_head() -> str:
    return _scripts().get_current_head()


def _libpq() -> tuple[str, dict[str, str]]:
    """DATABASE_URL for pg_dump and pg_restore; the password in the environment, not in `ps`."""
    url = db.engine.url
    environment = dict(os.environ)
    if url.password:
        environment["PGPASSWORD"] = str(url.password)
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False), environment


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} not found: install the PostgreSQL client (Debian: postgresql-client)")
    return found


def _tool_version(tool: str) -> str:
    output = _run([tool, "--version"], None)  # "pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)"
    match = re.search(r"\) (\d+(?:\.\d+)*)", output)
    if match is None:
        raise BackupError(f"cannot read the version of {tool}: {output.strip()}")
    return match.group(1)


def _major(version: str) -> int:
    return int(re.match(r"\d+", version).group())


def _run(command: list[str], environment: dict[str, str] | None) -> str:
    done = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def _copy_private(source: Path, target: Path, name: str) -> str:
    destination = target / name
    destination.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    _write_private(destination, source.read_bytes())
    return name


def _write_private(path: Path, content: bytes | str) -> None:
    data = content.encode() if isinstance(content, str) else content
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _describe(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"sha256": digest.hexdigest(), "bytes": path.stat().st_size}

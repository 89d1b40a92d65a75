"""Flask extensions, created unbound and initialised in `create_app`."""

from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar

from flask_babel import Babel
from flask_compress import Compress
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from htmx_flask import Htmx
from sqlalchemy import MetaData, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import DeclarativeBase

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every model (SQLAlchemy 2.0 typed mappings)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
htmx = Htmx()
# Phones on weak links: HTML, CSS and JS go out compressed (the 40 KB first-visit budget).
compress = Compress()


def take_write_lock() -> None:
    """On SQLite, start this unit of work holding the write lock.

    A transaction that reads first and writes later (as a sync item does inside its savepoint)
    cannot upgrade its lock once another writer has committed: SQLite fails it at once. A no-op
    write first makes the driver BEGIN IMMEDIATE, so concurrent writers queue instead. PostgreSQL
    needs nothing: its row locks and unique constraints do this work.
    """
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("UPDATE station SET id = id WHERE 0"))


def insert_for(dialect_name: str):
    """`insert` of this database, with ON CONFLICT: PostgreSQL's and SQLite's share that API, so the
    atomic "make it once" rows (counters, throttles, inbox entries) are one statement on both."""
    return pg_insert if dialect_name == "postgresql" else sqlite_insert


# --- one flush for many records -------------------------------------------------------------------
# A service that adds a record and must then tell others about it (who need its id) calls
# `once_flushed`. Alone (a page), that flushes and announces at once. Inside `staged` (a /sync
# batch), the announcement waits, so the batch's records are written by one flush
# (docs/architecture.md, "Sync in bulk").
_WAITING: ContextVar[list[Callable[[], None]] | None] = ContextVar("beatbook_waiting", default=None)


def once_flushed(announce: Callable[[], None]) -> None:
    """Run `announce` once what was added so far is flushed: now, or at the batch's one flush."""
    waiting = _WAITING.get()
    if waiting is None:
        db.session.flush()
        announce()
    else:
        waiting.append(announce)


def is_staging() -> bool:
    """Is a batch being staged (added records wait for the batch's one flush)?"""
    return _WAITING.get() is not None


@contextmanager
def staged(waiting: list[Callable[[], None]]):
    """Add records without flushing them; their announcements are appended to `waiting`."""
    token = _WAITING.set(waiting)
    try:
        with db.session.no_autoflush:
            yield
    finally:
        _WAITING.reset(token)


# Rows many announcements make (inbox entries) are gathered while a batch announces what it made,
# and written by one statement per kind at the end (`gathering`).
_GATHERED: ContextVar[dict[str, tuple[list, Callable[[list], object]]] | None] = ContextVar(
    "beatbook_gathered", default=None)


def gathered(key: str, rows: list, write: Callable[[list], object]) -> bool:
    """Inside `gathering`, keep `rows` to be written with the others by `write` (True); else False."""
    batch = _GATHERED.get()
    if batch is None:
        return False
    batch.setdefault(key, ([], write))[0].extend(rows)
    return True


@contextmanager
def gathering():
    batch: dict[str, tuple[list, Callable[[list], object]]] = {}
    token = _GATHERED.set(batch)
    try:
        yield
    finally:
        _GATHERED.reset(token)
    for rows, write in batch.values():
        write(rows)

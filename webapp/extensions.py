"""Flask extensions, created unbound and initialised in `create_app`."""

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

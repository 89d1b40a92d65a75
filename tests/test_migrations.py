"""`db upgrade` on an empty database must produce exactly the models: no drift."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from webapp.extensions import db


def _drift():
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_upgrade_matches_the_models(app_ctx):
    assert _drift() == []


def test_downgrade_then_upgrade_round_trips(app_ctx):
    downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()
    assert _drift() == []
    assert {"user", "community", "grid", "station"} <= set(inspect(db.engine).get_table_names())

"""`db upgrade` on an empty database must produce exactly the models: no drift."""

import re

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select, text

from webapp.extensions import db
from webapp.leads import search
from webapp.leads.models import Lead
from webapp.leads.search import outside_the_models


def _drift():
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": outside_the_models})
        return compare_metadata(context, db.metadata)


def test_upgrade_matches_the_models(app_ctx):
    assert _drift() == []


def test_downgrade_then_upgrade_round_trips(app_ctx):
    downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()
    assert _drift() == []
    assert {"user", "community", "grid", "station"} <= set(inspect(db.engine).get_table_names())


NOTIFICATIONS = text("SELECT id, user_id, subject_kind, subject_id, link, text FROM notification ORDER BY id")


def test_notifications_keep_subject_link_and_text_across_the_subject_migration(app_ctx):
    """b7c3e1a9d2f4 turned notification.lead_id into subject + link + text: existing rows (here the
    demo station's) must come back saying what they said, in each reader's language."""
    app_ctx.test_cli_runner().invoke(args=["demo", "load"])
    # Notices about later record kinds (dispatches, invitations, mediation cases) have no lead_id to go
    # back to.
    db.session.execute(text("DELETE FROM notification WHERE subject_kind != 'lead'"))
    db.session.commit()
    before = db.session.execute(NOTIFICATIONS).all()
    assert before and {row.subject_kind for row in before} == {"lead"}
    reader = before[0].user_id
    db.session.execute(text('UPDATE "user" SET locale = \'en\' WHERE id = :id'), {"id": reader})
    db.session.commit()
    db.session.remove()

    downgrade(revision="4651c056fc6a")
    with db.engine.connect() as connection:
        lead_ids = dict(connection.execute(text("SELECT id, lead_id FROM notification")).all())
    assert lead_ids == {row.id: row.subject_id for row in before}
    upgrade()

    after = db.session.execute(NOTIFICATIONS).all()
    assert [(r.id, r.subject_kind, r.subject_id, r.link) for r in after] == [
        (r.id, "lead", r.subject_id, f"/leads/{r.subject_id}") for r in before]
    for old, new in zip(before, after, strict=True):
        if new.user_id == reader:
            assert new.text == f"Lead #{new.subject_id} — open Beatbook to see it."
        else:
            assert new.text == old.text  # the migration writes what the app wrote (zh-CN)
    assert _drift() == []


SEARCH_ROWS = text("SELECT lead_id, CAST(grams AS TEXT) FROM lead_search ORDER BY lead_id")


def test_the_word_search_migration_indexes_the_leads_already_there(app_ctx):
    """6d2f9c41a8e3 backfills the word index for existing leads (here the demo station's): the rows
    are those the app writes for a new lead, and a search through the index finds every lead."""
    app_ctx.test_cli_runner().invoke(args=["demo", "load"])
    written = db.session.execute(SEARCH_ROWS).all()
    leads = db.session.execute(select(Lead.id, Lead.summary)).all()
    assert written and [row[0] for row in written] == sorted(lead.id for lead in leads)
    db.session.remove()

    downgrade(revision="38a0df49ece5")
    assert "lead_search" not in inspect(db.engine).get_table_names()
    upgrade()

    assert db.session.execute(SEARCH_ROWS).all() == written
    dialect = db.engine.dialect.name
    for lead in leads:
        word = re.search(r"[^\W_]{2}", lead.summary).group()
        assert lead.id in set(db.session.scalars(search.candidates(word, dialect))), (lead.id, word)

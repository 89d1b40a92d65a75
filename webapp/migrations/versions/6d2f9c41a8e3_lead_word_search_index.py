"""lead word search: each lead's characters and character pairs (and number, reference, uuid), indexed

Revision ID: 6d2f9c41a8e3
Revises: 38a0df49ece5
Create Date: 2026-11-30 18:05:00.000000

"""
import re

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '6d2f9c41a8e3'
down_revision = '38a0df49ece5'
branch_labels = None
depends_on = None

BATCH = 5000
# The tokens as webapp/leads/search.py made them at this revision. A migration keeps its own copy:
# what it backfills must not change when the app's code later does.
_RUN = re.compile(r"[^\W_]+")


def _runs(text: str) -> list:
    return _RUN.findall((text or "").casefold())


def _grams(lead_id: int, summary: str, address: str, source_ref: str, uuid: str) -> str:
    tokens = {token for token in (str(lead_id), "".join(_runs(source_ref)), "".join(_runs(uuid))) if token}
    for text in (summary, address):
        for run in _runs(text):
            tokens.update(run)
            tokens.update(run[start:start + 2] for start in range(len(run) - 1))
    return " ".join(sorted(tokens))


def upgrade():
    op.create_table(
        'lead_search',
        sa.Column('lead_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('grams', sa.Text().with_variant(postgresql.TSVECTOR(), 'postgresql'), nullable=False),
        sa.ForeignKeyConstraint(['lead_id'], ['lead.id'], name=op.f('fk_lead_search_lead_id_lead'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('lead_id', name=op.f('pk_lead_search')),
    )
    _backfill()
    # The indexes come after the rows: one build instead of an insertion per lead.
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE INDEX ix_lead_search_grams ON lead_search USING gin (grams)')
        # Its lookups are small (a rare word's few hundred ids, or probes by lead id): a parallel plan
        # took 80-170 ms to start its workers on a busy machine for 1-2 ms of work (bench/README.md).
        op.execute('ALTER TABLE lead_search SET (parallel_workers = 0)')
        op.execute('ANALYZE lead_search')  # the planner weighs a word's frequency from these statistics
        return
    # SQLite: an FTS5 index over lead_search's own rows (external content), kept in step by triggers.
    # The `ascii` tokenizer takes each of our tokens whole: it splits only on ASCII non-alphanumerics.
    op.execute("CREATE VIRTUAL TABLE lead_search_fts USING fts5("
               "grams, content='lead_search', content_rowid='lead_id', tokenize='ascii')")
    op.execute("INSERT INTO lead_search_fts(lead_search_fts) VALUES ('rebuild')")
    op.execute("CREATE TRIGGER lead_search_fts_insert AFTER INSERT ON lead_search BEGIN "
               "INSERT INTO lead_search_fts(rowid, grams) VALUES (new.lead_id, new.grams); END")
    op.execute("CREATE TRIGGER lead_search_fts_delete AFTER DELETE ON lead_search BEGIN "
               "INSERT INTO lead_search_fts(lead_search_fts, rowid, grams) "
               "VALUES ('delete', old.lead_id, old.grams); END")
    op.execute("CREATE TRIGGER lead_search_fts_update AFTER UPDATE ON lead_search BEGIN "
               "INSERT INTO lead_search_fts(lead_search_fts, rowid, grams) "
               "VALUES ('delete', old.lead_id, old.grams); "
               "INSERT INTO lead_search_fts(rowid, grams) VALUES (new.lead_id, new.grams); END")


def _backfill():
    bind = op.get_bind()
    lead = sa.table('lead', sa.column('id', sa.Integer), sa.column('summary', sa.Text),
                    sa.column('address', sa.String), sa.column('source_ref', sa.String),
                    sa.column('uuid', sa.String))
    grams = sa.column('grams', sa.Text)
    if bind.dialect.name == 'postgresql':
        grams = sa.column('grams', postgresql.TSVECTOR)
    search = sa.table('lead_search', sa.column('lead_id', sa.Integer), grams)
    last = 0
    while True:
        rows = bind.execute(sa.select(lead.c.id, lead.c.summary, lead.c.address, lead.c.source_ref,
                                      lead.c.uuid).where(lead.c.id > last).order_by(lead.c.id).limit(BATCH)).all()
        if not rows:
            return
        bind.execute(search.insert(), [{'lead_id': row[0], 'grams': _grams(*row)} for row in rows])
        last = rows[-1].id


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        for trigger in ('insert', 'delete', 'update'):
            op.execute(f'DROP TRIGGER lead_search_fts_{trigger}')
        op.execute('DROP TABLE lead_search_fts')
    op.drop_table('lead_search')

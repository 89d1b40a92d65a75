"""notifications about any subject: subject kind + id, link and text instead of lead_id

Revision ID: b7c3e1a9d2f4
Revises: 4651c056fc6a
Create Date: 2026-11-30 09:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7c3e1a9d2f4'
down_revision = '4651c056fc6a'
branch_labels = None
depends_on = None

# Existing rows were all about leads; their text is what the push used to make, in the
# person's language (English for "en", else the default zh-CN).
_LEAD_ID = "CAST(lead_id AS VARCHAR(20))"
_FILL = f"""
UPDATE notification SET
  subject_kind = 'lead',
  subject_id = lead_id,
  link = '/leads/' || {_LEAD_ID},
  text = CASE WHEN (SELECT u.locale FROM "user" u WHERE u.id = notification.user_id) = 'en'
              THEN 'Lead #' || {_LEAD_ID} || ' — open Beatbook to see it.'
              ELSE '线索 #' || {_LEAD_ID} || ' — 请打开枫桥警务通查看。' END
WHERE lead_id IS NOT NULL
"""


def upgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject_kind', sa.String(length=32), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('subject_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('link', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('text', sa.String(length=200), nullable=False, server_default=''))
    op.execute(_FILL)
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_constraint('fk_notification_lead_id_lead', type_='foreignkey')
        batch_op.drop_column('lead_id')
        batch_op.create_index('ix_notification_subject', ['subject_kind', 'subject_id'], unique=False)


def downgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lead_id', sa.Integer(), nullable=True))
    op.execute("UPDATE notification SET lead_id = subject_id WHERE subject_kind = 'lead'")
    # A notification about anything else had no place before: it goes.
    op.execute("DELETE FROM notification WHERE subject_kind NOT IN ('lead', '')")
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_foreign_key('fk_notification_lead_id_lead', 'lead', ['lead_id'], ['id'],
                                    ondelete='CASCADE')
        batch_op.drop_index('ix_notification_subject')
        batch_op.drop_column('text')
        batch_op.drop_column('link')
        batch_op.drop_column('subject_id')
        batch_op.drop_column('subject_kind')

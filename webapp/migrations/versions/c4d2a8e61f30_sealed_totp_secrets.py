"""sealed TOTP secrets: second-factor secrets stored encrypted (AES-GCM, key from SECRET_KEY)

Secrets enrolled before this revision are sealed in place with the running app's SECRET_KEY.

Revision ID: c4d2a8e61f30
Revises: 771f60baedd4
Create Date: 2026-11-30 12:15:00

"""
from alembic import op
import sqlalchemy as sa
from flask import current_app

from webapp.auth.totp import SEALED_PREFIX, open_secret, seal_secret

# revision identifiers, used by Alembic.
revision = 'c4d2a8e61f30'
down_revision = '771f60baedd4'
branch_labels = None
depends_on = None

users = sa.table('user', sa.column('id', sa.Integer), sa.column('totp_secret', sa.String))


def _rewrite(change) -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(users.c.id, users.c.totp_secret)
                              .where(users.c.totp_secret.is_not(None))).all()
    for user_id, stored in rows:
        connection.execute(users.update().where(users.c.id == user_id)
                           .values(totp_secret=change(user_id, stored)))


def _resize(old: int, new: int) -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column('user', 'totp_secret', existing_type=sa.String(length=old),
                        type_=sa.String(length=new), existing_nullable=True)
        return
    # SQLite cannot change a column's type, and a batch copy of `user` trips the foreign keys
    # pointing at it: swap in a new column instead (native ADD/DROP/RENAME COLUMN).
    op.execute(f'ALTER TABLE "user" ADD COLUMN totp_secret_resized VARCHAR({new})')
    op.execute('UPDATE "user" SET totp_secret_resized = totp_secret')
    op.execute('ALTER TABLE "user" DROP COLUMN totp_secret')
    op.execute('ALTER TABLE "user" RENAME COLUMN totp_secret_resized TO totp_secret')


def upgrade():
    _resize(64, 128)
    key = current_app.config["SECRET_KEY"]
    _rewrite(lambda user_id, stored: stored if stored.startswith(SEALED_PREFIX)
             else seal_secret(stored, user_id, key))


def downgrade():
    key = current_app.config["SECRET_KEY"]
    _rewrite(lambda user_id, stored: open_secret(stored, user_id, key) if stored.startswith(SEALED_PREFIX)
             else stored)
    _resize(128, 64)

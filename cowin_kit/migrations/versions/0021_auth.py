"""captcha challenges: the captcha of auth/getRecaptcha an account must answer to book

Revision ID: 0021_auth
Revises: 0020_rollup_indexes
Create Date: 2026-12-10 01:00:00

One row per account at most (a new captcha replaces the previous one), with a keyed hash of
the answer, its expiry, its tries and when it was used (cowin_kit.accounts.captcha).
"""
import sqlalchemy as sa
from alembic import op

import cowin_kit.db

revision = '0021_auth'
down_revision = '0020_rollup_indexes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'captcha_challenge',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('answer_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', cowin_kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', cowin_kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('used_at', cowin_kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['citizen_account.id'],
                                name=op.f('fk_captcha_challenge_account_id_citizen_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_captcha_challenge')))
    with op.batch_alter_table('captcha_challenge', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_captcha_challenge_account_id'), ['account_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('captcha_challenge', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_captcha_challenge_account_id'))
    op.drop_table('captcha_challenge')

"""audit source; rate-limit counters

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 12:00:00

audit_event.source records where each action came from (the client's address, or
cli:<OS user>). rate_limit_counter holds the fixed windows of the rate limits when they are
counted in the database (RATE_LIMIT_STORAGE=database), so every worker and machine counts
together without Redis.
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=64), nullable=True))

    op.create_table('rate_limit_counter',
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_limit_counter'))
    )


def downgrade():
    op.drop_table('rate_limit_counter')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_column('source')

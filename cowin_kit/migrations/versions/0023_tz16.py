"""tz16: a division's own time zone

Revision ID: 0023_tz16
Revises: 0022_search
Create Date: 2026-12-06 07:30:00

Countries of several time zones (Canada, Mexico) give a level-1 division its own zone in the
profile ([divisions.timezones]); `init` copies it here. A centre's "today", slot ends and
no-shows follow the nearest division's zone, else the deployment's.
"""
import sqlalchemy as sa
from alembic import op

revision = '0023_tz16'
down_revision = '0022_search'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('division') as batch:
        batch.add_column(sa.Column('timezone', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('division') as batch:
        batch.drop_column('timezone')

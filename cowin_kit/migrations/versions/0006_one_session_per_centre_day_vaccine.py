"""one session per centre, day and vaccine

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 12:20:00

The staff form and the imports already keep to it; the constraint also holds against two
requests at the same moment (PostgreSQL runs them in parallel).
"""
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('vaccination_session', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_vaccination_session_facility_id',
                                          ['facility_id', 'date', 'product_id'])


def downgrade():
    with op.batch_alter_table('vaccination_session', schema=None) as batch_op:
        batch_op.drop_constraint('uq_vaccination_session_facility_id', type_='unique')

"""rollups: doses by area, day, product, dose number, age band and gender; division population

Revision ID: 0018_rollups
Revises: 0017_issuer
Create Date: 2026-12-06 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0018_rollups'
down_revision = '0017_issuer'
branch_labels = None
depends_on = None

_KEY = ('division_id', 'facility_id', 'product_id', 'dose_number', 'age_band', 'gender')


def _columns(with_day: bool):
    cols = [sa.Column('division_id', sa.Integer(), nullable=False),
            sa.Column('facility_id', sa.Integer(), nullable=False)]
    if with_day:
        cols.append(sa.Column('day', sa.Date(), nullable=False))
    cols += [sa.Column('product_id', sa.Integer(), nullable=False),
             sa.Column('dose_number', sa.Integer(), nullable=False),
             sa.Column('age_band', sa.Integer(), nullable=False),
             sa.Column('gender', sa.String(length=20), nullable=False),
             sa.Column('doses', sa.Integer(), nullable=False)]
    return cols


def upgrade():
    # Existing doses start uncounted (NULL): the worker's first fold counts them.
    with op.batch_alter_table('dose') as batch:
        batch.add_column(sa.Column('rollup_batch', sa.Integer(), nullable=True))
        batch.create_index('ix_dose_rollup_batch', ['rollup_batch'])
    with op.batch_alter_table('division') as batch:
        batch.add_column(sa.Column('population', sa.BigInteger(), nullable=True))
    op.create_table('dose_rollup', *_columns(True),
                    sa.PrimaryKeyConstraint('division_id', 'facility_id', 'day', *_KEY[2:],
                                            name='pk_dose_rollup'))
    op.create_table('dose_rollup_total', *_columns(False),
                    sa.PrimaryKeyConstraint(*_KEY, name='pk_dose_rollup_total'))
    state = op.create_table(
        'rollup_state',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('last_batch', sa.Integer(), nullable=False),
        sa.Column('folded_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('rebuilt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('age_bands', sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint('id', name='pk_rollup_state'))
    op.bulk_insert(state, [{'id': 1, 'last_batch': 0}])


def downgrade():
    op.drop_table('rollup_state')
    op.drop_table('dose_rollup_total')
    op.drop_table('dose_rollup')
    with op.batch_alter_table('division') as batch:
        batch.drop_column('population')
    with op.batch_alter_table('dose') as batch:
        batch.drop_index('ix_dose_rollup_batch')
        batch.drop_column('rollup_batch')

"""report exports: officials' reports exported as CSV by the worker, with their progress

Revision ID: 0019_report_exports
Revises: 0018_rollups
Create Date: 2026-12-06 12:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0019_report_exports'
down_revision = '0018_rollups'
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        'report_export',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('division_id', sa.Integer(), nullable=True),
        sa.Column('facility_id', sa.Integer(), nullable=True),
        sa.Column('requested_by', sa.Integer(), nullable=True),
        sa.Column('rows_done', sa.Integer(), nullable=False),
        sa.Column('rows_total', sa.Integer(), nullable=True),
        sa.Column('bytes_done', sa.Integer(), nullable=False),
        sa.Column('file_name', sa.String(length=80), nullable=True),
        sa.Column('error', sa.String(length=200), nullable=True),
        sa.Column('claimed_until', UTC, nullable=True),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('finished_at', UTC, nullable=True),
        sa.CheckConstraint("kind IN ('utilisation', 'adverse_events', 'coverage')",
                           name=op.f('ck_report_export_kind')),
        sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')",
                           name=op.f('ck_report_export_status')),
        sa.ForeignKeyConstraint(['division_id'], ['division.id'],
                                name=op.f('fk_report_export_division_id_division')),
        sa.ForeignKeyConstraint(['facility_id'], ['facility.id'],
                                name=op.f('fk_report_export_facility_id_facility')),
        sa.ForeignKeyConstraint(['requested_by'], ['staff_user.id'],
                                name=op.f('fk_report_export_requested_by_staff_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_export')))
    op.create_index('ix_report_export_requested_by', 'report_export', ['requested_by'])
    op.create_index('ix_report_export_status_created', 'report_export',
                    ['status', 'created_at'])


def downgrade():
    op.drop_index('ix_report_export_status_created', table_name='report_export')
    op.drop_index('ix_report_export_requested_by', table_name='report_export')
    op.drop_table('report_export')

"""adverse events following immunisation: aefi_report and aefi_follow_up

Revision ID: 0014_aefi
Revises: 0013
Create Date: 2026-12-05 03:45:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0014_aefi'
down_revision = '0013'
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)
CAUSALITY = "causality IS NULL OR causality IN ('a1', 'a2', 'a3', 'a4', 'b1', 'b2', 'c', 'd')"
OUTCOMES = "'recovered', 'recovering', 'not_recovered', 'recovered_with_sequelae', 'died', 'unknown'"
STATUSES = "'reported', 'investigating', 'closed'"


def upgrade():
    op.create_table(
        'aefi_report',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('beneficiary_id', sa.Integer(), nullable=False),
        sa.Column('dose_id', sa.Integer(), nullable=False),
        sa.Column('reporter_kind', sa.String(length=12), nullable=False),
        sa.Column('reported_by_staff', sa.Integer(), nullable=True),
        sa.Column('reported_by_account', sa.Integer(), nullable=True),
        sa.Column('seriousness', sa.String(length=10), nullable=False),
        sa.Column('serious_criteria', sa.JSON(), nullable=False),
        sa.Column('symptoms', sa.JSON(), nullable=False),
        sa.Column('onset_on', sa.Date(), nullable=False),
        sa.Column('onset_time', sa.Time(), nullable=True),
        sa.Column('outcome', sa.String(length=30), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('division_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=14), nullable=False),
        sa.Column('causality', sa.String(length=2), nullable=True),
        sa.Column('reported_on', sa.Date(), nullable=False),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('updated_at', UTC, nullable=False),
        sa.CheckConstraint("seriousness IN ('minor', 'severe', 'serious')",
                           name=op.f('ck_aefi_report_seriousness')),
        sa.CheckConstraint(f"outcome IN ({OUTCOMES})", name=op.f('ck_aefi_report_outcome')),
        sa.CheckConstraint(f"status IN ({STATUSES})", name=op.f('ck_aefi_report_status')),
        sa.CheckConstraint("reporter_kind IN ('vaccinator', 'citizen')",
                           name=op.f('ck_aefi_report_reporter_kind')),
        sa.CheckConstraint(CAUSALITY, name=op.f('ck_aefi_report_causality')),
        sa.CheckConstraint("(reporter_kind = 'vaccinator' AND reported_by_staff IS NOT NULL) OR "
                           "(reporter_kind = 'citizen' AND reported_by_account IS NOT NULL)",
                           name=op.f('ck_aefi_report_reporter')),
        sa.ForeignKeyConstraint(['beneficiary_id'], ['beneficiary.id'],
                                name=op.f('fk_aefi_report_beneficiary_id_beneficiary')),
        sa.ForeignKeyConstraint(['dose_id'], ['dose.id'], name=op.f('fk_aefi_report_dose_id_dose')),
        sa.ForeignKeyConstraint(['reported_by_staff'], ['staff_user.id'],
                                name=op.f('fk_aefi_report_reported_by_staff_staff_user')),
        sa.ForeignKeyConstraint(['reported_by_account'], ['citizen_account.id'],
                                name=op.f('fk_aefi_report_reported_by_account_citizen_account')),
        sa.ForeignKeyConstraint(['division_id'], ['division.id'],
                                name=op.f('fk_aefi_report_division_id_division')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_aefi_report')),
    )
    op.create_index(op.f('ix_aefi_report_beneficiary_id'), 'aefi_report', ['beneficiary_id'])
    op.create_index(op.f('ix_aefi_report_dose_id'), 'aefi_report', ['dose_id'])
    op.create_index('ix_aefi_report_division_listed', 'aefi_report',
                    ['division_id', 'reported_on'])
    op.create_table(
        'aefi_follow_up',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('report_id', sa.Integer(), nullable=False),
        sa.Column('at', UTC, nullable=False),
        sa.Column('staff_user_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=14), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('causality', sa.String(length=2), nullable=True),
        sa.Column('outcome', sa.String(length=30), nullable=True),
        sa.CheckConstraint(f"status IN ({STATUSES})", name=op.f('ck_aefi_follow_up_status')),
        sa.CheckConstraint(CAUSALITY, name=op.f('ck_aefi_follow_up_causality')),
        sa.CheckConstraint(f"outcome IS NULL OR outcome IN ({OUTCOMES})",
                           name=op.f('ck_aefi_follow_up_outcome')),
        sa.ForeignKeyConstraint(['report_id'], ['aefi_report.id'],
                                name=op.f('fk_aefi_follow_up_report_id_aefi_report')),
        sa.ForeignKeyConstraint(['staff_user_id'], ['staff_user.id'],
                                name=op.f('fk_aefi_follow_up_staff_user_id_staff_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_aefi_follow_up')),
    )
    op.create_index(op.f('ix_aefi_follow_up_report_id'), 'aefi_follow_up', ['report_id'])


def downgrade():
    op.drop_index(op.f('ix_aefi_follow_up_report_id'), table_name='aefi_follow_up')
    op.drop_table('aefi_follow_up')
    op.drop_index('ix_aefi_report_division_listed', table_name='aefi_report')
    op.drop_index(op.f('ix_aefi_report_dose_id'), table_name='aefi_report')
    op.drop_index(op.f('ix_aefi_report_beneficiary_id'), table_name='aefi_report')
    op.drop_table('aefi_report')

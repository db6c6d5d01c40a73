"""certificates: one row per issued version; EU DCC vaccine type and manufacturer of products

Revision ID: 0016_certificates
Revises: 0014_users
Create Date: 2026-12-05 21:30:00
"""
import sqlalchemy as sa
from alembic import op

UTC = sa.DateTime(timezone=True)

revision = '0016_certificates'
down_revision = '0014_users'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('product') as batch:
        batch.add_column(sa.Column('dcc_vaccine_type', sa.String(length=60), nullable=True))
        batch.add_column(sa.Column('dcc_manufacturer', sa.String(length=60), nullable=True))
    op.create_table(
        'certificate',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('uvci', sa.String(length=80), nullable=False),
        sa.Column('beneficiary_id', sa.Integer(), nullable=False),
        sa.Column('programme_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('doses', sa.Integer(), nullable=False),
        sa.Column('last_dose_id', sa.Integer(), nullable=True),
        sa.Column('issued_at', UTC, nullable=False),
        sa.Column('expires_at', UTC, nullable=False),
        sa.Column('kid', sa.String(length=24), nullable=False),
        sa.Column('hc1', sa.Text(), nullable=True),
        sa.Column('shc', sa.Text(), nullable=True),
        sa.Column('language', sa.String(length=16), nullable=True),
        sa.Column('superseded_at', UTC, nullable=True),
        sa.Column('revoked_at', UTC, nullable=True),
        sa.Column('revocation_reason', sa.String(length=500), nullable=True),
        sa.Column('revoked_by', sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('provisional', 'final')", name=op.f('ck_certificate_status')),
        sa.ForeignKeyConstraint(['beneficiary_id'], ['beneficiary.id'], name=op.f('fk_certificate_beneficiary_id_beneficiary')),
        sa.ForeignKeyConstraint(['last_dose_id'], ['dose.id'], name=op.f('fk_certificate_last_dose_id_dose')),
        sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_certificate_programme_id_programme')),
        sa.ForeignKeyConstraint(['revoked_by'], ['staff_user.id'], name=op.f('fk_certificate_revoked_by_staff_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate')),
        sa.UniqueConstraint('beneficiary_id', 'programme_id', 'version', name=op.f('uq_certificate_beneficiary_id')),
        sa.UniqueConstraint('uvci', name=op.f('uq_certificate_uvci')),
    )
    op.create_index('ix_certificate_person', 'certificate', ['beneficiary_id', 'programme_id', 'version'])
    op.create_index(op.f('ix_certificate_revoked_at'), 'certificate', ['revoked_at'])


def downgrade():
    op.drop_index(op.f('ix_certificate_revoked_at'), table_name='certificate')
    op.drop_index('ix_certificate_person', table_name='certificate')
    op.drop_table('certificate')
    with op.batch_alter_table('product') as batch:
        batch.drop_column('dcc_manufacturer')
        batch.drop_column('dcc_vaccine_type')

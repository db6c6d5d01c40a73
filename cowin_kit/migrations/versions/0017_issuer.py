"""issuer: a product's CDC CVX code (SMART Health Cards) and WHO ICD-11 vaccine code (DDCC:VS)

Revision ID: 0017_issuer
Revises: 0016_certificates
Create Date: 2026-12-06 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0017_issuer'
down_revision = '0016_certificates'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('product') as batch:
        batch.add_column(sa.Column('cvx', sa.String(length=8), nullable=True))
        batch.add_column(sa.Column('icd11', sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table('product') as batch:
        batch.drop_column('icd11')
        batch.drop_column('cvx')

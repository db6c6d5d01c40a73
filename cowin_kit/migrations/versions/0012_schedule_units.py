"""ages and intervals in days, weeks, months or years; soft maximum intervals; date of birth

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 00:10:00

A dose rule keeps its interval as the profile states it ("6 weeks") beside the whole days,
and whether its maximum interval is a hard limit (it is a recommended window otherwise:
existing rules become soft, on purpose: a late dose is given as soon as possible). A
product keeps its ages as stated ("9 months"); a programme says how age is counted; a
person may have a date of birth.
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('dose_rule', schema=None) as batch_op:
        batch_op.add_column(sa.Column('min_interval', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('max_interval', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('max_interval_hard', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('min_age', sa.String(length=20), nullable=True))
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.add_column(sa.Column('min_age', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('max_age', sa.String(length=20), nullable=True))
    with op.batch_alter_table('programme', schema=None) as batch_op:
        batch_op.add_column(sa.Column('age_from', sa.String(length=20), nullable=False,
                                      server_default='birth_year'))
    with op.batch_alter_table('beneficiary', schema=None) as batch_op:
        batch_op.add_column(sa.Column('birth_date', sa.Date(), nullable=True))


def downgrade():
    # Dropping columns in place (SQLite 3.35+ and PostgreSQL): a batch would copy these
    # tables, which other tables' foreign keys point at.
    for table, column in (('beneficiary', 'birth_date'), ('programme', 'age_from'),
                          ('product', 'max_age'), ('product', 'min_age'),
                          ('dose_rule', 'min_age'), ('dose_rule', 'max_interval_hard'),
                          ('dose_rule', 'max_interval'), ('dose_rule', 'min_interval')):
        op.drop_column(table, column)

"""a dose is unique per person and programme

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-04 23:50:00

A person's dose N was unique per person, so a child's routine series and their COVID-19
series could not both have a dose 1. Each dose now names its programme (copied from its
product), and dose N is unique per person and programme.
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'  # relinked by the lead: 0010 is status_checks
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('dose', schema=None) as batch_op:
        batch_op.add_column(sa.Column('programme_id', sa.Integer(), nullable=True))
    op.execute("UPDATE dose SET programme_id = "
               "(SELECT product.programme_id FROM product WHERE product.id = dose.product_id)")
    with op.batch_alter_table('dose', schema=None) as batch_op:
        batch_op.alter_column('programme_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(batch_op.f('fk_dose_programme_id_programme'), 'programme',
                                    ['programme_id'], ['id'])
        batch_op.drop_constraint('uq_dose_beneficiary_id', type_='unique')
        batch_op.create_unique_constraint('uq_dose_beneficiary_id',
                                          ['beneficiary_id', 'programme_id', 'dose_number'])


def downgrade():
    # Fails while a person has the same dose number in two programmes: the old rule
    # cannot hold them both.
    with op.batch_alter_table('dose', schema=None) as batch_op:
        batch_op.drop_constraint('uq_dose_beneficiary_id', type_='unique')
        batch_op.create_unique_constraint('uq_dose_beneficiary_id',
                                          ['beneficiary_id', 'dose_number'])
        batch_op.drop_constraint('fk_dose_programme_id_programme', type_='foreignkey')
        batch_op.drop_column('programme_id')

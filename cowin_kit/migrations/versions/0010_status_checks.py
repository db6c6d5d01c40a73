"""status checks: appointment and ID-verification statuses hold only known values

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 00:00:00

The statuses are StrEnums in the models (scheduling.models.AppointmentStatus,
registration.models.IdVerificationStatus); these CHECK constraints make the database refuse
any other value, whoever writes it. The stored values are unchanged, so existing rows pass.
SQLite cannot add a constraint to a table: batch mode copies the table, with its indexes
(cowin_kit.migrate turns SQLite's foreign-key enforcement off meanwhile, so the rows that refer
to the table do not stop the copy, and checks them before the commit).
"""
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# The values written here, not imported: a migration must keep meaning what it meant.
CHECKS = {
    # table: (constraint name, column, allowed values)
    'appointment': ('ck_appointment_status', 'status',
                    ('booked', 'cancelled', 'missed', 'done')),
    'beneficiary': ('ck_beneficiary_id_verification_status', 'id_verification_status',
                    ('unverified', 'verified', 'mismatch', 'not_found', 'unavailable')),
}


def upgrade():
    for table, (name, column, values) in CHECKS.items():
        allowed = ", ".join(f"'{v}'" for v in values)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_check_constraint(op.f(name), f"{column} IN ({allowed})")


def downgrade():
    for table, (name, _column, _values) in reversed(CHECKS.items()):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(name), type_='check')

"""masked ID numbers show at most a third of the number

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 10:00:00

Masks stored before showed up to half of a short number (4 of a DNI's 8 digits). Every stored
mask ends with the number's own last characters, so masking the mask again with the new rule
(the last min(4, length // 3) characters, as cowin_kit.toolkit.visible_chars) gives the new
mask without the key that decrypts the numbers. It only ever hides more; downgrading keeps it.
"""
from alembic import op

revision = '0009'
down_revision = '0008'  # renumbered by the lead: 0008 is audit_source
branch_labels = None
depends_on = None

_FILL = "X" * 40  # the column holds at most 40 characters


def upgrade():
    # The rule written here, not imported: a migration must keep meaning what it meant.
    # Portable SQL (SQLite and PostgreSQL): integer division, substr, ||, CASE.
    shown = "(CASE WHEN length(id_number_masked) / 3 < 4 THEN length(id_number_masked) / 3 " \
            "ELSE 4 END)"
    op.execute(
        f"UPDATE beneficiary SET id_number_masked = "
        f"substr('{_FILL}', 1, length(id_number_masked) - {shown}) || "
        f"substr(id_number_masked, length(id_number_masked) - {shown} + 1, {shown}) "
        f"WHERE id_number_masked <> substr('{_FILL}', 1, length(id_number_masked) - {shown}) || "
        f"substr(id_number_masked, length(id_number_masked) - {shown} + 1, {shown})")


def downgrade():
    pass  # what was hidden stays hidden

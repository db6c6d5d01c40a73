"""the audit log's filters: indexes on audit_event.action and audit_event.actor

Revision ID: 0014_users
Revises: 0014_aefi
Create Date: 2026-12-05 04:00:00

The staff audit-log page filters by action and by actor within an area; without these a
filter on a national log of millions of rows reads them all.
"""
from alembic import op

revision = '0014_users'
down_revision = '0014_aefi'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(op.f('ix_audit_event_action'), 'audit_event', ['action'])
    op.create_index(op.f('ix_audit_event_actor'), 'audit_event', ['actor'])


def downgrade():
    op.drop_index(op.f('ix_audit_event_actor'), table_name='audit_event')
    op.drop_index(op.f('ix_audit_event_action'), table_name='audit_event')

"""the centre's work: staff scopes, facility status, walk-in quota, session cancellation,
appointment source, vaccine lots, dose details, the notification outbox, audit areas

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 03:30:00

Existing rows keep their meaning: facilities are active, sessions have no walk-in quota,
appointments were made online, doses have no lot (they were recorded before lots existed).
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        'vaccine_lot',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('facility_id', sa.Integer(), nullable=False),
        sa.Column('product_id', sa.Integer(), nullable=False),
        sa.Column('lot_number', sa.String(length=40), nullable=False),
        sa.Column('expires_on', sa.Date(), nullable=False),
        sa.Column('doses_received', sa.Integer(), nullable=False),
        sa.Column('doses_used', sa.Integer(), server_default='0', nullable=False),
        sa.Column('is_active', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column('created_at', UTC, nullable=False),
        sa.CheckConstraint('doses_used >= 0 AND doses_used <= doses_received',
                           name=op.f('ck_vaccine_lot_used_range')),
        sa.ForeignKeyConstraint(['facility_id'], ['facility.id'],
                                name=op.f('fk_vaccine_lot_facility_id_facility')),
        sa.ForeignKeyConstraint(['product_id'], ['product.id'],
                                name=op.f('fk_vaccine_lot_product_id_product')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_vaccine_lot')),
        sa.UniqueConstraint('facility_id', 'product_id', 'lot_number',
                            name=op.f('uq_vaccine_lot_facility_id')),
    )
    op.create_index(op.f('ix_vaccine_lot_facility_id'), 'vaccine_lot', ['facility_id'])
    op.create_table(
        'notification_outbox',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('mobile', sa.String(length=20), nullable=False),
        sa.Column('language', sa.String(length=16), nullable=True),
        sa.Column('msgid', sa.String(length=1000), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('beneficiary_id', sa.Integer(), nullable=True),
        sa.Column('dedupe_key', sa.String(length=120), nullable=True),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', UTC, nullable=False),
        sa.Column('claimed_until', UTC, nullable=True),
        sa.Column('sent_at', UTC, nullable=True),
        sa.Column('gateway_ref', sa.String(length=120), nullable=True),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')",
                           name=op.f('ck_notification_outbox_status')),
        sa.ForeignKeyConstraint(['beneficiary_id'], ['beneficiary.id'],
                                name=op.f('fk_notification_outbox_beneficiary_id_beneficiary')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_outbox')),
        sa.UniqueConstraint('dedupe_key', name=op.f('uq_notification_outbox_dedupe_key')),
    )
    op.create_index('ix_notification_outbox_due', 'notification_outbox',
                    ['status', 'next_attempt_at'])
    op.create_index(op.f('ix_notification_outbox_beneficiary_id'), 'notification_outbox',
                    ['beneficiary_id'])

    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('facility_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_staff_user_facility_id'), ['facility_id'])
        batch_op.create_foreign_key(batch_op.f('fk_staff_user_facility_id_facility'),
                                    'facility', ['facility_id'], ['id'])
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('division_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_audit_event_division_id'), ['division_id'])
        batch_op.create_foreign_key(batch_op.f('fk_audit_event_division_id_division'),
                                    'division', ['division_id'], ['id'])
    with op.batch_alter_table('facility', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_active', sa.Boolean(), server_default=sa.true(),
                                      nullable=False))
    with op.batch_alter_table('vaccination_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('walk_in_quota', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('walk_ins', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('cancelled_at', UTC, nullable=True))
        batch_op.add_column(sa.Column('cancel_reason', sa.String(length=200), nullable=True))
        batch_op.create_check_constraint(op.f('ck_vaccination_session_walk_in_range'),
                                         'walk_ins >= 0 AND walk_ins <= walk_in_quota')
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=12), server_default='online',
                                      nullable=False))
        batch_op.add_column(sa.Column('booked_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('walk_in_place', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.add_column(sa.Column('arrived_at', UTC, nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_appointment_booked_by_staff_user'),
                                    'staff_user', ['booked_by'], ['id'])
        batch_op.create_check_constraint(op.f('ck_appointment_source'),
                                         "source IN ('online', 'assisted', 'walk_in')")
    with op.batch_alter_table('dose', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lot_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('site', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('given_at', UTC, nullable=True))
        batch_op.add_column(sa.Column('vaccinator_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('idempotency_key', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('override_reason', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('overridden_by', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_dose_idempotency_key'),
                                          ['idempotency_key'])
        batch_op.create_foreign_key(batch_op.f('fk_dose_lot_id_vaccine_lot'),
                                    'vaccine_lot', ['lot_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_dose_vaccinator_id_staff_user'),
                                    'staff_user', ['vaccinator_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_dose_overridden_by_staff_user'),
                                    'staff_user', ['overridden_by'], ['id'])


def downgrade():
    with op.batch_alter_table('dose', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_dose_overridden_by_staff_user'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_dose_vaccinator_id_staff_user'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_dose_lot_id_vaccine_lot'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_dose_idempotency_key'), type_='unique')
        for column in ('overridden_by', 'override_reason', 'idempotency_key',
                       'vaccinator_id', 'given_at', 'site', 'lot_id'):
            batch_op.drop_column(column)
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_appointment_source'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_appointment_booked_by_staff_user'),
                                 type_='foreignkey')
        for column in ('arrived_at', 'walk_in_place', 'booked_by', 'source'):
            batch_op.drop_column(column)
    with op.batch_alter_table('vaccination_session', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_vaccination_session_walk_in_range'),
                                 type_='check')
        for column in ('cancel_reason', 'cancelled_at', 'walk_ins', 'walk_in_quota'):
            batch_op.drop_column(column)
    with op.batch_alter_table('facility', schema=None) as batch_op:
        batch_op.drop_column('is_active')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_audit_event_division_id_division'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_audit_event_division_id'))
        batch_op.drop_column('division_id')
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_staff_user_facility_id_facility'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_staff_user_facility_id'))
        batch_op.drop_column('facility_id')
    op.drop_index(op.f('ix_notification_outbox_beneficiary_id'),
                  table_name='notification_outbox')
    op.drop_index('ix_notification_outbox_due', table_name='notification_outbox')
    op.drop_table('notification_outbox')
    op.drop_index(op.f('ix_vaccine_lot_facility_id'), table_name='vaccine_lot')
    op.drop_table('vaccine_lot')

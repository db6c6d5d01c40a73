"""staff security: lock-out, server-side logins, TOTP

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 10:00:00

Lock-out state and the TOTP device live on staff_user (one row per account, so a conditional
UPDATE counts every wrong guess from any worker); each staff login is a staff_login row that
logout or a password change ends, so a copied cookie stops working at once.
"""
import sqlalchemy as sa
from alembic import op

import cowin_kit.db

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('locked_until', cowin_kit.db.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('totp_enabled', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))

    op.create_table('staff_login',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', cowin_kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', cowin_kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', cowin_kit.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('needs_totp', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['staff_user.id'], name=op.f('fk_staff_login_user_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_login'))
    )
    with op.batch_alter_table('staff_login', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_login_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('staff_login', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_login_user_id'))
    op.drop_table('staff_login')
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_enabled')
        batch_op.drop_column('totp_secret')
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')

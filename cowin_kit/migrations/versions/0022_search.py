"""search: an index for the centres near a point

Revision ID: 0022_search
Revises: 0021_auth
Create Date: 2026-12-06 06:30:00

findByLatLong and the portal's "near me" look for centres in a box of latitudes and
longitudes around the point (cowin_kit.scheduling.nearby); with tens of thousands of centres
the index finds the box's few instead of reading them all.
"""
from alembic import op

revision = '0022_search'
down_revision = '0021_auth'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_facility_latitude_longitude', 'facility', ['latitude', 'longitude'])


def downgrade():
    op.drop_index('ix_facility_latitude_longitude', table_name='facility')

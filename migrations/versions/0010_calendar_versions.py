"""feed stamps count their changes: a version per stamp for the feeds' ETags

Revision ID: 0010_calendar_versions
Revises: 0009_membership_requests
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_calendar_versions"
down_revision = "0009_membership_requests"
branch_labels = None
depends_on = None


def upgrade():
    # Every write of a stamp adds one: a change whose clock was behind the stamp's
    # (two transactions at once) still changes the feed's ETag. Existing stamps start at 1.
    with op.batch_alter_table("feed_stamp", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("version", sa.BigInteger(), server_default="1", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("feed_stamp", schema=None) as batch_op:
        batch_op.drop_column("version")

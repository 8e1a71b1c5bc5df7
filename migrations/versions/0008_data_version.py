"""data version: the one number that moves with every committed change (page cache)

Revision ID: 0008_data_version
Revises: 0007_planner_trust
"""

import time

import sqlalchemy as sa
from alembic import op

revision = "0008_data_version"
down_revision = "0007_planner_trust"
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        "data_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("counter", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_version")),
    )
    # Start at the clock in microseconds, as learnnet.changes does for a missing row: a
    # database recreated under a running server (flask demo --reset drops every table and
    # migrates again) must not count from 0 again, or a page kept under an old number could
    # be taken for a page of the new data.
    op.bulk_insert(table, [{"id": 1, "counter": time.time_ns() // 1000}])


def downgrade():
    op.drop_table("data_version")

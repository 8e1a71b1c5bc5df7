"""data version: the one number that moves with every committed change (page cache)

Revision ID: 0008_data_version
Revises: 0007_planner_trust
"""

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
    op.bulk_insert(table, [{"id": 1, "counter": 0}])


def downgrade():
    op.drop_table("data_version")

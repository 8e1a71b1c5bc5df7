"""scope versions: a counter per network, facility and contact (page cache, issue 24)

Revision ID: 0024_versions
Revises: 0023_api
"""

import sqlalchemy as sa
from alembic import op

revision = "0024_versions"
down_revision = "0019_materials"
branch_labels = None
depends_on = None


def upgrade():
    # No rows: a scope's row is made by its first write, starting at the clock in
    # microseconds (see learnnet.changes), so a recreated database never counts from 0.
    op.create_table(
        "scope_version",
        sa.Column("scope", sa.String(length=24), nullable=False),
        sa.Column("counter", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_scope_version")),
    )


def downgrade():
    op.drop_table("scope_version")

"""api_deletion: tombstones of deleted rows and erased contacts for the API (issue 26)

Revision ID: 0025_api_deletions
Revises: 0024_versions
"""

import sqlalchemy as sa
from alembic import op

import learnnet.models

revision = "0025_api_deletions"
down_revision = "0024_versions"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "api_deletion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=20), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=12), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=True),
        sa.Column("facility_id", sa.Integer(), nullable=True),
        sa.Column("deleted_at", learnnet.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("api_deletion", schema=None) as batch_op:
        batch_op.create_index("ix_api_deletion_deleted_at", ["deleted_at"])
        batch_op.create_index(batch_op.f("ix_api_deletion_network_id"), ["network_id"])


def downgrade():
    with op.batch_alter_table("api_deletion", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_deletion_network_id"))
        batch_op.drop_index("ix_api_deletion_deleted_at")
    op.drop_table("api_deletion")

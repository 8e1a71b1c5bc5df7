"""API tokens: a facilitator's bearer tokens for /api/v1/ and the networks each may see

Revision ID: 0023_api
Revises: 0017_season_poll
"""

import sqlalchemy as sa
from alembic import op

import learnnet.models

revision = "0023_api"
down_revision = "0017_season_poll"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=12), nullable=False),
        sa.Column("may_see_people", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("expires_at", learnnet.models.UTCDateTime(), nullable=False),
        sa.Column("created_at", learnnet.models.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", learnnet.models.UTCDateTime(), nullable=True),
        sa.Column("last_used_at", learnnet.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_token_user_id"), ["user_id"])
    op.create_table(
        "api_token_network",
        sa.Column("api_token_id", sa.Integer(), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["api_token_id"], ["api_token.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["network_id"], ["network.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("api_token_id", "network_id"),
    )


def downgrade():
    op.drop_table("api_token_network")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_token_user_id"))
    op.drop_table("api_token")

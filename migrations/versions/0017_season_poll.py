"""the season poll: a poll per network, its candidate dates, the members' answers

Revision ID: 0017_season_poll
Revises: 0014_messages
"""

import sqlalchemy as sa
from alembic import op

import learnnet.models

revision = "0017_season_poll"
down_revision = "0014_messages"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "poll",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("closed_at", learnnet.models.UTCDateTime(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", learnnet.models.UTCDateTime(), nullable=False),
        sa.Column("updated_at", learnnet.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["network_id"], ["network.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_id"], ["user_account.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("poll", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_poll_network_id"), ["network_id"])
    op.create_table(
        "poll_date",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["poll_id"], ["poll.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("poll_id", "day"),
    )
    with op.batch_alter_table("poll_date", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_poll_date_poll_id"), ["poll_id"])
    # One row per contact, date and lateness: a late answer never overwrites the one
    # the plan was made with.
    op.create_table(
        "poll_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("poll_date_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("answer", sa.String(length=20), nullable=False),
        sa.Column("host", sa.Boolean(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("answered_at", learnnet.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["poll_date_id"], ["poll_date.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("poll_date_id", "contact_id", "late"),
    )
    with op.batch_alter_table("poll_answer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_poll_answer_poll_date_id"), ["poll_date_id"])
        batch_op.create_index(batch_op.f("ix_poll_answer_contact_id"), ["contact_id"])


def downgrade():
    op.drop_table("poll_answer")
    op.drop_table("poll_date")
    op.drop_table("poll")

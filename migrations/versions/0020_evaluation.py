"""the evaluation: a network's questions, the answers of who was there

Revision ID: 0020_evaluation
Revises: 0017_season_poll
"""

import sqlalchemy as sa
from alembic import op

import learnnet.models

revision = "0020_evaluation"
down_revision = "0018_learning_programme"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "evaluation_setting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("questions", sa.String(length=200), nullable=False),
        sa.Column("created_at", learnnet.models.UTCDateTime(), nullable=False),
        sa.Column("updated_at", learnnet.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["network_id"], ["network.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("network_id"),
    )
    # One response per contact and session: a second submit, also at the same moment,
    # is refused by the database.
    op.create_table(
        "evaluation_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("facility_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", learnnet.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["network_session.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["facility_id"], ["facility.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("session_id", "contact_id"),
    )
    with op.batch_alter_table("evaluation_response", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evaluation_response_session_id"), ["session_id"])
        batch_op.create_index(batch_op.f("ix_evaluation_response_contact_id"), ["contact_id"])
        batch_op.create_index(batch_op.f("ix_evaluation_response_facility_id"), ["facility_id"])
    op.create_table(
        "evaluation_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(length=30), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("share", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["response_id"], ["evaluation_response.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("response_id", "question"),
    )
    with op.batch_alter_table("evaluation_answer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evaluation_answer_response_id"), ["response_id"])


def downgrade():
    op.drop_table("evaluation_answer")
    op.drop_table("evaluation_response")
    op.drop_table("evaluation_setting")

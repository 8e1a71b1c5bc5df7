"""learning: theme and goals per werkjaar, a programme per session, learning questions

Revision ID: 0018_learning_programme
Revises: 0017_season_poll
"""

import sqlalchemy as sa
from alembic import op

import learnnet.models

revision = "0018_learning_programme"
down_revision = "0017_season_poll"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "werkjaar_theme",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("start_year", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=160), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", learnnet.models.UTCDateTime(), nullable=False),
        sa.Column("updated_at", learnnet.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["network_id"], ["network.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("network_id", "start_year"),
    )
    with op.batch_alter_table("werkjaar_theme", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_werkjaar_theme_network_id"), ["network_id"])
    op.create_table(
        "learning_goal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(["theme_id"], ["werkjaar_theme.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("learning_goal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_learning_goal_theme_id"), ["theme_id"])
    op.create_table(
        "session_goal",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["network_session.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["goal_id"], ["learning_goal.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("session_id", "goal_id"),
    )
    with op.batch_alter_table("session_goal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_session_goal_goal_id"), ["goal_id"])
    op.create_table(
        "agenda_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=True),
        sa.Column("lead_kind", sa.String(length=20), nullable=False),
        sa.Column("lead_facility_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["session_id"], ["network_session.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["lead_facility_id"], ["facility.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("agenda_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agenda_item_session_id"), ["session_id"])
    op.create_table(
        "session_programme",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("prepare_question", sa.Text(), nullable=False),
        sa.Column("created_at", learnnet.models.UTCDateTime(), nullable=False),
        sa.Column("updated_at", learnnet.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["network_session.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("session_id"),
    )
    op.create_table(
        "learning_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("start_year", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", learnnet.models.UTCDateTime(), nullable=False),
        sa.Column("updated_at", learnnet.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["network_id"], ["network.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["session_id"], ["network_session.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("learning_question", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_learning_question_contact_id"), ["contact_id"])
        batch_op.create_index(batch_op.f("ix_learning_question_network_id"), ["network_id"])
        batch_op.create_index(batch_op.f("ix_learning_question_session_id"), ["session_id"])


def downgrade():
    op.drop_table("learning_question")
    op.drop_table("session_programme")
    op.drop_table("agenda_item")
    op.drop_table("session_goal")
    op.drop_table("learning_goal")
    op.drop_table("werkjaar_theme")

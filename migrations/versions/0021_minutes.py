"""learning: minutes (verslag) of a session, their sections and action points (afspraken)

Revision ID: 0021_minutes
Revises: 0018_learning_programme
"""

import sqlalchemy as sa
from alembic import op

import learnnet.models

revision = "0021_minutes"
down_revision = "0023_api"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "minutes",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("general_text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("published_at", learnnet.models.UTCDateTime(), nullable=True),
        sa.Column("published_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", learnnet.models.UTCDateTime(), nullable=False),
        sa.Column("updated_at", learnnet.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["network_session.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["published_by_id"], ["user_account.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("session_id"),
    )
    op.create_table(
        "minutes_section",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("agenda_item_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["minutes.session_id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["agenda_item_id"], ["agenda_item.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("minutes_section", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_minutes_section_session_id"), ["session_id"])
        batch_op.create_index(batch_op.f("ix_minutes_section_agenda_item_id"), ["agenda_item_id"])
    op.create_table(
        "action_point",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("owner_facility_id", sa.Integer(), nullable=False),
        sa.Column("owner_contact_id", sa.Integer(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("done_at", learnnet.models.UTCDateTime(), nullable=True),
        sa.Column("done_by_contact_id", sa.Integer(), nullable=True),
        sa.Column("done_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", learnnet.models.UTCDateTime(), nullable=False),
        sa.Column("updated_at", learnnet.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["minutes.session_id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["network_id"], ["network.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["owner_facility_id"], ["facility.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["owner_contact_id"], ["contact.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["done_by_contact_id"], ["contact.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["done_by_user_id"], ["user_account.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("action_point", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_point_session_id"), ["session_id"])
        batch_op.create_index(batch_op.f("ix_action_point_network_id"), ["network_id"])
        batch_op.create_index(
            batch_op.f("ix_action_point_owner_facility_id"), ["owner_facility_id"]
        )
        batch_op.create_index(batch_op.f("ix_action_point_owner_contact_id"), ["owner_contact_id"])
    op.create_table(
        "action_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", learnnet.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["action_id"], ["action_point.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("action_note", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_note_action_id"), ["action_id"])
        batch_op.create_index(batch_op.f("ix_action_note_contact_id"), ["contact_id"])


def downgrade():
    op.drop_table("action_note")
    op.drop_table("action_point")
    op.drop_table("minutes_section")
    op.drop_table("minutes")

"""member and host pages: the host's "no", the facilitator's phone, members' messages

Revision ID: 0013_member_pages
Revises: 0010_calendar_versions
"""

import sqlalchemy as sa
from alembic import op

import learnnet.models

revision = "0013_member_pages"
down_revision = "0010_calendar_versions"
branch_labels = None
depends_on = None


def upgrade():
    # The host's "no, we cannot": the session is flagged until another host is chosen.
    with op.batch_alter_table("network_session", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("host_declined_at", learnnet.models.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("host_declined_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("host_declined_reason", sa.Text(), server_default="", nullable=False)
        )
        batch_op.create_foreign_key(
            "fk_network_session_host_declined_by_id_contact",
            "contact",
            ["host_declined_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
    # A facilitator's phone number, shown to members only when they chose so.
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(40), server_default="", nullable=False))
        batch_op.add_column(
            sa.Column("show_phone", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    # A member's message to the facilitator: the reply goes to the member.
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reply_to", sa.String(254), nullable=True))
    op.create_table(
        "member_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", learnnet.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["network_session.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("member_message", schema=None) as batch_op:
        batch_op.create_index("ix_member_message_session_id", ["session_id"], unique=False)
        batch_op.create_index("ix_member_message_contact_id", ["contact_id"], unique=False)


def downgrade():
    op.drop_table("member_message")
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("reply_to")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("show_phone")
        batch_op.drop_column("phone")
    with op.batch_alter_table("network_session", schema=None) as batch_op:
        batch_op.drop_constraint(
            "fk_network_session_host_declined_by_id_contact", type_="foreignkey"
        )
        batch_op.drop_column("host_declined_reason")
        batch_op.drop_column("host_declined_by_id")
        batch_op.drop_column("host_declined_at")

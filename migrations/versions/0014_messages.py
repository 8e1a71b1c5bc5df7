"""messages members can trust: a send priority, one invitation covering several sessions,
the confirmation-mail choice, a cancellation's reason

Revision ID: 0014_messages
Revises: 0013_member_pages
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_messages"
down_revision = "0013_member_pages"
branch_labels = None
depends_on = None


def upgrade():
    # Lower goes first: a change or cancellation never waits behind a batch of invitations.
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("priority", sa.SmallInteger(), server_default="5", nullable=False)
        )
        batch_op.create_index("ix_outbox_message_due", ["status", "priority", "id"])
    # Off by default: a member asks for a confirmation mail after answering on the web.
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("confirm_by_mail", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("network_session", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("cancel_reason", sa.Text(), server_default="", nullable=False)
        )
    # Which sessions an invitation mail invited the contact to (one mail, several dates).
    op.create_table(
        "invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["outbox_message.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["session_id"], ["network_session.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id", "session_id"),
    )
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.create_index("ix_invitation_session_contact", ["session_id", "contact_id"])
        batch_op.create_index(batch_op.f("ix_invitation_contact_id"), ["contact_id"])
    # The invitations sent so far each invited to the one session they name.
    op.execute(
        "INSERT INTO invitation (message_id, session_id, contact_id) "
        "SELECT id, session_id, contact_id FROM outbox_message "
        "WHERE kind = 'invitation' AND session_id IS NOT NULL AND contact_id IS NOT NULL"
    )


def downgrade():
    op.drop_table("invitation")
    with op.batch_alter_table("network_session", schema=None) as batch_op:
        batch_op.drop_column("cancel_reason")
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.drop_column("confirm_by_mail")
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_message_due")
        batch_op.drop_column("priority")

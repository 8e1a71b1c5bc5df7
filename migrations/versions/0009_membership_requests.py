"""membership requests, and the right to start networks

A facility of another network no longer joins at once: the network asks, and the
facility's contacts (or an admin) agree. Starting a network becomes an admin's grant.
No existing account gets the grant here: an admin gives it (account page or
``flask create-user --may-create-networks``).

Revision ID: 0009_membership_requests
Revises: 0008_data_version
"""

import sqlalchemy as sa
from alembic import op

import learnnet.models

revision = "0009_membership_requests"
down_revision = "0008_data_version"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "may_create_networks", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
    op.create_table(
        "membership_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("joined_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", learnnet.models.UTCDateTime(), nullable=True),
        sa.Column("decided_by_user_id", sa.Integer(), nullable=True),
        sa.Column("decided_by_contact_id", sa.Integer(), nullable=True),
        sa.Column("created_at", learnnet.models.UTCDateTime(), nullable=False),
        sa.Column("updated_at", learnnet.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by_contact_id"],
            ["contact.id"],
            name=op.f("fk_membership_request_decided_by_contact_id_contact"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_user_id"],
            ["user_account.id"],
            name=op.f("fk_membership_request_decided_by_user_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["facility_id"],
            ["facility.id"],
            name=op.f("fk_membership_request_facility_id_facility"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["network_id"],
            ["network.id"],
            name=op.f("fk_membership_request_network_id_network"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["user_account.id"],
            name=op.f("fk_membership_request_requested_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership_request")),
    )
    with op.batch_alter_table("membership_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_membership_request_facility_id"), ["facility_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_membership_request_network_id"), ["network_id"], unique=False
        )
        batch_op.create_index(
            "uq_membership_request_pending",
            ["network_id", "facility_id"],
            unique=True,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )


def downgrade():
    op.drop_table("membership_request")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("may_create_networks")

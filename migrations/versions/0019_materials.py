"""materials: files shared with a network (for a session or a werkjaar), and their bytes

Revision ID: 0019_materials
Revises: 0017_season_poll
"""

import sqlalchemy as sa
from alembic import op

import learnnet.models

revision = "0019_materials"
down_revision = "0021_minutes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "material",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("werkjaar", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=64), nullable=False),
        sa.Column("photo_confirmed", sa.Boolean(), nullable=False),
        sa.Column("keep_until", sa.Date(), nullable=False),
        sa.Column("uploaded_by_user_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_by_contact_id", sa.Integer(), nullable=True),
        sa.Column("created_at", learnnet.models.UTCDateTime(), nullable=False),
        sa.Column("updated_at", learnnet.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["network_id"], ["network.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["session_id"], ["network_session.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(
            ["uploaded_by_user_id"], ["user_account.id"], ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["uploaded_by_contact_id"], ["contact.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("public_id"),
        sa.UniqueConstraint("storage_key"),
    )
    with op.batch_alter_table("material", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_material_network_id"), ["network_id"])
        batch_op.create_index(batch_op.f("ix_material_session_id"), ["session_id"])
        batch_op.create_index(batch_op.f("ix_material_keep_until"), ["keep_until"])
        batch_op.create_index(
            batch_op.f("ix_material_uploaded_by_contact_id"), ["uploaded_by_contact_id"]
        )
    op.create_table(
        "material_blob",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade():
    op.drop_table("material_blob")
    with op.batch_alter_table("material", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_material_uploaded_by_contact_id"))
        batch_op.drop_index(batch_op.f("ix_material_keep_until"))
        batch_op.drop_index(batch_op.f("ix_material_session_id"))
        batch_op.drop_index(batch_op.f("ix_material_network_id"))
    op.drop_table("material")

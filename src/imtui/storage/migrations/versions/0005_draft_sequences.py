"""The per-operator draft sequence list.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "draft_sequence",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("camera_id", sa.Integer, sa.ForeignKey("camera.id", ondelete="CASCADE"), nullable=False),
        sa.Column("start_time", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("end_time", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("added_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_draft_sequence_user", "draft_sequence", ["user", "id"])


def downgrade() -> None:
    op.drop_table("draft_sequence")

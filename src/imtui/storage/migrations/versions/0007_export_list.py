"""The per-operator export list ("Send for export").

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "export_item",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("incident_id", sa.Integer, nullable=True),
        sa.Column("camera_id", sa.Integer, sa.ForeignKey("camera.id", ondelete="CASCADE"), nullable=False),
        sa.Column("start_time", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("end_time", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("added_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_export_item_user", "export_item", ["user", "id"])


def downgrade() -> None:
    op.drop_table("export_item")

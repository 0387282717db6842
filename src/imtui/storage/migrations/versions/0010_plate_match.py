"""Plate matches: a recognition that matched a licence-plate match list (or the Unlisted list),
with a copy of what the entry said at that moment, and whether it was found afterwards, when the
list gained the plate ("retroactive").

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plate_match",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("recognition_id", sa.Integer, nullable=False),
        sa.Column("camera_id", sa.Integer, nullable=False),
        sa.Column("plate", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("list_id", sa.Integer, nullable=False),
        sa.Column("list_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("entry_id", sa.Integer, nullable=True),
        sa.Column("entry_plate", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("fields", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("rule", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("retroactive", sa.Boolean, nullable=False),
    )
    op.create_index("ix_plate_match_at", "plate_match", ["at"])
    op.create_index("ix_plate_match_list", "plate_match", ["list_id", "at"])
    op.create_index("ux_plate_match_once", "plate_match", ["recognition_id", "list_id"], unique=True)


def downgrade() -> None:
    op.drop_table("plate_match")

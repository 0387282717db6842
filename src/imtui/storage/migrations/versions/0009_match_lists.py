"""Licence-plate match lists: lists with their tolerances, ordered custom fields, entries; the
special "Unlisted license plates" list; which lists each LPR camera matches against.

Revision ID: 0009
Revises: 0008
"""

from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    match_list = op.create_table(
        "match_list",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False, unique=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("ocr_equivalence", sa.Integer, nullable=False),
        sa.Column("differences", sa.Integer, nullable=False),
        sa.Column("changed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )
    op.create_table(
        "match_list_field",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("list_id", sa.Integer, sa.ForeignKey("match_list.id", ondelete="CASCADE"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sqlite_autoincrement=True,  # entries keep values by field id: a deleted field's id is never reused
    )
    op.create_index("ix_match_list_field_list", "match_list_field", ["list_id", "position"])
    op.create_table(
        "match_list_entry",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("list_id", sa.Integer, sa.ForeignKey("match_list.id", ondelete="CASCADE"), nullable=False),
        sa.Column("plate", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("fields", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("added_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )
    op.create_index("ux_match_list_entry_plate", "match_list_entry", ["list_id", "plate"], unique=True)
    # Plain ADD COLUMN (no batch rebuild: rebuilding lpr_camera would not hurt, but see migration 0003).
    op.add_column("lpr_camera", sa.Column("match_all", sa.Boolean, nullable=False, server_default=sa.true()))
    op.add_column("lpr_camera", sa.Column("match_lists", sqlmodel.sql.sqltypes.AutoString(), nullable=False,
                                          server_default="[]"))
    op.bulk_insert(match_list, [dict(name="Unlisted license plates", kind="unlisted", ocr_equivalence=0,
                                     differences=0, changed_at=datetime.now(UTC))])


def downgrade() -> None:
    with op.batch_alter_table("lpr_camera") as batch:
        batch.drop_column("match_lists")
        batch.drop_column("match_all")
    op.drop_table("match_list_entry")
    op.drop_table("match_list_field")
    op.drop_table("match_list")

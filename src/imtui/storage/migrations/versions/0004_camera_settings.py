"""Camera settings: enabled, recording retention, motion sensitivity.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no table rebuild): sequence rows reference camera.
    op.add_column("camera", sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()))
    op.add_column("camera", sa.Column("retention_days", sa.Integer, nullable=False, server_default="30"))
    op.add_column("camera", sa.Column("motion_sensitivity", sa.Integer, nullable=False, server_default="50"))


def downgrade() -> None:
    with op.batch_alter_table("camera") as batch:
        batch.drop_column("motion_sensitivity")
        batch.drop_column("retention_days")
        batch.drop_column("enabled")

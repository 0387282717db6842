"""The media store index (recording), worker events, and live views.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UTC = sqlmodel.sql.sqltypes.UTCDateTime
TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "recording",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("camera_id", sa.Integer, sa.ForeignKey("camera.id", ondelete="CASCADE"), nullable=False),
        sa.Column("period_start", UTC(), nullable=False),
        sa.Column("start_time", UTC(), nullable=False),
        sa.Column("end_time", UTC(), nullable=False),
        sa.Column("path", TEXT(length=500), nullable=False),
        sa.Column("frame_count", sa.Integer, nullable=False),
        sa.Column("bytes", sa.Integer, nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("closed", sa.Boolean, nullable=False),
    )
    op.create_index("ix_recording_camera", "recording", ["camera_id", "start_time"])
    op.create_index("ix_recording_end", "recording", ["end_time"])
    op.create_table(
        "event",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", UTC(), nullable=False),
        sa.Column("kind", TEXT(length=40), nullable=False),
        sa.Column("camera_id", sa.Integer, nullable=True),
        sa.Column("source", TEXT(length=200), nullable=False),
        sa.Column("message", TEXT(), nullable=False),
    )
    op.create_index("ix_event_at", "event", ["at"])
    op.create_index("ix_event_kind", "event", ["kind", "at"])
    op.create_table(
        "live_view",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", TEXT(length=200), nullable=False, unique=True),
    )
    op.create_table(
        "live_view_camera",
        sa.Column("view_id", sa.Integer, sa.ForeignKey("live_view.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("camera_id", sa.Integer, sa.ForeignKey("camera.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("live_view_camera")
    op.drop_table("live_view")
    op.drop_table("event")
    op.drop_table("recording")

"""Alarms: definitions (what raises an alarm, from which cameras, with which priority), the
alarms raised, and every change to an alarm (state, assignment, comments, the project made of it).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alarm_definition",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False, unique=True),
        sa.Column("trigger", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("list_id", sa.Integer, nullable=True),
        sa.Column("cameras", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("changed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )
    op.create_table(
        "alarm",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("definition_id", sa.Integer, nullable=True),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("assigned_to", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("object", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("tag", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("camera_id", sa.Integer, nullable=True),
        sa.Column("match_id", sa.Integer, nullable=True),
        sa.Column("event_id", sa.Integer, nullable=True),
        sa.Column("incident_id", sa.Integer, nullable=True),
        sa.Column("message", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    )
    op.create_index("ix_alarm_at", "alarm", ["at"])
    op.create_index("ix_alarm_state", "alarm", ["state", "at"])
    op.create_table(
        "alarm_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("alarm_id", sa.Integer, sa.ForeignKey("alarm.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("user", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("details", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    )
    op.create_index("ix_alarm_log_alarm", "alarm_log", ["alarm_id", "id"])


def downgrade() -> None:
    op.drop_table("alarm_log")
    op.drop_table("alarm")
    op.drop_table("alarm_definition")

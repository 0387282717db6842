"""LPR servers and event actions.

Every ``imtui worker`` registers as an LPR server (name, host) and heartbeats into ``lpr_server``;
each camera is assigned to one server (``camera.server_id``; NULL until a worker claims it, and
again when its server is forgotten).  Alarm definitions gain optional outputs (an HTTP webhook
with timeout and retries, a command); an alarm whose definition has outputs is raised with
``actions_pending`` and a worker runs them after the alarm is stored.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lpr_server",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False, unique=True),
        sa.Column("host", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("heartbeat_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("interval", sa.Float, nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("responding", sa.Boolean, nullable=False),
        sa.Column("stop_requested", sa.Boolean, nullable=False),
        sa.Column("cpu_percent", sa.Float, nullable=False),
        sa.Column("memory_available", sa.BigInteger, nullable=False),
        sa.Column("plates", sa.Integer, nullable=False),
        sa.Column("cameras", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    )
    # SQLite accepts a REFERENCES clause on an added column whose default is NULL, but Alembic will
    # not emit one (it would rebuild the table, and dropping the old camera table with foreign keys
    # on would cascade into recordings; see 0003): say it in SQL there.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE camera ADD COLUMN server_id INTEGER REFERENCES lpr_server (id) ON DELETE SET NULL")
    else:
        op.add_column("camera", sa.Column("server_id", sa.Integer,
                                          sa.ForeignKey("lpr_server.id", ondelete="SET NULL"), nullable=True))
    op.add_column("alarm_definition", sa.Column("webhook_url", sqlmodel.sql.sqltypes.AutoString(length=1000),
                                                nullable=False, server_default=""))
    op.add_column("alarm_definition", sa.Column("webhook_timeout", sa.Float, nullable=False, server_default="5"))
    op.add_column("alarm_definition", sa.Column("webhook_retries", sa.Integer, nullable=False, server_default="2"))
    op.add_column("alarm_definition", sa.Column("command", sqlmodel.sql.sqltypes.AutoString(length=1000),
                                                nullable=False, server_default=""))
    op.add_column("alarm", sa.Column("actions_pending", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_index("ix_alarm_actions_pending", "alarm", ["actions_pending"])


def downgrade() -> None:
    op.drop_index("ix_alarm_actions_pending", "alarm")
    with op.batch_alter_table("alarm") as batch:
        batch.drop_column("actions_pending")
    with op.batch_alter_table("alarm_definition") as batch:
        for column in ("command", "webhook_retries", "webhook_timeout", "webhook_url"):
            batch.drop_column(column)
    with op.batch_alter_table("camera") as batch:
        batch.drop_column("server_id")
    op.drop_table("lpr_server")

"""One change hub: SQLite's single change counter becomes one row per topic.

Every write publishes a topic (incidents, alarms, servers, ...); on SQLite it bumps that topic's
row in ``change_topic`` and open TUIs poll the table, so a list reloads only for the topics it
shows (the incident list reloaded for every alarm).  PostgreSQL carries the topic in the NOTIFY
payload and keeps the table empty.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "change_topic",
        sa.Column("topic", sqlmodel.sql.sqltypes.AutoString(length=32), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    op.drop_table("change_counter")


def downgrade() -> None:
    op.create_table(
        "change_counter",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("value", sa.Integer, nullable=False),
    )
    op.execute("INSERT INTO change_counter (id, value) VALUES (1, 0)")
    op.drop_table("change_topic")

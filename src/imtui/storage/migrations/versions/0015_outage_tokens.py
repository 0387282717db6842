"""Writes that survive a lost COMMIT answer: client tokens and one row per recording file.

``incident``, ``comment`` and ``call`` gain ``client_token`` (unique, NULL allowed): the client
makes one per save, so a retry after the database lost its answer finds the stored row instead of
adding a second one.  ``recording.path`` becomes unique so the worker's index write is an upsert;
duplicates left by earlier outages are merged first (the newest row of a path has its latest state).

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_TOKENED = ("incident", "comment", "call")


def upgrade() -> None:
    for table in _TOKENED:  # a plain ADD COLUMN: a batch copy would drop the incident search triggers on SQLite
        op.add_column(table, sa.Column("client_token", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True))
        op.create_index(f"ux_{table}_client_token", table, ["client_token"], unique=True)
    op.execute("DELETE FROM recording WHERE id NOT IN (SELECT max(id) FROM recording GROUP BY path)")
    op.create_index("ux_recording_path", "recording", ["path"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_recording_path", table_name="recording")
    for table in _TOKENED:
        op.drop_index(f"ux_{table}_client_token", table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("client_token")

"""Initial schema: users, incident properties, cameras, incidents with sequences, comments, calls,
activity log, change counter, and the description search index (FTS5 on SQLite, pg_trgm on
PostgreSQL).

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _ts():
    # The type SQLModel maps datetime to: UTC text on SQLite, timestamptz on PostgreSQL.
    return sqlmodel.sql.sqltypes.UTCDateTime()


def _s(length: int | None = None):
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    bind = op.get_bind()
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", _s(64), nullable=False, unique=True),
        sa.Column("full_name", _s(200), nullable=False),
        sa.Column("role", _s(64), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
    )
    for table in ("incident_type", "incident_status"):
        op.create_table(
            table,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("name", _s(200), nullable=False),
            sa.Column("description", _s(1000), nullable=False),
            sa.Column("position", sa.Integer, nullable=False),
        )
    op.create_table(
        "category",
        sa.Column("slot", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", _s(200), nullable=False),
        sa.Column("description", _s(1000), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
    )
    op.create_table(
        "category_value",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("category_slot", sa.Integer, sa.ForeignKey("category.slot"), nullable=False, index=True),
        sa.Column("name", _s(200), nullable=False),
        sa.Column("description", _s(1000), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
    )
    op.create_table(
        "data_field",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", _s(16), nullable=False),
        sa.Column("slot", sa.Integer, nullable=False),
        sa.Column("name", _s(200), nullable=False),
        sa.Column("description", _s(1000), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
    )
    op.create_table(
        "camera",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", _s(200), nullable=False),
        sa.Column("source", _s(1000), nullable=False),
    )
    op.create_table(
        "setting",
        sa.Column("key", _s(100), primary_key=True),
        sa.Column("value", _s(), nullable=False),
    )
    op.create_table(
        "incident",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("created_by", _s(64), nullable=False),
        sa.Column("type_id", sa.Integer, sa.ForeignKey("incident_type.id"), nullable=False),
        sa.Column("status_id", sa.Integer, sa.ForeignKey("incident_status.id"), nullable=False),
        sa.Column("description", _s(), nullable=False),
        sa.Column("start_time", _ts(), nullable=True),
        sa.Column("end_time", _ts(), nullable=True),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_incident_created", "incident", ["created_at", "id"])
    op.create_index("ix_incident_start", "incident", ["start_time", "end_time", "created_at", "id"])
    op.create_index("ix_incident_end", "incident", ["end_time"])
    op.create_table(
        "sequence",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incident.id", ondelete="CASCADE"), nullable=False),
        sa.Column("camera_id", sa.Integer, sa.ForeignKey("camera.id"), nullable=False),
        sa.Column("start_time", _ts(), nullable=False),
        sa.Column("end_time", _ts(), nullable=False),
        sa.Column("added_at", _ts(), nullable=False),
        sa.Column("added_by", _s(64), nullable=False),
    )
    op.create_index("ix_sequence_incident_id", "sequence", ["incident_id"])
    op.create_index("ix_sequence_start", "sequence", ["start_time", "end_time"])
    op.create_table(
        "comment",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incident.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("author", _s(64), nullable=False),
        sa.Column("text", _s(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_comment_incident_id", "comment", ["incident_id"])
    op.create_table(
        "call",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incident.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", _ts(), nullable=False),
        sa.Column("direction", _s(16), nullable=False),
        sa.Column("party", _s(200), nullable=False),
        sa.Column("number", _s(64), nullable=False),
        sa.Column("notes", _s(), nullable=False),
        sa.Column("author", _s(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_call_incident_id", "call", ["incident_id"])
    op.create_table(
        "activity",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("incident_id", sa.Integer, nullable=False),
        sa.Column("at", _ts(), nullable=False),
        sa.Column("user", _s(64), nullable=False),
        sa.Column("action", _s(64), nullable=False),
        sa.Column("details", _s(), nullable=False),
    )
    op.create_index("ix_activity_incident", "activity", ["incident_id", "id"])
    op.create_table(
        "change_counter",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("value", sa.Integer, nullable=False),
    )
    op.execute("INSERT INTO change_counter (id, value) VALUES (1, 0)")

    if bind.dialect.name == "sqlite":
        for stmt in SQLITE_SEARCH:
            op.execute(stmt)
    elif bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_incident_description_trgm ON incident USING gin (description gin_trgm_ops)")


# External-content FTS5 over incident.description.  The UPDATE trigger fires only when the
# description changes, so status edits never touch the index (storage notes).
SQLITE_SEARCH = [
    "CREATE VIRTUAL TABLE incident_fts USING fts5(description, content='incident', content_rowid='id')",
    """CREATE TRIGGER incident_fts_ai AFTER INSERT ON incident BEGIN
         INSERT INTO incident_fts(rowid, description) VALUES (new.id, new.description);
       END""",
    """CREATE TRIGGER incident_fts_ad AFTER DELETE ON incident BEGIN
         INSERT INTO incident_fts(incident_fts, rowid, description) VALUES ('delete', old.id, old.description);
       END""",
    """CREATE TRIGGER incident_fts_au AFTER UPDATE OF description ON incident BEGIN
         INSERT INTO incident_fts(incident_fts, rowid, description) VALUES ('delete', old.id, old.description);
         INSERT INTO incident_fts(rowid, description) VALUES (new.id, new.description);
       END""",
]


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in ("incident_fts_ai", "incident_fts_ad", "incident_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS incident_fts")
    for table in (
        "change_counter", "activity", "call", "comment", "sequence", "incident", "setting", "camera",
        "data_field", "category_value", "category", "incident_status", "incident_type", "app_user",
    ):
        op.drop_table(table)

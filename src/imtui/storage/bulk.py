"""Bulk loading of synthetic incidents, fast enough for a million rows.

SQLite: the stdlib driver on the database file with executemany in large transactions, secondary
indexes and FTS triggers dropped during the load and rebuilt afterwards (index-after is several
times faster than maintaining them per row).  PostgreSQL: asyncpg COPY.

Rows arrive as plain tuples from the caller; datetimes are aware UTC.  On SQLite they are written
in exactly the text form SQLAlchemy's DateTime uses there (``YYYY-MM-DD HH:MM:SS.ffffff``), since
comparisons are textual and any other form would silently compare wrong.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from itertools import islice

INCIDENT_COLS = ("id", "created_at", "created_by", "type_id", "status_id", "description", "start_time", "end_time",
                 "updated_at", "version")
SEQUENCE_COLS = ("incident_id", "camera_id", "start_time", "end_time", "added_at", "added_by")
COMMENT_COLS = ("incident_id", "created_at", "author", "text", "updated_at", "version")
ACTIVITY_COLS = ("incident_id", "at", "user", "action", "details")

_SECONDARY_INDEXES = {
    "ix_incident_created": "CREATE INDEX ix_incident_created ON incident (created_at, id)",
    "ix_incident_start": "CREATE INDEX ix_incident_start ON incident (start_time, end_time, created_at, id)",
    "ix_incident_end": "CREATE INDEX ix_incident_end ON incident (end_time)",
    "ix_sequence_incident_id": "CREATE INDEX ix_sequence_incident_id ON sequence (incident_id)",
    "ix_sequence_start": "CREATE INDEX ix_sequence_start ON sequence (start_time, end_time)",
    "ix_comment_incident_id": "CREATE INDEX ix_comment_incident_id ON comment (incident_id)",
    "ix_activity_incident": "CREATE INDEX ix_activity_incident ON activity (incident_id, id)",
    "ix_incident_type": "CREATE INDEX ix_incident_type ON incident (type_id)",
    "ix_incident_status": "CREATE INDEX ix_incident_status ON incident (status_id)",
}


def sqlite_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    v = value.astimezone(UTC)
    return (
        f"{v.year:04d}-{v.month:02d}-{v.day:02d} {v.hour:02d}:{v.minute:02d}:{v.second:02d}.{v.microsecond:06d}"
    )


def _batches(rows: Iterable[tuple], size: int) -> Iterator[list[tuple]]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


def _convert(row: tuple, time_positions: tuple[int, ...]) -> tuple:
    out = list(row)
    for i in time_positions:
        out[i] = sqlite_time(out[i])
    return tuple(out)


class SqliteBulkLoader:
    """Load into a SQLite file with indexes off; call :meth:`finish` to rebuild them."""

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=OFF")  # a failed seed is re-run, not recovered
        self.conn.execute("PRAGMA cache_size=-262144")
        self.conn.execute("PRAGMA foreign_keys=OFF")
        self.conn.execute("PRAGMA busy_timeout=10000")
        self._triggers = self.conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type='trigger' AND tbl_name='incident'"
        ).fetchall()
        for name, _sql in self._triggers:
            self.conn.execute(f"DROP TRIGGER {name}")
        present = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        self._dropped = [name for name in _SECONDARY_INDEXES if name in present]
        for name in self._dropped:
            self.conn.execute(f"DROP INDEX {name}")

    def next_incident_id(self) -> int:
        return (self.conn.execute("SELECT coalesce(max(id), 0) FROM incident").fetchone()[0] or 0) + 1

    def newest_created(self) -> datetime | None:
        value = self.conn.execute("SELECT max(created_at) FROM incident").fetchone()[0]
        return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None

    def insert(self, table: str, cols: tuple[str, ...], rows: Iterable[tuple], time_positions: tuple[int, ...]) -> int:
        sql = f'INSERT INTO {table} ({", ".join(chr(34) + c + chr(34) for c in cols)}) VALUES ({", ".join("?" * len(cols))})'
        n = 0
        for batch in _batches(rows, 50_000):
            self.conn.execute("BEGIN")
            self.conn.executemany(sql, [_convert(r, time_positions) for r in batch])
            self.conn.execute("COMMIT")
            n += len(batch)
        return n

    def finish(self) -> None:
        for name in self._dropped:
            self.conn.execute(_SECONDARY_INDEXES[name])
        exists = self.conn.execute("SELECT 1 FROM sqlite_master WHERE name='incident_fts'").fetchone()
        if exists:
            self.conn.execute("INSERT INTO incident_fts(incident_fts) VALUES ('rebuild')")
        for _name, sql in self._triggers:
            self.conn.execute(sql)
        self.conn.execute("INSERT INTO change_topic (topic, value) VALUES ('incidents', 1) "
                          "ON CONFLICT (topic) DO UPDATE SET value = value + 1")
        self.conn.execute("ANALYZE")
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.conn.close()


async def copy_postgres(conn, table: str, cols: tuple[str, ...], rows: Iterable[tuple]) -> int:  # noqa: ANN001
    """COPY rows into a PostgreSQL table through an asyncpg connection."""
    n = 0
    for batch in _batches(rows, 50_000):
        await conn.copy_records_to_table(table, records=batch, columns=list(cols))
        n += len(batch)
    return n

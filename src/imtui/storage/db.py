"""One async storage API over SQLite (embedded default) and PostgreSQL (multi-operator sites).

SQLite gets WAL, foreign keys, a busy timeout and, for every write transaction, ``BEGIN
IMMEDIATE``: a deferred BEGIN that reads and then writes fails at once with "database is locked"
when another process wrote meanwhile (busy_timeout does not apply to that lock upgrade; thousands
of failures in 10 s in the storage notes).  Reads use a separate engine with a plain BEGIN so they
never take the write lock.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

log = logging.getLogger(__name__)


class StorageUnavailable(RuntimeError):
    """The database cannot be reached or refused the operation for a reason outside the data."""


def normalise_url(url: str) -> str:
    """Accept plain ``sqlite:///`` / ``postgresql://`` URLs and pick the async drivers."""
    u = make_url(url)
    if u.drivername in ("sqlite", "sqlite+pysqlite"):
        u = u.set(drivername="sqlite+aiosqlite")
    elif u.drivername in ("postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg"):
        u = u.set(drivername="postgresql+asyncpg")
    return u.render_as_string(hide_password=False)


def _sqlite_engine(url: str, begin: str | None) -> AsyncEngine:
    """An engine whose transactions start with ``begin``; with None every statement autocommits
    and the pool skips its ROLLBACK on check-in (each aiosqlite call is a thread hop: ~0.1 ms)."""
    engine = create_async_engine(
        url, connect_args={"timeout": 30}, pool_reset_on_return="rollback" if begin else None
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # noqa: ANN001
        # Let SQLAlchemy, not the driver, decide when a transaction starts (see do_begin below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=FULL",  # incident records are evidence: survive power loss too
            "PRAGMA foreign_keys=ON",
            "PRAGMA busy_timeout=10000",
            "PRAGMA cache_size=-65536",
        ):
            cursor.execute(pragma)
        cursor.close()

    if begin is not None:

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn) -> None:  # noqa: ANN001
            conn.exec_driver_sql(begin)

    return engine


class Database:
    """Engines and sessions for one database URL."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        parsed = make_url(self.url)
        self.backend = parsed.get_backend_name()
        if self.backend == "sqlite":
            path = parsed.database
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.write_engine = _sqlite_engine(self.url, "BEGIN IMMEDIATE")
            self.read_engine = _sqlite_engine(self.url, "BEGIN")
            self.query_engine = _sqlite_engine(self.url, None)
        elif self.backend == "postgresql":
            self.write_engine = create_async_engine(self.url, pool_pre_ping=True)
            self.read_engine = self.write_engine
            self.query_engine = self.write_engine
        else:
            raise ValueError(f"unsupported database {self.backend!r}: use sqlite:/// or postgresql://")
        self._write_sessions = async_sessionmaker(self.write_engine, class_=AsyncSession, expire_on_commit=False)
        self._read_sessions = async_sessionmaker(self.read_engine, class_=AsyncSession, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.backend == "sqlite"

    @property
    def sqlite_path(self) -> str | None:
        return make_url(self.url).database if self.is_sqlite else None

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only; its transaction is rolled back at the end."""
        async with self._read_sessions() as session:
            yield session

    @asynccontextmanager
    async def query(self) -> AsyncIterator[AsyncConnection]:
        """A Core connection for single-statement reads: the list's hot path.

        On SQLite it runs without BEGIN/ROLLBACK (one statement is consistent on its own), which
        halves the cost of a page read; use :meth:`read` when several statements must agree.
        """
        async with self.query_engine.connect() as conn:
            yield conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A session whose transaction commits when the block ends without an exception."""
        async with self._write_sessions() as session:
            async with session.begin():
                yield session

    async def upgrade(self) -> None:
        """Bring the schema to the newest migration (creates it on an empty database)."""
        from imtui.storage.migrate import upgrade_connection

        async with self.write_engine.connect() as conn:
            await conn.run_sync(upgrade_connection)
            await conn.commit()

    async def dispose(self) -> None:
        for engine in {self.write_engine, self.read_engine, self.query_engine}:
            await engine.dispose()

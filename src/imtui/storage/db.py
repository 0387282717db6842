"""One async storage API over SQLite (embedded default) and PostgreSQL (multi-operator sites).

SQLite gets WAL, foreign keys, a busy timeout and, for every write transaction, ``BEGIN
IMMEDIATE``: a deferred BEGIN that reads and then writes fails at once with "database is locked"
when another process wrote meanwhile (busy_timeout does not apply to that lock upgrade; thousands
of failures in 10 s in the storage notes).  Reads use a separate engine with a plain BEGIN so they
never take the write lock.

Every wait on the database is bounded by :class:`DbTimeouts` (config ``[database]``): getting a
connection (pool wait, liveness check and reconnect together) by ``connect``/``pool``, each statement
and the COMMIT by ``statement`` (asyncpg ``command_timeout``; SQLite's busy timeout for a locked
file).  A COMMIT that fails without an answer raises :class:`CommitUnknown`: the change may be
stored, and the caller must say so rather than invite a blind retry.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sqlalchemy import event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


class StorageUnavailable(RuntimeError):
    """The database cannot be reached or refused the operation for a reason outside the data."""


class CommitUnknown(StorageUnavailable):
    """The COMMIT was sent but no answer came back (connection lost, timed out): the transaction
    may or may not be stored.  ``__cause__`` is the driver's error, for the log only."""


# What a lost, hung or locked database raises (driver errors come wrapped in DBAPIError; a bounded
# wait ends in TimeoutError, an OSError; asyncpg raises its own errors outside SQLAlchemy's wrapper).
UNREACHABLE: tuple[type[BaseException], ...] = (
    sa_exc.DBAPIError, sa_exc.TimeoutError, OSError, ConnectionError, StorageUnavailable,
)
try:  # asyncpg is optional (SQLite sites): its own errors when raised outside a cursor
    import asyncpg as _asyncpg

    UNREACHABLE += (_asyncpg.PostgresError, _asyncpg.InterfaceError)
except ImportError:  # pragma: no cover - installed with the package
    pass


@dataclass(frozen=True)
class DbTimeouts:
    """Seconds each kind of wait on the database may last (config ``[database]``, default 5).

    ``connect``: opening a connection, and getting one at all (pool wait + liveness check +
    reconnect);  ``pool``: waiting for a free pooled connection;  ``statement``: one statement or
    the COMMIT (on SQLite: how long a locked database is waited for)."""

    connect: float = 5.0
    pool: float = 5.0
    statement: float = 5.0

    @property
    def checkout(self) -> float:
        """The bound on getting a usable connection: the pool wait, a liveness check that may
        time out, and one reconnect all fit in it."""
        return max(self.connect, self.pool)


def normalise_url(url: str) -> str:
    """Accept plain ``sqlite:///`` / ``postgresql://`` URLs and pick the async drivers."""
    u = make_url(url)
    if u.drivername in ("sqlite", "sqlite+pysqlite"):
        u = u.set(drivername="sqlite+aiosqlite")
    elif u.drivername in ("postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg"):
        u = u.set(drivername="postgresql+asyncpg")
    return u.render_as_string(hide_password=False)


def _sqlite_engine(url: str, begin: str | None, timeouts: DbTimeouts) -> AsyncEngine:
    """An engine whose transactions start with ``begin``; with None every statement autocommits
    and the pool skips its ROLLBACK on check-in (each aiosqlite call is a thread hop: ~0.1 ms).
    A locked database is waited for ``timeouts.statement`` seconds, then "database is locked"."""
    busy_ms = max(1, int(timeouts.statement * 1000))
    engine = create_async_engine(
        url, connect_args={"timeout": timeouts.statement}, pool_timeout=timeouts.pool,
        pool_reset_on_return="rollback" if begin else None,
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
            f"PRAGMA busy_timeout={busy_ms}",
            "PRAGMA cache_size=-65536",
        ):
            cursor.execute(pragma)
        cursor.close()

    if begin is not None:

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn) -> None:  # noqa: ANN001
            conn.exec_driver_sql(begin)

    return engine


def _pg_engine(url: str, timeouts: DbTimeouts, *, statements: bool) -> AsyncEngine:
    """A PostgreSQL engine whose connects, pool waits and (with ``statements``) statements and
    COMMITs are bounded (asyncpg's ``command_timeout`` cancels the wait on the client side)."""
    connect_args: dict[str, object] = {"timeout": timeouts.connect}
    if statements:
        connect_args["command_timeout"] = timeouts.statement
    return create_async_engine(url, pool_pre_ping=True, pool_timeout=timeouts.pool, connect_args=connect_args)


class Database:
    """Engines and sessions for one database URL."""

    def __init__(self, url: str, timeouts: DbTimeouts | None = None) -> None:
        self.url = normalise_url(url)
        self.timeouts = timeouts or DbTimeouts()
        parsed = make_url(self.url)
        self.backend = parsed.get_backend_name()
        if self.backend == "sqlite":
            path = parsed.database
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.write_engine = _sqlite_engine(self.url, "BEGIN IMMEDIATE", self.timeouts)
            self.read_engine = _sqlite_engine(self.url, "BEGIN", self.timeouts)
            self.query_engine = _sqlite_engine(self.url, None, self.timeouts)
        elif self.backend == "postgresql":
            self.write_engine = _pg_engine(self.url, self.timeouts, statements=True)
            self.read_engine = self.write_engine
            self.query_engine = self.write_engine
        else:
            raise ValueError(f"unsupported database {self.backend!r}: use sqlite:/// or postgresql://")
        self._write_sessions = async_sessionmaker(self.write_engine, class_=AsyncSession, expire_on_commit=False)
        self._read_sessions = async_sessionmaker(self.read_engine, class_=AsyncSession, expire_on_commit=False)
        self._releasing: set[asyncio.Future] = set()  # failed sessions being closed in the background

    @property
    def is_sqlite(self) -> bool:
        return self.backend == "sqlite"

    @property
    def sqlite_path(self) -> str | None:
        return make_url(self.url).database if self.is_sqlite else None

    async def _bounded(self, step: Awaitable[T], bound: float, lingering: list[asyncio.Future], what: str) -> T:
        """Await ``step`` for at most ``bound`` seconds.  Past it the step is left to finish on
        its own (added to ``lingering``) instead of being cancelled: cancelling a checkout or a
        COMMIT makes SQLAlchemy close the dead connection gracefully first, which doubles the
        operator's wait on a black-holed server."""
        task = asyncio.ensure_future(step)
        try:
            return await asyncio.wait_for(asyncio.shield(task), bound)
        except TimeoutError as exc:
            lingering.append(task)
            raise StorageUnavailable(f"{what}: no answer from the database within {bound:g} s") from exc
        except BaseException:
            if not task.done():
                lingering.append(task)
            raise

    def _release_later(self, close: Callable[[], Awaitable[object]], lingering: list[asyncio.Future]) -> None:
        """Close a session or connection whose database failed, in the background: its rollback
        on a dead server waits out another bound, and the operator has been told already."""

        async def run() -> None:
            try:
                if lingering:
                    await asyncio.wait(lingering)
                await close()
            except BaseException:  # noqa: BLE001 - the failure itself was reported by the caller
                log.debug("closing a failed connection", exc_info=True)

        task = asyncio.ensure_future(run())
        self._releasing.add(task)
        task.add_done_callback(self._releasing.discard)

    @asynccontextmanager
    async def _session(self, maker: async_sessionmaker[AsyncSession], *, commit: bool) -> AsyncIterator[AsyncSession]:
        """A session whose connection is got now, within the checkout bound (the pool's liveness
        check on a black-holed connection, then a reconnect, would otherwise add up to twice the
        bound before the first statement); with ``commit`` it commits within the statement bound."""
        session = maker()
        lingering: list[asyncio.Future] = []
        # On SQLite, getting a write session includes BEGIN IMMEDIATE, which waits for the write
        # lock as long as a statement may ("database is locked" after it, the clearer cause).
        bound = self.timeouts.checkout + (self.timeouts.statement if self.is_sqlite and commit else 0)
        try:
            await self._bounded(session.connection(), bound, lingering, "connect")
            yield session
            if commit:
                await session.flush()  # a failure here is still a clean rollback
                # SQLite's COMMIT waits on no lock (BEGIN IMMEDIATE took it) and no network, only
                # on the disk: a large import's COMMIT is not cut short and called "unknown".
                commit_bound = self.timeouts.statement if not self.is_sqlite else float("inf")
                try:
                    await self._bounded(session.commit(), commit_bound, lingering, "COMMIT")
                except sa_exc.IntegrityError:
                    raise
                except UNREACHABLE as exc:
                    raise CommitUnknown("no answer to COMMIT") from exc
        except (*UNREACHABLE, asyncio.CancelledError):
            self._release_later(session.close, lingering)
            raise
        except BaseException:
            await session.close()
            raise
        await session.close()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only; its transaction is rolled back at the end."""
        async with self._session(self._read_sessions, commit=False) as session:
            yield session

    @asynccontextmanager
    async def query(self) -> AsyncIterator[AsyncConnection]:
        """A Core connection for single-statement reads: the list's hot path.

        On SQLite it runs without BEGIN/ROLLBACK (one statement is consistent on its own), which
        halves the cost of a page read; use :meth:`read` when several statements must agree.
        """
        conn = self.query_engine.connect()
        lingering: list[asyncio.Future] = []
        try:
            await self._bounded(conn.start(), self.timeouts.checkout, lingering, "connect")
            yield conn
        except (*UNREACHABLE, asyncio.CancelledError):
            self._release_later(conn.close, lingering)
            raise
        except BaseException:
            await conn.close()
            raise
        await conn.close()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A session whose transaction commits when the block ends without an exception.

        A failure before the COMMIT leaves nothing stored; a COMMIT that gets no answer within the
        statement bound raises :class:`CommitUnknown` (it may be stored)."""
        async with self._session(self._write_sessions, commit=True) as session:
            yield session

    @asynccontextmanager
    async def bulk(self) -> AsyncIterator[AsyncConnection]:
        """A connection for administrators' long statements (migrations, seeding a million
        projects, ANALYZE): on PostgreSQL its own engine without the statement bound; connecting
        is still bounded.  Commit it yourself."""
        engine = _pg_engine(self.url, self.timeouts, statements=False) if not self.is_sqlite else self.write_engine
        try:
            async with asyncio.timeout(self.timeouts.checkout):
                conn = await engine.connect()
            try:
                yield conn
            finally:
                await conn.close()
        finally:
            if engine is not self.write_engine:
                await engine.dispose()

    async def upgrade(self) -> None:
        """Bring the schema to the newest migration (creates it on an empty database); building
        an index on a large site takes minutes, hence :meth:`bulk`."""
        from imtui.storage.migrate import upgrade_connection

        async with self.bulk() as conn:
            await conn.run_sync(upgrade_connection)
            await conn.commit()

    async def dispose(self) -> None:
        if self._releasing:
            await asyncio.wait(set(self._releasing), timeout=self.timeouts.statement + 2)
        for engine in {self.write_engine, self.read_engine, self.query_engine}:
            await engine.dispose()

"""The change hub's storage half: writers publish a topic with each change, readers learn which
topics changed.

PostgreSQL: the topic is the payload of a NOTIFY on :data:`NOTIFY_CHANNEL`, sent in the writer's
transaction (so it is delivered only if the change commits; identical payloads of one transaction
are delivered once).  SQLite has no NOTIFY: the writer bumps its topic's row in the small
``change_topic`` table and each TUI polls that table (a few rows, one read).

:class:`Listener` holds the LISTEN connection of one process.  It reports when that connection
is lost (the server restarted, a proxy reset it, a ping went unanswered) so the caller can poll
meanwhile and connect again with backoff: a LISTEN that silently died left every open TUI
without live updates.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from imtui.storage.models import ChangeTopic

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "imtui_changes"


class Topic(StrEnum):
    """What changed, as the screens subscribe to it (one per kind of list shown)."""

    INCIDENTS = "incidents"  # projects and everything the incident list shows of them
    INCIDENT_DETAILS = "incident_details"  # comments and calls: not in the list, only in the editor
    ALARMS = "alarms"
    ALARM_DEFINITIONS = "alarm_definitions"
    SERVERS = "servers"  # LPR servers and their camera assignment
    CAMERAS = "cameras"
    VIEWS = "views"
    PROPERTIES = "properties"  # types, statuses, categories, data fields, options
    SECURITY = "security"  # roles and users
    MATCHLISTS = "matchlists"
    RECOGNITIONS = "recognitions"  # new LPR reads stored by a worker
    RECOGNITION = "recognition"  # per-camera recognition settings


ALL_TOPICS = frozenset(Topic)


async def publish(session: AsyncSession, topic: Topic) -> None:
    """Publish ``topic`` in ``session``'s transaction (NOTIFY on PostgreSQL, the change table on SQLite)."""
    topic = Topic(topic)  # a misspelt topic fails here, in the writer's tests, not silently
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(sa.select(sa.func.pg_notify(NOTIFY_CHANNEL, topic.value)))
        return
    t = ChangeTopic.__table__
    stmt = sqlite.insert(t).values(topic=topic.value, value=1)
    await session.execute(stmt.on_conflict_do_update(index_elements=[t.c.topic], set_={"value": t.c.value + 1}))


async def topic_versions(conn: AsyncConnection) -> dict[str, int]:
    """SQLite: every topic's change count (the poll: one read of a table of about ten rows)."""
    t = ChangeTopic.__table__
    return {row.topic: int(row.value) for row in await conn.execute(sa.select(t.c.topic, t.c.value))}


async def wal_position(conn: AsyncConnection) -> str:
    """PostgreSQL while LISTEN is down: the write-ahead log position, which moves whenever
    anything is written.  Unchanged means nothing changed, so nothing needs reloading.  It is the
    whole server's (another database's writes move it too): more reloads than needed during an
    outage, but at once, where the per-database statistics lag by up to 10 s."""
    return str((await conn.execute(sa.select(sa.func.pg_current_wal_lsn()))).scalar_one())


class Listener:
    """One LISTEN connection; :meth:`connect` then :meth:`wait_lost`; :meth:`close` at the end."""

    def __init__(self, engine: AsyncEngine, on_topic: Callable[[str], None], *,
                 timeout: float = 5.0, ping_seconds: float = 15.0) -> None:
        self.engine = engine
        self.on_topic = on_topic
        self.timeout = timeout
        self.ping_seconds = ping_seconds
        self._conn: AsyncConnection | None = None
        self._lost: asyncio.Event = asyncio.Event()

    async def connect(self) -> None:
        """Open the connection and LISTEN; raises (after at most ``timeout``) when it cannot."""
        await self.close()
        self._lost = asyncio.Event()
        conn = await asyncio.wait_for(self.engine.connect(), self.timeout)
        try:
            raw = await conn.get_raw_connection()
            driver = raw.driver_connection
            lost = self._lost

            def _on_notify(_conn, _pid, _channel, payload: str) -> None:  # noqa: ANN001
                self.on_topic(payload)

            driver.add_termination_listener(lambda _c: lost.set())
            await asyncio.wait_for(driver.add_listener(NOTIFY_CHANNEL, _on_notify), self.timeout)
        except BaseException:
            await _discard(conn)
            raise
        self._conn = conn

    async def wait_lost(self) -> None:
        """Return once the connection is gone: closed by the server or the network, or a ping
        (every ``ping_seconds``) not answered within ``timeout`` (a black-holed link never closes)."""
        conn = self._conn
        assert conn is not None
        driver = (await conn.get_raw_connection()).driver_connection
        while not self._lost.is_set():
            try:
                await asyncio.wait_for(self._lost.wait(), self.ping_seconds)
                break
            except TimeoutError:
                pass
            try:
                await asyncio.wait_for(driver.execute("SELECT 1"), self.timeout)
            except Exception:  # noqa: BLE001 - any failure of the ping means the LISTEN is gone
                log.info("LISTEN connection did not answer its ping", exc_info=True)
                break
        await self.close()

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await _discard(conn)


async def _discard(conn: AsyncConnection) -> None:
    """Drop a connection that may be dead: invalidate it (so the pool never hands it out again)
    and close, each bounded (a black-holed socket never answers a goodbye)."""
    try:
        await asyncio.wait_for(conn.invalidate(), 2)
    except Exception:  # noqa: BLE001 - it is being thrown away
        log.debug("invalidating the LISTEN connection failed", exc_info=True)
    try:
        await asyncio.wait_for(conn.close(), 2)
    except Exception:  # noqa: BLE001
        log.debug("closing the LISTEN connection failed", exc_info=True)

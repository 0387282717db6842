"""The change hub of one process: which topics other operators (and the worker) changed.

Writers publish a topic with each change (``Service._changed``, storage/changes.py).  The hub
turns what the database says into sets of topics for ``deliver``; the app hands them to the
screens that subscribe, so a list reloads only for the topics it shows.

- SQLite: polls the ``change_topic`` table every ``poll_seconds`` (one read of about ten rows).
- PostgreSQL: LISTEN, nothing polls.  NOTIFYs are coalesced: delivered 0.2 s after the first,
  and under a stream of writes at most once per 2 s (each delivery may reload a list; an idle
  TUI cost 16 % of a core while 10 operators wrote, see bench/idle_tui.py).  When the LISTEN
  connection is lost (a database restart, a reset, a ping unanswered), ``on_live(False)`` is
  called, the hub polls instead (the write-ahead log position: only when it moved does it
  deliver every topic) and connects again with backoff (1, 2, 4 ... ``max_backoff`` s).  Once
  LISTEN is back, ``on_live(True)`` and one delivery of every topic catches up with what was
  written meanwhile.

The loop is a plain asyncio task, not a Textual worker: it runs for the life of the app, and the
pilot tests wait for every worker to finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable

from imtui.storage.changes import ALL_TOPICS, Listener, Topic, topic_versions, wal_position
from imtui.storage.db import Database

__all__ = ["ALL_TOPICS", "ChangeHub", "Topic", "Topics"]  # screens subscribe to topics from here

log = logging.getLogger(__name__)

Topics = frozenset[Topic]
MAX_BACKOFF_SECONDS = 30.0
COALESCE_SECONDS = 0.2  # a colleague's save NOTIFYs once per topic; the worker may burst
MIN_INTERVAL_SECONDS = 2.0  # under a stream of writes, one delivery per 2 s at most: the pace of SQLite's poll


class ChangeHub:
    def __init__(self, db: Database, deliver: Callable[[Topics], None], on_live: Callable[[bool], None] = lambda _l: None,
                 *, poll_seconds: float = 2.0, max_backoff: float = MAX_BACKOFF_SECONDS,
                 ping_seconds: float = 15.0) -> None:
        self.db = db
        self.deliver = deliver
        self.on_live = on_live
        self.poll_seconds = poll_seconds
        self.max_backoff = max_backoff
        self.live: bool | None = None  # PostgreSQL: whether LISTEN delivers; None on SQLite
        self._listener = Listener(db.write_engine, self._notified, timeout=5.0, ping_seconds=ping_seconds)
        self._task: asyncio.Task[None] | None = None
        self._pending: set[Topic] = set()
        self._flush: asyncio.TimerHandle | None = None
        self._delivered_at = float("-inf")
        self._mark: dict[str, int] | str | None = None

    async def start(self) -> None:
        """Take the first mark (SQLite) or LISTEN (PostgreSQL), then keep watching in a task.
        Returns once watching, so a list loaded after it misses no change.  Once only."""
        if self._task is not None:
            return
        if self.db.is_sqlite:
            await self._poll_sqlite()
            self._task = asyncio.create_task(self._sqlite_loop(), name="change-hub")
            return
        try:
            await self._listener.connect()
        except Exception:  # noqa: BLE001 - the loop retries; meanwhile the lists are polled
            log.warning("LISTEN failed; polling until it can be established", exc_info=True)
            self._set_live(False)
            self._task = asyncio.create_task(self._postgres_loop(connected=False), name="change-hub")
            return
        self._set_live(True)
        self._task = asyncio.create_task(self._postgres_loop(connected=True), name="change-hub")

    async def stop(self) -> None:
        if self._flush is not None:
            self._flush.cancel()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._listener.close()

    # -- SQLite --------------------------------------------------------------------------------
    async def _sqlite_loop(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            changed = await self._poll_sqlite()
            if changed:
                self._deliver(changed)

    async def _poll_sqlite(self) -> Topics:
        """The topics whose count moved since the previous poll (none on the first)."""
        try:
            async with self.db.query() as conn:
                now = await topic_versions(conn)
        except Exception:  # noqa: BLE001 - a lost database must not stop the hub; the lists say why
            log.debug("change poll failed", exc_info=True)
            return frozenset()
        before, self._mark = self._mark, now
        if not isinstance(before, dict):
            return frozenset()
        return _topics(t for t in now.keys() | before.keys() if now.get(t) != before.get(t))

    # -- PostgreSQL ----------------------------------------------------------------------------
    def _notified(self, payload: str) -> None:
        """A NOTIFY: coalesce a burst into one delivery."""
        self._pending.update(_topics((payload,)))
        if self._flush is None:
            loop = asyncio.get_running_loop()
            delay = max(COALESCE_SECONDS, self._delivered_at + MIN_INTERVAL_SECONDS - loop.time())
            self._flush = loop.call_later(delay, self._deliver_pending)

    def _deliver_pending(self) -> None:
        self._flush = None
        self._delivered_at = asyncio.get_running_loop().time()
        topics, self._pending = frozenset(self._pending), set()
        if topics:
            self._deliver(topics)

    async def _postgres_loop(self, connected: bool) -> None:
        backoff = 1.0
        while True:
            if connected:
                try:
                    await self._listener.wait_lost()
                except Exception:  # noqa: BLE001 - however it ended, it is gone: reconnect
                    log.warning("LISTEN connection failed", exc_info=True)
                    await self._listener.close()
                log.warning("LISTEN connection lost; polling until it is back")
                self._set_live(False)
                backoff = 1.0
                self._mark = None
            await self._poll_postgres_for(backoff)
            try:
                await self._listener.connect()
            except Exception as exc:  # noqa: BLE001 - refused, reset, timed out: try again later
                log.info("LISTEN not re-established (%s); next try in %g s", type(exc).__name__, backoff)
                connected = False
                backoff = min(backoff * 2, self.max_backoff)
                continue
            connected = True
            self._set_live(True)
            self._deliver(ALL_TOPICS)  # what others wrote while nobody listened

    async def _poll_postgres_for(self, seconds: float) -> None:
        """Poll (every ``poll_seconds``) for ``seconds``: deliver every topic when the database
        wrote anything since the previous poll."""
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while True:
            try:
                now = await asyncio.wait_for(self._wal_position(), 5)
            except Exception:  # noqa: BLE001 - the database is down too: nothing to reload
                log.debug("change poll failed", exc_info=True)
            else:
                if self._mark is not None and now != self._mark:
                    self._deliver(ALL_TOPICS)
                self._mark = now
            left = end - loop.time()
            if left <= 0:
                return
            await asyncio.sleep(min(self.poll_seconds, left))

    async def _wal_position(self) -> str:
        async with self.db.query() as conn:
            return await wal_position(conn)

    def _deliver(self, topics: Topics) -> None:
        """Hand ``topics`` over; a failing subscriber is logged and must not stop the hub."""
        try:
            self.deliver(topics)
        except Exception:  # noqa: BLE001
            log.exception("delivering changes %s failed", sorted(topics))

    def _set_live(self, live: bool) -> None:
        """Tell a change of state; not the first LISTEN succeeding (nothing to tell)."""
        if self.live is None and live:
            self.live = True
        elif live != self.live:
            self.live = live
            self.on_live(live)


def _topics(names: Iterable[str]) -> Topics:
    """Topics by name; a name this version does not know (a newer writer's) stands for every
    topic: reloading too much beats missing a change."""
    wanted = set(names)
    known = {t for t in Topic if t.value in wanted}
    return ALL_TOPICS if len(known) < len(wanted) else frozenset(known)

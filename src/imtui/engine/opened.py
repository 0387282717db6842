"""The "opened" entries of the activity log, written after the open has returned.

Opening a project only reads it, but its activity entry is a write, and on SQLite a write waits
for the single writer lock: with 20 operators saving, an open waited up to 6 s for a line of
log.  So :meth:`IncidentService.open <imtui.engine.incidents.IncidentService.open>` reads the
project, answers, and hands the entry (stamped with the time of the open) to this queue, which
writes whatever is pending in one transaction in the background.

Never lost: a failed write (the lock held past the busy timeout, the database away) is retried
with backoff (0.5 s doubling to 30 s) for as long as the process runs; :meth:`flush` waits for the
queue (the app calls it on the way out, a reader of the log before reading it), and whatever still
cannot be written by then goes to ``imtui.log`` entry by entry, with the reason.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from imtui.engine import activity as act
from imtui.storage.db import Database
from imtui.storage.models import Activity, Incident

log = logging.getLogger(__name__)

MAX_RETRY_SECONDS = 30.0


@dataclass(frozen=True)
class OpenedEntry:
    incident_id: int
    user: str
    at: datetime


class OpenedLog:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._pending: list[OpenedEntry] = []
        self._task: asyncio.Task[None] | None = None

    @property
    def pending(self) -> int:
        return len(self._pending)

    def add(self, entry: OpenedEntry) -> None:
        """Queue ``entry``; the writer task starts if it is not running."""
        self._pending.append(entry)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name="opened-log")

    async def _drain(self) -> None:
        delay = 0.5
        while self._pending:
            batch = list(self._pending)
            try:
                await self._write(batch)
            except Exception as exc:  # noqa: BLE001 - kept and retried, never dropped
                log.warning("%d opened entries not written yet (%s); next try in %g s",
                            len(batch), type(exc).__name__, delay, exc_info=True)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_SECONDS)
                continue
            del self._pending[:len(batch)]
            delay = 0.5

    async def _write(self, batch: list[OpenedEntry]) -> None:
        async with self.db.write() as s:
            ids = {e.incident_id for e in batch}
            t = Incident.__table__
            existing = set((await s.execute(sa.select(t.c.id).where(t.c.id.in_(ids)))).scalars())
            # a project deleted since it was opened has no log any more: nothing to add to
            s.add_all(Activity(incident_id=e.incident_id, at=e.at, user=e.user, action=act.OPENED, details="")
                      for e in batch if e.incident_id in existing)

    async def flush(self, timeout: float = 5.0, *, report: bool = False) -> bool:
        """Wait (at most ``timeout``) until every queued entry is written; False when they could
        not be (with ``report``, each entry still pending goes to ``imtui.log``: the way out)."""
        task = self._task
        if not self._pending or task is None:
            return True
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout)
            return True
        except TimeoutError:
            if not report:
                return False
            for e in self._pending:
                log.error("opened entry not written: incident %d opened by %s at %s", e.incident_id, e.user,
                          e.at.isoformat())
            return False

    async def close(self, timeout: float = 5.0) -> None:
        """Flush, then stop retrying (the process is ending)."""
        await self.flush(timeout, report=True)
        if self._task is not None and not self._task.done():
            self._task.cancel()

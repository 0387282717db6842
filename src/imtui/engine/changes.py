"""Change feed: tells a list that another operator changed something, without repainting idle.

SQLite: the caller polls :meth:`ChangeFeed.poll` (a primary-key read of the one-row change
counter, well under a millisecond) on a timer.  PostgreSQL: :meth:`ChangeFeed.listen` subscribes
to the channel every write NOTIFYs, and nothing polls at all.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from imtui.storage.db import Database

log = logging.getLogger(__name__)


class ChangeFeed:
    def __init__(self, db: Database, poll_seconds: float = 2.0) -> None:
        self.db = db
        self.poll_seconds = poll_seconds
        self._last: int | None = None
        self._pending: asyncio.TimerHandle | None = None

    async def listen(self, on_change: Callable[[], None]) -> bool:
        """Subscribe to change notifications; False when the backend needs polling instead."""
        loop = asyncio.get_running_loop()

        def notified() -> None:
            # Coalesce a burst (a colleague's save writes several rows) into one refresh.
            if self._pending is None or self._pending.cancelled():
                self._pending = loop.call_later(0.2, fire)

        def fire() -> None:
            self._pending = None
            on_change()

        try:
            return await self.db.listen(notified)
        except Exception:  # noqa: BLE001 - fall back to polling if LISTEN is refused
            log.warning("LISTEN failed; polling instead", exc_info=True)
            return False

    async def poll(self) -> bool:
        """True when anything changed since the previous poll (the first poll only takes a mark)."""
        try:
            value = await self.db.change_count()
        except Exception:  # noqa: BLE001 - a lost database must not break the list
            log.debug("change poll failed", exc_info=True)
            return False
        changed = self._last is not None and value != self._last
        self._last = value
        return changed

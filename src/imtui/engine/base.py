"""What every service shares: the database, failure wording, and telling other operators."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession

from imtui.engine.errors import ServiceError, UnavailableError
from imtui.storage.changes import Topic, publish
from imtui.storage.db import Database

log = logging.getLogger(__name__)

_UNREACHABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError, OSError, ConnectionError)


class Service:
    def __init__(self, db: Database) -> None:
        self.db = db

    @asynccontextmanager
    async def _guard(self, failure: str) -> AsyncIterator[None]:
        """Turn a lost database into the manual's "try again later" wording for this action."""
        try:
            yield
        except ServiceError:
            raise
        except _UNREACHABLE as exc:
            log.warning("database unavailable: %s", exc)
            raise UnavailableError(failure) from exc

    async def _changed(self, session: AsyncSession, topic: Topic) -> None:
        await announce(session, self.db, topic)


async def announce(session: AsyncSession, db: Database, topic: Topic) -> None:
    """Publish ``topic`` in the writer's transaction (NOTIFY on PostgreSQL, the change table on
    SQLite): open TUIs reload the lists that show it.  The worker uses it too, for its alarms."""
    await publish(session, topic)

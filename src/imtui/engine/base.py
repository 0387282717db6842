"""What every service shares: the database, failure wording, and telling other operators."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession

from imtui.engine.errors import ServiceError, UnavailableError
from imtui.storage.db import NOTIFY_CHANNEL, Database
from imtui.storage.models import ChangeCounter

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

    async def _changed(self, session: AsyncSession, target: int | str) -> None:
        await announce(session, self.db, target)


async def announce(session: AsyncSession, db: Database, target: int | str) -> None:
    """Tell other operators' screens that something changed (counter on SQLite, NOTIFY on PG), in
    the writer's transaction: the worker uses it too, for the alarms it raises."""
    if db.is_sqlite:
        counter = ChangeCounter.__table__
        await session.execute(sa.update(counter).where(counter.c.id == 1).values(value=counter.c.value + 1))
    else:
        await session.execute(sa.select(sa.func.pg_notify(NOTIFY_CHANNEL, str(target))))

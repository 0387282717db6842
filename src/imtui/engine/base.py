"""What every service shares: the database, failure wording, and telling other operators."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from imtui.config import Settings
from imtui.engine.errors import OutcomeUnknown, ServiceError, UnavailableError
from imtui.i18n import _
from imtui.storage.changes import Topic, publish
from imtui.storage.db import UNREACHABLE, CommitUnknown, Database, DbTimeouts

log = logging.getLogger(__name__)



def open_database(settings: Settings) -> Database:
    """The site's database with the waits its config allows ([database] *_timeout)."""
    return Database(settings.database_url, DbTimeouts(
        connect=settings.db_connect_timeout, pool=settings.db_pool_timeout,
        statement=settings.db_statement_timeout))


class Service:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _guard(self, failure: str, *, retry_safe: bool = False) -> AbstractAsyncContextManager[None]:
        return guard(failure, retry_safe=retry_safe)

    async def _changed(self, session: AsyncSession, topic: Topic) -> None:
        await announce(session, self.db, topic)


@asynccontextmanager
async def guard(failure: str, *, retry_safe: bool = False) -> AsyncIterator[None]:
    """Turn a lost, hung or locked database into the manual's "try again later" wording for
    this action, and log the driver's error with its traceback (the operator never reads it).

    A COMMIT left unanswered may have stored the change: the operator is told so.  With
    ``retry_safe`` (the write carries a client token, so a second try finds the stored row)
    the message says saving again is safe; otherwise it says to check first."""
    try:
        yield
    except ServiceError:
        raise
    except CommitUnknown as exc:
        log.error("database did not answer the COMMIT (%s): the change may be stored", failure, exc_info=exc)
        raise OutcomeUnknown(unknown_outcome_message(retry_safe)) from exc
    except UNREACHABLE as exc:
        log.error("database unavailable (%s)", failure, exc_info=exc)
        raise UnavailableError(failure) from exc


def unknown_outcome_message(retry_safe: bool) -> str:
    if retry_safe:
        return _("The database did not confirm the save: it may have been saved. Saving again is safe: "
                 "it will not be stored twice.")
    return _("The database did not confirm the change: it may have been made. Refresh and check "
             "before trying again.")


async def announce(session: AsyncSession, db: Database, topic: Topic) -> None:
    """Publish ``topic`` in the writer's transaction (NOTIFY on PostgreSQL, the change table on
    SQLite): open TUIs reload the lists that show it.  The worker uses it too, for its alarms."""
    await publish(session, topic)

"""Events: what the workers noticed about cameras, storage and each other, kept for operators and for alarms.

The kinds are stable strings (later alarm rules match on them); the message is for people and
names the camera and the fix where there is one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from imtui.engine.base import Service
from imtui.engine.permissions import Actor, Feature, Level, require
from imtui.engine.times import utcnow
from imtui.i18n import _
from imtui.storage.models import Event

CAMERA_LOST = "camera_lost"  # "camera connection lost"
CAMERA_RUNNING = "camera_running"  # "camera running"
STORAGE_ERROR = "storage_error"
STORAGE_OK = "storage_ok"
SERVER_NOT_RESPONDING = "server_not_responding"  # "LPR server not responding" (source: the server's name)
SERVER_RESPONDING = "server_responding"  # "LPR server responding"


@dataclass(frozen=True)
class EventPurge:
    events: int
    recognitions: int
    matches: int
    snapshots: int  # plate crops deleted from the media store


@dataclass(frozen=True)
class EventView:
    id: int
    at: datetime
    kind: str
    camera_id: int | None
    source: str
    message: str


def record(session: AsyncSession, kind: str, message: str, camera_id: int | None = None, source: str = "",
           at: datetime | None = None) -> None:
    session.add(Event(at=at or utcnow(), kind=kind, camera_id=camera_id, source=source[:200], message=message))


class EventService(Service):
    async def list(self, actor: Actor, *, kind: str | None = None, camera_id: int | None = None,
                   since: datetime | None = None, limit: int = 100) -> list[EventView]:
        """Newest first."""
        require(actor, Feature.SEQUENCES, Level.VIEW)
        e = Event.__table__
        stmt = sa.select(e).order_by(e.c.at.desc(), e.c.id.desc()).limit(limit)
        if kind:
            stmt = stmt.where(e.c.kind == kind)
        if camera_id is not None:
            stmt = stmt.where(e.c.camera_id == camera_id)
        if since is not None:
            stmt = stmt.where(e.c.at >= since)
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            return [EventView(r.id, r.at, r.kind, r.camera_id, r.source, r.message) for r in await s.execute(stmt)]


async def purge(db, store, keep_hours: float, *, now: datetime | None = None) -> EventPurge:  # noqa: ANN001
    """Delete the events older than ``keep_hours`` (issue 7: 24 h by default, ``events.keep_hours``):
    camera and storage events, recognitions with their plate crops, and list matches.  The worker
    runs it with its hourly recording purge; it needs no user (no permission check, not audited:
    it is the configured retention, not a person's decision).  Files go after the rows are gone,
    so a failure leaves an orphan file at worst, never a row pointing at nothing."""
    from datetime import timedelta

    from imtui.storage.models import PlateMatch, PlateRecognition

    cutoff = (now or utcnow()) - timedelta(hours=keep_hours)
    e, r, m = Event.__table__, PlateRecognition.__table__, PlateMatch.__table__
    async with db.write() as s:
        snapshots = [x for x in (await s.execute(sa.select(r.c.snapshot).where(r.c.at < cutoff))).scalars() if x]
        matches = (await s.execute(sa.delete(m).where(m.c.at < cutoff))).rowcount
        recognitions = (await s.execute(sa.delete(r).where(r.c.at < cutoff))).rowcount
        events = (await s.execute(sa.delete(e).where(e.c.at < cutoff))).rowcount
    removed = 0
    for rel in snapshots:
        try:
            store.absolute(rel).unlink()
            removed += 1
        except OSError:
            pass  # gone already, or the disk refuses: the row is gone either way
    return EventPurge(events, recognitions, matches, removed)

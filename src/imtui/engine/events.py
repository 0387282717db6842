"""Events: what the workers noticed about cameras, storage and each other, kept for operators and for alarms.

The kinds are stable strings (later alarm rules match on them); the message is for people and
names the camera and the fix where there is one.
"""

from __future__ import annotations

import asyncio
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
PURGE_BATCH = 1_000


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

    async def purge(self, actor: Actor, store, keep_hours: float, *, dry_run: bool = False) -> EventPurge:  # noqa: ANN001
        """``imtui purge``: the events past ``events.keep_hours`` now, by an administrator (who may
        purge the incident projects too: the same permission)."""
        require(actor, Feature.PROPERTIES, Level.MANAGE)
        async with self._guard(_("Cannot perform this action. Try again later.")):
            return await purge(self.db, store, keep_hours, dry_run=dry_run)


async def purge(db, store, keep_hours: float, *, now: datetime | None = None,  # noqa: ANN001
                dry_run: bool = False) -> EventPurge:
    """Delete (or with ``dry_run`` only count) the events older than ``keep_hours`` (24 h by
    default, ``events.keep_hours``): camera and storage events, recognitions with their plate crops,
    and list matches (those read before the cutoff, and those of a recognition that goes).  The
    worker runs it when it starts and hourly, ``imtui purge`` by hand; the scheduled run needs no
    user (it is the configured retention, not a person's decision).  Batches keep each write short
    (a site that never purged may hold months of reads); files go after their rows are gone, in a
    thread, so a failure leaves an orphan file at worst, never a row pointing at nothing."""
    from datetime import timedelta

    from imtui.storage.models import PlateMatch, PlateRecognition

    cutoff = (now or utcnow()) - timedelta(hours=keep_hours)
    e, r, m = Event.__table__, PlateRecognition.__table__, PlateMatch.__table__
    if dry_run:
        async with db.read() as s:
            def count(t: sa.Table, where: sa.ColumnElement[bool]) -> sa.Select:
                return sa.select(sa.func.count()).select_from(t).where(where)

            recognitions = sa.select(r.c.id).where(r.c.at < cutoff)
            return EventPurge(
                (await s.execute(count(e, e.c.at < cutoff))).scalar_one(),
                (await s.execute(count(r, r.c.at < cutoff))).scalar_one(),
                (await s.execute(count(m, (m.c.at < cutoff) | m.c.recognition_id.in_(recognitions)))).scalar_one(),
                (await s.execute(count(r, (r.c.at < cutoff) & (r.c.snapshot != "")))).scalar_one())
    recognitions = matches = events = removed = 0
    while True:
        async with db.write() as s:
            rows = (await s.execute(sa.select(r.c.id, r.c.snapshot).where(r.c.at < cutoff)
                                    .order_by(r.c.id).limit(PURGE_BATCH))).all()
            ids = [row.id for row in rows]
            if ids:
                matches += (await s.execute(sa.delete(m).where(m.c.recognition_id.in_(ids)))).rowcount
                recognitions += (await s.execute(sa.delete(r).where(r.c.id.in_(ids)))).rowcount
        removed += await asyncio.to_thread(_unlink, store, [row.snapshot for row in rows if row.snapshot])
        if len(ids) < PURGE_BATCH:
            break
    for table in (m, e):  # matches left of recognitions gone another way; the events
        while True:
            async with db.write() as s:
                due = sa.select(table.c.id).where(table.c.at < cutoff).limit(PURGE_BATCH)
                gone = (await s.execute(sa.delete(table).where(table.c.id.in_(due)))).rowcount
            if table is m:
                matches += gone
            else:
                events += gone
            if gone < PURGE_BATCH:
                break
    return EventPurge(events, recognitions, matches, removed)


def _unlink(store, paths: list[str]) -> int:  # noqa: ANN001 - a MediaStore
    removed = 0
    for rel in paths:
        try:
            store.absolute(rel).unlink()
            removed += 1
        except OSError:
            pass  # gone already, or the disk refuses: the row is gone either way
    return removed

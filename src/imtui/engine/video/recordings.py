"""What was recorded, for people: recorded periods on a timeline, the frame at a moment, and
recording retention with its evidence lock.

A recording that a sequence of an incident project overlaps is evidence: retention never deletes
it, whatever the camera's retention says, until the project (or that sequence) is gone.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from imtui.engine import audit
from imtui.engine.base import Service
from imtui.engine.permissions import Actor, Feature, Level, require
from imtui.engine.times import utcnow
from imtui.engine.video.media import (FrameTimes, MediaStore, ReaderCache, SegmentInfo, SegmentReader, from_us,
                                      read_times, to_us)
from imtui.i18n import _
from imtui.storage.db import Database
from imtui.storage.models import Camera, Recording, Sequence

log = logging.getLogger(__name__)
MEDIA_PURGE = "recording_purge"


@dataclass(frozen=True)
class Period:
    """An uninterrupted recorded period of one camera (one or more segments)."""

    camera_id: int
    start: datetime
    end: datetime
    frames: int
    open: bool  # still being recorded
    locked: bool  # held as evidence by a sequence of an incident project


@dataclass(frozen=True)
class FrameRef:
    """One recorded frame: where it is and when it was captured."""

    camera_id: int
    recording_id: int
    path: str
    index: int
    time: datetime
    motion: float
    frames: int  # in this segment
    readable: bool  # False while its segment is still being written


@dataclass(frozen=True)
class ClipPart:
    """The frames [first, last] of one closed segment file."""

    path: Path
    first: int
    last: int
    times_us: tuple[int, ...]  # capture time of each of those frames (UTC microseconds)


@dataclass(frozen=True)
class Clip:
    """Every recorded frame of one camera between two times, in order, across segments: what an
    export writes and what a report takes its thumbnail from."""

    camera_id: int
    start: datetime
    end: datetime
    parts: tuple[ClipPart, ...]
    missing: int = 0  # overlapping segments not readable (still open, or their file is gone)

    @property
    def frames(self) -> int:
        return sum(p.last - p.first + 1 for p in self.parts)

    @property
    def times(self) -> list[datetime]:
        return [from_us(us) for p in self.parts for us in p.times_us]


def read_clip(clip: Clip) -> Iterator[tuple[np.ndarray, datetime]]:
    """Decode a clip's frames in order (blocking: run it in a worker thread, which gets its own
    readers).  A frame that no longer decodes ends the clip early; callers compare counts."""
    for part in clip.parts:
        reader = SegmentReader(part.path)
        try:
            for index, us in zip(range(part.first, part.last + 1), part.times_us, strict=True):
                frame = reader.frame(index)
                if frame is None:
                    return
                yield frame, from_us(us)
        finally:
            reader.close()


@dataclass(frozen=True)
class MediaPurgeResult:
    deleted: int
    bytes: int
    held: int  # past retention but kept as evidence


async def upsert_recording(s: AsyncSession, is_sqlite: bool, info: SegmentInfo) -> None:
    """Store a segment's state in its one row (unique path): inserted the first time, updated
    after, so a retry after an outage (even one whose COMMIT was stored but not acknowledged)
    never adds a second row.  A closed row is final: a stale open state arriving late is ignored."""
    r = Recording.__table__
    values = dict(camera_id=info.camera_id, period_start=info.period_start, start_time=info.start_time,
                  end_time=info.end_time, path=info.path, frame_count=info.frame_count, bytes=info.bytes,
                  width=info.width, height=info.height, closed=info.closed)
    stmt = (sqlite.insert(r) if is_sqlite else postgresql.insert(r)).values(**values)
    changed = {k: stmt.excluded[k] for k in values if k not in ("path", "camera_id", "period_start", "start_time")}
    await s.execute(stmt.on_conflict_do_update(index_elements=[r.c.path], set_=changed,
                                               where=r.c.closed == sa.false()))


def _held(rec, seq):  # noqa: ANN001, ANN202 - table objects
    """SQL condition: some sequence of the same camera overlaps this recording."""
    return sa.exists().where(seq.c.camera_id == rec.c.camera_id, seq.c.start_time <= rec.c.end_time,
                             seq.c.end_time >= rec.c.start_time)


class RecordingService(Service):
    def __init__(self, db: Database, store: MediaStore) -> None:
        super().__init__(db)
        self.store = store
        self._times: dict[str, tuple[int, FrameTimes]] = {}
        self._readers = ReaderCache()
        self._read_lock = threading.Lock()  # decoders are not thread-safe; UI threads may overlap

    # -- timeline -----------------------------------------------------------------------------------
    async def periods(self, actor: Actor, camera_id: int, start: datetime, end: datetime) -> list[Period]:
        """Recorded periods of a camera that overlap [start, end], oldest first."""
        require(actor, Feature.SEQUENCES, Level.VIEW)
        r, q = Recording.__table__, Sequence.__table__
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            rows = (await s.execute(
                sa.select(r.c.period_start, sa.func.min(r.c.start_time), sa.func.max(r.c.end_time),
                          sa.func.sum(r.c.frame_count), sa.func.min(sa.cast(r.c.closed, sa.Integer)),
                          sa.func.max(sa.cast(_held(r, q), sa.Integer)))
                .where(r.c.camera_id == camera_id, r.c.end_time >= start, r.c.start_time <= end)
                .group_by(r.c.period_start).order_by(r.c.period_start))).all()
        return [Period(camera_id, a, b, int(n or 0), not bool(c), bool(h)) for _p, a, b, n, c, h in rows]

    async def neighbour(self, actor: Actor, camera_id: int, t: datetime, forward: bool) -> datetime | None:
        """Start of the next recorded period after t (forward) or of the one before t's period."""
        require(actor, Feature.SEQUENCES, Level.VIEW)
        r = Recording.__table__
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            if forward:
                stmt = (sa.select(r.c.period_start).where(r.c.camera_id == camera_id, r.c.period_start > t)
                        .order_by(r.c.period_start).limit(1))
            else:
                current = (await s.execute(sa.select(r.c.period_start).where(
                    r.c.camera_id == camera_id, r.c.start_time <= t, r.c.end_time >= t).limit(1))).scalar()
                edge = current if current is not None else t
                stmt = (sa.select(r.c.period_start).where(r.c.camera_id == camera_id, r.c.period_start < edge)
                        .order_by(r.c.period_start.desc()).limit(1))
            return (await s.execute(stmt)).scalar()

    async def frame_at(self, actor: Actor, camera_id: int, t: datetime, step: int = 0) -> FrameRef | None:
        """The frame showing time t (the last captured at or before it, within its period), moved by
        ``step`` frames; None when the camera recorded nothing around t."""
        require(actor, Feature.SEQUENCES, Level.VIEW)
        r = Recording.__table__
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            row = (await s.execute(sa.select(r).where(r.c.camera_id == camera_id, r.c.start_time <= t,
                                                      r.c.end_time >= t).order_by(r.c.start_time.desc()).limit(1))).first()
            if row is None:
                return None
            ref = self._ref(row, t)
            while step and ref is not None:
                index = ref.index + step
                if 0 <= index < ref.frames:
                    return self._ref(row, None, index)
                # cross into the neighbouring segment of the same period
                later = step > 0
                nxt = (await s.execute(
                    sa.select(r).where(r.c.camera_id == camera_id, r.c.period_start == row.period_start,
                                       (r.c.start_time > row.start_time) if later else (r.c.start_time < row.start_time))
                    .order_by(r.c.start_time if later else r.c.start_time.desc()).limit(1))).first()
                if nxt is None:  # the period ends here: stop at its edge
                    return self._ref(row, None, -1 if later else 0)
                step = step - (ref.frames - ref.index) if later else step + ref.index + 1
                row = nxt
                ref = self._ref(row, None, 0 if later else -1)
            return ref

    async def clip(self, actor: Actor, camera_id: int, start: datetime, end: datetime) -> Clip:
        """The recorded frames of a camera captured within [start, end] (both included)."""
        require(actor, Feature.SEQUENCES, Level.VIEW)
        r = Recording.__table__
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            rows = (await s.execute(sa.select(r).where(r.c.camera_id == camera_id, r.c.end_time >= start,
                                                       r.c.start_time <= end).order_by(r.c.start_time))).all()
        lo, hi = to_us(start), to_us(end)
        parts: list[ClipPart] = []
        missing = 0
        for row in rows:
            path = self.store.absolute(row.path)
            if not row.closed or not path.exists():
                missing += 1
                continue
            us = self._frame_times(row.path, row.frame_count, row.closed).us
            first = int(np.searchsorted(us, lo, side="left"))
            last = int(np.searchsorted(us, hi, side="right")) - 1
            if first <= last:
                parts.append(ClipPart(path, first, last, tuple(int(x) for x in us[first:last + 1])))
        return Clip(camera_id, start, end, tuple(parts), missing)

    def _ref(self, row, t: datetime | None, index: int | None = None) -> FrameRef | None:  # noqa: ANN001
        times = self._frame_times(row.path, row.frame_count, row.closed)
        if len(times.us) == 0:
            return None
        if index is None:
            index = times.index_at(t)  # type: ignore[arg-type]
        elif index < 0:
            index = len(times.us) + index
        index = max(0, min(index, len(times.us) - 1))
        return FrameRef(row.camera_id, row.id, row.path, index, times.time(index), float(times.motion[index]),
                        len(times.us), bool(row.closed))

    def _frame_times(self, path: str, frames: int, closed: bool) -> FrameTimes:
        cached = self._times.get(path)
        if cached is not None and (closed and cached[0] == frames):
            return cached[1]
        times = read_times(self.store.absolute(path))
        if closed:
            self._times[path] = (frames, times)
            if len(self._times) > 64:
                self._times.pop(next(iter(self._times)))
        return times

    def read_frame(self, ref: FrameRef) -> np.ndarray | None:
        """Decode a frame (slow: call from a worker thread, one thread at a time)."""
        if not ref.readable:
            return None
        with self._read_lock:
            return self._readers.get(self.store.absolute(ref.path)).frame(ref.index)

    def latest(self, actor: Actor, camera_id: int) -> tuple[np.ndarray, datetime, float] | None:
        """The newest frame the worker saw of a camera (for the live view; blocking file read)."""
        require(actor, Feature.SEQUENCES, Level.VIEW)
        return self.store.read_live(camera_id)

    # -- retention with evidence lock ------------------------------------------------------------------
    async def held_counts(self, actor: Actor) -> dict[int, tuple[int, int]]:
        """Per camera: (recordings, of which held as evidence)."""
        require(actor, Feature.PROPERTIES, Level.VIEW)
        r, q = Recording.__table__, Sequence.__table__
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            rows = await s.execute(sa.select(r.c.camera_id, sa.func.count(),
                                             sa.func.sum(sa.cast(_held(r, q), sa.Integer))).group_by(r.c.camera_id))
            return {c: (int(n), int(h or 0)) for c, n, h in rows}

    async def purge(self, actor: Actor | None = None, *, now: datetime | None = None,
                    dry_run: bool = False) -> MediaPurgeResult:
        """Delete closed recordings past their camera's retention, except those held as evidence."""
        if actor is not None:
            require(actor, Feature.PROPERTIES, Level.MANAGE)
        r, q, c = Recording.__table__, Sequence.__table__, Camera.__table__
        now = now or utcnow()
        deleted = freed = held = 0
        async with self._guard(_("Cannot perform this action. Try again later.")):
            async with self.db.read() as s:
                cameras = (await s.execute(sa.select(c.c.id, c.c.retention_days))).all()
            for camera_id, days in cameras:
                cutoff = now - timedelta(days=days)
                due = sa.and_(r.c.camera_id == camera_id, r.c.end_time < cutoff, r.c.closed == sa.true())
                async with self.db.read() as s:
                    held += int((await s.execute(sa.select(sa.func.count()).where(due, _held(r, q)))).scalar_one())
                    rows = (await s.execute(sa.select(r.c.id, r.c.path, r.c.bytes).where(due, ~_held(r, q)))).all()
                if dry_run or not rows:
                    deleted += len(rows)
                    continue
                for start in range(0, len(rows), 500):
                    batch = rows[start:start + 500]
                    async with self.db.write() as s:
                        # re-check the lock inside the write: a sequence may have been added meanwhile
                        ids = [x[0] for x in await s.execute(sa.select(r.c.id).where(
                            r.c.id.in_([b.id for b in batch]), ~_held(r, q)))]
                        await s.execute(sa.delete(r).where(r.c.id.in_(ids)))
                    gone = set(ids)
                    for b in batch:
                        if b.id in gone:
                            with self._read_lock:
                                self._readers.forget(self.store.absolute(b.path))
                            freed += self.store.delete(b.path)
                    deleted += len(gone)
            if not dry_run:
                async with self.db.write() as s:
                    audit.record(s, actor or Actor("system", "Administrator"), MEDIA_PURGE, f"{deleted} recordings",
                                 f"{freed // (1024 * 1024)} MB freed; {held} past retention kept as evidence")
        if deleted:
            log.info("recording purge: %d recordings deleted, %d held as evidence", deleted, held)
        return MediaPurgeResult(deleted, freed, held)


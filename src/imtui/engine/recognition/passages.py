"""Storing vehicle passages: one row per passage, whoever stores it and however often.

A passage can reach the database more than once: its settled plate is stored while the vehicle
waits, and its end later brings the last-seen time (the two can come in one batch); a commit whose
outcome was unknown is retried; a second worker may read the same camera while the camera moves
between servers.  Issue 14 measured 9 of 65 passages stored two or three times under load.  So:

* every passage has a key, its plate and first-seen time (``recognition.passage``), unique per
  camera: storing it again updates its row (last seen, reads), never adds one;
* a passage of the same plate on the same camera that overlaps a stored one, or follows it within
  ``MERGE_SECONDS``, is the same vehicle read again (a track split by late frames, another worker's
  clock): it is merged into the stored row.  Writers are serialised per (camera, plate) for that
  check: SQLite has one writer at a time (``BEGIN IMMEDIATE``), PostgreSQL takes a transaction-level
  advisory lock.

Only a passage that made a new row is matched against the lists (engine/alarm_flow.py), so a
passage raises its alarms once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from imtui.engine.alarm_flow import StoredRead
from imtui.engine.base import announce
from imtui.storage.changes import Topic
from imtui.storage.db import Database
from imtui.storage.models import PlateRecognition
from imtui.storage.upsert import insert_or_ignore

MERGE_SECONDS = 5.0  # the same plate on the same camera this soon after a stored passage is that passage


@dataclass(frozen=True)
class Passage:
    """A passage to store (from the tracker): ``snapshot`` is the media-store path of its crop, or ""."""

    camera_id: int
    plate: str
    country: str
    confidence: float
    first_seen: datetime
    last_seen: datetime
    reads: int
    snapshot: str = ""
    source: str = ""

    @property
    def key(self) -> str:
        """Plate and first-seen time in microseconds: the same for every store of one passage."""
        return f"{self.plate}@{round(self.first_seen.timestamp() * 1_000_000)}"


@dataclass(frozen=True)
class Stored:
    """What storing did with one passage: ``read`` is its row; ``new`` when the row was added
    (match it), false when the passage was stored already (its row updated); ``snapshot_used``
    false when the row kept another snapshot (the caller deletes the file)."""

    passage: Passage
    read: StoredRead
    new: bool
    snapshot_used: bool


def _lock_key(camera_id: int, plate: str) -> int:
    """A signed 64-bit advisory-lock key for (camera, plate), in its own name space."""
    digest = hashlib.blake2b(f"imtui.recognition:{camera_id}:{plate}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


async def store_passages(db: Database, passages: list[Passage]) -> list[Stored]:
    """Store ``passages`` in one transaction, each once (see the module's docstring)."""
    if not passages:
        return []
    t = PlateRecognition.__table__
    merge = timedelta(seconds=MERGE_SECONDS)
    out = []
    async with db.write() as s:
        if not db.is_sqlite:  # every lock first, in one order: two writers of the same plates cannot deadlock
            for key in sorted({_lock_key(p.camera_id, p.plate) for p in passages}):
                await s.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))
        for p in passages:  # in the given order: ids follow the order passages were seen
            overlaps = sa.and_(t.c.at <= p.last_seen + merge, t.c.last_seen >= p.first_seen - merge)
            row = (await s.execute(sa.select(t.c.id, t.c.at, t.c.last_seen, t.c.reads, t.c.snapshot).where(
                t.c.camera_id == p.camera_id, t.c.plate == p.plate, sa.or_(t.c.passage == p.key, overlaps),
            ).order_by(t.c.at).limit(1))).first()
            if row is None:
                rid = (await s.execute(insert_or_ignore(t, ("camera_id", "passage"), is_sqlite=db.is_sqlite).values(
                    camera_id=p.camera_id, at=p.first_seen, last_seen=p.last_seen, plate=p.plate, country=p.country,
                    confidence=p.confidence, reads=p.reads, snapshot=p.snapshot, source=p.source, passage=p.key,
                ).returning(t.c.id))).scalar()
                if rid is not None:
                    out.append(Stored(p, StoredRead(rid, p.camera_id, p.plate, p.country, p.first_seen), True, True))
                    continue
                row = (await s.execute(sa.select(t.c.id, t.c.at, t.c.last_seen, t.c.reads, t.c.snapshot).where(
                    t.c.camera_id == p.camera_id, t.c.passage == p.key))).one()
            values: dict[str, object] = {}
            if p.last_seen > row.last_seen:
                values["last_seen"] = p.last_seen
            if p.reads > row.reads:
                values["reads"] = p.reads
            use_snapshot = bool(p.snapshot) and not row.snapshot
            if use_snapshot:
                values["snapshot"] = p.snapshot
            if values:
                await s.execute(sa.update(t).where(t.c.id == row.id).values(**values))
            out.append(Stored(p, StoredRead(row.id, p.camera_id, p.plate, p.country, row.at), False, use_snapshot))
        await announce(s, db, Topic.RECOGNITIONS)  # open LPR event screens show them
    return out

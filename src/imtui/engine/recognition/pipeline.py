"""The worker's recognition pipeline: capture threads offer frames, a process pool sized to the
cores reads them (imtui.lpr, models loaded once per process), and the worker's loop turns the
reads into one recognition per vehicle passage (tracker) and stores them with a snapshot crop.

A camera is offered to the pool at most at its "maximum frames processed per second"; when its
previous frames are still being read, a new frame is skipped rather than queued (a slow machine
reads fewer frames, it does not fall behind).  The pool uses "spawn": the worker process has
threads and an event loop, which a forked child must not inherit.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import secrets
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

import cv2
import numpy as np
import sqlalchemy as sa

from imtui.engine.base import announce
from imtui.engine.changes import Topic
from imtui.engine.video.media import MediaStore
from imtui.lpr.reader import PlateRead, deinterlace
from imtui.lpr.settings import RecognitionSettings, from_dict, next_slot, to_dict
from imtui.lpr.tracker import PassageTracker, Recognition
from imtui.storage.db import Database
from imtui.engine.matchlists.matcher import Matcher
from imtui.storage.models import PlateRecognition

log = logging.getLogger(__name__)
IN_FLIGHT = 2  # frames of one camera being read at once, at most
SNAPSHOT_DIR = "lpr"

_reader = None


def _init_process() -> None:
    """Pool process start: one thread each (the pool is the parallelism), the engine loaded once."""
    global _reader
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    cv2.setNumThreads(1)
    from imtui.lpr.ocr import Ocr
    from imtui.lpr.reader import PlateReader

    _reader = PlateReader(Ocr(threads=1))


def _read(frame: np.ndarray, settings: dict) -> list[PlateRead]:
    assert _reader is not None
    return _reader.read(frame, from_dict(settings), whole_only=True).reads


@dataclass
class _Camera:
    settings: RecognitionSettings
    tracker: PassageTracker
    next_t: float = float("-inf")
    in_flight: int = 0
    offered: int = 0
    skipped: int = 0
    last_frame: float = 0.0  # wall clock of the last result, to close passages of a silent stream


@dataclass
class LprPipeline:
    db: Database
    store: MediaStore
    host: str = ""
    processes: int = field(default_factory=lambda: os.cpu_count() or 1)
    cameras: dict[int, _Camera] = field(default_factory=dict)
    results: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    _pool: ProcessPoolExecutor | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ended: list[tuple[int, Recognition]] = field(default_factory=list)  # passages of cameras reconfigured
    matcher: Matcher | None = None  # match lists; the worker keeps it current
    matched: int = 0
    alarms: int = 0
    recognised: int = 0  # passages stored since the worker started ("plates recognised this session")
    _announced: dict[tuple[int, int], int] = field(default_factory=dict)  # (camera, passage) -> recognition id

    def configure(self, wanted: dict[int, RecognitionSettings]) -> None:
        """Cameras with LPR on and their settings.  A camera turned off or changed ends its
        passages in progress as they are (stored by the next drain, not lost); with no camera left
        the pool and its loaded models go (they come back when a camera is turned on)."""
        idle = None
        with self._lock:
            for camera_id in list(self.cameras):
                if wanted.get(camera_id) != self.cameras[camera_id].settings:
                    self._ended += [(camera_id, r) for r in self.cameras.pop(camera_id).tracker.flush()]
            for camera_id, settings in wanted.items():
                if camera_id not in self.cameras:
                    self.cameras[camera_id] = _Camera(settings, PassageTracker(settings.partial_seconds))
            if self.cameras and self._pool is None:
                self._pool = ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_init_process)
            elif not self.cameras and self._pool is not None:
                idle, self._pool = self._pool, None
        if idle is not None:
            idle.shutdown(wait=False, cancel_futures=True)

    def offer(self, camera_id: int, frame: np.ndarray, at: datetime) -> bool:
        """From a capture thread: read this frame if the camera's rate and the pool allow."""
        cam = self.cameras.get(camera_id)
        if cam is None or self._pool is None:
            return False
        t = at.timestamp()
        with self._lock:
            if t < cam.next_t or cam.in_flight >= IN_FLIGHT:
                cam.skipped += 1
                return False
            if cam.settings.max_fps > 0:
                cam.next_t = next_slot(cam.next_t if cam.next_t > float("-inf") else t, t, cam.settings.max_fps)
            cam.in_flight += 1
            cam.offered += 1
        try:
            future = self._pool.submit(_read, frame, to_dict(cam.settings))
        except RuntimeError:  # pool shutting down
            with self._lock:
                cam.in_flight -= 1
            return False
        future.add_done_callback(lambda f: self._done(camera_id, cam, t, frame, f))
        return True

    def _done(self, camera_id: int, cam: _Camera, t: float, frame: np.ndarray, future: Future) -> None:
        with self._lock:  # the camera the frame was offered for (a reconfigure replaces the entry)
            cam.in_flight -= 1
        try:
            reads = future.result()
        except Exception as exc:  # noqa: BLE001 - one bad frame must not stop recognition
            log.warning("camera %s: plate reading failed: %s", camera_id, exc)
            reads = []
        self.results.put((camera_id, t, reads, frame if reads else None))

    async def finish(self) -> None:
        """The worker stops: wait for the frames being read, then store every open passage."""
        import asyncio

        await asyncio.to_thread(self.close)
        await self.drain(everything=True)

    async def drain(self, everything: bool = False) -> int:
        """On the worker's loop: feed the trackers, store finished passages; returns how many.
        ``everything`` also ends the passages still open (the streams have stopped)."""
        with self._lock:
            finished, self._ended = self._ended, []
        while True:
            try:
                camera_id, t, reads, frame = self.results.get_nowait()
            except queue.Empty:
                break
            cam = self.cameras.get(camera_id)
            if cam is None:
                continue
            cam.last_frame = time.monotonic()
            if frame is not None and cam.settings.interlaced:
                frame = deinterlace(frame)  # the snapshot as the reader saw it, without combing
            finished += [(camera_id, r) for r in cam.tracker.feed(t, reads, frame)]
            finished += [(camera_id, r) for r in cam.tracker.settle(t)]  # a vehicle still in the picture
        for camera_id, cam in self.cameras.items():  # a stream that stopped: close after the span
            quiet = cam.last_frame and time.monotonic() - cam.last_frame > max(1.0, cam.settings.partial_seconds) + 1
            if everything or quiet:
                finished += [(camera_id, r) for r in cam.tracker.flush()]
                cam.last_frame = 0.0
        if finished:
            await self._store(finished)
        return len(finished)

    async def _store(self, finished: list[tuple[int, Recognition]]) -> None:
        """New recognitions are stored with their snapshot and matched (alarms follow); the end of
        a passage announced earlier only updates its last-seen time and read count."""
        rows, keys, ended = [], [], []
        for camera_id, r in finished:
            known = self._announced.pop((camera_id, r.passage), None) if r.announced else None
            if known is not None:
                ended.append(dict(rid=known, ls=datetime.fromtimestamp(r.last_seen, UTC), n=r.reads))
                continue
            at = datetime.fromtimestamp(r.first_seen, UTC)
            snapshot = ""
            if r.snapshot is not None and r.snapshot.size:
                snapshot = f"{SNAPSHOT_DIR}/{camera_id}/{at:%Y-%m-%d}/{at:%H%M%S}-{r.plate}-{secrets.token_hex(3)}.jpg"
                try:
                    path = self.store.absolute(snapshot)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    ok, jpeg = cv2.imencode(".jpg", r.snapshot, [cv2.IMWRITE_JPEG_QUALITY, 90])
                    if ok:
                        path.write_bytes(jpeg.tobytes())
                    else:
                        snapshot = ""  # never point at a file that was not written
                except OSError as exc:
                    log.warning("cannot write plate snapshot: %s", exc)
                    snapshot = ""
            rows.append(dict(camera_id=camera_id, at=at, last_seen=datetime.fromtimestamp(r.last_seen, UTC),
                             plate=r.plate, country=r.country, confidence=r.confidence, reads=r.reads,
                             snapshot=snapshot, source=self.host))
            keys.append((camera_id, r.passage, r.open))
        try:
            async with self.db.write() as s:
                t = PlateRecognition.__table__
                ids = []
                if rows:
                    ids = (await s.execute(sa.insert(t).returning(t.c.id, sort_by_parameter_order=True),
                                           rows)).scalars().all()
                    if self.matcher is not None:
                        await self._match(s, list(zip(ids, rows, strict=True)))
                    await announce(s, self.db, Topic.RECOGNITIONS)  # open LPR event screens show them
                if ended:
                    await s.execute(sa.update(t).where(t.c.id == sa.bindparam("rid")).values(
                        last_seen=sa.bindparam("ls"), reads=sa.bindparam("n")), ended)
            self.recognised += len(ids)
            for (camera_id, passage, still_open), rid in zip(keys, ids, strict=True):
                if still_open:  # announced by settle(): its end will update this row
                    self._announced[(camera_id, passage)] = rid
        except Exception as exc:  # noqa: BLE001 - keep reading; this batch is logged, not retried
            log.error("cannot store %d recognitions: %s", len(rows), exc)

    async def _match(self, s, stored: list[tuple[int, dict]]) -> None:  # noqa: ANN001
        """Each stored recognition against its camera's match lists, in the same transaction: a
        recognition is never stored without its matches, nor a match without its recognition."""
        from imtui.engine.matchlists.matcher import entry_fields, match_row
        from imtui.storage.models import PlateMatch

        assert self.matcher is not None
        found = [(rid, row, hit) for rid, row in stored for hit in self.matcher.match(row["camera_id"], row["plate"])]
        if not found:
            return
        from imtui.engine.alarms import raise_for_matches

        fields = await entry_fields(s, [hit.entry.id for _r, _row, hit in found if hit.entry is not None])
        rows = [match_row(hit, rid, row["camera_id"], row["plate"], row["at"], fields) for rid, row, hit in found]
        m = PlateMatch.__table__
        ids = (await s.execute(sa.insert(m).returning(m.c.id, sort_by_parameter_order=True), rows)).scalars().all()
        countries = [row["country"] for _rid, row, _hit in found]
        self.matched += len(found)
        self.alarms += await raise_for_matches(s, self.db, [{**r, "id": i, "country": c}
                                                   for r, i, c in zip(rows, ids, countries, strict=True)])

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

"""The worker's recognition pipeline: capture threads offer frames, a process pool sized to the
cores reads them (imtui.lpr, models loaded once per process), and the worker's loop turns the
reads into one recognition per vehicle passage (lpr/stream.py: the results back in stream order,
then the tracker), stores each passage once with a snapshot crop (passages.py) and raises the
alarms of the new ones (engine/alarm_flow.py).

A camera is offered to the pool at most at its "maximum frames processed per second"; when its
previous frames are still being read, a new frame is skipped rather than queued (a slow machine
reads fewer frames, it does not fall behind).  The pool uses "spawn": the worker process has
threads and an event loop, which a forked child must not inherit.

A batch that cannot be stored (the database is down) is kept and stored again by the next drains
for up to ``RETRY_SECONDS``: storing and matching are idempotent, so a retried commit whose first
attempt did succeed adds nothing.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import queue
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np

from imtui.engine.alarm_flow import StoredRead, alarms_for_reads
from imtui.engine.matchlists.matcher import Matcher
from imtui.engine.recognition.lifetime import die_with
from imtui.engine.recognition.passages import Passage, store_passages
from imtui.engine.video.media import MediaStore
from imtui.lpr.reader import PlateRead
from imtui.lpr.settings import RecognitionSettings, from_dict, to_dict
from imtui.lpr.stream import CameraStream
from imtui.lpr.tracker import Recognition
from imtui.storage.db import Database

log = logging.getLogger(__name__)
SNAPSHOT_DIR = "lpr"
RETRY_SECONDS = 300.0  # a batch the database refused is tried again this long, then dropped (logged)

_reader = None


def _init_process(parent: int) -> None:
    """Pool process start: it ends with ``parent`` (lifetime.py), one thread each (the pool is the
    parallelism), the engine loaded once."""
    global _reader
    die_with(parent)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    cv2.setNumThreads(1)
    from imtui.lpr.ocr import Ocr
    from imtui.lpr.reader import PlateReader

    _reader = PlateReader(Ocr(threads=1))


def _read(frame: np.ndarray, settings: dict) -> list[PlateRead]:
    assert _reader is not None
    return _reader.read(frame, from_dict(settings), whole_only=True).reads


@dataclass
class LprPipeline:
    db: Database
    store: MediaStore
    host: str = ""
    processes: int = field(default_factory=lambda: os.cpu_count() or 1)
    cameras: dict[int, CameraStream] = field(default_factory=dict)
    results: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    _pool: ProcessPoolExecutor | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ended: list[tuple[int, Recognition]] = field(default_factory=list)  # passages of cameras reconfigured
    matcher: Matcher | None = None  # match lists; the worker keeps it current
    matched: int = 0
    alarms: int = 0
    recognised: int = 0  # passages stored since the worker started ("plates recognised this session")
    _last_result: dict[int, float] = field(default_factory=dict)  # camera -> monotonic time of its last result
    _to_store: list[tuple[float, Passage]] = field(default_factory=list)  # (first attempt, passage): retried
    _to_match: list[tuple[float, StoredRead]] = field(default_factory=list)  # new reads whose alarms are due
    _retry_at: float = 0.0  # after a refused write: no new attempt before this (monotonic)
    _refusals: int = 0  # writes refused in a row (the wait doubles, 1 s to 30 s)
    on_read: Callable[[], None] | None = None  # called from a pool thread when a frame's reads are in
    on_outputs: Callable[[], None] | None = None  # called on the loop when alarms with outputs were raised

    def configure(self, wanted: dict[int, RecognitionSettings]) -> None:
        """Cameras with LPR on and their settings.  A camera turned off or changed ends its
        passages in progress as they are (stored by the next drain, not lost); with no camera left
        the pool and its loaded models go (they come back when a camera is turned on)."""
        idle = None
        with self._lock:
            for camera_id in list(self.cameras):
                if wanted.get(camera_id) != self.cameras[camera_id].settings:
                    self._ended += [(camera_id, r) for r in self.cameras.pop(camera_id).flush()]
            for camera_id, settings in wanted.items():
                if camera_id not in self.cameras:
                    self.cameras[camera_id] = CameraStream(settings)
            if self.cameras and self._pool is None:
                self._pool = ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_init_process, initargs=(os.getpid(),))
            elif not self.cameras and self._pool is not None:
                idle, self._pool = self._pool, None
        if idle is not None:
            idle.shutdown(wait=False, cancel_futures=True)

    def offer(self, camera_id: int, frame: np.ndarray, at: datetime) -> bool:
        """From a capture thread: read this frame if the camera's rate and the pool allow."""
        cam, pool = self.cameras.get(camera_id), self._pool
        if cam is None or pool is None:
            return False
        t = at.timestamp()
        with self._lock:
            number = cam.admit(t)
        if number is None:
            return False
        try:
            future = pool.submit(_read, frame, to_dict(cam.settings))
        except RuntimeError:  # pool shutting down: the number still comes back, without reads
            with self._lock:
                cam.release()
            self.results.put((camera_id, cam, number, t, [], None))
            return False
        future.add_done_callback(lambda f: self._done(camera_id, cam, number, t, frame, f))
        return True

    def _done(self, camera_id: int, cam: CameraStream, number: int, t: float, frame: np.ndarray,
              future: Future) -> None:
        with self._lock:  # the camera the frame was offered for (a reconfigure replaces the entry)
            cam.release()
        try:
            reads = future.result()
        except (Exception, CancelledError) as exc:  # noqa: BLE001 - one bad frame must not stop recognition
            if not isinstance(exc, CancelledError):
                log.warning("camera %s: plate reading failed: %s", camera_id, exc)
            reads = []
        self.results.put((camera_id, cam, number, t, reads, frame if reads else None))
        if self.on_read is not None:
            self.on_read()

    async def finish(self) -> None:
        """The worker stops: wait for the frames being read, then store every open passage."""
        await asyncio.to_thread(self.close)
        self._retry_at = 0.0  # one last attempt, whatever the wait
        await self.drain(everything=True)
        if self._to_store or self._to_match:
            log.error("stopping: %d passages not stored and %d not matched (the database refused them)",
                      len(self._to_store), len(self._to_match))

    async def drain(self, everything: bool = False) -> int:
        """On the worker's loop: feed the trackers in stream order, store finished passages; returns
        how many passages ended or settled.  ``everything`` also ends the passages still open (the
        streams have stopped)."""
        with self._lock:
            finished, self._ended = self._ended, []
        while True:
            try:
                camera_id, cam, number, t, reads, frame = self.results.get_nowait()
            except queue.Empty:
                break
            if self.cameras.get(camera_id) is not cam:
                continue  # read for settings since replaced: that stream's passages were ended then
            self._last_result[camera_id] = time.monotonic()
            finished += [(camera_id, r) for r in cam.result(number, t, reads, frame)]
        for camera_id, cam in self.cameras.items():
            # a stream that stopped: nothing being read and no result for longer than the span (frames
            # still being read are no silence: under load one frame can take seconds)
            last = self._last_result.get(camera_id, 0.0)
            quiet = last and cam.in_flight == 0 and time.monotonic() - last > max(1.0, cam.settings.partial_seconds) + 1
            if everything or quiet:
                finished += [(camera_id, r) for r in cam.flush()]
                self._last_result[camera_id] = 0.0
        await self._store(finished)
        return len(finished)

    async def _store(self, finished: list[tuple[int, Recognition]]) -> None:
        """Store the passages (each once: passages.py) with their snapshots, then match the new ones
        and raise their alarms (alarm_flow.py).  What the database refuses is tried again by the next
        drains (both steps are idempotent), for up to RETRY_SECONDS, waiting 1 s, 2 s ... 30 s between
        attempts (a drain comes with every frame read: an outage must not take every one)."""
        now = time.monotonic()
        if finished:
            self._to_store += [(now, p) for p in await asyncio.to_thread(self._passages, finished)]
        if now < self._retry_at:
            return
        if self._to_store:
            try:
                stored = await store_passages(self.db, [p for _t, p in self._to_store])
            except Exception as exc:  # noqa: BLE001 - keep reading; the batch is tried again
                self._to_store = _keep(self._to_store, now, exc, "recognitions")
                self._refused(now)
                return
            else:
                self._to_store = []
                new = [x.read for x in stored if x.new]
                self.recognised += len(new)
                self._to_match += [(now, r) for r in new]
                unused = [x.passage.snapshot for x in stored if x.passage.snapshot and not x.snapshot_used]
                if unused:  # the passage was stored already, with its own snapshot
                    await asyncio.to_thread(self._delete, unused)
        if self.matcher is None:
            self._to_match = []
        elif self._to_match:
            matcher = self.matcher
            try:
                result = await alarms_for_reads(self.db, [r for _t, r in self._to_match],
                                                lambda r: matcher.match(r.camera_id, r.plate))
            except Exception as exc:  # noqa: BLE001
                self._to_match = _keep(self._to_match, now, exc, "recognitions to match")
                self._refused(now)
                return
            else:
                self._to_match = []
                self.matched += result.matches
                self.alarms += len(result.alarms)
                if self.on_outputs is not None and any(x.outputs for x in result.alarms):
                    self.on_outputs()
        self._refusals, self._retry_at = 0, 0.0

    def _refused(self, now: float) -> None:
        self._refusals += 1
        self._retry_at = now + min(30.0, 2.0 ** (self._refusals - 1))

    def _passages(self, finished: list[tuple[int, Recognition]]) -> list[Passage]:
        """(In a thread.) The passages to store, each new one's snapshot written to the media store;
        the end of a passage stored earlier brings no snapshot (its row has one)."""
        out = []
        for camera_id, r in finished:
            at = datetime.fromtimestamp(r.first_seen, UTC)
            snapshot = ""
            if not r.announced and r.snapshot is not None and r.snapshot.size:
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
            out.append(Passage(camera_id, r.plate, r.country, r.confidence, at,
                               datetime.fromtimestamp(r.last_seen, UTC), r.reads, snapshot, self.host))
        return out

    def _delete(self, snapshots: list[str]) -> None:
        for snapshot in snapshots:
            try:
                Path(self.store.absolute(snapshot)).unlink(missing_ok=True)
            except OSError as exc:
                log.warning("cannot delete an unused plate snapshot: %s", exc)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _keep(items: list, now: float, exc: Exception, what: str) -> list:
    """After a failed write: the items still worth retrying; the rest are dropped, said in the log."""
    kept = [(t, x) for t, x in items if now - t < RETRY_SECONDS]
    log.error("cannot store %d %s (tried again at the next drain): %s", len(kept), what, exc, exc_info=exc)
    if len(kept) < len(items):
        log.error("dropped %d %s the database refused for %g s", len(items) - len(kept), what, RETRY_SECONDS)
    return kept

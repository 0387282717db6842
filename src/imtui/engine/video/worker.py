"""``imtui worker``: records every enabled camera, watches each stream, keeps the media index.

One asyncio loop owns the database; each camera has a capture thread (frames, motion, segment
files) and a runner task on the loop that watches the thread's heartbeat.  The loop never waits
on a camera: frames are handled in the threads, and what they produce (segment opened, grown,
closed; storage trouble) is queued and written to the index in small transactions.

Each worker is an LPR server (engine/lpr_servers.py): it registers under its name, takes the
cameras assigned to it (and claims unassigned ones), heartbeats its figures, watches the other
servers for silence, and stops when asked (``imtui worker stop``).

Events: "camera connection lost" when a stream fails to open, ends, errors or sends no frame for
``stall_seconds``; "camera running" when frames flow (again).  Reconnects back off 1, 2, 4 … 60 s
with jitter and never give up.  Storage trouble is reported once per outage, not per frame.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from imtui.config import Settings
from imtui.engine import events, lpr_servers
from imtui.engine.base import open_database
from imtui.engine.video.capture import Capture, backoff
from imtui.engine.video.media import MediaStore, SegmentInfo, read_times
from imtui.engine.video.recorder import Recorder, StorageTrouble
from imtui.engine.video.recordings import RecordingService, upsert_recording
from imtui.i18n import _
from imtui.storage.db import Database
from imtui.storage.models import Camera, Recording

if TYPE_CHECKING:
    from imtui.engine.recognition.pipeline import LprPipeline

log = logging.getLogger(__name__)
RELOAD_SECONDS = 5.0
PURGE_EVERY_SECONDS = 3600.0


@dataclass(frozen=True)
class CameraConfig:
    id: int
    name: str
    source: str
    sensitivity: int


@dataclass
class CameraStatus:
    state: str = "starting"  # starting | running | lost
    frames: int = 0
    reason: str = ""
    attempts: int = 0


class CameraRunner:
    """Keeps one camera recording: start a capture, watch its heartbeat, restart it when it fails."""

    def __init__(self, worker: Worker, cam: CameraConfig) -> None:
        self.worker, self.cam = worker, cam
        self.status = CameraStatus()
        self.capture: Capture | None = None
        self.recorder: Recorder | None = None
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self.run(), name=f"camera-{self.cam.id}")

    async def stop(self) -> None:
        if self.task:
            self.task.cancel()
            try:
                await self.task
            except asyncio.CancelledError:
                pass
        self._end_capture()

    def _end_capture(self) -> None:
        if self.capture is not None:
            self.capture.stop.set()  # a thread stuck in read() exits when read() returns
            self.capture = None
        if self.recorder is not None:
            self.recorder.close()  # keeps what was recorded, closes the file cleanly
            self.recorder = None

    def _sink_for(self, capture: Capture):  # noqa: ANN202
        settings, worker, cam = self.worker.settings, self.worker, self.cam

        def sink(frame, t) -> None:  # noqa: ANN001 - runs in the capture thread
            if capture.stop.is_set():
                return
            if self.recorder is None:
                self.recorder = Recorder(worker.store, cam.id, sensitivity=cam.sensitivity, fps=capture.fps,
                                         pre=settings.pre_seconds, post=settings.post_seconds,
                                         segment_seconds=settings.segment_seconds,
                                         outbox=lambda item: worker.outbox.put((cam.id, item)))
            self.recorder.feed(frame, t)
            if worker.lpr is not None:
                worker.lpr.offer(cam.id, frame, t)  # skipped unless LPR is on and the pool has room

        return sink

    async def run(self) -> None:
        stall = self.worker.settings.stall_seconds
        while True:
            capture = Capture(self.cam.source, lambda f, t: None, name=f"capture-{self.cam.id}")
            capture.sink = self._sink_for(capture)
            self.capture = capture
            began = time.monotonic()
            capture.start()
            reason = ""
            while not reason:
                await asyncio.sleep(0.2)
                beat = capture.heartbeat
                if capture.failed:
                    reason = capture.failed
                elif beat is None and time.monotonic() - began > stall:
                    reason = _("no picture within {n:g} s").format(n=stall)
                elif beat is not None and time.monotonic() - beat > stall:
                    reason = _("no frame for {n:g} s").format(n=stall)
                elif beat is not None and self.status.state != "running":
                    self.status = CameraStatus("running", capture.frames)
                    await self.worker.event(events.CAMERA_RUNNING, self.cam.id,
                                            _("Camera \u201c{name}\u201d: camera running.").format(name=self.cam.name))
                self.status.frames = capture.frames
            self._end_capture()
            self.status.attempts += 1
            wait = backoff(self.status.attempts, cap=self.worker.max_backoff)
            if self.status.state != "lost":
                self.status.state, self.status.reason = "lost", reason
                await self.worker.event(events.CAMERA_LOST, self.cam.id, _(
                    "Camera \u201c{name}\u201d: camera connection lost ({reason}); retrying with backoff."
                ).format(name=self.cam.name, reason=reason))
            log.info("camera %s: %s; reconnect in %.1f s", self.cam.id, reason, wait)
            await asyncio.sleep(wait)


@dataclass
class Worker:
    db: Database
    settings: Settings
    host: str = field(default_factory=socket.gethostname)
    name: str = ""  # the LPR server's name: settings.worker_name, else the host name
    server_id: int | None = None  # set by register()
    error: str = ""  # what keeps it from working, reported with each heartbeat
    max_backoff: float = 60.0
    store: MediaStore = field(init=False)
    recordings: RecordingService = field(init=False)
    runners: dict[int, CameraRunner] = field(default_factory=dict)
    outbox: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    lpr_processes: int | None = None  # None: one per core
    lpr: LprPipeline | None = None
    # set from the pool's threads when a frame has been read, and when alarms with outputs were raised:
    # the loop stores passages and the dispatcher runs outputs at once instead of at their next poll
    _read: asyncio.Event = field(default_factory=asyncio.Event)
    _actions_due: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.store = MediaStore(self.settings.media_dir)
        self.recordings = RecordingService(self.db, self.store)
        self.name = (self.name or self.settings.worker_name or self.host)[:100]

    async def event(self, kind: str, camera_id: int | None, message: str) -> None:
        log.warning("%s", message) if kind in (events.CAMERA_LOST, events.STORAGE_ERROR) else log.info("%s", message)
        try:
            async with self.db.write() as s:
                from imtui.engine.alarms import raise_for_event
                from imtui.engine.times import utcnow

                at = utcnow()
                events.record(s, kind, message, camera_id, self.name, at=at)
                await raise_for_event(s, self.db, kind, camera_id, message, at)  # in the event's transaction
        except Exception as exc:  # noqa: BLE001 - the database may be the thing that is down
            log.error("could not store event %s: %s", kind, exc)

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Record until ``stop`` is set (or for ever)."""
        stop = stop or asyncio.Event()
        await self.register()  # refuses (ServerNameTaken) when a live worker has this name
        await self.close_orphans()
        try:
            self.store.check_space()
        except OSError as exc:
            await self.event(events.STORAGE_ERROR, None, str(exc))
        next_beat = 0.0
        tasks = [asyncio.create_task(self.run_actions(stop), name="alarm-actions"),
                 asyncio.create_task(self.run_purges(stop), name="purges")]
        try:
            while not stop.is_set():
                await self.sync_cameras()
                await self.sync_lpr()
                await self.flush()
                reload_at = time.monotonic() + RELOAD_SECONDS
                tick = min(0.5, self.settings.heartbeat_seconds)
                flushed = time.monotonic()
                while not stop.is_set() and time.monotonic() < reload_at:
                    if time.monotonic() >= next_beat:
                        next_beat = time.monotonic() + self.settings.heartbeat_seconds
                        if await self.beat():
                            stop.set()
                            break
                    await _wait(self._read, tick)
                    if time.monotonic() - flushed >= tick:
                        await self.flush()
                        flushed = time.monotonic()
                    elif self.lpr is not None:  # a frame was read: its passage's alarm must not wait for the tick
                        await self.lpr.drain()
        finally:
            for task in tasks:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
            for runner in list(self.runners.values()):
                await runner.stop()
            self.runners.clear()
            await self.flush()
            if self.lpr is not None:
                await self.lpr.finish()
            if self.server_id is not None:
                try:
                    await lpr_servers.stopped(self.db, self.server_id)
                except Exception as exc:  # noqa: BLE001 - the database may be what stopped us
                    log.warning("cannot record the stop of LPR server %s: %s", self.name, exc)

    async def run_actions(self, stop: asyncio.Event) -> None:
        """Event actions (webhooks, commands) of new alarms, whoever raised them (this worker, a
        retroactive match in a TUI): claimed one by one, so one worker of the site fires each.  Its
        own task: an output may take its timeout times its retries, and heartbeats must go on."""
        from imtui.engine.alarm_actions import dispatch_pending

        while not stop.is_set():
            self._actions_due.clear()
            if not await dispatch_pending(self.db, self.settings, source=self.name):
                await _wait(self._actions_due, 0.5)

    async def run_purges(self, stop: asyncio.Event) -> None:
        """The recording and event (LPR reads, crops, matches) purges at start, then hourly, in their
        own task: a long backlog must not hold up heartbeats (the first purge used to wait until the
        host had been up an hour: time.monotonic() counts from the host's boot)."""
        while not stop.is_set():
            try:
                await self.recordings.purge()
            except Exception as exc:  # noqa: BLE001 - the database may be down: next time
                log.warning("recording purge failed: %s", exc)
            try:
                gone = await events.purge(self.db, self.store, self.settings.events_keep_hours)
                if gone.events or gone.recognitions or gone.matches:
                    log.info("event purge: %s", gone)
            except Exception as exc:  # noqa: BLE001
                log.warning("event purge failed: %s", exc)
            try:
                await asyncio.wait_for(stop.wait(), PURGE_EVERY_SECONDS)
            except TimeoutError:
                pass

    async def register(self) -> None:
        import os

        self.server_id = await lpr_servers.register(self.db, self.name, self.host, os.getpid(),
                                                    self.settings.heartbeat_seconds)
        log.info("LPR server %s (id %s) started on %s", self.name, self.server_id, self.host)

    def figures(self) -> lpr_servers.Beat:
        """What the heartbeat reports: the computer's CPU usage and memory available (psutil reads
        /proc: microseconds), plates stored this session, each camera's state."""
        import psutil

        return lpr_servers.Beat(
            cpu_percent=psutil.cpu_percent(interval=None), memory_available=psutil.virtual_memory().available,
            plates=self.lpr.recognised if self.lpr is not None else 0,
            cameras={cid: r.status.state for cid, r in self.runners.items()}, error=self.error)

    async def beat(self) -> bool:
        """Heartbeat, and watch the other servers.  True when this worker was asked to stop."""
        try:
            asked = await lpr_servers.heartbeat(self.db, self.server_id, self.figures())
            if asked is None:  # an administrator forgot this server while it ran: register again
                await self.register()
                asked = False
            await lpr_servers.check_silent(self.db)
        except Exception as exc:  # noqa: BLE001 - a database outage must not stop recording
            log.warning("heartbeat failed: %s", exc)
            return False
        if asked:
            log.info("LPR server %s: stop requested", self.name)
        return asked

    async def sync_cameras(self) -> None:
        """Start runners for new enabled cameras, stop removed/disabled ones, restart changed ones."""
        c = Camera.__table__
        try:
            async with self.db.read() as s:
                unassigned = (await s.execute(sa.select(c.c.id).where(c.c.server_id.is_(None)).limit(1))).first()
            if unassigned is not None and self.server_id is not None:
                await lpr_servers.claim_cameras(self.db, self.server_id)
            async with self.db.read() as s:
                rows = (await s.execute(sa.select(c.c.id, c.c.name, c.c.source, c.c.motion_sensitivity)
                                        .where(c.c.enabled == sa.true(), c.c.server_id == self.server_id))).all()
        except Exception as exc:  # noqa: BLE001 - keep recording with what we know
            log.warning("cannot read cameras: %s", exc)
            return
        wanted = {r.id: CameraConfig(r.id, r.name, r.source, r.motion_sensitivity) for r in rows}
        for camera_id, runner in list(self.runners.items()):
            if wanted.get(camera_id) != runner.cam:
                await runner.stop()
                del self.runners[camera_id]
        for camera_id, cam in wanted.items():
            if camera_id not in self.runners:
                runner = self.runners[camera_id] = CameraRunner(self, cam)
                runner.start()

    async def sync_lpr(self) -> None:
        """Start, change or stop plate recognition per camera as the administrators set it."""
        from imtui.engine.recognition.service import LprService

        try:
            wanted = {cid: v for cid, v in (await LprService(self.db, self.store).enabled_cameras()).items()
                      if cid in self.runners}  # this server's cameras only
        except Exception as exc:  # noqa: BLE001 - keep going with what we know
            log.warning("cannot read LPR cameras: %s", exc)
            return
        if wanted and self.lpr is None:
            from imtui.engine.recognition.pipeline import LprPipeline

            loop = asyncio.get_running_loop()
            self.lpr = LprPipeline(self.db, self.store, self.name, **(
                {"processes": self.lpr_processes} if self.lpr_processes else {}),
                on_read=lambda: _call_soon(loop, self._read.set), on_outputs=self._actions_due.set)
        if self.lpr is not None:
            try:
                self.lpr.configure(wanted)
                self.error = ""
            except Exception as exc:  # noqa: BLE001 - recording must go on without recognition
                log.error("cannot start plate recognition: %s", exc)
                self.error = _("cannot start plate recognition: {error}").format(error=exc)
                return
            try:
                if self.lpr.matcher is None:
                    from imtui.engine.matchlists.matcher import Matcher

                    self.lpr.matcher = Matcher(self.db)
                await self.lpr.matcher.refresh()  # reloads the lists only when one changed
            except Exception as exc:  # noqa: BLE001 - keep reading; match with what we know
                log.warning("cannot load match lists: %s", exc)

    async def flush(self) -> None:
        """Write what the capture threads produced to the index (and storage events)."""
        if self.lpr is not None:
            await self.lpr.drain()
        items: list[tuple[int, SegmentInfo | StorageTrouble]] = []
        while True:
            try:
                items.append(self.outbox.get_nowait())
            except queue.Empty:
                break
        if not items:
            return
        latest: dict[str, SegmentInfo] = {}
        for camera_id, item in items:
            if isinstance(item, StorageTrouble):
                if item.message:
                    await self.event(events.STORAGE_ERROR, camera_id, item.message)
                else:
                    await self.event(events.STORAGE_OK, camera_id, _("Media store writable again."))
            else:
                # Only the newest state of each segment matters.  A segment only grows, then closes:
                # a state put back by a failed flush may come after a newer one in the queue.
                prev = latest.get(item.path)
                if prev is None or _progress(item) >= _progress(prev):
                    latest[item.path] = item
        if not latest:
            return
        try:
            async with self.db.write() as s:
                for info in latest.values():
                    await upsert_recording(s, self.db.is_sqlite, info)
        except Exception as exc:  # noqa: BLE001 - retry on the next flush: the upsert makes it update, not add
            log.warning("cannot write the recording index: %s", exc, exc_info=exc)
            for info in latest.values():
                self.outbox.put((info.camera_id, info))

    async def close_orphans(self) -> None:
        """Segments left open by a crash: close them with what their sidecar says was written."""
        r = Recording.__table__
        async with self.db.write() as s:
            rows = (await s.execute(sa.select(r.c.id, r.c.path, r.c.start_time).where(r.c.closed == sa.false()))).all()
            for row in rows:
                times = read_times(self.store.absolute(row.path))
                end = times.time(len(times.us) - 1) if len(times.us) else row.start_time
                await s.execute(sa.update(r).where(r.c.id == row.id).values(
                    closed=True, frame_count=len(times.us), end_time=end))


def _call_soon(loop: asyncio.AbstractEventLoop, callback) -> None:  # noqa: ANN001
    """From another thread: ``callback`` on ``loop``, unless the loop has closed (the worker stopped)."""
    try:
        loop.call_soon_threadsafe(callback)
    except RuntimeError:
        pass


async def _wait(event: asyncio.Event, seconds: float) -> None:
    """Until ``event`` is set or ``seconds`` have passed; the event is cleared for the next wait."""
    try:
        await asyncio.wait_for(event.wait(), seconds)
    except TimeoutError:
        pass
    event.clear()


def _progress(info: SegmentInfo) -> tuple[bool, int, datetime]:
    return info.closed, info.frame_count, info.end_time


async def run_worker(settings: Settings, stop: asyncio.Event | None = None, *, seconds: float | None = None) -> None:
    """The ``imtui worker`` entry point (also run inside ``imtui demo``)."""
    db = open_database(settings)
    try:
        await db.upgrade()
        worker = Worker(db, settings)
        stop = stop or asyncio.Event()
        if seconds is not None:
            asyncio.get_running_loop().call_later(seconds, stop.set)
        await worker.run(stop)
    finally:
        await db.dispose()


async def record_synthetic(worker: Worker, camera_id: int, cam, seconds: float) -> None:  # noqa: ANN001
    """Record ``seconds`` of a synthetic camera as fast as it renders, through a real Recorder,
    and index the segments with ``worker.flush``: recordings at chosen (past) times for tests,
    benchmarks and demos, without waiting in real time."""
    from datetime import timedelta

    s = worker.settings
    rec = Recorder(worker.store, camera_id, fps=cam.fps, pre=s.pre_seconds, post=s.post_seconds,
                   segment_seconds=s.segment_seconds, outbox=lambda item: worker.outbox.put((camera_id, item)))
    for i in range(int(seconds * cam.fps)):
        frame, _visible = cam.frame(i)
        rec.feed(frame, cam.start + timedelta(seconds=cam.time_of(i)))
    rec.close()
    await worker.flush()

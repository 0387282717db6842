"""Recording: motion periods against the synthetic camera's truth, a stream killed and restored,
retention with the evidence lock, and storage trouble reported as events (both backends)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import sqlalchemy as sa

from conftest import ADMIN
from imtui.engine import events
from imtui.engine.events import EventService
from imtui.engine.incidents import IncidentService, SequenceInput
from imtui.engine.video.media import MediaStore
from imtui.engine.video.recordings import RecordingService
from imtui.engine.video.synthetic import SyntheticCamera
from imtui.engine.video.worker import Worker, record_synthetic
from imtui.storage.models import Camera, Recording
from mjpeg_server import MjpegCamera
from recording import settings_for

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


async def test_recorded_periods_match_the_motion_truth(db, tmp_path) -> None:  # noqa: ANN001
    worker = Worker(db, settings_for(db, tmp_path / "media"))
    cam = SyntheticCamera.from_source("synthetic:?size=640x480&fps=4&every=20&cross=6", start=T0)
    await record_synthetic(worker, 1, cam, 90)
    periods = await worker.recordings.periods(ADMIN, 1, T0, T0 + timedelta(minutes=5))
    truth = cam.motion_periods(90)
    assert len(periods) == len(truth) == 5
    for p, (enters, leaves) in zip(periods, truth, strict=True):
        want_start = T0 + timedelta(seconds=enters - 2.0)  # pre buffer
        want_end = T0 + timedelta(seconds=min(leaves + 3.0, 89.75))  # post buffer, or the end of the stream
        assert abs((p.start - want_start).total_seconds()) <= 1.0, (p, enters)
        assert abs((p.end - want_end).total_seconds()) <= 1.0, (p, leaves)
        assert not p.open and not p.locked
    # each 10.5 s period was cut into three 4 s segment files (the last, 6.5 s, into two)
    async with db.read() as s:
        segments = (await s.execute(sa.select(sa.func.count()).select_from(Recording.__table__))).scalar_one()
    assert segments == 4 * 3 + 2
    # the frame at a moment is the one captured then, also across a segment boundary
    svc = RecordingService(db, worker.store)
    at = T0 + timedelta(seconds=27.3)
    ref = await svc.frame_at(ADMIN, 1, at)
    assert ref.time == T0 + timedelta(seconds=27.25)
    index = round(27.25 * 4)
    shown = svc.read_frame(ref).astype(int)
    assert np.abs(shown - cam.frame(index)[0]).mean() < np.abs(shown - cam.frame(index + 4)[0]).mean() / 3
    first = await svc.frame_at(ADMIN, 1, periods[1].start)
    back = await svc.frame_at(ADMIN, 1, first.time + timedelta(seconds=4), step=-1)  # into the previous segment
    assert back.time == first.time + timedelta(seconds=3.75) and back.recording_id == first.recording_id
    fwd = await svc.frame_at(ADMIN, 1, first.time + timedelta(seconds=3.75), step=1)
    assert fwd.time == first.time + timedelta(seconds=4) and fwd.recording_id != first.recording_id
    assert await svc.frame_at(ADMIN, 1, T0 + timedelta(seconds=18)) is None  # nothing recorded then
    assert await svc.neighbour(ADMIN, 1, periods[1].start + timedelta(seconds=2), True) == periods[2].start
    assert await svc.neighbour(ADMIN, 1, periods[1].start + timedelta(seconds=2), False) == periods[0].start


async def test_retention_deletes_unlocked_recordings_only(db, tmp_path) -> None:  # noqa: ANN001
    worker = Worker(db, settings_for(db, tmp_path / "media"))
    cam = SyntheticCamera.from_source("synthetic:?size=320x240&fps=4&every=20&cross=4", start=T0)
    await record_synthetic(worker, 1, cam, 40)
    periods = await worker.recordings.periods(ADMIN, 1, T0, T0 + timedelta(hours=1))
    assert len(periods) == 2
    incidents = IncidentService(db)
    s0, s1 = periods[1].start + timedelta(seconds=1), periods[1].start + timedelta(seconds=5)
    iid = await incidents.create(ADMIN, (await incidents.types())[0].id, "held", [SequenceInput(1, s0, s1)])
    async with db.write() as s:
        await s.execute(sa.update(Camera.__table__).where(Camera.__table__.c.id == 1).values(retention_days=1))
    r = Recording.__table__

    async def rows() -> list:
        async with db.read() as s:
            return (await s.execute(sa.select(r.c.path, r.c.start_time, r.c.end_time).order_by(r.c.start_time))).all()

    before = await rows()
    assert (await worker.recordings.purge(now=T0 + timedelta(hours=23))).deleted == 0  # not due yet
    result = await worker.recordings.purge(now=T0 + timedelta(days=3))
    after = await rows()
    held = [x for x in before if x.start_time <= s1 and x.end_time >= s0]  # the segments the sequence covers
    assert len(held) == 2
    assert result.deleted == len(before) - len(held) > 0 and result.held == len(held)
    assert after == held
    for x in before:
        assert (tmp_path / "media" / x.path).exists() == (x in held)
    # the project goes: its recordings are free to go at the next run
    await incidents.delete(ADMIN, iid)
    await worker.recordings.purge(now=T0 + timedelta(days=3))
    assert await rows() == []


async def test_storage_trouble_becomes_an_event_not_a_crash(db, tmp_path) -> None:  # noqa: ANN001
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the media store should be")
    worker = Worker(db, settings_for(db, blocker / "media"))
    cam = SyntheticCamera.from_source("synthetic:?size=320x240&fps=4&every=10&cross=4", start=T0)
    await record_synthetic(worker, 1, cam, 12)
    full = Worker(db, settings_for(db, tmp_path / "media"))
    full.store = MediaStore(tmp_path / "media", min_free_bytes=1 << 62)
    await record_synthetic(full, 2, cam, 12)
    listed = await EventService(db).list(ADMIN, kind=events.STORAGE_ERROR)
    assert {e.camera_id for e in listed} == {1, 2} and len(listed) == 2  # once per outage, not per frame
    by_camera = {e.camera_id: e.message for e in listed}
    assert "not writable" in by_camera[1] and "media.dir" in by_camera[1]
    assert "is full" in by_camera[2] and "free space" in by_camera[2]
    async with db.read() as s:
        assert (await s.execute(sa.select(sa.func.count()).select_from(Recording.__table__))).scalar_one() == 0


async def _wait(predicate, timeout: float, what: str) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


async def test_a_killed_stream_gives_both_events_and_recording_resumes(db, tmp_path) -> None:  # noqa: ANN001
    server = MjpegCamera()
    server.start()
    c = Camera.__table__
    async with db.write() as s:
        await s.execute(sa.update(c).values(enabled=False))
        await s.execute(sa.update(c).where(c.c.id == 1).values(enabled=True, source=server.url, motion_sensitivity=60))
    settings = replace(settings_for(db, tmp_path / "media"), stall_seconds=1.5, segment_seconds=2.0)
    worker = Worker(db, settings, max_backoff=1.0)
    ev = EventService(db)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    r = Recording.__table__

    async def kinds() -> list[str]:
        return [e.kind for e in reversed(await ev.list(ADMIN, camera_id=1))]

    async def recorded_after(t: datetime) -> bool:
        async with db.read() as s:
            return bool((await s.execute(sa.select(sa.func.count()).where(
                r.c.camera_id == 1, r.c.start_time > t, r.c.frame_count > 0))).scalar_one())

    try:
        await _wait(lambda: recorded_after(T0), 30, "a first recording")
        assert await kinds() == [events.CAMERA_RUNNING]
        server.kill()
        await _wait(lambda: _eq(kinds(), [events.CAMERA_RUNNING, events.CAMERA_LOST]), 20, "camera connection lost")
        lost = await ev.list(ADMIN, camera_id=1, kind=events.CAMERA_LOST)
        assert "camera connection lost" in lost[0].message and "Camera 01" in lost[0].message
        back = datetime.now(UTC)
        server.start()
        await _wait(lambda: _eq(kinds(), [events.CAMERA_RUNNING, events.CAMERA_LOST, events.CAMERA_RUNNING]), 30,
                    "camera running again")
        await _wait(lambda: recorded_after(back), 30, "recording after the stream came back")
        # the segment cut by the loss was closed cleanly and kept
        async with db.read() as s:
            assert (await s.execute(sa.select(sa.func.count()).where(r.c.start_time < back, r.c.closed == sa.true())
                                    )).scalar_one() >= 1
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        server.kill()
    assert worker.runners == {}


async def _eq(coro, want) -> bool:  # noqa: ANN001
    return await coro == want

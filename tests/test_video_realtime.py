"""Real-time incident projects against real recordings: a camera that stopped recording while it
was collected gives one sequence per recorded period, none spanning the gap, and a period still
being recorded reaches the moment of saving (both backends)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from conftest import OPERATOR
from imtui.engine.incidents import IncidentService
from imtui.engine.video.realtime import RealtimeService
from imtui.engine.video.recorder import Recorder
from imtui.engine.video.synthetic import SyntheticCamera
from imtui.engine.video.worker import Worker, record_synthetic
from recording import settings_for

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


async def record_open(worker: Worker, camera_id: int, cam: SyntheticCamera, seconds: float) -> None:
    """Record like ``record_synthetic`` but leave the last period open, as a running worker does."""
    s = worker.settings
    rec = Recorder(worker.store, camera_id, fps=cam.fps, pre=s.pre_seconds, post=s.post_seconds,
                   segment_seconds=s.segment_seconds, outbox=lambda item: worker.outbox.put((camera_id, item)))
    for i in range(int(seconds * cam.fps)):
        frame, _visible = cam.frame(i)
        rec.feed(frame, cam.start + timedelta(seconds=cam.time_of(i)))
    await worker.flush()
    assert rec.writer is not None  # still recording
    rec.writer.close()  # release the file; the index still says the segment is open


async def test_realtime_sequences_split_at_recording_gaps(db, tmp_path) -> None:  # noqa: ANN001
    worker = Worker(db, settings_for(db, tmp_path / "media"))
    # camera 1: a vehicle every 20 s for 6 s: recorded ~[3, 14], [23, 34], [43, 54] (9 s gaps)
    await record_synthetic(worker, 1, SyntheticCamera.from_source(
        "synthetic:?size=320x240&fps=4&every=20&cross=6", start=T0), 60)
    # camera 2: a vehicle every 16 s for 4 s, still recording when the project is saved
    await record_open(worker, 2, SyntheticCamera.from_source(
        "synthetic:?size=320x240&fps=4&every=16&cross=4", start=T0), 53)
    # camera 3 recorded nothing
    one = await worker.recordings.periods(OPERATOR, 1, T0, T0 + timedelta(minutes=2))
    two = await worker.recordings.periods(OPERATOR, 2, T0, T0 + timedelta(minutes=2))
    assert len(one) == 3 and len(two) == 4 and two[-1].open and not any(p.open for p in one)
    assert all((b.start - a.end).total_seconds() > 5 for a, b in zip(one, one[1:], strict=False))

    incidents = IncidentService(db)
    realtime = RealtimeService(db, incidents)
    at = lambda s: T0 + timedelta(seconds=s)  # noqa: E731
    project = realtime.start(OPERATOR, [1, 2, 3], at(5))
    project.show([2, 3], at(30))  # the operator switches to a view without camera 1
    saved = await realtime.save(OPERATOR, project, (await incidents.types())[0].id, "pickpocket", at(56))
    seqs = sorted(((q.camera_id, q.start_time, q.end_time) for q in
                   (await incidents.get(OPERATOR, saved.incident_id)).sequences), key=lambda q: (q[0], q[1]))
    assert saved.sequences == len(seqs)
    want = [(1, at(5), one[0].end), (1, one[1].start, at(30)),
            (2, at(5), two[0].end), (2, two[1].start, two[1].end), (2, two[2].start, two[2].end),
            (2, two[3].start, at(56))]  # the open period reaches the moment of saving
    assert seqs == want
    # none spans a gap: each lies inside one recorded period
    for camera_id, start, end in seqs:
        periods = one if camera_id == 1 else two
        assert any(p.start <= start and (end <= p.end or p.open) for p in periods), (camera_id, start, end)

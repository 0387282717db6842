"""Test helper: real recordings of a synthetic camera, made by the real Recorder and indexed by
the real Worker, at chosen (past) times and without waiting in real time."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from imtui.config import Settings
from imtui.engine.video.recorder import Recorder
from imtui.engine.video.synthetic import SyntheticCamera
from imtui.engine.video.worker import Worker
from imtui.storage.db import Database


def settings_for(db: Database, media: Path, **kw: object) -> Settings:
    return Settings(database_url=str(db.url), media_dir=media, pre_seconds=2.0, post_seconds=3.0,
                    segment_seconds=4.0, **kw)  # type: ignore[arg-type]


async def record(worker: Worker, camera_id: int, cam: SyntheticCamera, seconds: float) -> None:
    """Feed ``seconds`` of the synthetic camera through a real Recorder, then index what it wrote."""
    s = worker.settings
    rec = Recorder(worker.store, camera_id, fps=cam.fps, pre=s.pre_seconds, post=s.post_seconds,
                   segment_seconds=s.segment_seconds, outbox=lambda item: worker.outbox.put((camera_id, item)))
    for i in range(int(seconds * cam.fps)):
        frame, _ = cam.frame(i)
        rec.feed(frame, cam.start + timedelta(seconds=cam.time_of(i)))
    rec.close()
    await worker.flush()


async def record_into(url: str, media: Path, camera_id: int, cam: SyntheticCamera, seconds: float) -> None:
    db = Database(url)
    try:
        await db.upgrade()
        await record(Worker(db, settings_for(db, media)), camera_id, cam, seconds)
    finally:
        await db.dispose()

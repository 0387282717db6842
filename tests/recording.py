"""Test helper: real recordings of a synthetic camera, made by the real Recorder and indexed by
the real Worker, at chosen (past) times and without waiting in real time."""

from __future__ import annotations

from pathlib import Path

from imtui.config import Settings
from imtui.engine.video.synthetic import SyntheticCamera
from imtui.engine.video.worker import Worker, record_synthetic
from imtui.storage.db import Database


def settings_for(db: Database, media: Path, **kw: object) -> Settings:
    return Settings(database_url=str(db.url), media_dir=media, pre_seconds=2.0, post_seconds=3.0,
                    segment_seconds=4.0, **kw)  # type: ignore[arg-type]


async def record_into(url: str, media: Path, camera_id: int, cam: SyntheticCamera, seconds: float) -> None:
    db = Database(url)
    try:
        await db.upgrade()
        await record_synthetic(Worker(db, settings_for(db, media)), camera_id, cam, seconds)
    finally:
        await db.dispose()

"""LPR events (recognitions with their plate crops, list matches) and camera events past
``events.keep_hours`` are purged: in batches by the engine, by the worker as soon as it starts
(the first purge used to wait until the host had been up an hour), and by ``imtui purge``, which
says how many.  Both backends; the crops are real files in the media store."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from conftest import ADMIN, OPERATOR
from imtui.engine import events
from imtui.engine.errors import PermissionDenied
from imtui.engine.times import utcnow
from imtui.engine.video.media import MediaStore
from imtui.storage.db import Database
from imtui.storage.models import Camera, Event, PlateMatch, PlateRecognition
from test_cli import run_in_process


@dataclass
class Seeded:
    old: list[int]  # recognition ids past keep_hours
    new: list[int]
    crops: list[Path]  # the old recognitions' crops
    kept_crop: Path


async def _seed(db: Database, store: MediaStore, old: int = 5, new: int = 2) -> Seeded:
    """``old`` reads of 30 h ago and ``new`` of 2 h ago, each with a crop and a list match, and
    one old and one new camera event."""
    r, m = PlateRecognition.__table__, PlateMatch.__table__
    out = Seeded([], [], [], Path())
    async with db.write() as s:
        for i in range(old + new):
            hours = 30 if i < old else 2
            at = utcnow() - timedelta(hours=hours)
            rel = f"lpr/1/{i}.jpg"
            crop = store.absolute(rel)
            crop.parent.mkdir(parents=True, exist_ok=True)
            crop.write_bytes(b"\xff\xd8 a plate crop")
            rid = (await s.execute(sa.insert(r).values(
                camera_id=1, at=at, last_seen=at, plate=f"AB{i:03d}CD", country="FR", confidence=0.9, reads=3,
                snapshot=rel, source="test").returning(r.c.id))).scalar_one()
            await s.execute(sa.insert(m).values(at=at, recognition_id=rid, camera_id=1, plate=f"AB{i:03d}CD",
                                                list_id=1, list_name="Watch", rule="exact"))
            (out.old if i < old else out.new).append(rid)
            if i < old:
                out.crops.append(crop)
            else:
                out.kept_crop = crop
        events.record(s, events.CAMERA_LOST, "old", 1, at=utcnow() - timedelta(hours=30))
        events.record(s, events.CAMERA_RUNNING, "new", 1)
    return out


async def _left(db: Database) -> tuple[list[int], list[int], list[str]]:
    r, m, e = PlateRecognition.__table__, PlateMatch.__table__, Event.__table__
    async with db.read() as s:
        return ((await s.execute(sa.select(r.c.id).order_by(r.c.id))).scalars().all(),
                (await s.execute(sa.select(m.c.recognition_id).order_by(m.c.recognition_id))).scalars().all(),
                (await s.execute(sa.select(e.c.message))).scalars().all())


async def test_purge_in_batches_takes_reads_crops_matches_and_events(db: Database, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    store = MediaStore(tmp_path / "media")
    seeded = await _seed(db, store)
    monkeypatch.setattr(events, "PURGE_BATCH", 2)  # 5 old reads: three batches
    dry = await events.EventService(db).purge(ADMIN, store, 24, dry_run=True)
    assert (dry.recognitions, dry.matches, dry.snapshots, dry.events) == (5, 5, 5, 1)
    assert (await _left(db))[0] == seeded.old + seeded.new and all(c.exists() for c in seeded.crops)
    with pytest.raises(PermissionDenied):
        await events.EventService(db).purge(OPERATOR, store, 24)
    done = await events.EventService(db).purge(ADMIN, store, 24)
    assert (done.recognitions, done.matches, done.snapshots, done.events) == (5, 5, 5, 1)
    assert await _left(db) == (seeded.new, seeded.new, ["new"])
    assert not any(c.exists() for c in seeded.crops) and seeded.kept_crop.exists()


def _fresh_clock() -> list[str]:
    """A prefix that runs a command as on a host booted a minute ago (a Linux time namespace; needs
    CAP_SYS_ADMIN), where the worker's first purge used to wait an hour.  Empty where impossible:
    the test then still checks that the worker purges within seconds of its start."""
    behind = int(time.monotonic()) - 60
    if behind <= 0 or shutil.which("unshare") is None:
        return []
    boot = int(time.clock_gettime(time.CLOCK_BOOTTIME)) - 60
    prefix = ["unshare", "--time", f"--monotonic=-{behind}", f"--boottime=-{boot}"]
    probe = subprocess.run([*prefix, sys.executable, "-c", "import time; print(time.monotonic())"],
                           capture_output=True, text=True, timeout=30)
    return prefix if probe.returncode == 0 and float(probe.stdout) < 600 else []


async def test_the_worker_purges_expired_lpr_events_as_soon_as_it_starts(db: Database, tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    seeded = await _seed(db, store)
    async with db.write() as s:
        await s.execute(sa.update(Camera.__table__).values(enabled=False))  # nothing to record: purging only
    config = tmp_path / "worker.toml"
    config.write_text(f'[media]\ndir = "{store.root}"\n[worker]\nheartbeat_seconds = 0.5\n'
                      f'log = "{tmp_path / "worker.log"}"\n[events]\nkeep_hours = 24\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMTUI_")}
    env.update(IMTUI_CONFIG=str(config), XDG_DATA_HOME=str(tmp_path / "data"))
    proc = subprocess.Popen([*_fresh_clock(), sys.executable, "-m", "imtui", "--db", str(db.url), "worker",
                             "--name", "purger"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60  # the interpreter's start and imports on a loaded machine
        while (await _left(db))[0] != seeded.new:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "the worker did not purge the expired reads"
            await asyncio.sleep(0.3)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert await _left(db) == (seeded.new, seeded.new, ["new"])
    assert not any(c.exists() for c in seeded.crops) and seeded.kept_crop.exists()


async def test_imtui_purge_purges_lpr_events_and_says_how_many(db: Database, tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    seeded = await _seed(db, store)
    config = tmp_path / "cli.toml"
    config.write_text(f'[auth]\ntrust_os_user = true\n[media]\ndir = "{store.root}"\n[events]\nkeep_hours = 24\n')
    env = {"IMTUI_CONFIG": str(config), "XDG_DATA_HOME": str(tmp_path / "data")}
    base = ("--db", str(db.url), "--user", "admin")
    dry = await asyncio.to_thread(run_in_process, *base, "purge", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert ("Would delete 5 plate recognitions (5 plate crops, 5 list matches) and 1 camera events older than 24 "
            "hours.") in dry.stdout
    assert all(c.exists() for c in seeded.crops)
    done = await asyncio.to_thread(run_in_process, *base, "--json", "purge", env=env)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert (data["recognitions"], data["plate_matches"], data["plate_crops"], data["events"]) == (5, 5, 5, 1)
    assert await _left(db) == (seeded.new, seeded.new, ["new"])
    assert not any(c.exists() for c in seeded.crops) and seeded.kept_crop.exists()

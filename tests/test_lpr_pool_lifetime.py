"""The recognition pool's OCR processes end with their worker, even a SIGKILLed one (they used to
stay, about 560 MB, waiting on a pipe they held themselves).  A real ``imtui worker`` reads a
synthetic LPR camera until its pool processes have loaded the OCR engine, then is killed."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import sqlalchemy as sa

from conftest import ADMIN
from imtui.engine.recognition.service import LprService
from imtui.engine.seed import seed_defaults
from imtui.engine.video.media import MediaStore
from imtui.storage.db import Database
from imtui.storage.models import Camera

SOURCE = "synthetic:?size=640x480&fps=4&every=8&cross=6&seed=3"
LOADED_MB = 150  # a pool process with the OCR engine loaded (an empty spawned interpreter: ~20 MB)


def _alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


def _pool(worker: psutil.Process) -> list[psutil.Process]:
    """The worker's spawned pool processes (not multiprocessing's resource tracker)."""
    out = []
    for p in worker.children(recursive=True):
        try:
            if any("spawn_main" in part for part in p.cmdline()):
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


def test_a_pool_process_outlives_the_thread_that_started_it() -> None:
    """Linux sends the death signal when the *thread* that started a child ends; the pool starts its
    processes from the thread that submits (a camera's capture thread, which ends at a reconnect).
    That must not end the process, nor break the pool."""
    import multiprocessing
    import threading
    from concurrent.futures import ProcessPoolExecutor

    from imtui.engine.recognition.lifetime import die_with

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=die_with,
                             initargs=(os.getpid(),)) as pool:
        first: list[int] = []
        starter = threading.Thread(target=lambda: first.append(pool.submit(os.getpid).result(timeout=60)))
        starter.start()
        starter.join()
        time.sleep(1.5)  # the death signal (and a watch round) after the starter thread ended
        assert pool.submit(os.getpid).result(timeout=60) == first[0]


@pytest.mark.slow
async def test_ocr_processes_end_with_a_sigkilled_worker(sqlite_url: str, tmp_path: Path) -> None:
    db = Database(sqlite_url)
    await db.upgrade()
    await seed_defaults(db, cameras=2)
    c = Camera.__table__
    async with db.write() as s:
        await s.execute(sa.update(c).values(enabled=False))
        await s.execute(sa.update(c).where(c.c.id == 1).values(enabled=True, source=SOURCE))
    await LprService(db, MediaStore(tmp_path / "media")).configure(ADMIN, 1, enabled=True)
    await db.dispose()
    config = tmp_path / "worker.toml"
    config.write_text(f'[media]\ndir = "{tmp_path / "media"}"\n[worker]\nheartbeat_seconds = 0.5\n'
                      f'log = "{tmp_path / "worker.log"}"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMTUI_")}
    env.update(IMTUI_CONFIG=str(config), XDG_DATA_HOME=str(tmp_path / "data"))
    proc = subprocess.Popen([sys.executable, "-m", "imtui", "--db", sqlite_url, "worker", "--name", "ocr"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = psutil.Process(proc.pid)
    pool: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 90  # interpreter, imports and OCR models on a loaded machine
        while True:
            assert proc.poll() is None, (tmp_path / "worker.log").read_text()
            pool = _pool(worker)
            loaded = [p for p in _alive(pool) if p.memory_info().rss > LOADED_MB * 2**20]
            if pool and len(loaded) == len(pool):
                break
            assert time.monotonic() < deadline, f"no loaded OCR process: {[p.memory_info().rss for p in pool]}"
            await asyncio.sleep(0.5)
        everything = worker.children(recursive=True)  # the pool and multiprocessing's resource tracker
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    gone_by = time.monotonic() + 10
    while _alive(everything) and time.monotonic() < gone_by:
        await asyncio.sleep(0.2)
    left = [(p.pid, " ".join(p.cmdline())[-60:]) for p in _alive(everything)]
    for p in _alive(everything):
        p.kill()  # not left running after a failure
    assert left == [], f"outlived their worker: {left}"

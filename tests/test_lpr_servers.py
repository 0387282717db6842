"""LPR servers on both backends: the manual's status strings, registration and its refusal, silence
turning into "Service not responding" once (with its event and alarm) and back, camera moves,
stop requests, forgetting a server; and real workers: two ``imtui worker`` processes sharing one
database, a camera moved between them, one killed with SIGKILL and seen not responding by the
other, then back after a restart, and ``imtui worker stop|status|log``."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import psutil
import pytest
import sqlalchemy as sa

from conftest import ADMIN, OPERATOR
from imtui.engine import events, lpr_servers
from imtui.engine.alarms import AlarmService
from imtui.engine.errors import InvalidInput, NotFound, PermissionDenied
from imtui.engine.lpr_servers import Beat, LprServerService, ServerNameTaken, status_of
from imtui.engine.recognition.service import LprService
from imtui.engine.seed import seed_defaults
from imtui.engine.times import utcnow
from imtui.engine.video.media import MediaStore
from imtui.storage.db import Database
from imtui.storage.models import Alarm, Camera, Event


def _row(now, state: str = "running", age: float = 0.0, interval: float = 5.0, error: str = "") -> SimpleNamespace:  # noqa: ANN001
    return SimpleNamespace(state=state, heartbeat_at=now - timedelta(seconds=age), interval=interval, error=error)


@pytest.mark.parametrize(("row", "cameras", "status"), [
    ({}, [], "No LPR cameras configured"),
    ({}, ["running", "running"], "All LPR cameras are running"),
    ({}, ["running", "lost", "starting"], "1 of 3 LPR cameras running"),
    ({}, ["lost"], "0 of 1 LPR cameras running"),
    ({"age": 13.0}, ["running"], "All LPR cameras are running"),  # 2.6 heartbeats late: still fine
    ({"age": 16.0}, ["running"], "Service not responding"),  # silent for 3 heartbeats
    ({"age": 2.0, "interval": 0.5}, [], "Service not responding"),
    ({"state": "stopped", "age": 999}, ["running"], "Service not running"),
    ({"error": "cannot start plate recognition"}, ["running"], "Unknown error"),
])
def test_status_strings_are_the_manuals(row, cameras, status) -> None:  # noqa: ANN001
    now = utcnow()
    assert status_of(_row(now, **row), cameras, now) == status


async def _events(db: Database, kind: str) -> list:
    e = Event.__table__
    async with db.read() as s:
        return (await s.execute(sa.select(e).where(e.c.kind == kind).order_by(e.c.id))).all()


async def test_silence_is_reported_once_and_recovery_too(db: Database) -> None:
    alarms = AlarmService(db)
    await alarms.define(ADMIN, "Server down", "server_not_responding", priority=1)
    await alarms.define(ADMIN, "Server back", "server_responding", priority=3)
    sid = await lpr_servers.register(db, "alpha", "host-a", 111, 0.1)
    assert await lpr_servers.heartbeat(db, sid, Beat(10.0, 2**30, 0, {})) is False
    assert await lpr_servers.check_silent(db) == []  # it just beat
    await asyncio.sleep(0.4)  # > 3 heartbeats of 0.1 s
    # Two watchers at once (two workers, a TUI): one event, one alarm.
    found = await asyncio.gather(lpr_servers.check_silent(db), lpr_servers.check_silent(db))
    assert sorted(found, key=len) == [[], ["alpha"]]
    assert await lpr_servers.check_silent(db) == []
    down = await _events(db, events.SERVER_NOT_RESPONDING)
    assert [(e.source, e.camera_id) for e in down] == [("alpha", None)]
    assert "alpha" in down[0].message and "not responding" in down[0].message
    view = (await LprServerService(db).servers(ADMIN))[0]
    assert (view.status, view.running, view.uptime) == ("Service not responding", False, None)
    assert await lpr_servers.heartbeat(db, sid, Beat(10.0, 2**30, 3, {})) is False  # it comes back by itself
    assert [e.source for e in await _events(db, events.SERVER_RESPONDING)] == ["alpha"]
    assert await lpr_servers.heartbeat(db, sid, Beat(10.0, 2**30, 3, {})) is False
    assert len(await _events(db, events.SERVER_RESPONDING)) == 1  # once per outage
    raised = await alarms.alarms(ADMIN)
    assert [(a.name, a.priority, a.type, a.object) for a in raised] == [
        ("Server back", 3, "server_responding", "alpha"), ("Server down", 1, "server_not_responding", "alpha")]
    view = (await LprServerService(db).servers(ADMIN))[0]
    assert (view.status, view.plates, view.running) == ("No LPR cameras configured", 3, True)


async def test_a_name_is_one_live_worker(db: Database) -> None:
    sid = await lpr_servers.register(db, "alpha", "host-a", 111, 0.2)
    with pytest.raises(ServerNameTaken, match="'alpha' is in use by a running worker on host-a"):
        await lpr_servers.register(db, "alpha", "host-b", 222, 0.2)
    assert await lpr_servers.register(db, "alpha", "host-a", 111, 0.2) == sid  # the same process again
    await lpr_servers.stopped(db, sid)
    assert await lpr_servers.register(db, "alpha", "host-b", 222, 0.2) == sid  # after a clean stop
    assert not await _events(db, events.SERVER_NOT_RESPONDING)  # a clean stop is no outage
    await asyncio.sleep(0.7)  # killed: silent, and no watcher noticed
    assert await lpr_servers.register(db, "alpha", "host-b", 333, 0.2) == sid  # a restart takes the stale name
    down, up = await _events(db, events.SERVER_NOT_RESPONDING), await _events(db, events.SERVER_RESPONDING)
    assert len(down) == 1 and len(up) == 1 and down[0].at <= up[0].at  # the unnoticed outage is on record


async def test_a_restart_after_kill_9_on_the_same_host_takes_the_name_at_once(db: Database) -> None:
    """Issue 15: the killed worker's row still looks alive (its heartbeat is fresh), but on the
    same host its process is checked: gone, so the name is taken over without waiting."""
    dead = subprocess.Popen(["sleep", "30"])
    live = subprocess.Popen(["sleep", "30"])
    try:
        here = socket.gethostname()
        sid = await lpr_servers.register(db, "alpha", here, dead.pid, 60.0)
        dead.send_signal(signal.SIGKILL)
        dead.wait(timeout=5)
        assert await lpr_servers.register(db, "alpha", here, live.pid, 60.0) == sid  # no 3-heartbeat wait
        with pytest.raises(ServerNameTaken):  # a live process on this host keeps its name
            await lpr_servers.register(db, "alpha", here, os.getpid(), 60.0)
        with pytest.raises(ServerNameTaken):  # another host's process cannot be checked from here
            await lpr_servers.register(db, "alpha", "elsewhere", dead.pid, 60.0)
    finally:
        for process in (dead, live):
            process.kill()
            process.wait(timeout=5)
    # a process number reused by a later process, and a row from before this host's boot: gone
    born = psutil.Process().create_time()
    assert lpr_servers.gone_here(os.getpid(), datetime.fromtimestamp(born - 10, UTC))
    assert lpr_servers.gone_here(os.getpid(), datetime.fromtimestamp(psutil.boot_time() - 60, UTC))
    assert not lpr_servers.gone_here(os.getpid(), datetime.fromtimestamp(born + 0.5, UTC))


async def test_status_of_a_servers_lpr_cameras_moves_stops_and_forgetting(db: Database, tmp_path: Path) -> None:
    servers = LprServerService(db)  # the fixture seeded 4 cameras
    a = await lpr_servers.register(db, "alpha", "host-a", 1, 5.0)
    b = await lpr_servers.register(db, "beta", "host-b", 2, 5.0)
    assert await lpr_servers.claim_cameras(db, a) == 4
    assert await lpr_servers.claim_cameras(db, b) == 0  # nothing left unassigned
    lpr = LprService(db, MediaStore(tmp_path))
    await lpr.configure(ADMIN, 1, enabled=True)
    await lpr.configure(ADMIN, 2, enabled=True)
    await lpr_servers.heartbeat(db, a, Beat(5.0, 2**31, 7, {1: "running", 2: "lost", 3: "running", 4: "running"}))
    alpha, beta = await servers.servers(ADMIN)
    assert alpha.status == "1 of 2 LPR cameras running"
    assert [(c.id, c.lpr, c.state) for c in alpha.cameras] == [(1, True, "running"), (2, True, "lost"),
                                                              (3, False, "running"), (4, False, "running")]
    assert [c.id for c in alpha.lpr_cameras] == [1, 2]
    assert (beta.status, beta.cameras) == ("No LPR cameras configured", ())
    assert await servers.move_camera(ADMIN, 2, "beta") == "beta"  # Change server
    await lpr_servers.heartbeat(db, b, Beat(5.0, 2**31, 0, {2: "running"}))
    alpha, beta = await servers.servers(ADMIN)
    assert (alpha.status, beta.status) == ("All LPR cameras are running", "All LPR cameras are running")
    assert [c.id for c in beta.cameras] == [2]
    with pytest.raises(NotFound, match="no server is named or numbered 'gamma'"):
        await servers.move_camera(ADMIN, 2, "gamma")
    with pytest.raises(InvalidInput, match="no camera has ID 99"):
        await servers.move_camera(ADMIN, 99, b)
    with pytest.raises(PermissionDenied):
        await servers.move_camera(OPERATOR, 1, "beta")
    with pytest.raises(InvalidInput, match="is running; stop it first"):
        await servers.forget(ADMIN, "beta")
    assert await servers.request_stop(ADMIN, "beta") == "beta"
    assert await lpr_servers.heartbeat(db, b, Beat(5.0, 2**31, 0, {2: "running"})) is True  # the worker stops
    await lpr_servers.stopped(db, b)
    assert (await servers.servers(ADMIN))[1].status == "Service not running"
    with pytest.raises(InvalidInput, match="is not running"):
        await servers.request_stop(ADMIN, "beta")
    assert await servers.forget(ADMIN, "beta") == "beta"
    c = Camera.__table__
    async with db.read() as s:
        assert dict((await s.execute(sa.select(c.c.id, c.c.server_id))).all()) == {1: a, 2: None, 3: a, 4: a}
    assert await lpr_servers.claim_cameras(db, a) == 1  # the next worker takes it
    assert await lpr_servers.heartbeat(db, b, Beat(0, 0, 0, {})) is None  # a forgotten server re-registers


# -- real workers -------------------------------------------------------------------------------------
class Site:
    """Worker processes and CLI calls against one database, with a config of fast heartbeats."""

    def __init__(self, url: str, tmp: Path) -> None:
        self.url, self.tmp = url, tmp
        self.procs: dict[str, subprocess.Popen] = {}

    def config(self, name: str) -> Path:
        path = self.tmp / f"{name}.toml"
        path.write_text(f'[auth]\ntrust_os_user = true\n[media]\ndir = "{self.tmp / "media"}"\n'
                        f'[worker]\nheartbeat_seconds = 0.5\nlog = "{self.tmp / name}.log"\n')
        return path

    def env(self, name: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("IMTUI_")}
        return {**env, "IMTUI_CONFIG": str(self.config(name)), "XDG_DATA_HOME": str(self.tmp / "data")}

    def start(self, name: str) -> None:
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "imtui", "--db", self.url, "worker", "--name", name],
            env=self.env(name), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def cli(self, *args: str, name: str = "admin") -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "imtui", "--db", self.url, "--user", "admin", *args],
                              env=self.env(name), capture_output=True, text=True, timeout=120)

    def stop_all(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()


async def _until(check, timeout: float = 20.0, what: str = ""):  # noqa: ANN001, ANN202
    deadline = time.monotonic() + timeout
    while True:
        got = await check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(0.2)


@pytest.mark.slow
async def test_two_workers_share_the_site_move_a_camera_and_survive_a_kill(db_url: str, tmp_path: Path) -> None:
    db = Database(db_url)
    await db.upgrade()
    await seed_defaults(db, cameras=2)  # synthetic cameras: frames without a network
    await AlarmService(db).define(ADMIN, "LPR server down", "server_not_responding", priority=1)
    servers = LprServerService(db)
    site = Site(db_url.replace("+aiosqlite", "").replace("+asyncpg", ""), tmp_path)

    async def view(name: str):  # noqa: ANN202
        return next((v for v in await servers.servers(ADMIN) if v.name == name), None)

    async def states(name: str) -> dict[int, str]:
        v = await view(name)
        return {c.id: c.state for c in v.cameras} if v else {}

    try:
        site.start("alpha")
        await _until(lambda: _eq(states("alpha"), {1: "running", 2: "running"}), what="alpha records both cameras")
        site.start("beta")
        await _until(lambda: _eq(_status(view("beta")), "No LPR cameras configured"), what="beta registers")
        moved = site.cli("worker", "move", "2", "beta")
        assert moved.returncode == 0, moved.stderr
        assert "Camera 2 now runs on LPR server 'beta'" in moved.stdout
        await _until(lambda: _eq(states("beta"), {2: "running"}), what="beta takes camera 2")
        await _until(lambda: _eq(states("alpha"), {1: "running"}), what="alpha lets camera 2 go")

        site.procs["alpha"].send_signal(signal.SIGKILL)  # no goodbye
        site.procs["alpha"].wait()
        await _until(lambda: _eq(_status(view("alpha")), "Service not responding"), timeout=10, what="alpha silent")
        down = await _until(lambda: _events(db, events.SERVER_NOT_RESPONDING), timeout=10, what="beta notices")
        assert [e.source for e in down] == ["alpha"]
        a = Alarm.__table__
        async with db.read() as s:
            assert (await s.execute(sa.select(a.c.name, a.c.type))).all() == [("LPR server down", "server_not_responding")]
        status = json.loads(site.cli("--json", "worker", "status").stdout)["items"]
        assert {x["name"]: x["status"] for x in status} == {"alpha": "Service not responding",
                                                            "beta": "No LPR cameras configured"}
        assert [c["id"] for c in status[0]["cameras"]] == [1]  # still alpha's: an administrator decides

        site.start("alpha")  # back by itself
        await _until(lambda: _events(db, events.SERVER_RESPONDING), timeout=30, what="alpha responds again")
        await _until(lambda: _eq(states("alpha"), {1: "running"}), what="alpha records again")
        assert len(await _events(db, events.SERVER_NOT_RESPONDING)) == 1

        stopped = site.cli("worker", "stop", "beta")
        assert stopped.returncode == 0, stopped.stderr
        assert "LPR server 'beta' stopped." in stopped.stdout
        assert site.procs["beta"].wait(timeout=20) == 0
        assert (await view("beta")).status == "Service not running"
        assert not [e for e in await _events(db, events.SERVER_NOT_RESPONDING) if e.source == "beta"]
        log = site.cli("worker", "log", "-n", "40", name="beta")
        assert log.returncode == 0, log.stderr
        assert "LPR server beta: stop requested" in log.stdout and len(log.stdout.splitlines()) <= 40
        taken = site.cli("worker", "--name", "alpha", "--seconds", "1", name="alpha")
        assert taken.returncode == 2 and "'alpha' is in use by a running worker" in taken.stderr
    finally:
        site.stop_all()
        await db.dispose()


async def _eq(value, expected) -> bool:  # noqa: ANN001
    return (await value) == expected


async def _status(view) -> str | None:  # noqa: ANN001
    v = await view
    return v.status if v else None

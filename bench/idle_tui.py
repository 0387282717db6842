"""What an idle TUI costs while other operators write, on PostgreSQL.

One ``imtui`` (80x24, on its own pty, nobody typing) shows the incident list while 10 simulated
operators write through the real services, each about once a second: half add a comment, a
third edit a project's description, the rest create a project; and the worker raises an alarm
every 2 s.  Measured over ``--seconds`` (30): the TUI process's CPU time from /proc (user +
system, as a percentage of one core) and the bytes it wrote to its terminal.

Every change reaches the TUI as a NOTIFY; what it costs depends on what the TUI does with it (it
used to reload the list and query the alarms for every one).

PostgreSQL: ``IMTUI_BENCH_POSTGRES_URL`` (default the local test server); the script creates
and drops its own database.  The script uses only APIs that exist before and after the change
hub, so ``PYTHONPATH=<older src> bench/idle_tui.py`` measures an older version the same way.

Usage: .venv/bin/python bench/idle_tui.py [--seconds 30] [--operators 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

import tui
from _common import OUT_DIR, isolated_env, write_json

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
COLS, ROWS = 80, 24
SEED_INCIDENTS = 1_000
ALARM_EVERY = 2.0
TARGET_CPU_PERCENT = 5.0  # of one core, for an idle TUI while 10 operators write


def _admin_url() -> str:
    return os.environ.get("IMTUI_BENCH_POSTGRES_URL", DEFAULT_PG)


async def _admin(statement: str) -> None:
    u = make_url(_admin_url())
    conn = await asyncpg.connect(host=u.host, port=u.port or 5432, user=u.username, password=u.password,
                                 database=u.database, timeout=10)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` (fields 14 and 15 of /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _operator(url: str, n: int, stop: asyncio.Event, counts: dict[str, int]) -> None:
    from imtui.engine.incidents import IncidentService
    from imtui.engine.permissions import Actor
    from imtui.storage.db import Database

    db = Database(url)
    svc = IncidentService(db)
    actor = Actor("operator", "operator")
    rnd = random.Random(n)
    type_id = (await svc.types())[0].id
    await asyncio.sleep(rnd.random())  # not all at the same instant
    try:
        while not stop.is_set():
            roll = rnd.random()
            iid = rnd.randint(1, SEED_INCIDENTS)
            if roll < 0.5:
                await svc.add_comment(actor, iid, f"operator {n}: seen on camera {rnd.randint(1, 4)}")
                counts["comments"] += 1
            elif roll < 0.83:
                d = await svc.get(actor, iid)
                try:
                    await svc.update_main(actor, iid, d.version, type_id=d.type_id, status_id=d.status_id,
                                          description=f"{d.description[:200]} (edit {counts['edits']})")
                    counts["edits"] += 1
                except Exception:  # noqa: BLE001 - another operator saved first: a stale refusal
                    counts["stale"] += 1
            else:
                await svc.create(actor, type_id, f"new project from operator {n}")
                counts["creates"] += 1
            try:
                await asyncio.wait_for(stop.wait(), 0.7 + 0.6 * rnd.random())
            except TimeoutError:
                pass
    finally:
        await db.dispose()


async def _worker_alarms(url: str, stop: asyncio.Event, counts: dict[str, int]) -> None:
    from imtui.engine.alarms import raise_for_event
    from imtui.engine.times import utcnow
    from imtui.storage.db import Database

    db = Database(url)
    try:
        while not stop.is_set():
            async with db.write() as s:
                counts["alarms"] += await raise_for_event(s, db, "camera_lost", 1, "Camera 01: connection lost.", utcnow())
            try:
                await asyncio.wait_for(stop.wait(), ALARM_EVERY)
            except TimeoutError:
                pass
    finally:
        await db.dispose()


async def _define_alarm(url: str) -> None:
    from imtui.engine.alarms import AlarmService
    from imtui.engine.permissions import Actor
    from imtui.storage.db import Database

    db = Database(url)
    try:
        await AlarmService(db).define(Actor("admin", "Administrator"), "Gate camera down", "camera_lost",
                                      cameras=[1], priority=1)
    finally:
        await db.dispose()


async def _write_for(url: str, operators: int, seconds: float) -> dict[str, int]:
    stop = asyncio.Event()
    counts = {"comments": 0, "edits": 0, "creates": 0, "stale": 0, "alarms": 0}
    tasks = [asyncio.create_task(_operator(url, n, stop, counts)) for n in range(operators)]
    tasks.append(asyncio.create_task(_worker_alarms(url, stop, counts)))
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*tasks)
    return counts


def measure(seconds: float = 30.0, operators: int = 10) -> dict[str, Any]:
    name = f"imtui_bench_idle_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = make_url(_admin_url()).set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    env = isolated_env(TERM="xterm", TZ="UTC")
    try:
        subprocess.run([sys.executable, "-m", "imtui.cli", "--db", url, "seed", "--incidents", str(SEED_INCIDENTS),
                        "--cameras", "4"], check=True, env=env, stdout=subprocess.DEVNULL)
        asyncio.run(_define_alarm(url))
        tui.COLS, tui.ROWS = COLS, ROWS
        pid, fd = tui._spawn([sys.executable, "-m", "imtui.cli", "--db", url, "--user", "operator"], env)  # noqa: SLF001
        try:
            buf = bytearray()
            deadline = time.monotonic() + 60
            while not tui.has_page_info(bytes(buf)):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no first paint in 60 s: {bytes(buf[-300:])!r}")
                data = tui._read(fd, 0.05)  # noqa: SLF001
                if data is None:
                    raise RuntimeError(f"imtui exited: {bytes(buf[-300:])!r}")
                buf += data
            drained = _drain(fd, 3.0)  # the start-up purge and alarm check settle
            written = 0
            cpu0, t0 = _cpu_seconds(pid), time.monotonic()
            counts: dict[str, int] = {}
            writers = threading.Thread(target=lambda: counts.update(asyncio.run(_write_for(url, operators, seconds))))
            writers.start()
            while writers.is_alive():  # the writers run in this process, beside the TUI's
                written += _drain(fd, 0.2)
            writers.join()
            if not counts:
                raise RuntimeError("the writers failed (see above)")
            cpu1, t1 = _cpu_seconds(pid), time.monotonic()
        finally:
            tui._stop(pid, fd)  # noqa: SLF001
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    elapsed = t1 - t0
    cpu_percent = 100 * (cpu1 - cpu0) / elapsed
    data = {
        "seconds": round(elapsed, 1), "operators": operators, "writes": counts, "warmup_bytes": drained,
        "cpu_percent": round(cpu_percent, 1), "bytes": written, "bytes_per_second": round(written / elapsed),
        "size": f"{COLS}x{ROWS}", "ok": cpu_percent < TARGET_CPU_PERCENT,
    }
    write_json(OUT_DIR / "idle_tui.json", data)
    return data


def _drain(fd: int, seconds: float) -> int:
    """Read (and count) the TUI's output for ``seconds``: a pty nobody reads would block it."""
    n = 0
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        data = tui._read(fd, min(left, 0.2))  # noqa: SLF001
        if data is None:
            raise RuntimeError("imtui exited during the measurement")
        n += len(data)
    return n


def rows(data: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(measure, result, target, status) rows for the README table."""
    w = data["writes"]
    total = sum(v for k, v in w.items() if k != "stale")
    return [
        (f"Idle TUI on PostgreSQL, {data['operators']} operators writing ({total} writes in {data['seconds']:g} s): CPU",
         f"{data['cpu_percent']:.1f} % of a core", f"< {TARGET_CPU_PERCENT:g} %", "ok" if data["ok"] else "MISSED"),
        ("Idle TUI on PostgreSQL, same: bytes to the terminal", f"{data['bytes_per_second']:,} B/s", "—", "—"),
    ]


def format_table(data: dict[str, Any]) -> str:
    return "\n".join(f"{m:<90} {r:>18}  {t:>8}  {s}" for m, r, t, s in rows(data))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=30.0, help="measurement window (30)")
    ap.add_argument("--operators", type=int, default=10, help="simulated operators writing (10)")
    args = ap.parse_args(argv)
    data = measure(args.seconds, args.operators)
    print(format_table(data))
    print(f"(writes: {data['writes']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

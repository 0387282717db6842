"""What the TUI costs an operator: time to the first usable screen, and bytes on the wire.

Operators often sit behind slow SSH links, so bytes per keystroke matter as much as latency:
a cursor move should repaint one or two rows, not the table, and an idle list must write nothing
(the SQLite change poll runs every 2 s and must not repaint when nothing changed).

* start to first paint: own pty (below), from spawning ``imtui`` until the output contains the
  page info "Page 1", which the list writes only after its first page of rows; median of a few
  launches after one warm-up launch (the first one also pays for cold file caches).
* bytes: ``shared/tools/tui_bytes.py`` at 120x40, TERM=xterm-256color.  It ends its startup step
  at the first 400 ms of silence, which the app has *before* its first paint (textual-image probes
  the terminal, then imports and the schema check run), so the script starts with a ``wait:`` step
  long enough for the first paint, checks that paint really landed in it, and only then sends keys.

Usage: .venv/bin/python bench/tui.py [--incidents 10000] [--db PATH] [--launches 5]
"""

from __future__ import annotations

import argparse
import errno
import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path
from typing import Any

from _common import OUT_DIR, TUI_BYTES, default_db, ensure_db, isolated_env, median, sqlite_url, write_json

COLS, ROWS = 120, 40
TERM = "xterm-256color"
PAGE_INFO = b"Page 1"
CURSOR_KEYS = 10
PAGE_KEYS = 3
IDLE_SECONDS = 10.0
TARGET_CURSOR_BYTES = 1_500  # per cursor key, below
TARGET_IDLE_BYTES = 0  # in IDLE_SECONDS
# Same pattern as tui_bytes.py: CSI, OSC, DCS/PM/APC/SOS and other ESC sequences.
_ESC = re.compile(
    rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[P^_X][^\x1b]*\x1b\\|\x1b[ -/]*[0-~]"
)


def tui_command(db: Path) -> list[str]:
    return [sys.executable, "-m", "imtui.cli", "--db", sqlite_url(db), "--user", "operator"]


def tui_env() -> dict[str, str]:
    """Built-in defaults (no personal config), UTC so rendered times do not depend on the host."""
    return isolated_env(TERM=TERM, TZ="UTC")


def has_page_info(data: bytes) -> bool:
    return PAGE_INFO in _ESC.sub(b"", data)


def _spawn(argv: list[str], env: dict[str, str]) -> tuple[int, int]:
    """Fork ``argv`` on a new pty of COLS x ROWS that is its controlling terminal (like ssh -t)."""
    pid, fd = pty.fork()
    if pid == 0:  # child
        try:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
    return pid, fd


def _read(fd: int, timeout: float) -> bytes | None:
    """Bytes available within ``timeout`` (b"" if none); None once the child closed the pty."""
    ready, _, _ = select.select([fd], [], [], timeout)
    if not ready:
        return b""
    try:
        return os.read(fd, 65536) or None
    except OSError as exc:
        if exc.errno == errno.EIO:
            return None
        raise


def _stop(pid: int, fd: int) -> None:
    """Quit with ctrl+q like an operator; signal our child only if it does not exit in time."""
    try:
        os.write(fd, b"\x11")
    except OSError:
        pass
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if os.waitpid(pid, os.WNOHANG)[0]:
            break
        if _read(fd, 0.05) is None:
            os.waitpid(pid, 0)
            break
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    os.close(fd)


def launch_to_first_paint(db: Path, timeout: float = 60.0) -> dict[str, float]:
    """One launch: ms to the first byte and to the screen showing "Page 1"."""
    t0 = time.perf_counter()
    pid, fd = _spawn(tui_command(db), tui_env())
    buf = bytearray()
    first_byte: float | None = None
    painted: float | None = None
    try:
        while painted is None:
            if time.perf_counter() - t0 > timeout:
                raise RuntimeError(f"no {PAGE_INFO.decode()!r} within {timeout:.0f} s; output so far: {bytes(buf[-500:])!r}")
            data = _read(fd, 0.005)
            if data is None:
                raise RuntimeError(f"imtui exited before its first paint; output: {bytes(buf[-500:])!r}")
            if data:
                now = time.perf_counter() - t0
                first_byte = now if first_byte is None else first_byte
                buf += data
                painted = now if has_page_info(bytes(buf)) else None
    finally:
        _stop(pid, fd)
    return {"first_byte_ms": round((first_byte or 0.0) * 1000, 1), "first_paint_ms": round(painted * 1000, 1)}


def measure_startup(db: Path, launches: int) -> dict[str, Any]:
    warmup = launch_to_first_paint(db)
    runs = [launch_to_first_paint(db) for _ in range(launches)]
    return {
        "launches": launches,
        "warmup_launch": warmup,
        "first_paint_ms": round(median([r["first_paint_ms"] for r in runs]), 1),
        "first_byte_ms": round(median([r["first_byte_ms"] for r in runs]), 1),
        "runs": runs,
    }


def measure_bytes(db: Path, first_paint_ms: float) -> dict[str, Any]:
    """Run tui_bytes.py: wait for the first paint, cursor keys, page switches, then idle."""
    if not TUI_BYTES.is_file():
        raise SystemExit(
            f"tui_bytes.py not found at {TUI_BYTES}: the repo must sit next to shared/ "
            "(…/shared/tools/tui_bytes.py)."
        )
    wait_ms = int(max(3000.0, 3 * first_paint_ms))  # generous: a slow first paint must not land on a key
    keys = f"wait:{wait_ms},down*{CURSOR_KEYS},]*{PAGE_KEYS}"
    with tempfile.TemporaryDirectory(prefix="tui-bytes-") as dump:
        cmd = [
            sys.executable, str(TUI_BYTES), "--size", f"{COLS}x{ROWS}", "--env", f"TERM={TERM}", "--keys", keys,
            "--idle", f"{IDLE_SECONDS:g}", "--json", "--dump", dump, "--", *tui_command(db),
        ]
        proc = subprocess.run(cmd, env=tui_env(), capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"tui_bytes.py failed (exit {proc.returncode}): {proc.stderr.strip()}")
        report = json.loads(proc.stdout.strip().splitlines()[-1])
        steps: list[dict[str, Any]] = report["steps"]
        painted = b"".join(p.read_bytes() for p in sorted(Path(dump).glob("0[01]-*.bin")))
    if not has_page_info(painted):
        raise SystemExit(f"the first paint did not arrive within the {wait_ms} ms wait; raise it and rerun")
    down = [s["bytes"] for s in steps if s["step"] == "down"]
    page = [s["bytes"] for s in steps if s["step"] == "]"]
    idle = steps[-1]
    unsettled = [s["step"] for s in steps if not s["settled"]]
    return {
        "size": f"{COLS}x{ROWS}",
        "term": TERM,
        "keys": keys,
        "startup_bytes": steps[0]["bytes"] + steps[1]["bytes"],  # startup step + the wait for the paint
        "cursor_key_bytes": int(median(down)),
        "cursor_key_bytes_each": down,
        "page_switch_bytes": int(median(page)),
        "page_switch_bytes_each": page,
        "page_switch_ms": [s["last_ms"] for s in steps if s["step"] == "]"],
        "idle_seconds": IDLE_SECONDS,
        "idle_bytes": idle["bytes"],
        "unsettled_steps": unsettled,
        "total_bytes": report["total_bytes"],
    }


def measure(incidents: int = 10_000, db_path: Path | None = None, launches: int = 5) -> dict[str, Any]:
    """Seed (or reuse) the file, measure startup and bytes, write ``bench/out/tui.json``."""
    seeded = ensure_db(db_path or default_db(incidents), incidents)
    startup = measure_startup(seeded.path, launches)
    wire = measure_bytes(seeded.path, startup["first_paint_ms"])
    data: dict[str, Any] = {
        "incidents": seeded.incidents,
        "db": str(seeded.path),
        "seed_seconds": seeded.seed_seconds,
        "targets": {"cursor_key_bytes_below": TARGET_CURSOR_BYTES, "idle_bytes_at_most": TARGET_IDLE_BYTES},
        "startup": startup,
        "bytes": wire,
        "ok": {
            "cursor_key": wire["cursor_key_bytes"] < TARGET_CURSOR_BYTES,
            "idle": wire["idle_bytes"] <= TARGET_IDLE_BYTES,
        },
    }
    write_json(OUT_DIR / "tui.json", data)
    return data


def format_table(data: dict[str, Any]) -> str:
    s, b, ok = data["startup"], data["bytes"], data["ok"]
    rows = [
        ("start to first paint", f"{s['first_paint_ms']:,.0f} ms (first byte {s['first_byte_ms']:,.0f} ms)", "-"),
        ("cursor key (down)", f"{b['cursor_key_bytes']:,} bytes", "ok" if ok["cursor_key"] else "MISSED"),
        ("page switch (])", f"{b['page_switch_bytes']:,} bytes", "-"),
        (f"idle {b['idle_seconds']:g} s", f"{b['idle_bytes']:,} bytes", "ok" if ok["idle"] else "MISSED"),
    ]
    w0, w1 = (max(len(r[i]) for r in rows) for i in (0, 1))
    out = [f"TUI at {b['size']}, TERM={b['term']}, {data['incidents']:,} incidents"]
    out += [f"{a.ljust(w0)} | {v.rjust(w1)} | {st}" for a, v, st in rows]
    if b["unsettled_steps"]:
        out.append(f"warning: steps that did not settle: {', '.join(b['unsettled_steps'])}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--incidents", type=int, default=10_000, help="incidents in the file (default 10,000)")
    ap.add_argument("--db", type=Path, help="SQLite file (default bench/out/incidents-N.db; reused when big enough)")
    ap.add_argument("--launches", type=int, default=5, help="timed launches for start to first paint (default 5)")
    args = ap.parse_args(argv)
    print(format_table(measure(args.incidents, args.db, args.launches)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

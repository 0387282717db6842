"""``imtui demo`` as a person starts it, in a real terminal (a PTY, 80x24): the app comes up,
records its synthetic cameras in the same process (the LPR pool's spawned processes included,
which once crashed the recorder when started after Textual took the terminal), and a listed
plate becomes an alarm announced on screen; ctrl+q ends it cleanly.  About 40 s."""

from __future__ import annotations

import fcntl
import os
import pty
import signal
import sqlite3
import struct
import sys
import termios
import time
from pathlib import Path

import pytest

from test_terminal_bytes import _drain, _read_until

pytestmark = pytest.mark.slow


def _alarms(db: Path) -> list[tuple[str, str]]:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return con.execute("SELECT name, object FROM alarm ORDER BY id").fetchall()
        finally:
            con.close()
    except sqlite3.Error:
        return []  # not created or still being seeded


def test_the_demo_records_reads_and_announces_an_alarm(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMTUI_")}
    env.update(TERM="xterm", NO_COLOR="1", TEXTUAL_ANIMATIONS="none", IMTUI_DATA_DIR=str(tmp_path),
               IMTUI_CONFIG=str(tmp_path / "none.toml"))
    pid, fd = pty.fork()
    if pid == 0:  # child: the real command of `make demo`
        os.execvpe(sys.executable, [sys.executable, "-m", "imtui", "--image-mode", "off", "demo"], env)
    out = bytearray()
    try:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        os.kill(pid, signal.SIGWINCH)
        assert _read_until(fd, out, b"2,000 incident projects", 90), out[-2000:]
        deadline = time.monotonic() + 90
        while not _alarms(tmp_path / "demo.db") and time.monotonic() < deadline:
            _drain(fd, out, quiet=0.5, timeout=1.0)  # keep reading: a full PTY would block the app
        alarms = _alarms(tmp_path / "demo.db")
        assert alarms and alarms[0][0] == "Stolen vehicle", (alarms, (tmp_path / "imtui.log").read_text()[-3000:])
        assert _read_until(fd, out, b"New alarm (High): Stolen vehicle", 10), out[-3000:]
        os.write(fd, b"\x11")  # ctrl+q
        end = time.monotonic() + 30
        status = None
        while time.monotonic() < end:
            _drain(fd, out, quiet=0.2, timeout=0.5)
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
        assert status is not None and os.waitstatus_to_exitcode(status) == 0, status
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(fd)
    log = (tmp_path / "imtui.log").read_text()
    assert "Traceback" not in log and "bad value(s) in fds_to_keep" not in log, log[-3000:]
    assert "match lists loaded: 1 lists" in log

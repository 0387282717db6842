"""The real app in a pseudo-terminal: no byte of user text reaches the terminal as a control sequence.

Rich and Textual strip only BEL, BS, VT, FF and CR, so this is the test that proves the
sanitiser is in the path of every place these strings are drawn (list, editor, comments).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time

from conftest import OPERATOR
from imtui.engine.incidents import IncidentService
from imtui.engine.seed import seed_defaults
from imtui.storage.db import Database
from imtui.storage.models import IncidentType

OSC52 = "\x1b]52;c;SGVsbG8gZnJvbSBhbiBpbmNpZGVudA==\x07"
PAYLOAD = (
    f"clipboard {OSC52} title \x1b]0;PWNED\x07 link \x1b]8;;http://x\x1b\\x\x1b]8;;\x1b\\ "
    "csi8 \x9b2J osc8 \x9d0;t\x9c decrqss \x1bP$q\"p\x1b\\ nul \x00 del \x7f bidi \u202e end"
)


async def _world(url: str) -> None:
    db = Database(url)
    try:
        await db.upgrade()
        await seed_defaults(db, cameras=1)
        async with db.write() as session:  # an administrator's property name is shown too
            session.add(IncidentType(name=f"[b]Type {OSC52} \x9b2J", position=-1))
        svc = IncidentService(db)
        iid = await svc.create(OPERATOR, (await svc.types())[0].id, PAYLOAD)
        await svc.add_comment(OPERATOR, iid, PAYLOAD)
    finally:
        await db.dispose()


def _read_until(fd: int, out: bytearray, marker: bytes, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return marker in out
            if not chunk:
                return marker in out
            out.extend(chunk)
            if marker in out:
                return True
    return marker in out


def _drain(fd: int, out: bytearray, quiet: float = 0.6, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    last = time.monotonic()
    while time.monotonic() < end and time.monotonic() - last < quiet:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            out.extend(chunk)
            last = time.monotonic()


def test_no_user_control_sequence_reaches_the_terminal(tmp_path) -> None:  # noqa: ANN001
    url = f"sqlite+aiosqlite:///{tmp_path / 'pty.db'}"
    asyncio.run(_world(url))
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMTUI_")}
    config = tmp_path / "trust.toml"
    config.write_text("[auth]\ntrust_os_user = true\n")  # log in as --user without a password
    env.update(TERM="xterm-256color", TEXTUAL_ANIMATIONS="none", IMTUI_CONFIG=str(config))
    pid, fd = pty.fork()
    if pid == 0:  # child: the real CLI, as an operator would start it
        os.execvpe(sys.executable, [sys.executable, "-m", "imtui", "--db", url, "--user", "operator"], env)
    try:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 160, 0, 0))
        os.kill(pid, signal.SIGWINCH)
        out = bytearray()
        assert _read_until(fd, out, b"Page 1", 30), out[-2000:]
        _drain(fd, out)
        os.write(fd, b"\r")  # open the project: description in the editor, comment in its tab
        assert _read_until(fd, out, b"Main details", 15)
        _drain(fd, out)
        for _ in range(3):  # walk the tabs to Comments so the comment list is drawn too
            os.write(fd, b"\t")
            _drain(fd, out, quiet=0.3)
        os.write(fd, b"\x1b[C\x1b[C")  # right, right on the tab bar
        _drain(fd, out)
        os.write(fd, b"\x11")  # ctrl+q
        _drain(fd, out, quiet=1.0)
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        os.close(fd)

    # none of the sequences reached the terminal ...
    for forbidden in (b"\x1b]52", b"\x1b]0;PWNED", b"\x1b]8;;http://x", b"\x1bP$q", b"\xc2\x9b", b"\xc2\x9d",
                      b"\xc2\x9c", b"\x00", b"\x7f", "\u202e".encode()):
        assert forbidden not in out, forbidden
    # ... while the text was drawn, with visible placeholders where the control characters were
    assert "clipboard ␛]52;c;SGVsbG8".encode() in out
    assert "csi8 �2J".encode() in out
    assert "[b]Type ␛]52".encode() in out  # the type name, in the list and the editor's Select

"""Recognition pool processes end with the process that started them (a worker, or the TUI's
in-process recorder), however it ends.

A pool process waits for work on a pipe whose writing end it holds itself (multiprocessing's
queues pass both ends), so a SIGKILLed worker left its OCR processes (about 560 MB) waiting for
ever.  Each pool process therefore, first thing in its initializer:

- asks Linux for a signal when its parent goes (``prctl(PR_SET_PDEATHSIG)``).  Linux sends it when
  the *thread* that started the child ends, and the pool starts its processes from whichever thread
  submits work (a camera's capture thread, which ends when the camera reconnects), so the signal is
  SIGUSR1 with a handler that exits only if the parent process is really gone (the child has then
  been re-parented: ``os.getppid()`` changed), never SIGKILL;
- watches ``os.getppid()`` once a second in a daemon thread: the fallback where prctl is missing
  (not Linux, a seccomp filter) and for a parent that died before the prctl call.

The parent's pid comes from the pool's creator (``initargs``): a child's first ``getppid()`` may
already be its new parent's.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import threading
import time

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1  # linux/prctl.h
DEATH_SIGNAL = signal.SIGUSR1
WATCH_SECONDS = 1.0


def die_with(parent: int) -> None:
    """Make this (pool) process exit when process ``parent`` ends."""
    if sys.platform.startswith("linux"):
        signal.signal(DEATH_SIGNAL, lambda _sig, _frame: _exit_if_orphan(parent))
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(PR_SET_PDEATHSIG, int(DEATH_SIGNAL), 0, 0, 0) != 0:
                log.warning("prctl(PR_SET_PDEATHSIG) failed (errno %d); watching the parent instead",
                            ctypes.get_errno())
        except (OSError, AttributeError) as exc:
            log.warning("prctl unavailable (%s); watching the parent instead", exc)
    _exit_if_orphan(parent)  # it may have gone before the prctl call
    threading.Thread(target=_watch, args=(parent,), name="parent-watch", daemon=True).start()


def _exit_if_orphan(parent: int) -> None:
    if os.getppid() != parent:
        os._exit(0)  # no clean-up to run: the parent that wanted the results is gone


def _watch(parent: int) -> None:
    while True:
        time.sleep(WATCH_SECONDS)
        _exit_if_orphan(parent)

"""Reading a camera in a thread, watched from outside.

``VideoCapture.read()`` can block for ever when an RTSP or HTTP stream drops mid-frame (OpenCV
#22677), so nothing waits on it: the capture thread stamps a heartbeat for every frame, and the
worker's watchdog judges the camera by that heartbeat alone.  A capture that stalls is abandoned
(its thread is told to stop and exits whenever read() returns; a thread cannot be killed) and a
new one is started after a capped, jittered backoff.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import cv2
import numpy as np

from imtui.engine.video.synthetic import PREFIX as SYNTHETIC
from imtui.engine.video.synthetic import SyntheticCamera

FrameSink = Callable[[np.ndarray, datetime], None]


def open_source(source: str) -> tuple[Any, bool]:
    """(capture, paced): ``paced`` sources must be slowed to their fps (files, synthetic)."""
    if source.startswith(SYNTHETIC):
        return SyntheticCamera.from_source(source), True
    path = source[len("file://"):] if source.startswith("file://") else source
    cap = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
    return cap, not source.lower().startswith(("rtsp://", "http://", "https://"))


class Capture(threading.Thread):
    """One attempt at reading one source; ``failed`` says why it ended, ``heartbeat`` when it last got a frame."""

    def __init__(self, source: str, sink: FrameSink, name: str = "capture") -> None:
        super().__init__(name=name, daemon=True)
        self.source, self.sink = source, sink
        self.heartbeat: float | None = None  # time.monotonic() of the last frame
        self.frames = 0
        self.failed = ""
        self.fps = 0.0
        self.size: tuple[int, int] | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            cap, paced = open_source(self.source)
        except Exception as exc:  # noqa: BLE001 - a bad source must not kill the worker
            self.failed = f"cannot open source: {exc}"
            return
        try:
            if not cap.isOpened():
                self.failed = "cannot open source"
                return
            self.fps = float(cap.get(cv2.CAP_PROP_FPS) or 0) or 4.0
            if self.fps > 120:  # some streams report 1000 or 90000
                self.fps = 25.0
            synthetic = isinstance(cap, SyntheticCamera)
            if synthetic:  # frame 0 is now, so the overlay and truth use wall-clock times
                cap.start = datetime.now(UTC)
            started = time.monotonic()
            while not self.stop.is_set():
                ok, frame = cap.read()
                if self.stop.is_set():
                    return
                if not ok or frame is None:
                    if paced and not synthetic and self.frames:  # a file source loops
                        cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                        ok, frame = cap.read()
                    if not ok or frame is None:
                        self.failed = "stream ended"
                        return
                if synthetic:
                    t = cap.start + timedelta(seconds=self.frames / self.fps)
                else:
                    t = datetime.now(UTC)
                self.frames += 1
                self.heartbeat = time.monotonic()
                self.size = (frame.shape[1], frame.shape[0])
                self.sink(frame, t)
                if paced:
                    delay = started + self.frames / self.fps - time.monotonic()
                    if delay > 0:
                        self.stop.wait(delay)
        except Exception as exc:  # noqa: BLE001
            self.failed = f"capture error: {exc}"
        finally:
            try:
                cap.release()
            except Exception:  # noqa: BLE001
                pass


def backoff(attempt: int, first: float = 1.0, cap: float = 60.0, jitter: float = 0.2) -> float:
    """Seconds to wait before reconnect attempt ``attempt`` (1-based): 1, 2, 4 … capped, ±20 %."""
    import random

    base = min(cap, first * (2 ** max(0, attempt - 1)))
    return base * (1 + random.uniform(-jitter, jitter))

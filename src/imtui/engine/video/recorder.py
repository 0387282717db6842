"""Motion-triggered recording of one camera: frames in, segment files and index updates out.

Motion comes from OpenCV background subtraction (MOG2) on a small grey copy of each frame; the
motion level is the share of the picture that changed.  A recorded period opens at the first frame
whose level reaches the camera's threshold, starting ``pre`` seconds earlier (a ring buffer keeps
those frames), and closes ``post`` seconds after the last moving frame.  Long periods are cut into
segments of ``segment_seconds`` so a crash loses at most one segment and playback of a period in
progress lags by at most that much.

The recorder is plain synchronous code run by the camera's capture thread; everything it tells the
outside world (segment opened/grown/closed, storage trouble) goes through ``outbox`` callbacks so
the worker can write it to the database from its own loop.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import cv2
import numpy as np

from imtui.engine.video.media import MediaStore, SegmentInfo, SegmentWriter, StorageError

ANALYSIS_WIDTH = 160
WARMUP_SECONDS = 1.0
RETRY_STORAGE_SECONDS = 30.0


def motion_threshold(sensitivity: int) -> float:
    """Share of the picture that must change: 5 % at sensitivity 1, 0.05 % at 100 (log scale)."""
    s = min(100, max(1, sensitivity))
    return 0.05 * (0.01 ** ((s - 1) / 99))


class MotionDetector:
    def __init__(self, fps: float) -> None:
        self._mog = cv2.createBackgroundSubtractorMOG2(history=max(50, int(fps * 30)), varThreshold=25,
                                                       detectShadows=False)
        self._kernel = np.ones((3, 3), np.uint8)
        self._first: datetime | None = None

    def level(self, frame: np.ndarray, t: datetime) -> float:
        h, w = frame.shape[:2]
        small = cv2.resize(frame, (ANALYSIS_WIDTH, max(1, h * ANALYSIS_WIDTH // w)), interpolation=cv2.INTER_AREA)
        grey = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), (5, 5), 0)
        if self._first is None:
            self._first = t
        warming = (t - self._first).total_seconds() < WARMUP_SECONDS
        mask = self._mog.apply(grey, learningRate=0.5 if warming else -1)
        if warming:
            return 0.0
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, self._kernel)
        return float(np.count_nonzero(mask)) / mask.size


@dataclass
class StorageTrouble:
    message: str  # empty: storage works again


Outbox = Callable[[SegmentInfo | StorageTrouble], None]


class Recorder:
    def __init__(self, store: MediaStore, camera_id: int, *, sensitivity: int = 50, fps: float = 4.0,
                 pre: float = 2.0, post: float = 3.0, segment_seconds: float = 60.0, outbox: Outbox,
                 live_every: float = 1.0) -> None:
        self.store, self.camera_id, self.outbox = store, camera_id, outbox
        self.threshold = motion_threshold(sensitivity)
        self.fps = fps
        self.pre, self.post, self.segment_seconds = (timedelta(seconds=pre), timedelta(seconds=post),
                                                     timedelta(seconds=segment_seconds))
        self.detector = MotionDetector(fps)
        self.buffer: deque[tuple[np.ndarray, datetime, float]] = deque()
        self.writer: SegmentWriter | None = None
        self.period_start: datetime | None = None
        self.last_motion: datetime | None = None
        self.storage_error = ""
        self._retry_at: datetime | None = None
        self._live_every = timedelta(seconds=live_every)
        self._live_at: datetime | None = None
        self._progress_at: datetime | None = None
        self._lock = threading.Lock()

    # -- frames in --------------------------------------------------------------------------------
    def feed(self, frame: np.ndarray, t: datetime) -> float:
        """Take one frame captured at t; returns its motion level."""
        with self._lock:
            level = self.detector.level(frame, t)
            self._live(frame, t, level)
            if level >= self.threshold:
                self.last_motion = t
            if self.period_start is None:
                self.buffer.append((frame, t, level))
                while self.buffer and t - self.buffer[0][1] > self.pre:
                    self.buffer.popleft()
                if level >= self.threshold:
                    self._open_period(t)
            else:
                if t - self.last_motion > self.post:  # type: ignore[operator]
                    self._close_period()
                    self.buffer.append((frame, t, level))
                else:
                    self._write(frame, t, level)
            return level

    def close(self) -> None:
        """The stream ended or was lost: close the open segment cleanly, keep what was recorded."""
        with self._lock:
            self._close_period()
            self.buffer.clear()

    # -- periods and segments -----------------------------------------------------------------------
    def _open_period(self, t: datetime) -> None:
        frames = list(self.buffer)
        self.buffer.clear()
        self.period_start = frames[0][1] if frames else t
        if len(frames) >= 3 and (frames[-1][1] - frames[0][1]).total_seconds() >= 1:
            # network cameras often report a made-up rate: the file header gets the measured one
            self.fps = (len(frames) - 1) / (frames[-1][1] - frames[0][1]).total_seconds()
        for frame, ft, level in frames:
            self._write(frame, ft, level)

    def _close_period(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.outbox(self.writer.info())
            self.writer = None
        self.period_start = None

    def _write(self, frame: np.ndarray, t: datetime, level: float) -> None:
        if self.writer is not None and t - self.writer.start >= self.segment_seconds:
            self.writer.close()
            self.outbox(self.writer.info())
            self.writer = None
        if self.writer is None:
            if self._retry_at is not None and t < self._retry_at:
                return  # storage is in trouble: drop frames until the next try
            try:
                h, w = frame.shape[:2]
                self.writer = self.store.open_segment(self.camera_id, self.period_start or t, t, (w, h), self.fps)
            except StorageError as exc:
                self._trouble(str(exc), t)
                return
            self._recovered()
            self.outbox(self.writer.info())
            self._progress_at = t
        try:
            self.writer.write(frame, t, level)
        except StorageError as exc:
            self.writer.close()
            self.outbox(self.writer.info())
            self.writer = None
            self._trouble(str(exc), t)
            return
        if t - self._progress_at >= timedelta(seconds=2):  # type: ignore[operator]
            self._progress_at = t
            try:
                self.store.check_space()
            except StorageError as exc:
                self.writer.close()
                self.outbox(self.writer.info())
                self.writer = None
                self._trouble(str(exc), t)
                return
            self.outbox(self.writer.info())

    def _trouble(self, message: str, t: datetime) -> None:
        self._retry_at = t + timedelta(seconds=RETRY_STORAGE_SECONDS)
        if message != self.storage_error:
            self.storage_error = message
            self.outbox(StorageTrouble(message))

    def _recovered(self) -> None:
        self._retry_at = None
        if self.storage_error:
            self.storage_error = ""
            self.outbox(StorageTrouble(""))

    def _live(self, frame: np.ndarray, t: datetime, level: float) -> None:
        if self._live_at is None or t - self._live_at >= self._live_every:
            self._live_at = t
            try:
                self.store.write_live(self.camera_id, frame, t, level)
            except OSError:
                pass  # the live picture is a convenience; recording errors are reported above

"""The media store: recorded video on disk, one segment file per piece of a recorded period.

A segment is an MJPEG AVI (any player opens it, OpenCV seeks in it frame by frame) plus a sidecar
``.idx`` file holding, per frame, the capture time (microseconds since the epoch) and the motion
level.  Frame times come from the recording's own clock, so playback, sequences and reports never
depend on a frame rate guess: the frame shown for 12:00:03 is the one captured at 12:00:03.

Paths in the index table are relative to the store root (``media.dir``), so the store can move.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np

SIDECAR_DTYPE = np.dtype([("us", "<i8"), ("motion", "<f4")])
FOURCC = cv2.VideoWriter_fourcc(*"MJPG")


class StorageError(OSError):
    """The media store cannot take more frames (full, unwritable, missing); the message says which."""


def to_us(t: datetime) -> int:
    return int(t.timestamp() * 1_000_000)


def from_us(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, UTC)


@dataclass
class SegmentInfo:
    """What the index table needs to know about a segment (sent to the DB by the worker)."""

    camera_id: int
    period_start: datetime
    start_time: datetime
    end_time: datetime
    path: str
    frame_count: int
    bytes: int
    width: int
    height: int
    closed: bool


class MediaStore:
    def __init__(self, root: Path, min_free_bytes: int = 200 * 1024 * 1024) -> None:
        self.root = Path(root)
        self.min_free_bytes = min_free_bytes

    def absolute(self, relative: str) -> Path:
        return self.root / relative

    def check_space(self) -> None:
        """Raise StorageError unless the store exists (or can be made) and has room."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            if not os.access(self.root, os.W_OK):
                raise PermissionError(f"cannot write to {self.root}")
            free = shutil.disk_usage(self.root).free
        except OSError as exc:
            raise StorageError(f"Media store {self.root} is not writable ({exc.strerror or exc}); "
                               "check media.dir and its permissions.") from exc
        if free < self.min_free_bytes:
            raise StorageError(f"Media store {self.root} is full: {free // (1024 * 1024)} MB free, "
                               f"{self.min_free_bytes // (1024 * 1024)} MB needed; free space or lower "
                               "camera retention.")

    def open_segment(self, camera_id: int, period_start: datetime, start: datetime, size: tuple[int, int],
                     fps: float) -> SegmentWriter:
        self.check_space()
        relative = f"{camera_id}/{start:%Y%m%d}/{start:%H%M%S}-{secrets.token_hex(3)}.avi"
        return SegmentWriter(self, camera_id, period_start, start, relative, size, fps)

    def delete(self, relative: str) -> int:
        """Remove a segment and its sidecar; returns the bytes freed (0 if already gone)."""
        freed = 0
        for path in (self.absolute(relative), sidecar(self.absolute(relative))):
            try:
                freed += path.stat().st_size
                path.unlink()
            except FileNotFoundError:
                pass
        return freed

    # -- the latest frame of each camera, for the live view (another process reads it) --------------
    def live_path(self, camera_id: int) -> Path:
        return self.root / "live" / f"{camera_id}.jpg"

    def write_live(self, camera_id: int, frame: np.ndarray, t: datetime, motion: float) -> None:
        path = self.live_path(camera_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 70])
        if not ok:
            return
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data.tobytes())
        os.replace(tmp, path)
        stamp = path.with_suffix(".txt")
        tmp = stamp.with_suffix(".tmq")
        tmp.write_text(f"{to_us(t)} {motion:.5f}\n")
        os.replace(tmp, stamp)

    def read_live(self, camera_id: int) -> tuple[np.ndarray, datetime, float] | None:
        """The latest frame the worker saw, its time and motion level; None if there is none."""
        path = self.live_path(camera_id)
        try:
            us, motion = path.with_suffix(".txt").read_text().split()
            data = np.frombuffer(path.read_bytes(), np.uint8)
        except (OSError, ValueError):
            return None
        frame = cv2.imdecode(data, cv2.IMREAD_COLOR)
        if frame is None:
            return None
        return frame, from_us(int(us)), float(motion)


def sidecar(path: Path) -> Path:
    return path.with_suffix(".idx")


class SegmentWriter:
    """Writes frames and their times; ``info()`` describes the segment so far."""

    def __init__(self, store: MediaStore, camera_id: int, period_start: datetime, start: datetime, relative: str,
                 size: tuple[int, int], fps: float) -> None:
        self.store, self.camera_id, self.period_start, self.relative = store, camera_id, period_start, relative
        self.start = self.end = start
        self.size = size
        path = store.absolute(relative)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._index = open(sidecar(path), "wb")  # noqa: SIM115 - closed in close()
        except OSError as exc:
            raise StorageError(f"Media store {store.root} is not writable ({exc.strerror or exc}); "
                               "check media.dir and its permissions.") from exc
        self._video = cv2.VideoWriter(str(path), FOURCC, max(1.0, fps), size)
        if not self._video.isOpened():
            self._index.close()
            raise StorageError(f"Cannot create video file {path}; check media.dir and its permissions.")
        self.frames = 0
        self.closed = False

    def write(self, frame: np.ndarray, t: datetime, motion: float) -> None:
        if (frame.shape[1], frame.shape[0]) != self.size:
            frame = cv2.resize(frame, self.size)
        try:
            self._video.write(frame)
            self._index.write(np.array([(to_us(t), motion)], SIDECAR_DTYPE).tobytes())
            self._index.flush()
        except OSError as exc:
            raise StorageError(f"Writing to the media store failed ({exc.strerror or exc}); "
                               "free space or check the disk.") from exc
        self.frames += 1
        self.end = t

    def bytes(self) -> int:
        try:
            return self.store.absolute(self.relative).stat().st_size
        except OSError:
            return 0

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._video.release()
            try:
                self._index.close()
            except OSError:
                pass

    def info(self) -> SegmentInfo:
        return SegmentInfo(self.camera_id, self.period_start, self.start, self.end, self.relative, self.frames,
                           self.bytes(), self.size[0], self.size[1], self.closed)


@dataclass(frozen=True)
class FrameTimes:
    """A segment's frame times (UTC microseconds) and motion levels, from its sidecar."""

    us: np.ndarray
    motion: np.ndarray

    def index_at(self, t: datetime) -> int:
        """The frame showing time t: the last one captured at or before t (the first if t is earlier)."""
        i = int(np.searchsorted(self.us, to_us(t), side="right")) - 1
        return max(0, min(i, len(self.us) - 1))

    def time(self, index: int) -> datetime:
        return from_us(int(self.us[index]))


class SegmentReader:
    """Random access to a closed segment's frames.  Not thread-safe: one per worker thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.times = read_times(path)
        self._cap: cv2.VideoCapture | None = None
        self._next = -1

    def frame(self, index: int) -> np.ndarray | None:
        if self._cap is None:
            self._cap = cv2.VideoCapture(str(self.path), cv2.CAP_ANY)
            self._next = 0
        if index != self._next:  # sequential reads avoid a seek
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, img = self._cap.read()
        self._next = index + 1 if ok else -1
        return img if ok else None

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


def read_times(path: Path) -> FrameTimes:
    raw = np.fromfile(sidecar(path), SIDECAR_DTYPE) if sidecar(path).exists() else np.zeros(0, SIDECAR_DTYPE)
    return FrameTimes(raw["us"].copy(), raw["motion"].copy())


class ReaderCache:
    """A few open segment readers, least recently used first out (playback steps hit the same file)."""

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._readers: OrderedDict[Path, SegmentReader] = OrderedDict()

    def get(self, path: Path) -> SegmentReader:
        reader = self._readers.pop(path, None) or SegmentReader(path)
        self._readers[path] = reader
        while len(self._readers) > self.size:
            self._readers.popitem(last=False)[1].close()
        return reader

    def forget(self, path: Path) -> None:
        reader = self._readers.pop(path, None)
        if reader:
            reader.close()

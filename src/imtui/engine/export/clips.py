"""One video file per sequence, written with OpenCV (blocking: run in a worker thread).

MP4 uses MPEG-4 part 2 (``mp4v``: the codec OpenCV's wheels can write; H.264 is not in them), AVI
uses Motion JPEG like the media store.  The recorded frame rate varies with motion and load, so a
clip's constant rate is chosen to make its duration the recorded span: frame count and duration
match the sequence; the exact capture time of every frame is in the optional burned-in timestamp
and, first and last, in the manifest.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

import cv2
import numpy as np

from imtui.engine.video.recordings import Clip, read_clip

FORMATS = {"mp4": ("mp4v", ".mp4"), "avi": ("MJPG", ".avi")}


class Cancelled(Exception):
    """The operator cancelled the export."""


@dataclass(frozen=True)
class ClipInfo:
    path: Path
    frames: int
    fps: float
    first: datetime | None
    last: datetime | None


def clip_fps(times: list[datetime]) -> float:
    """Frames per second that give ``len(times)`` frames the duration of the recorded span (the
    span between first and last frame plus one mean frame interval)."""
    n = len(times)
    if n < 2:
        return 1.0
    span = (times[-1] - times[0]).total_seconds()
    return (n - 1) / span if span > 0 else 1.0


def burn_timestamp(frame: np.ndarray, text: str) -> np.ndarray:
    """White text on a black band in the lower-left corner (readable on any picture)."""
    h, w = frame.shape[:2]
    scale = max(0.35, w / 1280)
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    y = h - 6
    cv2.rectangle(frame, (0, y - th - base - 4), (tw + 8, h), (0, 0, 0), -1)
    cv2.putText(frame, text, (4, y - base // 2), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
    return frame


def write_clip(clip: Clip, path: Path, fmt: str, *, burn: bool, tz: tzinfo, cancel: threading.Event,
               tick: Callable[[], None]) -> ClipInfo:
    """Decode the clip's frames and write them to ``path``; ``tick`` after each frame."""
    fourcc, _ext = FORMATS[fmt]
    times = clip.times
    fps = clip_fps(times)
    writer: cv2.VideoWriter | None = None
    written = 0
    first = last = None
    try:
        for frame, at in read_clip(clip):
            if cancel.is_set():
                raise Cancelled()
            if writer is None:
                h, w = frame.shape[:2]
                writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (w, h))
                if not writer.isOpened():
                    raise OSError(f"cannot write {path.name}")
            if burn:
                local = at.astimezone(tz)
                frame = burn_timestamp(frame, local.strftime("%Y-%m-%d %H:%M:%S") + f".{local.microsecond // 1000:03d} "
                                       + (local.tzname() or ""))
            writer.write(frame)
            written += 1
            first = first or at
            last = at
            tick()
    finally:
        if writer is not None:
            writer.release()
    return ClipInfo(path, written, fps, first, last)

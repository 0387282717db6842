"""Recognition on one camera's stream, as the worker's pipeline runs it: which frames are read (at
most "maximum frames processed per second", at most ``IN_FLIGHT`` at once), and the reads put back
in stream order before the tracker turns them into one recognition per vehicle passage.

The worker reads frames in a process pool, so two frames of one camera can finish in either order;
fed as they finished, a late frame's read arrived after its passage had closed and became a second
recognition of the same vehicle (issue 14: 9 of 65 passages stored twice under load).  Each admitted
frame gets a number, and :meth:`CameraStream.result` feeds the tracker strictly in that order.

The pipeline calls :meth:`admit` and :meth:`release` from capture and pool threads (under its lock)
and :meth:`result` on its event loop; :meth:`feed` does the three in a row for a caller that reads
frames itself (tests, tools).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from imtui.lpr.reader import PlateRead, deinterlace
from imtui.lpr.settings import RecognitionSettings, next_slot
from imtui.lpr.tracker import PassageTracker, Recognition

IN_FLIGHT = 2  # frames of one camera being read at once, at most


@dataclass
class CameraStream:
    settings: RecognitionSettings
    in_flight_max: int = IN_FLIGHT
    tracker: PassageTracker = field(init=False)
    next_t: float = float("-inf")
    in_flight: int = 0
    offered: int = 0  # frames admitted for reading
    skipped: int = 0  # frames refused (rate, or the pool busy with this camera)
    processed: int = 0  # results fed to the tracker
    _number: int = 0  # the next admitted frame's number
    _expected: int = 0  # the number of the next result the tracker takes
    _waiting: dict[int, tuple[float, list[PlateRead], np.ndarray | None]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.tracker = PassageTracker(self.settings.partial_seconds)

    def admit(self, t: float) -> int | None:
        """A frame taken at ``t``: its number if it is to be read, None if it is skipped."""
        if t < self.next_t or self.in_flight >= self.in_flight_max:
            self.skipped += 1
            return None
        if self.settings.max_fps > 0:
            self.next_t = next_slot(self.next_t if self.next_t > float("-inf") else t, t, self.settings.max_fps)
        self.in_flight += 1
        self.offered += 1
        self._number += 1
        return self._number - 1

    def release(self) -> None:
        """A frame admitted earlier is no longer being read (done, failed or never submitted)."""
        self.in_flight -= 1

    def result(self, number: int, t: float, reads: list[PlateRead], frame: np.ndarray | None) -> list[Recognition]:
        """The reads of admitted frame ``number`` (``[]`` if reading failed: every admitted number must
        come back once); returns the passages ended or settled by the results now in order."""
        self._waiting[number] = (t, reads, frame)
        out: list[Recognition] = []
        while self._expected in self._waiting:
            out += self._take(*self._waiting.pop(self._expected))
            self._expected += 1
        return out

    def flush(self) -> list[Recognition]:
        """The stream stopped: results still out of order are taken as they are, then every open
        passage ends."""
        out: list[Recognition] = []
        for number in sorted(self._waiting):
            out += self._take(*self._waiting.pop(number))
        self._expected = self._number
        return out + self.tracker.flush()

    def _take(self, t: float, reads: list[PlateRead], frame: np.ndarray | None) -> list[Recognition]:
        self.processed += 1
        if frame is not None and self.settings.interlaced:
            frame = deinterlace(frame)  # the snapshot as the reader saw it, without combing
        return self.tracker.feed(t, reads, frame) + self.tracker.settle(t)  # settle: a vehicle still in the picture

    def feed(self, t: float, frame: np.ndarray, read: Callable[[np.ndarray], list[PlateRead]]) -> list[Recognition]:
        """Admit, read (with ``read``, in this thread) and take the result of one frame."""
        number = self.admit(t)
        if number is None:
            return []
        try:
            reads = read(frame)
        finally:
            self.release()
        return self.result(number, t, reads, frame if reads else None)

"""Recognition on a camera's stream: at most "maximum frames processed per second", each frame
read by the PlateReader, the reads turned into one recognition per passage by the tracker."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from imtui.lpr.countries import CountryModule
from imtui.lpr.reader import PlateReader, deinterlace, modules_for
from imtui.lpr.settings import RecognitionSettings, next_slot
from imtui.lpr.tracker import PassageTracker, Recognition


@dataclass
class StreamRecognizer:
    reader: PlateReader
    settings: RecognitionSettings
    modules: list[CountryModule] = field(default_factory=list)
    processed: int = 0
    skipped: int = 0

    def __post_init__(self) -> None:
        if not self.modules:
            self.modules = modules_for(self.settings.countries)
        self.tracker = PassageTracker(self.settings.partial_seconds)
        self._next = float("-inf")

    def feed(self, t: float, frame: np.ndarray) -> list[Recognition]:
        """Offer one frame taken at ``t`` seconds; returns the passages that ended."""
        if t < self._next:
            self.skipped += 1
            return self.tracker.feed(t, [])
        if self.settings.max_fps > 0:
            self._next = next_slot(self._next if self._next > float("-inf") else t, t, self.settings.max_fps)
        self.processed += 1
        result = self.reader.read(frame, self.settings, self.modules, whole_only=True)
        if self.settings.interlaced:
            frame = deinterlace(frame)  # the snapshot as the reader saw it, without combing
        return self.tracker.feed(t, result.reads, frame)

    def close(self) -> list[Recognition]:
        return self.tracker.flush()

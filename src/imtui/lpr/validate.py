"""Validate configuration and auto-configure (manual 004): both work on a camera's snapshots.

Validation reads every snapshot with the camera's settings and reports "License plates detected:
X of Y", the average confidence and the average processing time in ms, with the details of each
snapshot.  Auto-configure reads the snapshots with wide-open settings and derives the character
heights (the smallest and largest seen, with a margin) and the recognition area (the box around
every plate found, widened) — the caller asks before it overwrites manual changes."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from imtui.lpr.reader import BOX_TO_CHAR, PlateReader, modules_for
from imtui.lpr.settings import RecognitionSettings


@dataclass(frozen=True)
class SnapshotResult:
    name: str
    plates: tuple[str, ...]
    confidence: float  # of the best read, 0 when none
    ms: float


@dataclass(frozen=True)
class Validation:
    snapshots: tuple[SnapshotResult, ...]

    @property
    def detected(self) -> int:
        return sum(1 for s in self.snapshots if s.plates)

    @property
    def average_confidence(self) -> float:
        found = [s.confidence for s in self.snapshots if s.plates]
        return sum(found) / len(found) if found else 0.0

    @property
    def average_ms(self) -> float:
        return sum(s.ms for s in self.snapshots) / len(self.snapshots) if self.snapshots else 0.0

    def summary(self) -> str:
        return (f"License plates detected: {self.detected} of {len(self.snapshots)}\n"
                f"Average confidence: {self.average_confidence * 100:.0f} %\n"
                f"Average processing time: {self.average_ms:.0f} ms")

    def details(self) -> list[str]:
        return [f"{s.name}: {', '.join(s.plates) if s.plates else 'no plate'}"
                + (f" ({s.confidence * 100:.0f} %)" if s.plates else "") + f", {s.ms:.0f} ms"
                for s in self.snapshots]


def validate(reader: PlateReader, snapshots: list[tuple[str, np.ndarray]], settings: RecognitionSettings) -> Validation:
    modules = modules_for(settings.countries)
    out = []
    for name, image in snapshots:
        r = reader.read(image, settings, modules)
        out.append(SnapshotResult(name, tuple(p.text for p in r.reads),
                                  r.reads[0].confidence if r.reads else 0.0, round(r.ms, 1)))
    return Validation(tuple(out))


def auto_configure(reader: PlateReader, snapshots: list[tuple[str, np.ndarray]],
                   settings: RecognitionSettings) -> RecognitionSettings | None:
    """Settings derived from what the snapshots show (None: no plate found, nothing to derive)."""
    wide = replace(settings, area=(), min_char_height=0.5, max_char_height=50.0, max_plates=0,
                   max_seconds_per_frame=0.0)
    modules = modules_for(settings.countries)
    heights: list[float] = []
    x0 = y0 = 1.0
    x1 = y1 = 0.0
    for _name, image in snapshots:
        h, w = image.shape[:2]
        for p in reader.read(image, wide, modules).reads:
            bx, by, bw, bh = p.box
            heights.append(bh * BOX_TO_CHAR / h * 100)
            x0, y0 = min(x0, bx / w), min(y0, by / h)
            x1, y1 = max(x1, (bx + bw) / w), max(y1, (by + bh) / h)
    if not heights:
        return None
    lo, hi = max(0.5, min(heights) * 0.7), min(100.0, max(heights) * 1.4)
    mx, my = (x1 - x0) * 0.25 + 0.05, (y1 - y0) * 0.5 + 0.05  # plates move: leave room around them
    ax0, ay0, ax1, ay1 = max(0.0, x0 - mx), max(0.0, y0 - my), min(1.0, x1 + mx), min(1.0, y1 + my)
    area = (((ax0, ay0), (ax1, ay0), (ax1, ay1), (ax0, ay1)),)
    found = _found(reader, snapshots, wide, modules)
    proposed = settings
    # The detector measures a plate a little differently inside a smaller area (another scale):
    # widen the heights until the proposal reads every snapshot the wide-open settings read.
    for _attempt in range(4):
        proposed = replace(settings, min_char_height=round(lo, 2), max_char_height=round(hi, 2),
                           area=tuple(tuple((round(x, 4), round(y, 4)) for x, y in poly) for poly in area))
        if _found(reader, snapshots, replace(proposed, max_seconds_per_frame=0.0, max_plates=0), modules) >= found:
            return proposed
        lo, hi = max(0.5, lo * 0.7), min(100.0, hi * 1.3)
    return replace(proposed, area=())  # still short: keep the heights, give up the area


def _found(reader: PlateReader, snapshots: list[tuple[str, np.ndarray]], settings: RecognitionSettings,
           modules: list) -> int:  # noqa: ANN001
    return sum(1 for _name, image in snapshots if reader.read(image, settings, modules).reads)

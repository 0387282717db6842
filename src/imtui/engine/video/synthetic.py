"""``synthetic:`` cameras: a road scene with vehicles carrying known plates, rendered frame by frame.

The demo, the tests and the benchmarks need video whose content is known in advance: which plate
is visible when, and when there is motion at all.  Frames are a pure function of the frame index
(and the seed), so a test can ask for the truth at any moment and compare it with what the
recorder or the plate reader made of the frames.

Source strings: ``synthetic:`` or ``synthetic:?size=640x480&fps=4&seed=3&plates=AB123CD,XY987ZT``
``&every=20&cross=6`` (a vehicle enters every ``every`` seconds and takes ``cross`` seconds to cross
the picture).  Without ``plates`` the plates are random in the French SIV format (AB-123-CD, no I, O or U).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import cv2
import numpy as np

PREFIX = "synthetic:"


@dataclass(frozen=True)
class Vehicle:
    plate: str
    enters: float  # seconds from the start of the stream
    leaves: float
    colour: tuple[int, int, int]


@dataclass(frozen=True)
class VisiblePlate:
    plate: str
    box: tuple[int, int, int, int]  # x, y, w, h of the plate in the frame


@dataclass
class SyntheticCamera:
    """A deterministic camera.  ``start`` is the wall-clock time of frame 0 (for the overlay)."""

    width: int = 640
    height: int = 480
    fps: float = 4.0
    seed: int = 1
    every: float = 20.0
    cross: float = 6.0
    plates: list[str] = field(default_factory=list)
    start: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    _index: int = 0

    @classmethod
    def from_source(cls, source: str, **overrides: object) -> SyntheticCamera:
        if not source.startswith(PREFIX):
            raise ValueError(f"not a synthetic source: {source!r}")
        query = parse_qs(urlparse(source[len(PREFIX):]).query or source[len(PREFIX):].lstrip("?"))
        args: dict = {}
        if "size" in query:
            w, h = query["size"][0].lower().split("x")
            args["width"], args["height"] = int(w), int(h)
        for key, cast in (("fps", float), ("seed", int), ("every", float), ("cross", float)):
            if key in query:
                args[key] = cast(query[key][0])
        if "plates" in query:
            args["plates"] = [p.strip().upper() for p in query["plates"][0].split(",") if p.strip()]
        args.update(overrides)
        return cls(**args)

    # -- ground truth -----------------------------------------------------------------------------
    def vehicle(self, n: int) -> Vehicle:
        """The n-th vehicle (0-based): when it is in the picture and what it carries."""
        rng = random.Random(self.seed * 1_000_003 + n)
        if self.plates:
            plate = self.plates[n % len(self.plates)]
        else:
            letters = "ABCDEFGHJKLMNPQRSTVWXYZ"  # as French SIV plates: no I, O or U (look like 1, 0, V)
            plate = f"{rng.choice(letters)}{rng.choice(letters)}-{rng.randint(100, 999)}-" \
                    f"{rng.choice(letters)}{rng.choice(letters)}"
        enters = n * self.every + self.every / 4
        colour = (rng.randint(40, 200), rng.randint(40, 200), rng.randint(40, 200))
        return Vehicle(plate, enters, enters + self.cross, colour)

    def vehicles_at(self, t: float) -> list[Vehicle]:
        n = int(t // self.every)
        return [v for v in (self.vehicle(k) for k in (n - 1, n, n + 1) if k >= 0) if v.enters <= t < v.leaves]

    def moving(self, t: float) -> bool:
        """True while a vehicle is in the picture: the motion truth."""
        return bool(self.vehicles_at(t))

    def motion_periods(self, until: float) -> list[tuple[float, float]]:
        """[(enters, leaves)] of every vehicle before ``until`` seconds."""
        out = []
        n = 0
        while (v := self.vehicle(n)).enters < until:
            out.append((v.enters, min(v.leaves, until)))
            n += 1
        return out

    # -- frames -----------------------------------------------------------------------------------
    def time_of(self, index: int) -> float:
        return index / self.fps

    def frame(self, index: int) -> tuple[np.ndarray, list[VisiblePlate]]:
        """Frame ``index`` (BGR) and the plates visible in it."""
        t = self.time_of(index)
        w, h = self.width, self.height
        img = np.full((h, w, 3), (90, 110, 90), np.uint8)  # verge
        road_top, road_bottom = int(h * 0.35), int(h * 0.85)
        cv2.rectangle(img, (0, road_top), (w, road_bottom), (70, 70, 70), -1)
        for x in range(0, w, max(8, w // 10)):
            cv2.line(img, (x, (road_top + road_bottom) // 2), (x + w // 25, (road_top + road_bottom) // 2),
                     (220, 220, 220), max(1, h // 160))
        visible = []
        car_w, car_h = int(w * 0.34), int(h * 0.30)
        for v in self.vehicles_at(t):
            progress = (t - v.enters) / (v.leaves - v.enters)
            x = int(-car_w + progress * (w + car_w))
            y = road_top + (road_bottom - road_top - car_h) // 2
            cv2.rectangle(img, (x, y), (x + car_w, y + car_h), v.colour, -1)
            pw, ph = int(car_w * 0.62), int(car_h * 0.24)
            px, py = x + (car_w - pw) // 2, y + car_h - ph - int(car_h * 0.08)
            cv2.rectangle(img, (px, py), (px + pw, py + ph), (255, 255, 255), -1)
            cv2.rectangle(img, (px, py), (px + pw, py + ph), (0, 0, 0), max(1, ph // 12))
            scale = ph / 30
            size, _ = cv2.getTextSize(v.plate, cv2.FONT_HERSHEY_SIMPLEX, scale, max(1, int(scale * 2)))
            if size[0] > pw * 0.9:  # long plates: shrink the glyphs to fit the plate
                scale *= pw * 0.9 / size[0]
                size, _ = cv2.getTextSize(v.plate, cv2.FONT_HERSHEY_SIMPLEX, scale, max(1, int(scale * 2)))
            tx, ty = px + (pw - size[0]) // 2, py + (ph + size[1]) // 2
            cv2.putText(img, v.plate, (tx, ty), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), max(1, int(scale * 2)),
                        cv2.LINE_AA)
            if 0 <= px and px + pw <= w:
                visible.append(VisiblePlate(v.plate, (px, py, pw, ph)))
        stamp = (self.start + timedelta(seconds=t)).strftime("%Y-%m-%d %H:%M:%S")
        cv2.putText(img, stamp, (8, max(14, h // 20)), cv2.FONT_HERSHEY_SIMPLEX, max(0.35, h / 960), (255, 255, 255),
                    1, cv2.LINE_AA)
        return img, visible

    # -- a VideoCapture-like face -----------------------------------------------------------------
    def read(self) -> tuple[bool, np.ndarray]:
        img, _ = self.frame(self._index)
        self._index += 1
        return True, img

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return True

    def get(self, prop: int) -> float:
        return {cv2.CAP_PROP_FPS: self.fps, cv2.CAP_PROP_FRAME_WIDTH: float(self.width),
                cv2.CAP_PROP_FRAME_HEIGHT: float(self.height), cv2.CAP_PROP_POS_FRAMES: float(self._index)}.get(prop, 0.0)

    def release(self) -> None:
        self._index = 0

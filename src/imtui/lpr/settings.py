"""Per-camera recognition settings (manual 004, "Recognition settings tab"), with their meaning
in this engine.  Frame fractions and percentages keep them independent of the stream size."""

from __future__ import annotations

from dataclasses import dataclass, field

Point = tuple[float, float]  # (x, y) as fractions of the frame's width and height, 0..1


@dataclass(frozen=True)
class RecognitionSettings:
    # Where plates can be: one or more polygons (a rectangle is a 4-point polygon).  Empty: the
    # whole frame.  Outside it nothing is read, and the detector works on the area's bounding box
    # only, which is also faster.
    area: tuple[tuple[Point, ...], ...] = ()
    # Character height as % of the frame height: text boxes outside [min, max] are not read.
    min_char_height: float = 1.0
    max_char_height: float = 30.0
    # Interlaced video from moving vehicles combs; keep the even lines, then stretch back.
    interlaced: bool = False
    # Stream only: frames per second handed to recognition (0: every frame), on a regular grid
    # (see next_slot).
    max_fps: float = 4.0
    # Time budget per frame in seconds (0: no limit): the detailed second pass is skipped when
    # it would not fit (manual: 0.2 s recommended).
    max_seconds_per_frame: float = 0.2
    # A read at or above this confidence ends the work on the frame (no second pass).
    stop_above: float = 0.9
    # Reads below this confidence are dropped.
    discard_below: float = 0.5
    # How many different plates one frame may give (0: no limit).
    max_plates: int = 1
    # Stream only: reads of one plate within this many seconds are one passage (0..5).
    partial_seconds: float = 1.0
    # Country modules enabled for this camera, best fit wins (codes as in config/country_modules).
    countries: tuple[str, ...] = field(default_factory=lambda: ("GENERIC",))

    def check(self) -> list[str]:
        """Every problem, each naming the setting and the fix (empty: fine)."""
        problems = []
        if not 0 < self.min_char_height < self.max_char_height <= 100:
            problems.append("character height: minimum and maximum must satisfy 0 < min < max <= 100 (% of frame height)")
        if self.max_fps < 0:
            problems.append("maximum frames per second: use 0 (unlimited) or a positive number")
        if self.max_seconds_per_frame < 0:
            problems.append("maximum seconds per frame: use 0 (unlimited) or a positive number")
        if not 0 <= self.discard_below <= self.stop_above <= 1:
            problems.append("confidence: discard below must not exceed stop above; both between 0 and 1")
        if self.max_plates < 0:
            problems.append("maximum plates per frame: use 0 (unlimited) or a positive whole number")
        if not 0 <= self.partial_seconds <= 5:
            problems.append("time span in seconds for avoiding partial recognitions: 0 to 5 seconds")
        for polygon in self.area:
            if len(polygon) < 3 or any(not (0 <= x <= 1 and 0 <= y <= 1) for x, y in polygon):
                problems.append("recognition area: each polygon needs 3 or more points inside the frame (0..1)")
                break
        if not self.countries:
            problems.append("country modules: enable at least one")
        return problems


def next_slot(previous: float, t: float, max_fps: float) -> float:
    """After processing a frame at ``t``: the earliest time of the next one.  Slots follow a grid
    of 1/max_fps from the previous slot, so a 4 fps camera limited to 3 gives 3 frames a second
    (scheduling from ``t`` would give 2); after a gap the grid restarts at ``t``."""
    interval = 1.0 / max_fps
    slot = previous + interval
    return slot - 1e-6 if slot > t else t + interval - 1e-6


PHOTO = RecognitionSettings(max_seconds_per_frame=0.0, max_plates=0, discard_below=0.0)
"""For still photos and validation: no time budget, every plate, nothing discarded."""


def to_dict(settings: RecognitionSettings) -> dict:
    """Plain JSON-ready data (lists for tuples)."""
    from dataclasses import asdict

    data = asdict(settings)
    data["area"] = [[list(p) for p in poly] for poly in settings.area]
    data["countries"] = list(settings.countries)
    return data


def from_dict(data: dict) -> RecognitionSettings:
    """Settings from stored data; unknown keys are ignored and missing ones take their defaults,
    so settings saved by an older or newer version still load.  Raises ValueError on bad values."""
    from dataclasses import fields

    known = {f.name for f in fields(RecognitionSettings)}
    kwargs = {k: v for k, v in data.items() if k in known}
    try:
        if "area" in kwargs:
            kwargs["area"] = tuple(tuple((float(x), float(y)) for x, y in poly) for poly in kwargs["area"])
        if "countries" in kwargs:
            kwargs["countries"] = tuple(str(c).upper() for c in kwargs["countries"])
        for key in ("min_char_height", "max_char_height", "max_fps", "max_seconds_per_frame", "stop_above",
                    "discard_below", "partial_seconds"):
            if key in kwargs:
                kwargs[key] = float(kwargs[key])
        if "max_plates" in kwargs:
            kwargs["max_plates"] = int(kwargs["max_plates"])
        if "interlaced" in kwargs:
            value = kwargs["interlaced"]
            kwargs["interlaced"] = value.strip().lower() in ("true", "1", "yes") if isinstance(value, str) else bool(value)
        settings = RecognitionSettings(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"recognition settings: {exc}") from exc
    problems = settings.check()
    if problems:
        raise ValueError("; ".join(problems))
    return settings

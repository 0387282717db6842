""""Max seconds per frame" is a deadline over both passes of the reader (src/imtui/lpr/reader.py)
and the recogniser's batches (src/imtui/lpr/ocr.py): once a call of the real engine has crossed
it, no further detector or recogniser call starts.  Checked by recording the real engine's ONNX
calls, not by timing bounds; and without a limit, or with one far away, the reads are the same.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import cv2
import numpy as np
import pytest

from imtui.lpr import reader as reader_module
from imtui.lpr.reader import PlateReader
from imtui.lpr.settings import PHOTO
from test_lpr_engine import COUNTRIES, LARGE_BR, SMOKE, TWO_PASS, mods, photo, texts


@dataclass
class Call:
    kind: str  # "det" or "rec"
    start: float
    end: float  # time.perf_counter() values


class Traced:
    """One of the real engine's ONNX sessions, recording each call."""

    def __init__(self, inner: object, kind: str, calls: list[Call]) -> None:
        self.inner, self.kind, self.calls = inner, kind, calls

    def __call__(self, *args: object, **kwargs: object) -> object:
        start = time.perf_counter()
        try:
            return self.inner(*args, **kwargs)  # type: ignore[operator]
        finally:
            self.calls.append(Call(self.kind, start, time.perf_counter()))

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


@pytest.fixture(scope="module")
def reader() -> PlateReader:
    return PlateReader()


@pytest.fixture
def calls(reader: PlateReader, monkeypatch: pytest.MonkeyPatch) -> list[Call]:
    out: list[Call] = []
    engine = reader.ocr
    monkeypatch.setattr(engine._det, "session", Traced(engine._det.session, "det", out))  # noqa: SLF001
    monkeypatch.setattr(engine._rec, "session", Traced(engine._rec.session, "rec", out))  # noqa: SLF001
    return out


def read_traced(reader: PlateReader, calls: list[Call], image: np.ndarray, settings, codes):  # noqa: ANN001, ANN201
    calls.clear()
    started = time.perf_counter()
    result = reader.read(image, settings, mods(codes))
    return result, started, list(calls)


def assert_stopped_after_the_first_crossing(trace: list[Call], deadline: float) -> int | None:
    """Nothing ran after the first call that ended past the deadline, but for one recogniser batch
    reading what a crossing detector call found (the floor); returns that call's index."""
    crossing = next((i for i, c in enumerate(trace) if c.end >= deadline), None)
    if crossing is not None:
        after = [c.kind for c in trace[crossing + 1:]]
        allowed = [[]] + ([["rec"]] if trace[crossing].kind == "det" else [])
        assert after in allowed, [(c.kind, round(c.end - deadline, 3)) for c in trace]
    return crossing


def test_a_tight_limit_stops_after_the_first_call_and_its_reads(reader: PlateReader, calls: list[Call]) -> None:
    image, plate, _box = photo(LARGE_BR)  # read in pass 1: a detector call, then the recogniser
    free, _, trace = read_traced(reader, calls, image, PHOTO, ("BR",))
    assert texts(free)[:1] == [plate] and [c.kind for c in trace[:2]] == ["det", "rec"] and not free.cut
    tight, started, trace = read_traced(reader, calls, image, replace(PHOTO, max_seconds_per_frame=1e-6), ("BR",))
    # it crossed the deadline in its first call: one batch reads what that call found, nothing more
    assert [c.kind for c in trace] == ["det", "rec"]
    assert assert_stopped_after_the_first_crossing(trace, started + 1e-6) == 0
    assert tight.cut and texts(tight)[:1] == [plate] and tight.passes == 1


def test_the_deadline_cuts_pass_two(reader: PlateReader, calls: list[Call], monkeypatch: pytest.MonkeyPatch) -> None:
    # pass 2 starts whatever pass 1 cost (its cost estimate would skip it under a tight budget),
    # and nothing is ever confident enough to stop early: every look around and every tile is read
    monkeypatch.setattr(reader_module, "_pass2_cost", lambda: 0.0)
    image, _plate, _box = photo(TWO_PASS)
    settings = replace(PHOTO, stop_above=1.01)
    free, started, whole = read_traced(reader, calls, image, settings, ("US",))
    assert free.passes == 2 and not free.cut and len(whole) >= 4
    limit = (whole[-1].end - started) / 5
    cut, started, trace = read_traced(reader, calls, image, replace(settings, max_seconds_per_frame=limit), ("US",))
    crossing = assert_stopped_after_the_first_crossing(trace, started + limit)
    assert crossing is not None and cut.cut, "a fifth of the unlimited time should not be enough"
    assert len(trace) < len(whole)


def test_without_a_limit_or_with_a_far_one_the_reads_are_the_same(reader: PlateReader, calls: list[Call]) -> None:
    """The recogniser's batches under a deadline are the ones it makes by itself, so a budget that
    is not reached changes no read (confidence and box included)."""
    for name in [*SMOKE[:4], TWO_PASS]:
        image, plate, _box = photo(name)
        codes = COUNTRIES[name.split("/")[0]]
        free = reader.read(image, PHOTO, mods(codes))
        far = reader.read(image, replace(PHOTO, max_seconds_per_frame=1e6), mods(codes))
        assert far.reads == free.reads and texts(free)[:1] == [plate] and not far.cut, name
    # more crops than one batch: every text box the detector finds in the photos
    engine = reader.ocr
    crops = [engine.crop(image, box) for image in (photo(n)[0] for n in SMOKE)
             for box in engine.detect(image, reader_module.PASS2_SIDE)]
    assert len(crops) > 2 * engine._rec.rec_batch_num  # noqa: SLF001
    calls.clear()
    whole = engine.recognise(crops)
    in_one = len(calls)
    calls.clear()
    batched = engine.recognise(crops, time.perf_counter() + 1e6)
    assert batched == whole and len(calls) == in_one >= 3
    calls.clear()
    first = engine.recognise(crops, time.perf_counter() + 1e-6)  # the deadline passes during the first batch
    assert len(calls) == 1 and sum(r is not None for r in first) == engine._rec.rec_batch_num  # noqa: SLF001
    assert all(r == w for r, w in zip(first, whole, strict=True) if r is not None)

"""The LPR engine end to end (src/imtui/lpr/): real photos read by the real rapidocr engine, every
recognition setting of manual 004 shown to change what is read, the partial-read window and the
per-character vote of the passage tracker, a synthetic camera's stream, validation and auto-configure
output, and ``imtui lpr read``.

The photos are the developer set (../shared/datasets/plates, truth.csv with each plate's box); the
ones used here are read correctly today in one pass (bench/out/lpr-predictions.jsonl).  Frames that
the settings need (combed, two plates side by side, blank) are built from them in the tests.  The
engine is loaded once for the module (about 1 s and a few hundred MB).
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
from dataclasses import replace
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import pytest

from imtui.engine.video.synthetic import SyntheticCamera
from imtui.lpr.countries import CountryModule
from imtui.lpr.reader import FrameResult, PlateRead, PlateReader, deinterlace, modules_for
from imtui.lpr.settings import PHOTO, RecognitionSettings
from imtui.lpr.stream import CameraStream
from imtui.lpr.tracker import PassageTracker, Recognition, vote
from imtui.lpr.validate import auto_configure, validate

ROOT = Path(__file__).resolve().parents[1]
DATASET = Path(os.environ.get("IMTUI_PLATES_DIR", ROOT.parent / "shared" / "datasets" / "plates"))
IMTUI = ROOT / ".venv" / "bin" / "imtui"
COUNTRIES = {"br": ("BR",), "eu": ("SK", "CZ", "EU"), "us": ("US",)}  # as bench/lpr.py, per folder
EU = COUNTRIES["eu"]
Box = tuple[int, int, int, int]

# Read correctly today, in one pass, with a confidence of 0.99 or more (bench/out/lpr-predictions.jsonl).
SMOKE = ("br/NYY1710.jpg", "br/JIT7463.jpg", "br/PUT6858.jpg",
         "eu/test_012.jpg", "eu/test_028.jpg", "eu/test_078.jpg", "eu/test_054.jpg",
         "us/us2.jpg", "us/wts-lg-000124.jpg", "us/wts-lg-000167.jpg")
SMALL_EU = "eu/test_012.jpg"  # RK291AT, 576x432: the plate at about (0.43..0.65, 0.60..0.66) of the frame
LARGE_BR = "br/NYY1710.jpg"  # 1280x720, read in pass 1 at 0.99
TWO_PASS = "us/wts-lg-000078.jpg"  # 5EZP631: a small plate that only the 960 px pass finds


# --------------------------------------------------------------------------------------------------- helpers


@cache
def _truth() -> dict[str, dict[str, str]]:
    with (DATASET / "truth.csv").open() as f:
        return {row["file"]: row for row in csv.DictReader(f)}


def photo(name: str) -> tuple[np.ndarray, str, Box]:
    """(image, plate, truth box) of a dataset photo; skips when the set is not on this machine."""
    if not (DATASET / "truth.csv").is_file():
        pytest.skip(f"the plate photo set is not at {DATASET} (set IMTUI_PLATES_DIR)")
    row = _truth()[name]
    image = cv2.imread(str(DATASET / name))
    assert image is not None, name
    return image, row["plate"], (int(row["x"]), int(row["y"]), int(row["w"]), int(row["h"]))


@cache
def mods(codes: tuple[str, ...]) -> list[CountryModule]:
    return modules_for(codes)


def iou(a: Box, b: Box) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    return inter / (aw * ah + bw * bh - inter)


def overlaps(a: Box, b: Box) -> bool:
    return iou(a, b) > 0


def texts(result: FrameResult) -> list[str]:
    return [r.text for r in result.reads]


def rect(x0: float, y0: float, x1: float, y1: float) -> tuple[tuple[float, float], ...]:
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


def plate_crop(name: str, height: int = 60) -> np.ndarray:
    """The photo's plate with a quarter of its size around it, scaled to ``height`` pixels."""
    image, _plate, (x, y, w, h) = photo(name)
    mx, my = w // 4, h // 4
    crop = image[max(0, y - my):y + h + my, max(0, x - mx):x + w + mx]
    scale = height / crop.shape[0]
    return cv2.resize(crop, (round(crop.shape[1] * scale), height), interpolation=cv2.INTER_CUBIC)


def comb(image: np.ndarray, shift: int) -> np.ndarray:
    """Interlaced video of a moving car: the odd field was taken later, the car had moved on."""
    out = image.copy()
    out[1::2] = np.roll(image[1::2], shift, axis=1)
    return out


@pytest.fixture(scope="module")
def reader() -> PlateReader:
    return PlateReader()  # the process's shared engine (the CLI test in this process uses it too)


# --------------------------------------------------------------------------------------------------- 1. smoke


def test_photos_are_read_with_their_plate_and_box(reader: PlateReader) -> None:
    misses = []
    for name in SMOKE:
        image, plate, box = photo(name)
        result = reader.read(image, PHOTO, mods(COUNTRIES[name.split("/")[0]]))
        top = result.reads[0] if result.reads else None
        if top is None or top.text != plate or iou(top.box, box) < 0.5:
            misses.append((name, plate, box, top))
        assert result.passes >= 1 and result.ms > 0
    assert misses == []
    assert {n.split("/")[0] for n in SMOKE} == {"br", "eu", "us"}


# --------------------------------------------------------------------------------------------------- 2. settings


def test_recognition_area_rectangles_and_polygons(reader: PlateReader) -> None:
    image, plate, box = photo(SMALL_EU)
    h, w = image.shape[:2]
    cx, cy = (box[0] + box[2] / 2) / w, (box[1] + box[3] / 2) / h

    def read(*polygons: tuple[tuple[float, float], ...]) -> FrameResult:
        return reader.read(image, replace(PHOTO, area=polygons), mods(EU))

    def nothing_of_the_plate(result: FrameResult) -> bool:
        return plate not in texts(result) and not any(overlaps(r.box, box) for r in result.reads)

    top_half = read(rect(0, 0, 1, 0.5))
    assert nothing_of_the_plate(top_half), top_half
    assert all(r.box[1] + r.box[3] <= h * 0.5 + 2 for r in top_half.reads)  # nothing read outside the area
    assert nothing_of_the_plate(read(rect(0, 0, 0.4, 1)))
    around = read(rect(0.3, 0.5, 0.8, 0.8))
    assert texts(around)[:1] == [plate] and iou(around.reads[0].box, box) >= 0.5  # boxes in frame pixels
    assert texts(read(rect(0, 0, 0.4, 1), rect(0.3, 0.5, 0.8, 0.8)))[:1] == [plate]  # several polygons: a union
    # polygons, not their bounding boxes: this triangle spans the whole frame but leaves the plate out ...
    upper_left = ((0.0, 0.0), (1.0, 0.0), (0.0, 1.0))
    assert cx + cy > 1.05  # the plate's centre is below the diagonal
    assert nothing_of_the_plate(read(upper_left))
    # ... and this one holds it
    assert texts(read(((0.2, 0.9), (0.9, 0.9), (0.55, 0.3))))[:1] == [plate]


def test_character_height_range(reader: PlateReader) -> None:
    image, plate, box = photo(SMALL_EU)
    plate_pct = box[3] / image.shape[0] * 100  # the plate's height; its characters are smaller
    above = reader.read(image, replace(PHOTO, min_char_height=plate_pct * 1.2, max_char_height=60.0), mods(EU))
    assert above.reads == []
    below = reader.read(image, replace(PHOTO, min_char_height=0.5, max_char_height=plate_pct * 0.3), mods(EU))
    assert below.reads == []
    around = replace(PHOTO, min_char_height=plate_pct * 0.4, max_char_height=plate_pct * 1.2)
    assert around.check() == []
    assert texts(reader.read(image, around, mods(EU)))[:1] == [plate]


def test_compensate_for_interlacing(reader: PlateReader) -> None:
    image, plate, _box = photo(SMALL_EU)
    combed = comb(image, 12)
    assert plate not in texts(reader.read(combed, PHOTO, mods(EU)))  # the comb defeats the reader ...
    assert texts(reader.read(combed, replace(PHOTO, interlaced=True), mods(EU)))[:1] == [plate]  # ... not the field


def test_deinterlace_keeps_the_even_lines() -> None:
    rng = np.random.default_rng(4)
    image = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    out = deinterlace(image)
    assert out.shape == image.shape and out.dtype == image.dtype
    assert np.array_equal(deinterlace(comb(image, 7)), out)  # the odd lines leave no trace
    assert not np.array_equal(deinterlace(image[1:]), deinterlace(image[:-1]))  # (which field is kept matters)
    lines = np.zeros((120, 160), np.uint8)
    lines[0::2] = 200
    assert (deinterlace(lines) == 200).all()
    assert (deinterlace(255 - lines) == 55).all()


class CountingReader(PlateReader):
    """The real engine, counting the frames it is handed."""

    def __init__(self, inner: PlateReader) -> None:
        super().__init__(inner.ocr)
        self.times: list[int] = []

    def read(self, frame, settings=None, modules=None, *, whole_only=False) -> FrameResult:  # noqa: ANN001
        self.times.append(int(frame[0, 0, 0]))
        return super().read(frame, settings, modules, whole_only=whole_only)


def test_maximum_frames_per_second(reader: PlateReader) -> None:
    frames = [np.full((48, 64, 3), i, np.uint8) for i in range(16)]  # 4 s of a 4 fps camera, pixel = index
    for max_fps, expected in ((1.0, [0, 4, 8, 12]), (2.0, [0, 2, 4, 6, 8, 10, 12, 14]), (0.0, list(range(16)))):
        counting = CountingReader(reader)
        settings = RecognitionSettings(max_fps=max_fps, countries=("FR",))
        stream = CameraStream(settings, in_flight_max=1)
        for i, frame in enumerate(frames):
            assert stream.feed(i / 4, frame, lambda f: counting.read(f, settings, whole_only=True).reads) == []
        assert counting.times == expected, max_fps
        assert (stream.processed, stream.skipped) == (len(expected), 16 - len(expected))


def test_maximum_seconds_per_frame(reader: PlateReader) -> None:
    image, plate, _box = photo(TWO_PASS)
    assert max(image.shape[:2]) > 480
    tiny = reader.read(image, replace(PHOTO, max_seconds_per_frame=1e-6), mods(("US",)))
    assert tiny.passes == 1 and plate not in texts(tiny)
    unlimited = reader.read(image, replace(PHOTO, max_seconds_per_frame=0.0), mods(("US",)))
    assert unlimited.passes == 2 and texts(unlimited)[:1] == [plate]


def test_stop_recognition_above(reader: PlateReader) -> None:
    image, plate, _box = photo(LARGE_BR)
    assert max(image.shape[:2]) > 480
    stop_at_any = reader.read(image, replace(PHOTO, stop_above=0.0), mods(("BR",)))
    assert stop_at_any.passes == 1 and texts(stop_at_any)[:1] == [plate]
    never = reader.read(image, replace(PHOTO, stop_above=1.0), mods(("BR",)))
    assert never.passes == 2 and texts(never)[:1] == [plate]


def test_discard_recognitions_below(reader: PlateReader) -> None:
    image, plate, _box = photo("eu/test_054.jpg")  # small: one pass whatever the settings
    kept = reader.read(image, replace(PHOTO, discard_below=0.0), mods(EU))
    assert texts(kept)[:1] == [plate]
    confidence = kept.reads[0].confidence
    assert confidence < 0.9999
    assert reader.read(image, replace(PHOTO, discard_below=0.9999, stop_above=1.0), mods(EU)).reads == []
    at = reader.read(image, replace(PHOTO, discard_below=confidence, stop_above=1.0), mods(EU))
    assert texts(at)[:1] == [plate]  # at the threshold: kept


def test_maximum_plates_per_frame(reader: PlateReader) -> None:
    left, right = plate_crop("eu/test_012.jpg"), plate_crop("eu/test_028.jpg")
    plates = {photo("eu/test_012.jpg")[1], photo("eu/test_028.jpg")[1]}
    gap = 40
    frame = np.full((200, left.shape[1] + right.shape[1] + 3 * gap, 3), 127, np.uint8)
    frame[70:130, gap:gap + left.shape[1]] = left
    frame[70:130, 2 * gap + left.shape[1]:2 * gap + left.shape[1] + right.shape[1]] = right

    def read(n: int) -> FrameResult:
        return reader.read(frame, replace(PHOTO, max_plates=n), mods(EU))

    one, two, unlimited = read(1), read(2), read(0)
    assert len(one.reads) == 1 and texts(one)[0] in plates
    assert len(two.reads) == 2 and set(texts(two)) == plates
    assert set(texts(unlimited)) == plates
    assert not overlaps(two.reads[0].box, two.reads[1].box)


def test_settings_check_names_the_setting() -> None:
    assert RecognitionSettings().check() == []
    assert PHOTO.check() == []
    cases = {
        "character height": [dict(min_char_height=0.0), dict(min_char_height=10.0, max_char_height=5.0),
                             dict(max_char_height=120.0)],
        "frames per second": [dict(max_fps=-1.0)],
        "seconds per frame": [dict(max_seconds_per_frame=-0.1)],
        "discard below": [dict(discard_below=0.95, stop_above=0.9), dict(discard_below=-0.1), dict(stop_above=1.5)],
        "plates per frame": [dict(max_plates=-1)],
        "partial recognitions": [dict(partial_seconds=6.0), dict(partial_seconds=-1.0)],
        "recognition area": [dict(area=(((0.1, 0.1), (0.9, 0.1)),)), dict(area=(rect(0.1, 0.1, 1.2, 0.9),))],
        "country modules": [dict(countries=())],
    }
    for name, variants in cases.items():
        for changes in variants:
            problems = RecognitionSettings(**changes).check()
            assert len(problems) == 1 and name in problems[0], (changes, problems)
    assert len(RecognitionSettings(max_fps=-1, max_plates=-1, countries=()).check()) == 3


# --------------------------------------------------------------------------------------------------- 3. partial reads


def pr(text: str, confidence: float = 0.9, box: Box = (10, 10, 100, 30)) -> PlateRead:
    return PlateRead(text, "SK", confidence, box)


def test_partial_read_within_the_window_gives_the_most_complete_plate() -> None:
    tracker = PassageTracker(partial_seconds=2.0)
    assert tracker.feed(0.0, [pr("RK755A")]) == []
    assert tracker.feed(1.5, [pr("RK755AJ")]) == []
    assert tracker.feed(3.4, []) == []  # delayed: the span (2 s) has not passed since the last read
    done = tracker.feed(3.6, [])
    assert [r.plate for r in done] == ["RK755AJ"]
    assert (done[0].first_seen, done[0].last_seen, done[0].reads) == (0.0, 1.5, 2)
    assert tracker.flush() == []


def test_partial_read_outside_the_window_is_its_own_recognition() -> None:
    tracker = PassageTracker(partial_seconds=0.5)
    assert tracker.feed(0.0, [pr("RK755A")]) == []
    assert tracker.feed(1.5, [pr("RK755AJ")]) == []  # the first passage has missed one frame: not two yet
    first = tracker.feed(1.75, [pr("RK755AJ")])
    assert [r.plate for r in first] == ["RK755A"]
    assert [(r.plate, r.reads) for r in tracker.flush()] == [("RK755AJ", 2)]


def test_identical_reads_a_frame_apart_always_merge() -> None:
    for partial in (0.0, 0.5, 2.0, 5.0):
        tracker = PassageTracker(partial_seconds=partial)
        out = [r for t in (0.0, 0.25, 0.5) for r in tracker.feed(t, [pr("RK755AJ")])] + tracker.flush()
        assert [(r.plate, r.reads) for r in out] == [("RK755AJ", 3)], partial


def test_different_plates_never_merge_and_flush_returns_the_rest() -> None:
    tracker = PassageTracker(partial_seconds=5.0)
    assert tracker.feed(0.0, [pr("RK755AJ", box=(10, 10, 100, 30)), pr("BY649AG", box=(300, 10, 100, 30))]) == []
    assert tracker.feed(0.5, [pr("BY649AG")]) == []
    assert tracker.feed(4.0, [pr("LM633BD")]) == []
    rest = tracker.flush()
    assert [(r.plate, r.reads) for r in rest] == [("RK755AJ", 1), ("BY649AG", 2), ("LM633BD", 1)]  # by first seen
    assert tracker.flush() == []


def test_two_similar_plates_in_one_frame_stay_two_passages() -> None:
    # a fleet on a two-lane road (max plates 2): one edit apart, read in the same frames in either order
    a, b = (10, 10, 100, 30), (300, 10, 100, 30)
    tracker = PassageTracker(partial_seconds=2.0)
    tracker.feed(0.0, [pr("AB123CD", box=a), pr("AB124CD", box=b)])
    tracker.feed(0.25, [pr("AB124CD", box=b), pr("AB123CD", box=a)])
    tracker.feed(0.5, [pr("AB123CD", box=a), pr("AB124CD", box=b)])
    assert sorted((r.plate, r.reads) for r in tracker.flush()) == [("AB123CD", 3), ("AB124CD", 3)]


def test_partial_window_is_clamped_to_the_manual_range() -> None:
    assert PassageTracker(partial_seconds=9.0).partial == 5.0
    assert PassageTracker(partial_seconds=-1.0).partial == 0.0


# --------------------------------------------------------------------------------------------------- 4. voting


def test_vote_outvotes_a_per_frame_misread() -> None:
    reads = [pr("AB123CD", 0.90), pr("AB123CO", 0.97), pr("AB123CD", 0.88), pr("AB123CD", 0.91)]
    plate, confidence, country = vote(reads)
    assert (plate, country) == ("AB123CD", "SK")
    assert confidence == pytest.approx((0.90 + 0.88 + 0.91) / 3, abs=1e-4)  # of the reads that agree


def test_vote_is_per_character() -> None:
    # no single read is right, each position is right in most reads
    plate, _confidence, _country = vote([pr("AB123CO"), pr("A8123CD"), pr("AB12JCD")])
    assert plate == "AB123CD"
    # the most common length wins over a longer misread, the longest on a tie (the most complete)
    assert vote([pr("RK755AJ"), pr("RK755AJ"), pr("RK755AJ1")])[0] == "RK755AJ"
    assert vote([pr("RK755A"), pr("RK755AJ")])[0] == "RK755AJ"


def test_stream_gives_one_voted_recognition_per_passage(reader: PlateReader) -> None:
    camera = SyntheticCamera.from_source("synthetic:?size=640x480&fps=4&every=8&cross=6", seed=1)
    vehicles = [camera.vehicle(0), camera.vehicle(1)]
    expected = [v.plate.replace("-", "") for v in vehicles]
    assert all(not set(p) & set("IOU") for p in expected)  # valid French plates (the FR module rejects I, O, U)
    # no time budget: the votes counted below must not depend on how busy the test machine is
    settings = RecognitionSettings(countries=("FR",), max_fps=2.0, max_seconds_per_frame=0.0)
    stream = CameraStream(settings)
    emitted: list[tuple[float, Recognition]] = []
    end = int((vehicles[-1].leaves + 0.25) * camera.fps)
    for i in range(end + 1):
        image, _visible = camera.frame(i)
        emitted += [(camera.time_of(i), r) for r in stream.feed(camera.time_of(i), image, lambda f: reader.read(
            f, settings, whole_only=True).reads) if not r.open]
    emitted += [(float("inf"), r) for r in stream.flush()]
    assert stream.processed == (end + 2) // 2  # every other frame at 2 of 4 fps
    assert [r.plate for _t, r in emitted] == expected
    first = emitted[0]
    assert first[0] < vehicles[1].enters  # the first passage was returned while the stream ran ...
    assert first[0] > first[1].last_seen + 1.0  # ... once its span had passed
    for (_t, rec), vehicle in zip(emitted, vehicles, strict=True):
        assert vehicle.enters <= rec.first_seen <= rec.last_seen < vehicle.leaves
        assert rec.reads >= 3 and rec.country == "FR" and 0.5 <= rec.confidence <= 1.0
        assert isinstance(rec.snapshot, np.ndarray) and rec.snapshot.size > 0 and rec.snapshot.ndim == 3
        x, y, w, h = rec.box
        assert rec.snapshot.shape[:2] == (h, w)
        assert rec.snapshot.mean() > 128  # a crop of the white plate, not of the road


# --------------------------------------------------------------------------------------------------- 5. validation


VALIDATION = ("eu/test_012.jpg", "eu/test_028.jpg", "eu/test_078.jpg")


def test_validation_summary_and_details(reader: PlateReader) -> None:
    photos = [photo(n) for n in VALIDATION]
    blank = np.full((432, 576, 3), 127, np.uint8)
    snapshots = [(n, p[0]) for n, p in zip(VALIDATION, photos, strict=True)] + [("blank.png", blank)]
    settings = replace(PHOTO, countries=EU)
    result = validate(reader, snapshots, settings)
    lines = result.summary().splitlines()
    assert len(lines) == 3
    assert lines[0] == "License plates detected: 3 of 4"
    assert re.fullmatch(r"Average confidence: \d{1,3} %", lines[1]), lines[1]
    assert re.fullmatch(r"Average processing time: \d+ ms", lines[2]), lines[2]
    confidences = [s.confidence for s in result.snapshots[:3]]
    assert int(lines[1].split()[2]) == round(sum(confidences) / 3 * 100)
    assert int(lines[2].split()[3]) == round(sum(s.ms for s in result.snapshots) / 4)
    assert [s.plates[:1] for s in result.snapshots] == [(p[1],) for p in photos] + [()]
    details = result.details()
    assert len(details) == 4
    for line, (name, _image) in zip(details, snapshots, strict=True):
        assert line.startswith(f"{name}: ")
        assert re.search(r", \d+ ms$", line), line
    for line, p in zip(details, photos, strict=False):
        assert re.fullmatch(rf"\S+: {p[1]}(, \w+)* \(\d{{1,3}} %\), \d+ ms", line), line
    assert re.fullmatch(r"blank\.png: no plate, \d+ ms", details[3]), details[3]


def test_auto_configure_from_snapshots(reader: PlateReader) -> None:
    photos = [photo(n) for n in VALIDATION]
    blank = np.full((432, 576, 3), 127, np.uint8)
    start = replace(PHOTO, countries=EU, min_char_height=40.0, max_char_height=60.0, area=(rect(0, 0, 0.1, 0.1),))
    derived = auto_configure(reader, [(n, p[0]) for n, p in zip(VALIDATION, photos, strict=True)] + [("blank", blank)],
                             start)
    assert derived is not None and derived.check() == []
    assert derived.countries == EU and derived.max_plates == start.max_plates  # the rest is kept
    for image, plate, (x, y, w, h) in photos:
        ih, iw = image.shape[:2]
        pct = h / ih * 100  # the plate's height: its characters are between about 60 % and 90 % of it
        assert derived.min_char_height <= pct * 0.6 and pct * 0.9 <= derived.max_char_height, (plate, pct, derived)
        (polygon,) = derived.area
        xs, ys = [p[0] for p in polygon], [p[1] for p in polygon]
        assert min(xs) <= x / iw and (x + w) / iw <= max(xs) and min(ys) <= y / ih and (y + h) / ih <= max(ys)
        assert texts(reader.read(image, derived, mods(EU)))[:1] == [plate]  # the derived settings read it
    assert auto_configure(reader, [("blank", blank)], start) is None
    assert auto_configure(reader, [], start) is None


# --------------------------------------------------------------------------------------------------- 6. CLI


def _imtui(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMTUI_")}
    env["IMTUI_DATA_DIR"] = str(tmp_path)  # the log file
    env["IMTUI_CONFIG"] = str(tmp_path / "none.toml")
    return subprocess.run([str(IMTUI), *args], capture_output=True, text=True, env=env, timeout=120)


def test_cli_prints_the_plate_first(tmp_path: Path) -> None:
    _image, plate, _box = photo(LARGE_BR)
    done = _imtui("lpr", "read", str(DATASET / LARGE_BR), "--country", "BR", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    first = done.stdout.splitlines()[0].split("\t")
    assert first[:2] == [plate, "BR"] and 0.9 <= float(first[2]) <= 1.0


def test_cli_unknown_country_names_the_known_codes(tmp_path: Path) -> None:
    done = _imtui("lpr", "read", str(DATASET / LARGE_BR), "--country", "XX", tmp_path=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert "XX" in done.stderr
    for code in ("BR", "CZ", "DE", "DK", "EU", "FR", "GB", "GENERIC", "NL", "SK", "US"):
        assert re.search(rf"\b{code}\b", done.stderr), code


@pytest.fixture
def cli(reader: PlateReader, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    """``imtui`` in this process (the engine is already loaded), without its log file handler."""
    from typer.testing import CliRunner

    import imtui.applog
    from imtui.cli import app

    monkeypatch.setattr(imtui.applog, "setup_logging", lambda *a, **k: None)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_cli_jsonl(cli, tmp_path: Path) -> None:  # noqa: ANN001
    names = ("eu/test_012.jpg", "eu/test_028.jpg")
    result = cli("lpr", "read", *(str(DATASET / n) for n in names), "--country", "sk", "--country", "CZ",
                 "--country", "EU", "--jsonl")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["file"] for line in lines] == [str(DATASET / n) for n in names]
    for line, name in zip(lines, names, strict=True):
        assert line["plates"][0] == photo(name)[1]
        assert len(line["confidences"]) == len(line["plates"]) and 0.5 <= line["confidences"][0] <= 1.0
        assert isinstance(line["ms"], float | int) and line["ms"] > 0


def test_cli_unreadable_file(cli, tmp_path: Path) -> None:  # noqa: ANN001
    broken = tmp_path / "broken.jpg"
    broken.write_text("not a picture")
    good = DATASET / "eu/test_054.jpg"
    result = cli("lpr", "read", str(broken), str(good), "--country", "SK", "--country", "CZ", "--country", "EU")
    assert result.exit_code == 1
    assert str(broken) in result.stderr and str(broken) not in result.stdout
    lines = result.stdout.splitlines()  # the other file is still read: path first when there are several
    assert len(lines) == 1 and lines[0].split("\t")[:2] == [str(good), photo("eu/test_054.jpg")[1]], lines


def test_max_fps_follows_a_grid_so_three_of_four_frames_a_second_are_read() -> None:
    from imtui.lpr.settings import next_slot

    slot, read = float("-inf"), []
    for i in range(12):  # three seconds of a 4 fps camera
        t = i * 0.25
        if t < slot:
            continue
        read.append(t)
        slot = next_slot(slot if slot > float("-inf") else t, t, 3.0)
    assert len(read) == 9  # 3 a second (scheduling from each frame's own time gave 2)


def test_the_most_complete_read_wins_when_it_has_support() -> None:
    # the plate half in the picture for three frames, whole for two: the whole plate is kept
    assert vote([pr("RK755A")] * 3 + [pr("RK755AJ")] * 2)[0] == "RK755AJ"
    # one longer read alone is an extra character, not a more complete plate
    assert vote([pr("RK755AJ")] * 3 + [pr("RK755AJ1")])[0] == "RK755AJ"


def test_stored_settings_read_booleans_written_as_text() -> None:
    from imtui.lpr.settings import from_dict

    assert from_dict({"interlaced": "false"}).interlaced is False
    assert from_dict({"interlaced": "true"}).interlaced is True
    assert from_dict({"interlaced": True}).interlaced is True


def test_an_interlaced_stream_keeps_a_snapshot_without_combing(reader: PlateReader) -> None:
    image, plate, _box = photo(SMALL_EU)
    combed = comb(image, 12)
    settings = replace(PHOTO, interlaced=True, max_fps=0.0, countries=tuple(EU))
    stream = CameraStream(settings)

    def read(frame: np.ndarray) -> list[PlateRead]:
        return reader.read(frame, settings, whole_only=True).reads

    recognitions = [r for r in stream.feed(0.0, combed, read) + stream.feed(0.25, combed, read) + stream.flush()
                    if not r.announced]
    assert [r.plate for r in recognitions] == [plate]
    snapshot = recognitions[0].snapshot
    x, y, w, h = recognitions[0].box
    assert snapshot is not None and np.array_equal(snapshot, deinterlace(combed)[y:y + h, x:x + w])


def test_a_settled_plate_is_announced_before_its_passage_ends() -> None:
    """A vehicle waiting at a barrier stays in the picture: its plate, read the same way twice once
    the span against partial reads has passed, is announced while the passage goes on; the end of
    the passage then comes back marked as announced, with the same plate and the whole stay."""
    tracker = PassageTracker(partial_seconds=1.0)
    assert tracker.feed(0.0, [pr("RK755A")]) == [] and tracker.settle(0.0) == []  # partial, too early
    assert tracker.feed(0.5, [pr("RK755AJ")]) == [] and tracker.settle(0.5) == []
    assert tracker.feed(1.0, [pr("RK755AJ")]) == []
    early = tracker.settle(1.0)
    assert [(r.plate, r.open, r.announced, r.first_seen) for r in early] == [("RK755AJ", True, False, 0.0)]
    for t in [1.5 + i / 2 for i in range(59)]:  # it waits 30 s; an odd read does not change the plate announced
        assert tracker.feed(t, [pr("RK755AJ" if t != 2.0 else "RK755A")]) == []
        assert tracker.settle(t) == []  # once
    assert tracker.feed(31.0, [pr("RK755AJ")]) == []
    assert tracker.feed(33.0, []) == []  # one frame missed: a slow machine's next frame may still see it
    done = tracker.feed(33.5, [])
    assert [(r.plate, r.open, r.announced, r.passage, r.reads, r.last_seen) for r in done] == [
        ("RK755AJ", False, True, early[0].passage, 63, 31.0)]
    lone = PassageTracker(partial_seconds=1.0)
    lone.feed(0.0, [pr("BY649AG")])
    assert lone.settle(5.0) == []  # one read is never settled: it may be a misread
    assert [(r.plate, r.announced) for r in lone.flush()] == [("BY649AG", False)]

"""The second detector pass in tiles (src/imtui/lpr/reader.py) and the heap trim (lpr/ocr.py).

Why these exist: the detector's memory follows its input's size, so pass 2 looks around pass 1's
unread text first, then tile by tile, and stops as soon as a confident plate is in (that is what
brought the bench's p90 under 400 ms); a plate lying on a tile's cut must still be read whole from the neighbouring tile; and
the process must give back the heap that the detector's changing buffer sizes leave behind (it
grew past 700 MB over the bench's photos before).  Real engine, real photos, real glibc.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from imtui.lpr import ocr as ocr_module
from imtui.lpr import reader as reader_module
from imtui.lpr.reader import PlateReader, _tiles
from imtui.lpr.settings import PHOTO
from test_lpr_engine import TWO_PASS, mods, photo, texts


@pytest.fixture(scope="module")
def reader() -> PlateReader:
    return PlateReader()


@pytest.mark.parametrize(("h", "w", "scale"), [(720, 1280, 1.0), (1280, 1280, 1.0), (1080, 1920, 2 / 3),
                                               (600, 800, 1.0), (3000, 400, 0.4)])
def test_tiles_cover_the_frame_within_the_budget_and_overlap(h: int, w: int, scale: float) -> None:
    tiles = _tiles(h, w, scale)
    covered = np.zeros((h, w), bool)
    for x0, y0, x1, y1 in tiles:
        assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
        if len(tiles) > 1:
            assert (x1 - x0) * (y1 - y0) * scale * scale <= reader_module.TILE_PIXELS * 1.01
        covered[y0:y1, x0:x1] = True
    assert covered.all()
    if h * w * scale * scale <= reader_module.TILE_PIXELS:
        assert tiles == [(0, 0, w, h)]
    else:
        assert len(tiles) > 1
    # neighbours share at least TILE_OVERLAP detector pixels, so text narrower than that is whole in one
    for i, a in enumerate(tiles):
        for b in tiles[i + 1:]:
            if a[1] == b[1] and a[3] == b[3] and a[0] != b[0]:  # same row
                left, right = sorted((a, b))
                if right[0] < left[2]:
                    assert (left[2] - right[0]) * scale >= reader_module.TILE_OVERLAP - 1
    centre = min(tiles, key=lambda t: abs(t[0] + t[2] - w) + abs(t[1] + t[3] - h))
    assert tiles[0] == centre


class CountingOcr:
    """The real engine; counts detector calls."""

    def __init__(self, inner: ocr_module.Ocr) -> None:
        self.inner, self.detections = inner, 0

    def detect(self, image: np.ndarray, max_side: int) -> list[ocr_module.TextBox]:
        self.detections += 1
        return self.inner.detect(image, max_side)

    def crop(self, image: np.ndarray, box: ocr_module.TextBox) -> np.ndarray:
        return self.inner.crop(image, box)

    def recognise(self, crops: list[np.ndarray], deadline: float | None = None) -> list[tuple[str, float] | None]:
        return self.inner.recognise(crops, deadline)


def test_pass_two_looks_around_pass_one_text_first_and_stops_when_confident(reader: PlateReader) -> None:
    image, plate, _box = photo(TWO_PASS)
    scale = min(1.0, reader_module.PASS2_SIDE / max(image.shape[:2]))
    n_tiles = len(_tiles(*image.shape[:2], scale))
    assert n_tiles > 1, "the photo should need tiles at pass 2's scale"
    counting = CountingOcr(reader.ocr)
    found = PlateReader(counting).read(image, PHOTO, mods(("US",)))  # type: ignore[arg-type]
    assert found.passes == 2 and texts(found)[:1] == [plate]
    stopped = counting.detections
    counting.detections = 0
    never = PlateReader(counting).read(image, replace(PHOTO, stop_above=1.01), mods(("US",)))  # type: ignore[arg-type]
    assert counting.detections >= 1 + n_tiles  # nothing is ever confident enough: every tile is looked at
    # pass 1 saw the plate's text but did not read it confidently; the look around it at pass 2's
    # scale read it, and no tile was needed
    assert stopped == 2
    assert plate in texts(never)


def test_a_plate_on_a_tile_cut_is_read_from_the_neighbouring_tile(reader: PlateReader,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader_module, "AROUND", 0)  # tiles only
    image, plate, (x, y, w, h) = photo(TWO_PASS)
    # Widen the frame with grey on the right until the plate's centre falls on the first tile's inner
    # edge (tiles at scale 1 here: the frame stays below pass 2's side only if we keep it; check below).
    height, width = image.shape[:2]
    side = reader_module.PASS2_SIDE
    for extra in range(0, side - width + 1, 8):
        tiles = sorted(_tiles(height, width + extra, min(1.0, side / max(height, width + extra))))
        cut = tiles[0][2]  # the left tile's right edge
        if len(tiles) > 1 and x < cut < x + w and abs(cut - (x + w / 2)) < w / 4:
            break
    else:
        pytest.skip("no width puts this plate on a tile cut")
    wide = np.full((height, width + extra, 3), 127, np.uint8)
    wide[:, :width] = image
    result = reader.read(wide, PHOTO, mods(("US",)))
    assert result.passes == 2
    assert texts(result)[:1] == [plate]


def _resident() -> int:
    with open("/proc/self/statm", "rb") as f:
        return int(f.read().split()[1]) * 4096


def test_trim_heap_gives_freed_heap_back_only_above_the_line(monkeypatch: pytest.MonkeyPatch) -> None:
    if ocr_module._libc is None:  # noqa: SLF001
        pytest.skip("not glibc")
    blocks = [bytearray(4096) for _ in range(40_000)]  # ~160 MB of heap
    keep = blocks[-1]
    del blocks  # freed, but the heap keeps the pages (the last block pins its top)
    before = _resident()
    monkeypatch.setattr(ocr_module, "TRIM_ABOVE_MB", 10**6)
    ocr_module.trim_heap()
    assert _resident() > before - 40 * 2**20  # under the line: left alone
    monkeypatch.setattr(ocr_module, "TRIM_ABOVE_MB", 0)
    ocr_module.trim_heap()
    assert _resident() < before - 100 * 2**20, (before, _resident())
    assert len(keep) == 4096

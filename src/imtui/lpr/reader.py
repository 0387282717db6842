"""Reading plates in one frame: cheap detection first, full detail only where needed.

Pass 1 runs the text detector on the frame (or the recognition area) scaled to 480 px; the
recogniser reads tight crops cut from the full-resolution frame.  Only when no plate-like read
reaches "stop recognition above" does pass 2 run, within the frame's time budget, with the
detector at 1280 px: first around the text pass 1 saw but did not read as a confident plate,
then over the whole frame in tiles, centre first, stopping as soon as a confident plate is in.
Both passes' candidates are pooled.  "Max seconds per frame" is a deadline over both passes: no
detector call and no further recogniser batch starts after it (a call already running cannot be
cut), and the frame gives what was read by then.  The floor is one detector call and one batch of
the boxes it found: a frame cut before reading anything would have cost its detection for nothing
(under load every frame was cut so, and a busy worker read no plate at all).  In a stream, text touching the picture's border is not read
(a plate half in the picture reads as a wrong plate).  Each candidate is fitted to the camera's
country modules (look-alike characters corrected only where a format fixes the class) and ranked
by the recogniser's confidence, with a bonus for fitting a national format and for plate-like
lengths.  Measured on the developer set in bench/lpr.py; the README says what each choice bought.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from imtui.lpr.candidates import Candidate, join_side_by_side, normalise
from imtui.lpr.countries import CountryModule, fit, load_modules
from imtui.lpr.ocr import Ocr, TextBox, shared, trim_heap
from imtui.lpr.settings import RecognitionSettings

PASS1_SIDE = 480
PASS2_SIDE = 1280
AROUND = 4  # pass 2 first looks again, at its scale, around this many of pass 1's unread boxes
TILE_PIXELS = 0.5e6  # most detector input per call: peak memory follows it, and smaller tiles stop sooner
TILE_OVERLAP = 256  # px at the detector's scale, so a plate on a cut is whole in one tile
FORMAT_BONUS = 0.10  # fits a national format exactly (lpr-fast: +0.1 for br masks)
LENGTH_BONUS = 0.05  # 6 or 7 characters, the commonest plate lengths
MIXED_BONUS = 0.30  # letters and digits: words on signs and trucks (EXIT, PENSKE) and dates (201404) lose
BOX_TO_CHAR = 0.72  # text box height (detector unclip 1.6) -> character height, measured on the set
MIN_READABLE_PX = 6  # characters lower than this do not read (lpr-fast: boxes under 8 px)


@dataclass(frozen=True)
class PlateRead:
    text: str  # corrected plate, A-Z0-9
    country: str  # the fitting module's code
    confidence: float  # the recogniser's, 0..1
    box: tuple[int, int, int, int]  # x, y, w, h in the frame's pixels
    raw: str = ""  # what the recogniser said, normalised
    format: str = ""  # the fitted mask ("" for free-length modules)
    rank: float = 0.0  # confidence plus bonuses: the order of reads


@dataclass(frozen=True)
class FrameResult:
    reads: list[PlateRead]
    ms: float
    passes: int
    cut: bool = False  # the time budget ran out before the reader was done


def modules_for(codes: tuple[str, ...]) -> list[CountryModule]:
    available = load_modules()
    unknown = [c for c in codes if c not in available]
    if unknown:
        raise ValueError(f"country modules {', '.join(unknown)} are not known; use {', '.join(sorted(available))}")
    return [available[c] for c in codes]


def _area_mask(shape: tuple[int, int], settings: RecognitionSettings) -> tuple[np.ndarray | None, tuple[int, int, int, int]]:
    """The recognition area as a mask and its bounding box (x, y, w, h) in pixels."""
    h, w = shape
    if not settings.area:
        return None, (0, 0, w, h)
    mask = np.zeros((h, w), np.uint8)
    for polygon in settings.area:
        pts = np.array([[round(x * (w - 1)), round(y * (h - 1))] for x, y in polygon], np.int32)
        cv2.fillPoly(mask, [pts], 255)
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return mask, (0, 0, 0, 0)
    x0, y0 = int(xs.min()), int(ys.min())
    return mask, (x0, y0, int(xs.max()) - x0 + 1, int(ys.max()) - y0 + 1)


def deinterlace(frame: np.ndarray) -> np.ndarray:
    """Keep the even lines (one field) and stretch back to full height: no combing on moving cars."""
    field = frame[0::2]
    return cv2.resize(field, (frame.shape[1], frame.shape[0]), interpolation=cv2.INTER_LINEAR)


class PlateReader:
    def __init__(self, ocr: Ocr | None = None) -> None:
        self.ocr = ocr or shared()

    def read(self, frame: np.ndarray, settings: RecognitionSettings | None = None,
             modules: list[CountryModule] | None = None, *, whole_only: bool = False) -> FrameResult:
        """Plates in one frame, best first.  ``whole_only`` (streams) ignores text touching the
        picture's border: a plate entering or leaving reads as a shorter, wrong plate, and the
        vehicle's other frames show it whole.  A still photo keeps them (its plate may touch the edge)."""
        settings = settings or RecognitionSettings()
        modules = modules if modules is not None else modules_for(settings.countries)
        started = time.perf_counter()
        deadline = started + settings.max_seconds_per_frame if settings.max_seconds_per_frame else None
        if frame.ndim == 2:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        if settings.interlaced:
            frame = deinterlace(frame)
        mask, (ax, ay, aw, ah) = _area_mask(frame.shape[:2], settings)
        if aw == 0 or ah == 0:
            return FrameResult([], 0.0, 0)
        work = frame[ay:ay + ah, ax:ax + aw]
        if mask is not None:
            work = work.copy()
            work[mask[ay:ay + ah, ax:ax + aw] == 0] = 127  # grey: nothing to read outside the area
        frame_h = frame.shape[0]

        settled: list[TextBox] = []  # boxes read confidently as something other than a plate
        looked = self._filtered(self.ocr.detect(work, PASS1_SIDE), settled, frame_h, work.shape[:2], settings,
                                whole_only)
        pooled = self._read_boxes(work, looked, settled, frame_h, settings, modules, (ax, ay), whole_only, deadline)
        passes = 1
        if not _past(deadline) and self._pass2_needed(pooled, work, settings, started):
            passes = 2
            unread = [b for b in looked if not any(b is s for s in settled)]
            for boxes in self._detect_pass2(work, _around(unread, work.shape[:2]), deadline):
                pooled += self._read_boxes(work, boxes, settled, frame_h, settings, modules, (ax, ay), whole_only,
                                           deadline)
                if _settled(pooled, settings):
                    break  # the rest would cost detector time for nothing
        reads = _choose(pooled, settings)
        trim_heap()
        return FrameResult(reads, (time.perf_counter() - started) * 1000, passes, _past(deadline))

    @staticmethod
    def _pass2_needed(pooled: list[PlateRead], work: np.ndarray, settings: RecognitionSettings,
                      started: float) -> bool:
        if _settled(pooled, settings):
            return False
        if max(work.shape[:2]) <= PASS1_SIDE:
            return False  # pass 1 already saw every pixel
        elapsed = time.perf_counter() - started
        # pass 2 must fit in the frame's time budget
        return not (settings.max_seconds_per_frame and elapsed * (1 + _pass2_cost()) > settings.max_seconds_per_frame)

    def _read_boxes(self, work: np.ndarray, boxes: list[TextBox], settled: list[TextBox], frame_h: int,
                    settings: RecognitionSettings, modules: list[CountryModule], offset: tuple[int, int],
                    whole_only: bool, deadline: float | None) -> list[PlateRead]:
        """Read the boxes that can hold characters of the configured heights.  Pass 2 re-reads
        what pass 1 found, since its tighter box often reads better (skipping every box inside one
        of pass 1's cost .05 of US accuracy), except inside boxes ``settled`` as confidently
        not a plate (a date, a shop sign): the recogniser would say the same again."""
        boxes = self._filtered(boxes, settled, frame_h, work.shape[:2], settings, whole_only)
        if not boxes:
            return []
        crops = [self.ocr.crop(work, b) for b in boxes]
        texts = self.ocr.recognise(crops, deadline)
        reads = [(b, ts[0], ts[1]) for b, ts in zip(boxes, texts, strict=True) if ts is not None]
        for b, t, score in reads:
            text = normalise(t)
            if score >= settings.stop_above and not (any(c.isalpha() for c in text) and any(c.isdigit() for c in text)):
                settled.append(b)
        out = []
        for cand in join_side_by_side(reads):
            read = _fitted(cand, modules, offset)
            if read is not None:
                out.append(read)
        return out

    @staticmethod
    def _filtered(boxes: list[TextBox], settled: list[TextBox], frame_h: int, shape: tuple[int, int],
                  settings: RecognitionSettings, whole_only: bool) -> list[TextBox]:
        lo = max(MIN_READABLE_PX, settings.min_char_height / 100 * frame_h)
        hi = settings.max_char_height / 100 * frame_h
        h, w = shape
        return [b for b in boxes if lo <= b.height * BOX_TO_CHAR <= hi and b.height * 0.8 <= b.width <= b.height * 15
                and not (whole_only and _cut(b, w, h)) and not any(_inside(b.rect, s.rect) for s in settled)]

    def _detect_pass2(self, work: np.ndarray, around: list[tuple[int, int, int, int]],
                      deadline: float | None) -> Iterator[list[TextBox]]:
        """Pass 2's detector at PASS2_SIDE's scale, one batch of boxes at a time so the reader can
        stop as soon as a confident plate is in: first around pass 1's unread boxes (``around``,
        x, y, w, h in ``work``'s pixels: pass 1 saw text there, often a plate whose box missed a
        character), then the whole frame tile by tile, centre first, in tiles of at most
        TILE_PIXELS (the detector's memory follows its input's size).  Tiles overlap by
        TILE_OVERLAP px at the detector's scale (wider text is big enough for pass 1); a box cut
        by a tile's inner edge is dropped there, as it is whole in the neighbouring tile.  Nothing
        more once the ``deadline`` has passed."""
        h, w = work.shape[:2]
        scale = min(1.0, PASS2_SIDE / max(h, w))
        for x, y, rw, rh in around:
            if _past(deadline):
                return
            found = self.ocr.detect(work[y:y + rh, x:x + rw], max(32, round(max(rw, rh) * scale)))
            yield [TextBox(b.points + np.array([x, y], dtype=np.float32), b.score) for b in found]
        for x0, y0, x1, y1 in _tiles(h, w, scale):
            if _past(deadline):
                return
            boxes: list[TextBox] = []
            piece = work[y0:y1, x0:x1]
            for b in self.ocr.detect(piece, max(1, round(max(y1 - y0, x1 - x0) * scale))):
                bx, by, bw, bh = b.rect
                if ((x0 > 0 and bx <= 2) or (y0 > 0 and by <= 2) or (x1 < w and bx + bw >= x1 - x0 - 3)
                        or (y1 < h and by + bh >= y1 - y0 - 3)):
                    continue
                boxes.append(TextBox(b.points + np.array([x0, y0], dtype=np.float32), b.score))
            yield boxes


def _around(boxes: list[TextBox], shape: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """Regions around pass 1's unsettled boxes (x, y, w, h): pass 1 saw text there but did not
    read a confident plate; at full scale the detector often finds the whole plate (a box that
    missed an end character) for a fraction of the whole frame's cost."""
    h, w = shape
    out: list[list[int]] = []
    for b in sorted(boxes, key=lambda b: b.score, reverse=True)[:AROUND]:
        x, y, bw, bh = b.rect
        padx, pady = bw * 0.5 + bh, bh * 1.0
        r = [max(0, int(x - padx)), max(0, int(y - pady)), min(w, int(x + bw + padx)), min(h, int(y + bh + pady))]
        for o in out:
            if r[0] <= o[2] and o[0] <= r[2] and r[1] <= o[3] and o[1] <= r[3]:
                o[:] = [min(r[0], o[0]), min(r[1], o[1]), max(r[2], o[2]), max(r[3], o[3])]
                break
        else:
            out.append(r)
    return [(x0, y0, x1 - x0, y1 - y0) for x0, y0, x1, y1 in out]


def _tiles(h: int, w: int, scale: float) -> list[tuple[int, int, int, int]]:
    """The grid of overlapping tiles (x0, y0, x1, y1 in ``work``'s pixels) with the fewest
    detector pixels whose tiles each stay within TILE_PIXELS at the detector's scale."""
    if h * w * scale * scale <= TILE_PIXELS:
        return [(0, 0, w, h)]
    overlap = TILE_OVERLAP / scale
    best: tuple[float, int, int] | None = None
    for nx in range(1, 6):
        for ny in range(1, 6):
            tw, th = (w + (nx - 1) * overlap) / nx, (h + (ny - 1) * overlap) / ny
            if tw * th * scale * scale <= TILE_PIXELS and (best is None or nx * ny * tw * th < best[0]):
                best = (nx * ny * tw * th, nx, ny)
    _, nx, ny = best or (0.0, 5, 5)
    tw, th = min(w, round((w + (nx - 1) * overlap) / nx)), min(h, round((h + (ny - 1) * overlap) / ny))
    xs = [round(i * (w - tw) / (nx - 1)) if nx > 1 else 0 for i in range(nx)]
    ys = [round(j * (h - th) / (ny - 1)) if ny > 1 else 0 for j in range(ny)]
    tiles = [(x, y, x + tw, y + th) for y in ys for x in xs]
    return sorted(tiles, key=lambda t: abs(t[0] + t[2] - w) + abs(t[1] + t[3] - h))  # centre first


def _past(deadline: float | None) -> bool:
    return deadline is not None and time.perf_counter() >= deadline


def _pass2_cost() -> float:
    """Pass 2's time as a multiple of pass 1's: the detector's cost follows its input's pixels."""
    return (PASS2_SIDE / PASS1_SIDE) ** 2 * 1.2  # tiles overlap


def _cut(box: TextBox, w: int, h: int) -> bool:
    """A text box touching the picture's (or the recognition area's) border: a plate entering or
    leaving the frame, whose visible part would be read as a shorter, wrong plate."""
    x, y, bw, bh = box.rect
    return x <= 1 or y <= 1 or x + bw >= w - 2 or y + bh >= h - 2


def _fitted(cand: Candidate, modules: list[CountryModule], offset: tuple[int, int]) -> PlateRead | None:
    if not cand.text:
        return None
    f = fit(cand.text, modules)
    if f is None:
        return None
    mixed = any(c.isalpha() for c in f.text) and any(c.isdigit() for c in f.text)
    rank = (cand.score + (FORMAT_BONUS if f.exact_format else 0.0) + (LENGTH_BONUS if len(f.text) in (6, 7) else 0.0)
            + (MIXED_BONUS if mixed else 0.0))
    x, y, w, h = cand.box.rect
    return PlateRead(f.text, f.country, round(cand.score, 4), (x + offset[0], y + offset[1], w, h), cand.text,
                     f.format, round(rank, 4))


def _settled(pooled: list[PlateRead], settings: RecognitionSettings) -> bool:
    """A confident, plate-like read is in: a confident "EXIT" on a sign does not count."""
    return any(r.confidence >= settings.stop_above and _plate_like(r) for r in pooled)


def _plate_like(r: PlateRead) -> bool:
    return bool(r.format and r.format != "*") or (any(c.isalpha() for c in r.text) and any(c.isdigit() for c in r.text))


def _inside(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    """Box ``a`` lies within box ``b``, give or take a quarter of b's height on each side."""
    slack = 0.25 * b[3]
    return (a[0] >= b[0] - slack and a[1] >= b[1] - slack and a[0] + a[2] <= b[0] + b[2] + slack
            and a[1] + a[3] <= b[1] + b[3] + slack)


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over the smaller box (a joined pair contains its parts)."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = min(ax + aw, bx + bw) - max(ax, bx)
    ih = min(ay + ah, by + bh) - max(ay, by)
    if iw <= 0 or ih <= 0:
        return 0.0
    return iw * ih / max(1, min(aw * ah, bw * bh))


def _choose(reads: list[PlateRead], settings: RecognitionSettings) -> list[PlateRead]:
    """Best first; one read per place in the frame; discard below the threshold; at most max_plates."""
    out: list[PlateRead] = []
    for r in sorted(reads, key=lambda r: r.rank, reverse=True):
        if r.confidence < settings.discard_below:
            continue
        if any(r.text == o.text or _overlap(r.box, o.box) > 0.5 for o in out):
            continue
        out.append(r)
        if settings.max_plates and len(out) >= settings.max_plates:
            break
    return out

"""Reading plates in one frame: cheap detection first, full detail only when needed.

Pass 1 runs the text detector on the frame (or the recognition area) scaled to 480 px; the
recogniser reads tight crops cut from the full-resolution frame.  Only when no plate-like read
reaches "stop recognition above" does pass 2 run the detector at 1280 px (small, far plates) in
two overlapping tiles, within the frame's time budget; both passes' candidates are pooled.  In a
stream, text touching the picture's border is not read (a plate half in the picture reads as a
wrong plate).  Each candidate is fitted to the
camera's country modules (look-alike characters corrected only where a format fixes the class)
and ranked by the recogniser's confidence, with a bonus for fitting a national format and for
plate-like lengths.  Measured on the developer set in bench/lpr.py; the README says what each
choice bought.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import cv2
import numpy as np

from imtui.lpr.candidates import Candidate, join_side_by_side
from imtui.lpr.countries import CountryModule, fit, load_modules
from imtui.lpr.ocr import Ocr, TextBox, shared
from imtui.lpr.settings import RecognitionSettings

PASS1_SIDE = 480
PASS2_SIDE = 1280
TILE_SIDE = 960  # a detector input longer than this is split into two overlapping tiles
TILE_OVERLAP = 0.35  # of the longer side, so a plate on the cut is whole in one tile
FORMAT_BONUS = 0.10  # fits a national format exactly (lpr-fast: +0.1 for br masks)
LENGTH_BONUS = 0.05  # 6 or 7 characters, the commonest plate lengths
MIXED_BONUS = 0.30  # letters and digits: words on signs and trucks (EXIT, PENSKE) and dates (201404) lose
BOX_TO_CHAR = 0.72  # text box height (detector unclip 1.6) -> character height, measured on the set


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

        pooled: list[PlateRead] = []
        passes = 0
        for side in (PASS1_SIDE, PASS2_SIDE):
            if passes and any(r.confidence >= settings.stop_above and _plate_like(r) for r in pooled):
                break  # a confident, plate-like read (a confident "EXIT" on a sign does not count)
            if passes and max(work.shape[:2]) <= PASS1_SIDE:
                break  # pass 1 already saw every pixel
            elapsed = time.perf_counter() - started
            if passes and settings.max_seconds_per_frame and elapsed * (1 + _pass2_cost()) > settings.max_seconds_per_frame:
                break  # pass 2 would not fit the frame's time budget
            pooled += self._pass(work, side, frame_h, settings, modules, (ax, ay), whole_only)
            passes += 1
        reads = _choose(pooled, settings)
        return FrameResult(reads, (time.perf_counter() - started) * 1000, passes)

    def _pass(self, work: np.ndarray, side: int, frame_h: int, settings: RecognitionSettings,
              modules: list[CountryModule], offset: tuple[int, int], whole_only: bool) -> list[PlateRead]:
        boxes = self._detect(work, side)
        lo, hi = settings.min_char_height / 100 * frame_h, settings.max_char_height / 100 * frame_h
        h, w = work.shape[:2]
        boxes = [b for b in boxes if lo <= b.height * BOX_TO_CHAR <= hi and b.width >= b.height * 0.8
                 and not (whole_only and _cut(b, w, h))]
        if not boxes:
            return []
        crops = [self.ocr.crop(work, b) for b in boxes]
        texts = self.ocr.recognise(crops)
        reads = [(b, t, s) for b, (t, s) in zip(boxes, texts, strict=True)]
        out = []
        for cand in join_side_by_side(reads):
            read = _fitted(cand, modules, offset)
            if read is not None:
                out.append(read)
        return out


    def _detect(self, work: np.ndarray, side: int) -> list[TextBox]:
        """The detector at ``side`` px; above TILE_SIDE the frame is cut into overlapping tiles
        along its longer axis, each detected at the same scale (the detector's memory follows its
        input size: a 1280 px pass in two tiles stays under the RSS target, and finds the small
        plates a 960 px pass misses)."""
        h, w = work.shape[:2]
        scale = min(1.0, side / max(h, w))
        if max(h, w) * scale <= TILE_SIDE:
            return self.ocr.detect(work, side)
        horizontal = w >= h
        length = w if horizontal else h
        tile = int(length * (0.5 + TILE_OVERLAP / 2))
        boxes: list[TextBox] = []
        for start in (0, length - tile):
            piece = work[:, start:start + tile] if horizontal else work[start:start + tile, :]
            shift = np.array([start, 0] if horizontal else [0, start], dtype=np.float32)
            for b in self.ocr.detect(piece, max(1, round(max(piece.shape[:2]) * scale))):
                ph, pw = piece.shape[:2]
                edge = start > 0 and (b.points[:, 0 if horizontal else 1].min() <= 2)
                edge |= start == 0 and (b.points[:, 0 if horizontal else 1].max() >= (pw if horizontal else ph) - 3)
                if not edge:  # a box cut by the tile's inner edge is whole in the other tile
                    boxes.append(TextBox(b.points + shift, b.score))
        return boxes


def _pass2_cost() -> float:
    """Pass 2's time as a multiple of pass 1's: the detector's cost follows its input's pixels."""
    return (PASS2_SIDE / PASS1_SIDE) ** 2 * (1 + TILE_OVERLAP)


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


def _plate_like(r: PlateRead) -> bool:
    return bool(r.format and r.format != "*") or (any(c.isalpha() for c in r.text) and any(c.isdigit() for c in r.text))


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

"""From recognised text boxes to plate candidates: normalised text, side-by-side boxes joined
(plates printed with a gap or a badge between groups come out of the detector as two boxes)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from imtui.lpr.ocr import TextBox

_NOT_PLATE = re.compile(r"[^A-Z0-9]")


def normalise(text: str) -> str:
    """Upper case A-Z0-9 only (plates are stored and matched that way: manual 004)."""
    return _NOT_PLATE.sub("", text.upper())


@dataclass(frozen=True)
class Candidate:
    text: str  # normalised
    score: float  # the recogniser's confidence, 0..1
    box: TextBox
    joined: bool = False  # made of two side-by-side boxes


def join_side_by_side(reads: list[tuple[TextBox, str, float]]) -> list[Candidate]:
    """Every read as a candidate, plus each pair of boxes on one line (similar height, overlapping
    vertically, gap at most 1.5 heights) joined left to right, scored by the lower of the two."""
    out = [Candidate(normalise(t), s, b) for b, t, s in reads]
    for i, (bi, ti, si) in enumerate(reads):
        for j, (bj, tj, sj) in enumerate(reads):
            if i == j:
                continue
            xi, yi, wi, hi = bi.rect
            xj, yj, wj, hj = bj.rect
            if xj <= xi or hi <= 0 or hj <= 0:
                continue
            if not 0.6 <= hj / hi <= 1.6:
                continue
            overlap = min(yi + hi, yj + hj) - max(yi, yj)
            if overlap < 0.5 * min(hi, hj):
                continue
            gap = xj - (xi + wi)
            if gap > 1.5 * max(hi, hj) or gap < -0.3 * min(wi, wj):
                continue
            x0, y0 = min(xi, xj), min(yi, yj)
            x1, y1 = max(xi + wi, xj + wj), max(yi + hi, yj + hj)
            import numpy as np

            pts = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float32)
            out.append(Candidate(normalise(ti) + normalise(tj), min(si, sj), TextBox(pts, min(bi.score, bj.score)),
                                 joined=True))
    return out

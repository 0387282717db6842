"""From reads per frame to one recognition per vehicle passage.

A vehicle is read in several frames, not always the same way (a character misread, a plate half
in the picture).  Reads that agree exactly join the open passage that has that text; reads that
differ (partial or misread: a substring, or within two edits) join only within "time span for
avoiding partial recognitions" (manual 004: 0–5 s, every recognition is delayed by that much).  The reads of one frame are different plates (two lanes, a
fleet with near numbers): each joins a different passage, the same text first, else the most
similar.  A passage closes when no read has joined it for its span *and* it has missed ``MISSES``
processed frames (its span is at least ``SAME_GAP``): under load a camera's frames are read a second
or more apart, and one vehicle's reads must not fall into two passages because the machine was slow
(the frames the pool skipped never reach the tracker).  Frames must come in stream order (the
pipeline puts the pool's results back in order, lpr/stream.py).  Its plate is then voted per
character among the reads of the most common length (the longest on a tie: the most complete),
weighted by confidence, and its snapshot is the crop of its most confident read.

A passage does not have to end to be recognised: a vehicle waiting at a barrier stays in the
picture.  ``settle`` announces an open passage once its plate is settled (read the same way at
least twice, and the span against partial reads has passed since its first read); the plate is
fixed then, and the passage's end later only brings its last-seen time and read count
(``Recognition.announced``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np

from imtui.lpr.reader import PlateRead

SAME_GAP = 1.0  # seconds: the least span of a passage (identical reads a frame or two apart)
MISSES = 2  # processed frames without a read of a passage before it may close


@dataclass(frozen=True)
class Recognition:
    plate: str
    country: str
    confidence: float
    first_seen: float  # seconds (the caller's clock: stream time)
    last_seen: float
    reads: int
    snapshot: np.ndarray | None = field(default=None, compare=False, repr=False)
    box: tuple[int, int, int, int] = (0, 0, 0, 0)
    passage: int = field(default=0, compare=False)  # the tracker's serial of the passage
    announced: bool = field(default=False, compare=False)  # settle() returned it already: update, do not add
    open: bool = field(default=False, compare=False)  # from settle(): the passage goes on


def edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def similar(a: str, b: str) -> bool:
    """Two reads that may be the same plate: one inside the other, or at most two edits apart."""
    if a == b:
        return True
    if len(a) >= 3 and len(b) >= 3 and (a in b or b in a):
        return True
    return edit_distance(a, b) <= 2


@dataclass
class _Passage:
    reads: list[tuple[float, PlateRead]] = field(default_factory=list)
    best_crop: np.ndarray | None = None
    best_conf: float = -1.0
    serial: int = 0
    announced: tuple[str, float, str] | None = None  # (plate, confidence, country) given by settle()
    missed: int = 0  # processed frames since its last read
    last: float = float("-inf")  # stream time of its latest read

    def texts(self) -> set[str]:
        return {r.text for _t, r in self.reads}


def _vote_length(reads: list[PlateRead], length: int) -> str:
    same = [r for r in reads if len(r.text) == length]
    chars = []
    for i in range(length):
        weight: dict[str, float] = defaultdict(float)
        for r in same:
            weight[r.text[i]] += max(r.confidence, 1e-3)
        chars.append(max(weight.items(), key=lambda kv: (kv[1], kv[0]))[0])
    return "".join(chars)


def vote(reads: list[PlateRead]) -> tuple[str, float, str]:
    """(plate, confidence, country): a per-character vote among the reads of the most common
    length (the longest on a tie); then, since the manual keeps "the most complete recognition",
    a longer vote that contains it and has real support (two reads or more, at least half as many)
    replaces it: the plate read whole where most frames saw part of it.  A lone longer read, or one
    that does not contain it, is a misread with an extra character."""
    lengths = Counter(len(r.text) for r in reads)
    top = max(lengths.values())
    length = max(n for n, c in lengths.items() if c == top)
    plate = _vote_length(reads, length)
    for longer in sorted((n for n in lengths if n > length), reverse=True):
        if lengths[longer] < max(2, top / 2):
            continue  # one odd longer read is a misread with an extra character, not the whole plate
        candidate = _vote_length(reads, longer)
        if plate in candidate:
            plate, length = candidate, longer
            break
    same = [r for r in reads if len(r.text) == length]
    agreeing = [r for r in same if r.text == plate] or same
    confidence = sum(r.confidence for r in agreeing) / len(agreeing)
    country = max(agreeing, key=lambda r: r.confidence).country
    return plate, round(confidence, 4), country


class PassageTracker:
    """Feed it each processed frame's reads (with the frame, for snapshots); it returns the
    recognitions whose passage has ended.  ``partial_seconds`` is the camera's setting (0–5 s)."""

    def __init__(self, partial_seconds: float = 1.0) -> None:
        self.partial = max(0.0, min(5.0, partial_seconds))
        self._open: list[_Passage] = []
        self._serial = 0

    def _span(self) -> float:
        return max(SAME_GAP, self.partial)

    def feed(self, t: float, reads: list[PlateRead], frame: np.ndarray | None = None) -> list[Recognition]:
        """One processed frame (in stream order) and its reads; returns the passages that ended."""
        taken: list[_Passage] = []  # one read per passage per frame: a frame's reads are different plates
        seen: set[str] = set()
        for r in reads:
            if r.text in seen:
                continue  # the same text twice in one frame (overlapping looks) is one plate, not two vehicles
            seen.add(r.text)
            free = [p for p in self._open if all(p is not q for q in taken)]
            # the same text first (in any open passage: it is the same vehicle however slowly its frames
            # were read), then the most similar within the partial window
            target = next((p for p in free if r.text in p.texts()), None)
            if target is None and self.partial > 0:
                near = [(min(edit_distance(r.text, x) for x in p.texts()), i, p) for i, p in enumerate(free)
                        if t - p.last <= self.partial and any(similar(r.text, x) for x in p.texts())]
                target = min(near, key=lambda n: n[:2])[2] if near else None
            if target is None:
                self._serial += 1
                target = _Passage(serial=self._serial)
                self._open.append(target)
            target.reads.append((t, r))
            target.last = max(target.last, t)
            taken.append(target)
            if frame is not None and r.confidence > target.best_conf:
                x, y, w, h = r.box
                target.best_conf = r.confidence
                target.best_crop = frame[max(0, y):y + h, max(0, x):x + w].copy()
        for p in self._open:
            p.missed = 0 if any(p is q for q in taken) else p.missed + 1
        return self._close(lambda p: t - p.last > self._span() and p.missed >= MISSES)

    def settle(self, t: float) -> list[Recognition]:
        """Open passages whose plate is settled at stream time ``t``, each returned once."""
        out = []
        for p in self._open:
            if p.announced is not None or t - p.reads[0][0] < self._span():
                continue
            plate, confidence, country = vote([r for _t, r in p.reads])
            if sum(1 for _t, r in p.reads if r.text == plate) < 2:
                continue  # one read is not settled: it may be partial or misread
            out.append(self._recognition(p, (plate, confidence, country)))
            p.announced = (plate, confidence, country)
        return out

    @staticmethod
    def _recognition(p: _Passage, voted: tuple[str, float, str] | None = None) -> Recognition:
        plate, confidence, country = voted or p.announced or vote([r for _t, r in p.reads])
        best = max((r for _t, r in p.reads), key=lambda r: r.confidence)
        return Recognition(plate, country, confidence, p.reads[0][0], p.last, len(p.reads), p.best_crop, best.box,
                           passage=p.serial, announced=voted is None and p.announced is not None, open=voted is not None)

    def flush(self) -> list[Recognition]:
        """The stream ended: every open passage becomes a recognition."""
        return self._close(lambda p: True)

    def _close(self, done) -> list[Recognition]:  # noqa: ANN001
        finished = [p for p in self._open if done(p)]
        self._open = [p for p in self._open if not done(p)]
        return sorted((self._recognition(p) for p in finished), key=lambda r: r.first_seen)

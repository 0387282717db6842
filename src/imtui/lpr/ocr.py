"""The text detector and recogniser of rapidocr (PP-OCRv6 small, bundled in its wheel), loaded once
per process and called step by step: detection on a downscaled frame, recognition on tight crops
cut from the full-resolution frame (lpr-fast notes: the detector's input size is most of the time;
the recogniser on a crop costs ~14 ms).  The angle classifier is off: it lowered accuracy."""

from __future__ import annotations

import ctypes
import logging
import threading
import time
from dataclasses import dataclass

import numpy as np

_lock = threading.Lock()
_engine: "Ocr | None" = None


@dataclass(frozen=True)
class TextBox:
    points: np.ndarray  # 4x2 float32, clockwise from top-left, in the frame's pixels
    score: float

    @property
    def height(self) -> float:
        p = self.points
        return float(max(np.linalg.norm(p[0] - p[3]), np.linalg.norm(p[1] - p[2])))

    @property
    def width(self) -> float:
        p = self.points
        return float(max(np.linalg.norm(p[0] - p[1]), np.linalg.norm(p[2] - p[3])))

    @property
    def rect(self) -> tuple[int, int, int, int]:
        xs, ys = self.points[:, 0], self.points[:, 1]
        x0, y0 = int(xs.min()), int(ys.min())
        return x0, y0, int(xs.max()) - x0, int(ys.max()) - y0


TRIM_ABOVE_MB = 450


def _load_libc() -> "ctypes.CDLL | None":
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim  # noqa: B018 - glibc only
        return libc
    except (OSError, AttributeError):
        return None


_libc = _load_libc()


def trim_heap() -> None:
    """Give the heap's free pages back when the process has grown past TRIM_ABOVE_MB.  The
    detector allocates and frees large buffers of a different size for every input shape, and
    glibc's heap fragments and never shrinks by itself: over the bench's 222 photos the process
    grew from 234 to 727 MB.  A fixed mmap threshold kept it at 362 MB but doubled the time (every
    buffer faulted in anew); trimming only above the line keeps the peak under 600 MB for a few ms
    now and then."""
    if _libc is None:
        return
    try:
        with open("/proc/self/statm", "rb") as f:
            resident = int(f.read().split()[1]) * 4096
    except (OSError, ValueError, IndexError):
        return
    if resident > TRIM_ABOVE_MB * 2**20:
        _libc.malloc_trim(0)


class Ocr:
    """One loaded detector and recogniser.  ``threads`` is ONNX Runtime's intra-op pool: 1 in
    worker processes (the pool is the parallelism), more for an interactive single read."""

    def __init__(self, threads: int = 1) -> None:
        logging.getLogger("RapidOCR").setLevel(logging.ERROR)
        from rapidocr import RapidOCR

        self._ocr = RapidOCR(params={
            "Global.use_cls": False,
            "Global.log_level": "error",
            "EngineConfig.onnxruntime.intra_op_num_threads": threads,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        })
        self._det = self._ocr._load_det_model()  # noqa: SLF001 - step-by-step use (see module docstring)
        self._rec = self._ocr._load_rec_model()  # noqa: SLF001
        from rapidocr.ch_ppocr_rec.typings import TextRecInput
        from rapidocr.utils.process_img import get_rotate_crop_image

        self._rec_input = TextRecInput
        self._crop = get_rotate_crop_image

    def detect(self, image: np.ndarray, max_side: int) -> list[TextBox]:
        """Text boxes in ``image`` (BGR), the detector working on a copy whose longer side is at
        most ``max_side`` (never upscaled); boxes come back in ``image``'s pixels."""
        self._det.limit_side_len = max_side
        self._det.limit_type = "max"
        out = self._det(image)
        if out.boxes is None:
            return []
        scores = out.scores if out.scores is not None else [1.0] * len(out.boxes)
        return [TextBox(np.asarray(b, dtype=np.float32), float(s)) for b, s in zip(out.boxes, scores, strict=False)]

    def crop(self, image: np.ndarray, box: TextBox) -> np.ndarray:
        return self._crop(image, box.points.copy())

    def recognise(self, crops: list[np.ndarray], deadline: float | None = None) -> list[tuple[str, float] | None]:
        """(text, score) per crop.  With a ``deadline`` (a ``time.perf_counter()`` value) the crops
        go in the recogniser's own batches -- ordered by width as rapidocr orders them, so each
        batch and its reads are the same as in one call -- and no batch starts once the deadline
        has passed, except the first: the boxes were found at the cost of a detector call, and a frame
        that reads none of them was decoded and searched for nothing.  The crops left out are None.
        A batch already running is not cut: ONNX Runtime cannot interrupt a call."""
        if not crops:
            return []
        if deadline is None:
            out = self._rec(self._rec_input(img=crops, return_word_box=False))
            return [(str(t), float(s)) for t, s in zip(out.txts, out.scores, strict=True)]
        order = [int(i) for i in np.argsort(np.array([c.shape[1] / float(c.shape[0]) for c in crops]))]
        size = max(1, int(self._rec.rec_batch_num))
        reads: list[tuple[str, float] | None] = [None] * len(crops)
        for start in range(0, len(order), size):
            if start and time.perf_counter() >= deadline:
                break  # the first batch always runs: the boxes it reads cost a detector call already
            batch = order[start:start + size]
            out = self._rec(self._rec_input(img=[crops[i] for i in batch], return_word_box=False))
            for i, t, s in zip(batch, out.txts, out.scores, strict=True):
                reads[i] = (str(t), float(s))
        return reads


def shared(threads: int = 1) -> Ocr:
    """The process's engine, loaded on first use (about 1 s and a few hundred MB: never per image)."""
    global _engine
    with _lock:
        if _engine is None:
            _engine = Ocr(threads)
        return _engine

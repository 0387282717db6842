"""Pictures drawn with text cells (``halfcell`` and ``unicode`` modes), repainting only what changed.

textual-image's half-block and unicode widgets render the whole picture again for every frame:
every cell, one colour escape per cell.  Over an SSH link that is most of the bytes View video
sends.  These widgets do the same drawing with three differences:

* the cells are built in a thread (``build_cells``: numpy over the prepared image), never on the
  event loop, from a picture ``frame_view.prepare`` has already sized to the widget;
* colours are quantised to the xterm-256 palette (6x6x6 cube + grey ramp) and adjacent cells
  with the same colours are merged into one segment, so a row of road costs a few escapes, not
  one per cell;
* drawing uses the Line API (``render_line``), and a new picture refreshes only the rows (and
  within them the columns) that differ from the picture on screen, so Textual writes only those;
  the same picture again writes nothing.

``halfcell``: one "▀" per cell, foreground = upper pixel, background = lower pixel (a space on that
background where both are the same colour: it looks the same and costs less).  ``unicode``: the
grey level of the two pixels of a cell as one of " ░▒▓█" (textual-image's ramp and thresholds),
in the widget's own colours: no colour escapes at all.

The picture keeps its aspect ratio (textual-image stretched it to the whole widget), centred
horizontally.  ``image`` is the picture being shown (a PIL image, or None for none).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image as PILImage
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

# -- the xterm-256 palette (indices 16-255; 0-15 depend on the terminal's theme, so never used) ------
CUBE_LEVELS = np.array([0, 95, 135, 175, 215, 255], dtype=np.int32)
_CUBE_CUTS = (CUBE_LEVELS[:-1] + CUBE_LEVELS[1:]) / 2  # a channel value below cut i is nearer level i
GREY_LEVELS = np.arange(24, dtype=np.int32) * 10 + 8  # indices 232-255: 8, 18, … 238

HALF_BLOCK = "▀"
SHADES = "█▓▒░ "  # textual-image's unicode ramp: bright → full block, dark → space
_SHADE_CHARS = np.array(list(SHADES))
NO_COLOUR = -1  # a half cell outside the picture (odd height): the widget's background


def palette_rgb(index: int) -> tuple[int, int, int]:
    """The RGB of an xterm-256 colour (16-255), as xterm draws it."""
    if 16 <= index < 232:
        n = index - 16
        return tuple(int(CUBE_LEVELS[c]) for c in (n // 36, n // 6 % 6, n % 6))  # type: ignore[return-value]
    if 232 <= index < 256:
        v = int(GREY_LEVELS[index - 232])
        return (v, v, v)
    raise ValueError(f"not a colour of the 6x6x6 cube or grey ramp: {index}")


def quantise(rgb: np.ndarray) -> np.ndarray:
    """(…, 3) uint8 RGB → (…) xterm-256 index: the nearest (Euclidean) cube or grey-ramp colour;
    on a tie the lower index, so the same pixels always give the same cells."""
    px = rgb.astype(np.int32)
    levels = np.searchsorted(_CUBE_CUTS, px, side="left")  # per channel, 0-5 (a tie: the lower level)
    cube = CUBE_LEVELS[levels]
    cube_d = ((px - cube) ** 2).sum(axis=-1)
    # the nearest grey is the one nearest the mean: ceil((sum/3 - 8) / 10 - 1/2) in integers
    grey_i = np.clip(-((39 - px.sum(axis=-1)) // 30), 0, 23)
    grey_d = ((px - GREY_LEVELS[grey_i][..., None]) ** 2).sum(axis=-1)
    cube_index = 16 + 36 * levels[..., 0] + 6 * levels[..., 1] + levels[..., 2]
    return np.where(grey_d < cube_d, 232 + grey_i, cube_index).astype(np.int32)


def shade(grey: np.ndarray) -> np.ndarray:
    """Grey levels 0-255 → indices into SHADES, exactly as textual-image's unicode mode maps them."""
    brightness = np.clip(255 - grey.astype(np.int32), 1, 254)
    return np.minimum(brightness // 51, len(SHADES) - 1)


@lru_cache(maxsize=4096)
def cell_style(fg: int, bg: int) -> Style:
    """The style of a half-cell run (fg NO_COLOUR: a space on ``bg``; bg NO_COLOUR: the widget's)."""
    return Style(color=None if fg == NO_COLOUR else Color.from_ansi(fg),
                 bgcolor=None if bg == NO_COLOUR else Color.from_ansi(bg))


# -- building rows (in a thread) ---------------------------------------------------------------------
@dataclass(frozen=True, eq=False)  # numpy fields: compared with changed_spans, not ==
class Cells:
    """One picture as rows of cells: ``keys`` (rows x cols, comparable frame to frame) and, per row,
    the merged segments (a unicode row has style None: drawn in the widget's colours)."""

    mode: str
    keys: np.ndarray
    rows: tuple[tuple[Segment, ...], ...]

    @property
    def width(self) -> int:
        return int(self.keys.shape[1])

    @property
    def height(self) -> int:
        return int(self.keys.shape[0])


def fit(image: PILImage.Image, cols: int, rows: int) -> PILImage.Image:
    """``image`` as ``prepare`` would size it for cols x rows cells (two pixels a cell row).

    A picture that already fits and fills one side (give or take the rounding) is used as it is:
    the normal case, so no second resampling.  Only a resize of the widget changes it."""
    w, h = image.size
    max_h = 2 * rows
    if w <= cols and h <= max_h and (w >= cols - 2 or h >= max_h - 2):
        return image
    scale = min(cols / w, max_h / h)
    return image.resize((max(1, int(w * scale)), max(1, int(h * scale))), PILImage.Resampling.BOX)


def _runs(keys: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of the runs of equal values in a 1-D array."""
    cuts = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    starts = [0, *cuts.tolist()]
    return list(zip(starts, [*starts[1:], len(keys)], strict=True))


def build_cells(image: PILImage.Image, mode: str, cols: int, rows: int) -> Cells:
    """The cells of ``image`` for a cols x rows widget (pure; runs in a worker thread)."""
    image = fit(image, max(1, cols), max(1, rows))
    if mode == "unicode":
        grey = np.asarray(image.convert("L"), dtype=np.float32)
        if grey.shape[0] % 2:
            grey = np.vstack([grey, grey[-1:]])
        cell_grey = np.rint((grey[0::2] + grey[1::2]) / 2)  # the two pixels of a cell, averaged
        keys = shade(cell_grey)
        chars = _SHADE_CHARS[keys]
        return Cells(mode, keys, tuple((Segment("".join(row)),) for row in chars))
    if mode != "halfcell":
        raise ValueError(f"unknown cell image mode {mode!r}")
    colours = quantise(np.asarray(image.convert("RGB")))
    top = colours[0::2]
    bottom = np.full_like(top, NO_COLOUR)
    bottom[: colours.shape[0] // 2] = colours[1::2]
    fg = np.where(top == bottom, NO_COLOUR, top)  # both halves alike: a space on that background
    keys = (fg + 1) * 512 + (bottom + 1)
    segments = []
    for y in range(keys.shape[0]):
        row = []
        for start, end in _runs(keys[y]):
            f, b = int(fg[y, start]), int(bottom[y, start])
            row.append(Segment((" " if f == NO_COLOUR else HALF_BLOCK) * (end - start), cell_style(f, b)))
        segments.append(tuple(row))
    return Cells(mode, keys, tuple(segments))


def changed_spans(old: Cells | None, new: Cells | None) -> list[tuple[int, int, int]] | None:
    """(row, first column, end column) of what differs between two pictures of the same geometry;
    None when the geometry differs (or either is missing): everything must be drawn again."""
    if old is None or new is None or old.mode != new.mode or old.keys.shape != new.keys.shape:
        return None
    spans = []
    for y in np.flatnonzero((old.keys != new.keys).any(axis=1)).tolist():
        differ = np.flatnonzero(old.keys[y] != new.keys[y])
        spans.append((y, int(differ[0]), int(differ[-1]) + 1))
    return spans


# -- the widget --------------------------------------------------------------------------------------
class CellImage(Widget):
    """A picture drawn with text cells; see the module docstring.  Subclasses set ``MODE``."""

    DEFAULT_CSS = """
    CellImage {
        width: 1fr;
        height: 1fr;
    }
    """
    MODE = "halfcell"

    def __init__(self, image: PILImage.Image | None = None, *, name: str | None = None, id: str | None = None,  # noqa: A002
                 classes: str | None = None, disabled: bool = False) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._image: PILImage.Image | None = image
        self._cells: Cells | None = None
        self._built_for: tuple[int, int] = (0, 0)  # the content size the cells were built for
        self._generation = 0
        self.last_update: list[tuple[int, int, int]] | None = None
        """What the last new picture repainted: (row, first column, end column) spans, or None for
        the whole widget.  For tests and the curious."""

    @property
    def image(self) -> PILImage.Image | None:
        """The picture shown (or being prepared); None shows none."""
        return self._image

    @image.setter
    def image(self, value: PILImage.Image | None) -> None:
        self._image = value
        self._generation += 1
        if value is None:
            self._apply(self._generation, None, self._built_for)
        elif self.is_mounted:
            self._start_build()

    def on_mount(self) -> None:
        if self._image is not None:
            self._start_build()

    def on_resize(self, event: events.Resize) -> None:
        if self._image is not None and tuple(self.content_size) != self._built_for:
            self._generation += 1
            self._start_build()

    def _start_build(self) -> None:
        cols, rows = self.content_size
        if not cols or not rows or self._image is None:
            return  # not laid out yet: on_resize builds it
        self.run_worker(self._build(self._image, self._generation, (cols, rows)), group="cell-image",
                        exclusive=True, exit_on_error=False)

    async def _build(self, image: PILImage.Image, generation: int, size: tuple[int, int]) -> None:
        cells = await asyncio.to_thread(build_cells, image, self.MODE, *size)
        self._apply(generation, cells, size)

    def _apply(self, generation: int, cells: Cells | None, size: tuple[int, int]) -> None:
        """Swap in new cells (on the event loop) and refresh only what differs from the old ones."""
        if generation != self._generation:
            return  # a newer picture (or a resize) is on its way
        old, self._cells = self._cells, cells
        spans = changed_spans(old, cells) if size == self._built_for else None
        self._built_for = size
        if old is None and cells is None:
            self.last_update = []
            return
        self.last_update = spans
        if spans is None:
            self.refresh()
            return
        left = self._left()
        for y, x0, x1 in spans:
            self.refresh(Region(left + x0, y, x1 - x0, 1))

    def _left(self) -> int:
        """Blank columns left of the picture (centred)."""
        if self._cells is None:
            return 0
        return max(0, (self._built_for[0] - self._cells.width) // 2)

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        base = self.rich_style
        cells = self._cells
        if cells is None or y >= cells.height:
            return Strip.blank(width, base)
        left = self._left()
        row = cells.rows[y]
        if cells.mode == "unicode":  # one run in the widget's colours, margins included
            text = " " * left + row[0].text
            return Strip([Segment(text + " " * (width - len(text)), base)], width).crop(0, width)
        segments = [Segment(" " * left, base)] if left else []
        segments.extend(Segment(text, base + style) for text, style, _ in row)  # own colours over the widget's
        right = width - left - cells.width
        if right > 0:
            segments.append(Segment(" " * right, base))
        strip = Strip(segments, left + cells.width + max(0, right))
        return strip.crop(0, width) if right < 0 else strip


class HalfcellImage(CellImage):
    """Colour half blocks, xterm-256 palette."""

    MODE = "halfcell"


class UnicodeImage(CellImage):
    """Grey shades " ░▒▓█", no colour."""

    MODE = "unicode"

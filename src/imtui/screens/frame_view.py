"""A camera picture with its caption, drawn the way the site configured (``ui.image_mode``).

Modes: ``auto`` (textual-image picks Sixel, the Kitty graphics protocol or half blocks), ``tgp``,
``sixel``, ``halfcell`` (colour half blocks), ``unicode`` (grey shades, the fewest bytes) and
``off`` (no picture: the caption alone says the time and the motion level).  ``halfcell`` and
``unicode`` are our own widgets (``cell_image``: xterm-256 colours, merged runs, only the changed
rows repainted); the other three are textual-image's.  Decoding and resizing happen in a thread
(``prepare``); the widget only swaps a ready image (the cell widgets build their cells in a thread
too).

``shown_time`` and ``shown_frame`` tell pilot tests which frame is on screen.
"""

from __future__ import annotations

from datetime import datetime

import cv2
import numpy as np
from PIL import Image as PILImage
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Static

from imtui.i18n import _
from imtui.screens.render import safe


TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def frame_caption(ref, at: datetime, tz, *, playing: str = "") -> str:  # noqa: ANN001
    """The text under a picture: when, how much motion, and where in the recording."""
    when = at.astimezone(tz).strftime(TIME_FORMAT) + f".{at.microsecond // 1000:03d}"
    if ref is None:
        return _("{time} · no recording at this time").format(time=when)
    text = _("{time} · motion {level:.1f} % · frame {n}/{total}").format(
        time=when, level=ref.motion * 100, n=ref.index + 1, total=ref.frames)
    if not ref.readable:
        text += " · " + _("still being recorded: the picture follows when the segment closes")
    return text + (f" · {playing}" if playing else "")


def image_class(mode: str) -> type[Widget] | None:
    """The picture widget for a mode: ours for ``halfcell`` / ``unicode``, textual-image's for the
    others (imported on first use: it probes the terminal)."""
    if mode == "off":
        return None
    if mode in ("halfcell", "unicode"):
        from imtui.screens.cell_image import HalfcellImage, UnicodeImage

        return HalfcellImage if mode == "halfcell" else UnicodeImage
    from textual_image import widget as tiw

    return {"auto": tiw.Image, "tgp": tiw.TGPImage, "sixel": tiw.SixelImage}[mode]


def prepare(frame: np.ndarray, cells: tuple[int, int]) -> PILImage.Image:
    """BGR frame → RGB PIL image sized for ``cells`` (two pixels per cell row: half blocks).

    Runs in a worker thread so the renderer gets a small image and has little left to do."""
    cols, rows = max(1, cells[0]), max(1, cells[1])
    h, w = frame.shape[:2]
    scale = min(cols / w, rows * 2 / h)
    size = (max(1, int(w * scale)), max(1, int(h * scale)))
    small = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
    return PILImage.fromarray(cv2.cvtColor(small, cv2.COLOR_BGR2RGB))


class FrameView(Vertical):
    DEFAULT_CLASSES = "frame-view"

    def __init__(self, mode: str, *, id: str | None = None, classes: str = "") -> None:  # noqa: A002
        super().__init__(id=id, classes=classes)
        self.mode = mode
        self.shown_time: datetime | None = None
        self.shown_frame: np.ndarray | None = None
        self._caption = ""

    def compose(self) -> ComposeResult:
        cls = image_class(self.mode)
        if cls is not None:
            yield cls(classes="frame-image")
        yield Static("", classes="frame-caption", markup=False)

    def cells(self) -> tuple[int, int]:
        """The picture's size in cells (what ``prepare`` should aim for)."""
        images = self.query(".frame-image")
        if not images:
            return (1, 1)
        size = images.first().content_size
        return (size.width or 40, size.height or 12)

    def show(self, picture: PILImage.Image | None, caption: str, *, time: datetime | None = None,
             frame: np.ndarray | None = None) -> None:
        self.shown_time, self.shown_frame = time, frame
        images = self.query(".frame-image")
        if images and (picture is not None or images.first().image is not None):  # type: ignore[attr-defined]
            images.first().image = picture  # type: ignore[attr-defined]
        if caption != self._caption:  # unchanged text: no repaint, no bytes
            self._caption = caption
            self.query_one(".frame-caption", Static).update(safe(caption))


async def show_recorded(view: FrameView, recordings, actor, camera_id: int, at: datetime, step: int,  # noqa: ANN001
                        tz, playing: str = ""):  # noqa: ANN001, ANN201 - engine types
    """Find the frame of ``camera_id`` at ``at`` (moved by ``step`` frames), decode it in a thread and
    show it with its caption; returns the FrameRef (None: nothing recorded then).  Raises ServiceError."""
    import asyncio

    ref = await recordings.frame_at(actor, camera_id, at, step)
    frame = picture = None
    if ref is not None and ref.readable:
        frame = await asyncio.to_thread(recordings.read_frame, ref)
        if frame is not None and view.mode != "off":
            picture = await asyncio.to_thread(prepare, frame, view.cells())
    shown = ref.time if ref is not None else at
    view.show(picture, frame_caption(ref, shown, tz, playing=playing), time=shown if ref else None, frame=frame)
    return ref

"""Our half-block and unicode picture widgets: real camera frames drawn under Textual's pilot, colours
checked against the xterm-256 palette, and a new picture repainting only the rows that changed."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image as PILImage
from PIL import ImageDraw
from textual.app import App, ComposeResult
from textual.strip import Strip
from textual_image.renderable.unicode import _map_pixel as textual_image_shade

from imtui.engine.video.synthetic import SyntheticCamera
from imtui.screens.cell_image import CellImage, HalfcellImage, UnicodeImage, palette_rgb, quantise
from imtui.screens.frame_view import FrameView, prepare
from pilot import make_app, settle
from test_tui_video import go_to, world

SIZE = (120, 40)
PALETTE = np.array([palette_rgb(i) for i in range(16, 256)])  # xterm's colours 16-255


def nearest(rgb) -> int:  # noqa: ANN001
    """Brute force: the xterm-256 index (16-255) nearest to ``rgb``."""
    return 16 + int((((PALETTE - np.asarray(rgb, dtype=int)) ** 2).sum(axis=1)).argmin())


def frame(index: int = 30) -> np.ndarray:
    """A real synthetic camera frame (BGR, 640x480): road, lane marks, a vehicle with its plate."""
    cam = SyntheticCamera.from_source("synthetic:?size=640x480&fps=4&every=10&cross=8",
                                      start=datetime(2026, 4, 7, 9, 0, tzinfo=UTC))
    return cam.frame(index)[0]


def cell_at(strip: Strip, x: int) -> tuple[str, object]:
    """(character, style) of the cell at column ``x`` of a rendered strip."""
    pos = 0
    for seg in strip:
        if pos + len(seg.text) > x:
            return seg.text[x - pos], seg.style
        pos += len(seg.text)
    raise IndexError(x)


class Counting:
    """Counts render_line calls per row: what Textual asked the widget to draw again."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.drawn: Counter[int] = Counter()

    def render_line(self, y: int) -> Strip:
        self.drawn[y] += 1
        return super().render_line(y)  # type: ignore[misc]


class CountingHalfcell(Counting, HalfcellImage):
    pass


class CountingUnicode(Counting, UnicodeImage):
    pass


class Host(App[None]):
    def __init__(self, widget: CellImage) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        yield self.widget


async def show(app: Host, pilot, picture: PILImage.Image | None) -> None:  # noqa: ANN001
    app.widget.image = picture
    await settle(app, pilot)  # type: ignore[arg-type]


def strips(widget: CellImage) -> list[Strip]:
    return [widget.render_line(y) for y in range(widget.content_size.height)]


async def test_halfcell_draws_quantised_pixels_and_repaints_only_changed_rows() -> None:
    widget = CountingHalfcell()
    app = Host(widget)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)  # type: ignore[arg-type]
        picture = prepare(frame(), widget.content_size)  # as FrameView does: 640x480 → 106x80 pixels
        assert picture.size == (106, 80)
        await show(app, pilot, picture)
        assert widget.image is picture and widget.last_update is None  # first picture: everything
        assert set(widget.drawn) == set(range(40))
        left = (120 - 106) // 2
        rows = strips(widget)
        assert all(s.cell_length == 120 for s in rows)
        px = np.asarray(picture)
        for x, y in [(0, 0), (10, 5), (53, 20), (70, 27), (105, 39), (30, 33)]:
            char, style = cell_at(rows[y], left + x)
            top, bottom = nearest(px[2 * y, x]), nearest(px[2 * y + 1, x])
            assert style.bgcolor.number == bottom, (x, y)
            if top == bottom:  # same colour above and below: a space on it
                assert char == " "
            else:
                assert char == "▀" and style.color.number == top, (x, y)
        assert cell_at(rows[3], 0) == (" ", widget.rich_style)  # the margin: the widget's own colours
        # runs of equal cells are one segment: far fewer segments than cells
        assert sum(len(list(s)) for s in rows) < 106 * 40 / 4

        # a small change (a red box over pixel rows 20-27, i.e. cell rows 10-13) repaints those rows only
        changed = picture.copy()
        ImageDraw.Draw(changed).rectangle((30, 20, 41, 27), fill=(255, 0, 0))
        widget.drawn.clear()
        await show(app, pilot, changed)
        assert set(widget.drawn) == {10, 11, 12, 13}
        assert widget.last_update == [(y, 30, 42) for y in range(10, 14)]
        char, style = cell_at(widget.render_line(11), left + 35)
        assert style.bgcolor.number == nearest((255, 0, 0)) == 196 and char == " "

        # the same picture again (a new object, equal pixels): nothing is drawn
        widget.drawn.clear()
        await show(app, pilot, changed.copy())
        assert widget.drawn == Counter() and widget.last_update == []

        # None clears the picture
        await show(app, pilot, None)
        assert widget.image is None
        assert all(set(s.text) == {" "} for s in strips(widget))


async def test_unicode_shades_like_textual_image_and_repaints_only_changed_rows() -> None:
    widget = CountingUnicode()
    app = Host(widget)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)  # type: ignore[arg-type]
        picture = prepare(frame(), widget.content_size)
        await show(app, pilot, picture)
        left = (120 - picture.width) // 2
        grey = np.asarray(picture.convert("L"), dtype=float)
        rows = strips(widget)
        for y, strip in enumerate(rows):
            segments = list(strip)
            assert len(segments) == 1 and segments[0].style == widget.rich_style  # no colour of its own
            cells = np.rint((grey[2 * y] + grey[2 * y + 1]) / 2).astype(int)  # a cell is two pixel rows
            assert strip.text[left:left + picture.width] == "".join(textual_image_shade(int(g)) for g in cells)
        assert {"░", "▒", "█"} <= set("".join(s.text for s in rows))  # road, vehicle and plate all shaded

        changed = picture.copy()
        ImageDraw.Draw(changed).rectangle((60, 50, 70, 55), fill=(255, 255, 255))  # cell rows 25-27
        widget.drawn.clear()
        await show(app, pilot, changed)
        assert set(widget.drawn) == {25, 26, 27}
        assert all(widget.render_line(y).text[left + 60:left + 71] == "█" * 11 for y in (25, 26, 27))

        widget.drawn.clear()
        await show(app, pilot, changed.copy())
        assert widget.drawn == Counter()


async def test_resize_redraws_the_picture_to_fit() -> None:
    widget = HalfcellImage()
    app = Host(widget)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)  # type: ignore[arg-type]
        await show(app, pilot, prepare(frame(), widget.content_size))
        await pilot.resize_terminal(60, 20)
        await settle(app, pilot)  # type: ignore[arg-type]
        assert widget.last_update is None  # a new geometry: everything again
        rows = strips(widget)
        assert len(rows) == 20 and all(s.cell_length == 60 for s in rows)
        # 106x80 pixels no longer fit 60x20 cells: shrunk to 53x40, centred (margins of 3 and 4 columns)
        for strip in rows:
            assert cell_at(strip, 2) == (" ", widget.rich_style) == cell_at(strip, 56)
            assert 16 <= cell_at(strip, 3)[1].bgcolor.number < 256
            assert 16 <= cell_at(strip, 55)[1].bgcolor.number < 256


def test_quantise_picks_the_nearest_palette_colour() -> None:
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 256, (3000, 3)).astype(np.uint8)
    ties = np.array([[115, 0, 0], [0, 155, 235], [23, 23, 23], [13, 13, 13]], np.uint8)  # equally near two
    greys = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1)
    for sample in (pixels, ties, greys):  # nearest, and on a tie the lower index (as argmin does)
        assert quantise(sample).tolist() == [nearest(p) for p in sample]
    assert quantise(np.array([[0, 0, 0], [255, 255, 255], [128, 128, 128], [95, 135, 175]], np.uint8)).tolist() == \
        [16, 231, 244, 16 + 36 + 12 + 3]


async def test_real_app_uses_the_cell_widgets_and_repaints_a_frame_step_partially(sqlite_url: str,
                                                                                    tmp_path: Path) -> None:
    await world(sqlite_url, tmp_path / "media")
    app = make_app(sqlite_url, media_dir=tmp_path / "media", image_mode="unicode", timezone=UTC)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("p")
        await settle(app, pilot)
        await go_to(app, pilot, "2026-04-07 09:00:26")  # a vehicle crossing
        view = app.screen.query_one("#playback-frame", FrameView)
        image = view.query_one(".frame-image", CellImage)
        assert isinstance(image, UnicodeImage)
        first = view.shown_time
        picture = image.image
        assert picture is not None and picture.size == prepare(view.shown_frame, view.cells()).size
        await pilot.press("full_stop")  # one frame on: the vehicle moves a few pixels
        await settle(app, pilot)
        assert view.shown_time == first + timedelta(seconds=0.25) and image.image is not picture
        spans = image.last_update
        assert spans is not None and 0 < len(spans) < image.content_size.height / 2, spans

"""View video (manual 000, "View video in an incident project"): plays one sequence.

Play/pause (space), step one frame (, .), slower/faster (- +), back to the start (home).  Frames
are drawn at most ``ui.video_fps`` times a second (default 2: the bytes an SSH link carries grow
with it); faster playback skips frames instead of drawing more.  Decoding runs in a thread, and the
play loop is a worker, so keys are handled between frames.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from imtui.engine.errors import ServiceError
from imtui.i18n import _
from imtui.screens.base import AppAccess
from imtui.screens.frame_view import TIME_FORMAT, FrameView, show_recorded
from imtui.screens.render import safe, tell

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)


class VideoScreen(AppAccess, Screen[None]):
    """Screen id ``video``: ``FrameView#video-frame`` and ``#video-title``."""

    BINDINGS = [
        Binding("space", "play_pause", _("Play/pause"), id="video-play"),
        Binding("comma", "step(-1)", _("−frame"), id="video-back", key_display=","),
        Binding("full_stop", "step(1)", _("+frame"), id="video-forward", key_display="."),
        Binding("minus", "speed(-1)", _("Slower"), id="video-slower", key_display="-"),
        Binding("plus,equals_sign", "speed(1)", _("Faster"), id="video-faster", key_display="+"),
        Binding("home", "rewind", _("Start"), id="video-rewind"),
        Binding("escape", "back", _("Back"), id="video-exit"),
    ]

    def __init__(self, camera_id: int, camera_name: str, start: datetime, end: datetime) -> None:
        super().__init__(id="video")
        self.camera_id, self.camera_name, self.start, self.end = camera_id, camera_name, start, end
        self.cursor = start
        self.playing = False
        self.speed_index = SPEEDS.index(1.0)

    @property
    def speed(self) -> float:
        return SPEEDS[self.speed_index]

    def compose(self) -> ComposeResult:
        tz = self.imtui.services.settings.timezone
        yield Static(safe(_("{camera} · {start} – {end}").format(
            camera=self.camera_name, start=self.start.astimezone(tz).strftime(TIME_FORMAT),
            end=self.end.astimezone(tz).strftime("%H:%M:%S"))), id="video-title")
        yield FrameView(self.imtui.services.settings.image_mode, id="video-frame")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#video-frame").can_focus = True
        self.query_one("#video-frame").focus()
        self.show_at(self.start, 0)

    def _state(self) -> str:
        state = _("playing") if self.playing else _("paused")
        return f"{state} ×{self.speed:g}"

    @work(exclusive=True, group="frame", exit_on_error=False)
    async def show_at(self, at: datetime, step: int) -> None:
        await self._show(at, step)

    async def _show(self, at: datetime, step: int) -> bool:
        at = min(max(at, self.start), self.end)
        view = self.query_one("#video-frame", FrameView)
        try:
            ref = await show_recorded(view, self.imtui.services.recordings, self.imtui.actor, self.camera_id, at,
                                      step, self.imtui.services.settings.timezone, self._state())
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            return False
        self.cursor = ref.time if ref is not None and self.start <= ref.time <= self.end else at
        return True

    def action_play_pause(self) -> None:
        self.playing = not self.playing
        if self.playing:
            if self.cursor >= self.end:
                self.cursor = self.start
            self.play()
        else:
            self.show_at(self.cursor, 0)  # the caption says "paused"

    @work(exclusive=True, group="frame", exit_on_error=False)
    async def play(self) -> None:
        """Advance by (1 / fps cap) × speed of recording time per drawn frame, in real time."""
        loop = asyncio.get_running_loop()
        interval = 1.0 / self.imtui.services.settings.video_fps
        while self.playing:
            began = loop.time()
            target = self.cursor + timedelta(seconds=interval * self.speed)
            if target > self.end:
                self.playing = False
                await self._show(self.end, 0)
                break
            if not await self._show(target, 0):
                self.playing = False
                break
            if self.cursor < target:  # a gap in the recording: jump over it
                self.cursor = target
            await asyncio.sleep(max(0.0, interval - (loop.time() - began)))

    def action_step(self, n: int) -> None:
        self.playing = False
        self.show_at(self.cursor, n)

    def action_speed(self, change: int) -> None:
        self.speed_index = min(len(SPEEDS) - 1, max(0, self.speed_index + change))
        if not self.playing:
            self.show_at(self.cursor, 0)

    def action_rewind(self) -> None:
        self.playing = False
        self.show_at(self.start, 0)

    def action_back(self) -> None:
        self.playing = False
        self.dismiss(None)

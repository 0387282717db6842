"""Playback (manual 000, "Create an incident project after an incident occurred"): choose a
camera, move a time cursor through its recordings, see the frame at the cursor, mark a start and
an end, then add the sequence to the draft list, to a new project or to an existing one.

Keys move the cursor by one frame (, .), 1 s (← →), 10 s ([ ]), 1 min ({ }) or to the previous
or next recorded period (PgUp PgDn).  The cursor snaps to the frame captured at that moment, so
the marks are the recording's own times.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from datetime import datetime, timedelta

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Input, Select, Static

from imtui.engine.errors import ServiceError
from imtui.engine.incidents import SequenceInput, parse_time_field
from imtui.engine.times import utcnow
from imtui.engine.video.recordings import FrameRef
from imtui.i18n import _
from imtui.screens.base import AppAccess
from imtui.screens.frame_view import TIME_FORMAT, FrameView, show_recorded
from imtui.screens.render import options, quiet_input, safe, tell

if TYPE_CHECKING:
    from imtui.screens.new_incident import NewIncident


class PlaybackFrame(FrameView):
    """The frame (``#playback-frame``) carries the playback's printable keys: they act only while
    it holds focus, not while the camera list or the time field does (issue 14, #12)."""

    BINDINGS = [
        Binding("comma", "screen.move_frames(-1)", _("−frame"), id="frame-back", key_display=","),
        Binding("full_stop", "screen.move_frames(1)", _("+frame"), id="frame-forward", key_display="."),
        Binding("left_square_bracket", "screen.move_seconds(-10)", _("−10 s"), id="ten-back", key_display="[",
                show=False),
        Binding("right_square_bracket", "screen.move_seconds(10)", _("+10 s"), id="ten-forward", key_display="]",
                show=False),
        Binding("left_curly_bracket", "screen.move_seconds(-60)", _("−1 min"), id="minute-back", key_display="{",
                show=False),
        Binding("right_curly_bracket", "screen.move_seconds(60)", _("+1 min"), id="minute-forward",
                key_display="}", show=False),
        Binding("s", "screen.mark_start", _("Start"), id="mark-start"),
        Binding("e", "screen.mark_end", _("End"), id="mark-end"),
        Binding("a", "screen.add_draft", _("To drafts"), id="add-draft"),
        Binding("n", "screen.add_new", _("New project"), id="add-new"),
        Binding("x", "screen.add_existing", _("Existing project"), id="add-existing"),
        Binding("g", "screen.go_to", _("Go to"), id="go-to"),
    ]


class PlaybackScreen(AppAccess, Screen[None]):
    """Screen id ``playback``."""

    BINDINGS = [
        Binding("left", "move_seconds(-1)", _("−1 s"), id="second-back", show=False),
        Binding("right", "move_seconds(1)", _("+1 s"), id="second-forward", show=False),
        Binding("pageup", "period(False)", _("Previous period"), id="period-back", show=False),
        Binding("pagedown", "period(True)", _("Next period"), id="period-forward", show=False),
        Binding("escape", "back", _("Back"), id="playback-back"),
    ]

    def __init__(self, camera_id: int | None = None, at: datetime | None = None) -> None:
        super().__init__(id="playback")
        self.camera_id = camera_id
        self.cursor: datetime = at or utcnow()
        self.ref: FrameRef | None = None
        self.start: datetime | None = None
        self.end: datetime | None = None
        self._initial = at

    def compose(self) -> ComposeResult:
        with Horizontal(id="playback-bar"):
            yield Select([], id="playback-camera", compact=True, prompt=_("Camera"))
            yield quiet_input(id="playback-time", placeholder=_("Go to YYYY-MM-DD HH:MM[:SS]"))
        yield PlaybackFrame(self.imtui.services.settings.image_mode, id="playback-frame")
        yield Static("", id="playback-period", markup=False)
        yield Static("", id="playback-marks", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#playback-frame").can_focus = True
        self.load_cameras()

    @work(exclusive=True, group="cameras", exit_on_error=False)
    async def load_cameras(self) -> None:
        try:
            cameras = await self.imtui.services.incidents.cameras()
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            return
        select = self.query_one("#playback-camera", Select)
        select.set_options(options(cameras))
        if cameras:
            chosen = self.camera_id if self.camera_id in {c.id for c in cameras} else cameras[0].id
            self.camera_id = None  # the Changed handler starts from the camera's latest period
            select.value = chosen
        self.query_one("#playback-frame").focus()
        self._show_marks()

    @on(Select.Changed, "#playback-camera")
    def camera_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, int) and event.value != self.camera_id:
            self.camera_id = event.value
            self.start = self.end = None
            self._show_marks()
            self.query_one("#playback-frame").focus()  # where its keys act
            self.jump_to_latest()

    @work(exclusive=True, group="frame", exit_on_error=False)
    async def jump_to_latest(self) -> None:
        """A camera was chosen: start at the given moment, else at its latest recorded period."""
        svc, actor = self.imtui.services.recordings, self.imtui.actor
        at = self._initial
        self._initial = None
        try:
            if at is None:
                at = await svc.neighbour(actor, self.camera_id, utcnow() + timedelta(days=1), False) or utcnow()
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            return
        await self._load(at, 0)

    # -- moving the cursor ---------------------------------------------------------------------------
    def action_move_frames(self, n: int) -> None:
        self.move(self.cursor, n)

    def action_move_seconds(self, seconds: int) -> None:
        self.move(self.cursor + timedelta(seconds=seconds), 0)

    @work(exclusive=True, group="frame", exit_on_error=False)
    async def action_period(self, forward: bool) -> None:
        if self.camera_id is None:
            return
        try:
            at = await self.imtui.services.recordings.neighbour(self.imtui.actor, self.camera_id, self.cursor, forward)
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            return
        if at is None:
            tell(self, _("No later recorded period.") if forward else _("No earlier recorded period."))
            return
        await self._load(at, 0)

    @work(exclusive=True, group="frame", exit_on_error=False)
    async def move(self, at: datetime, frames: int) -> None:
        await self._load(at, frames)

    async def _load(self, at: datetime, frames: int) -> None:
        if self.camera_id is None:
            return
        svc, actor, tz = self.imtui.services.recordings, self.imtui.actor, self.imtui.services.settings.timezone
        view = self.query_one("#playback-frame", FrameView)
        try:
            self.ref = await show_recorded(view, svc, actor, self.camera_id, at, frames, tz)
            self.cursor = self.ref.time if self.ref is not None else at
            periods = await svc.periods(actor, self.camera_id, self.cursor, self.cursor)
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            return
        if periods:
            p = periods[0]
            text = _("Recorded period {start} – {end}").format(
                start=p.start.astimezone(tz).strftime(TIME_FORMAT), end=p.end.astimezone(tz).strftime("%H:%M:%S"))
            if p.open:
                text += " · " + _("recording")
            if p.locked:
                text += " · " + _("held as evidence by an incident project: kept beyond the camera's retention")
        else:
            text = _("No recording here. PgUp/PgDn: previous/next recorded period.")
        self.query_one("#playback-period", Static).update(safe(text))

    # -- go to a typed time ----------------------------------------------------------------------------
    def action_go_to(self) -> None:
        self.query_one("#playback-time", Input).focus()

    @on(Input.Submitted, "#playback-time")
    def go_to_typed(self, event: Input.Submitted) -> None:
        try:
            at = parse_time_field(_("Go to"), event.value, self.imtui.services.settings.timezone)
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            return
        self.query_one("#playback-frame").focus()
        self.move(at, 0)

    # -- marks and adding -----------------------------------------------------------------------------
    def action_mark_start(self) -> None:
        if self._recorded():
            self.start = self.cursor
            self._show_marks()

    def action_mark_end(self) -> None:
        if self._recorded():
            self.end = self.cursor
            self._show_marks()

    def _recorded(self) -> bool:
        if self.ref is None:
            tell(self, _("Sequence: nothing was recorded at this moment; move to a recorded period (PgUp/PgDn)."),
                 error=True)
        return self.ref is not None

    def _show_marks(self) -> None:
        tz = self.imtui.services.settings.timezone
        start = self.start.astimezone(tz).strftime(TIME_FORMAT) if self.start else "—"
        end = self.end.astimezone(tz).strftime(TIME_FORMAT) if self.end else "—"
        self.query_one("#playback-marks", Static).update(
            safe(_("Start {start} · End {end}  (s: mark start, e: mark end)").format(start=start, end=end)))

    def _sequence(self) -> SequenceInput | None:
        if self.camera_id is None or self.start is None or self.end is None:
            tell(self, _("Sequence: mark a start (s) and an end (e) first."), error=True)
            return None
        if self.end < self.start:
            tell(self, _("End time: it is before the start time; pick an end after the start."), error=True)
            return None
        return SequenceInput(self.camera_id, self.start, self.end)

    async def _checked(self) -> SequenceInput | None:
        """The marked sequence if it lies inside one recorded period (what a sequence is)."""
        seq = self._sequence()
        if seq is None:
            return None
        try:
            periods = await self.imtui.services.recordings.periods(self.imtui.actor, seq.camera_id, seq.start_time,
                                                                   seq.end_time)
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            return None
        if len(periods) != 1:
            tell(self, _("Sequence: the start and the end are in different recorded periods; mark both inside "
                         "one period."), error=True)
            return None
        return seq

    @work(exclusive=True, group="action", exit_on_error=False)
    async def action_add_draft(self) -> None:
        seq = await self._checked()
        if seq is None:
            return
        try:
            await self.imtui.services.drafts.add(self.imtui.actor, seq.camera_id, seq.start_time, seq.end_time)
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            return
        tell(self, _("Sequence added to the draft sequence list."))
        self.start = self.end = None
        self._show_marks()

    @work(exclusive=True, group="action", exit_on_error=False)
    async def action_add_new(self) -> None:
        from imtui.screens.new_incident import NewIncidentDialog

        seq = await self._checked()
        if seq is None:
            return
        try:
            types = await self.imtui.services.incidents.types()
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            return
        self.app.push_screen(NewIncidentDialog(types, lambda choice: self._create(seq, choice)),
                             callback=self._created)

    async def _create(self, seq: SequenceInput, choice: NewIncident) -> int:
        return await self.imtui.services.incidents.create(self.imtui.actor, choice.type_id, choice.description,
                                                          [seq], token=choice.token)

    def _created(self, new_id: int | None) -> None:
        if new_id is None:
            return
        tell(self, _("Incident project {id} created.").format(id=new_id))
        self.start = self.end = None
        self._show_marks()

    @work(exclusive=True, group="action", exit_on_error=False)
    async def action_add_existing(self) -> None:
        from imtui.screens.pick_incident import PickIncidentScreen

        seq = await self._checked()
        if seq is not None:
            self.app.push_screen(PickIncidentScreen(), callback=lambda iid: self.add_to(seq, iid) if iid else None)

    @work(exclusive=True, group="action", exit_on_error=False)
    async def add_to(self, seq: SequenceInput, incident_id: int) -> None:
        try:
            await self.imtui.services.incidents.add_sequences(self.imtui.actor, incident_id, [seq])
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            return
        tell(self, _("Sequence added to incident project {id}.").format(id=incident_id))
        self.start = self.end = None
        self._show_marks()

    def action_back(self) -> None:
        if isinstance(self.focused, Input):
            self.query_one("#playback-frame").focus()
        else:
            self.dismiss(None)

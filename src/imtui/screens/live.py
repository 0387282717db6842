"""Live mode: a view (named group of cameras) on screen, and real-time incident projects.

Each camera's latest frame is redrawn at most once a second, only when the worker has a newer
one, and never in image mode ``off`` (then the screen is still: names only).  ``ctrl+r`` starts a
real-time incident project that collects every camera of the view; switching views collects the
new cameras from that moment; ``ctrl+r`` again saves it (type and description dialog).  The
elapsed time changes once a second and nothing else repaints.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Select, Static

from imtui.engine.errors import ServiceError, StaleError
from imtui.engine.video.realtime import RealtimeProject
from imtui.engine.video.views import ViewInfo
from imtui.i18n import _, ngettext
from imtui.screens.base import AppAccess
from imtui.screens.frame_view import FrameView, prepare
from imtui.screens.render import options, safe, tell

if TYPE_CHECKING:
    from imtui.screens.new_incident import NewIncident


class LiveScreen(AppAccess, Screen[None]):
    """Screen id ``live``: ``#live-view`` (Select), ``#live-grid`` with ``FrameView#live-cam-<id>``,
    ``#live-project`` (real-time project state and elapsed time)."""

    BINDINGS = [
        Binding("ctrl+r", "realtime", _("Start/save real-time project"), id="realtime", priority=True),
        Binding("escape", "back", _("Back"), id="live-back"),
    ]

    def __init__(self) -> None:
        super().__init__(id="live")
        self.views: list[ViewInfo] = []
        self.view: ViewInfo | None = None
        self.project: RealtimeProject | None = None
        self._shown: dict[int, datetime] = {}
        self._ticker = None
        self._saved = 0  # sequences of the project just saved, for the message

    @property
    def mode(self) -> str:
        return self.imtui.services.settings.image_mode

    def compose(self) -> ComposeResult:
        with Horizontal(id="live-bar"):
            yield Select([], id="live-view", compact=True, prompt=_("View"))
            yield Static("", id="live-project", markup=False)
        yield Grid(id="live-grid")
        yield Footer()

    def on_mount(self) -> None:
        self.load_views()
        if self.mode != "off":
            self.set_interval(1.0, self.refresh_frames, name="live-frames")

    @work(exclusive=True, group="views", exit_on_error=False)
    async def load_views(self) -> None:
        try:
            self.views = await self.imtui.services.views.list(self.imtui.actor)
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            return
        select = self.query_one("#live-view", Select)
        select.set_options(options(self.views))
        if self.views:
            select.value = self.views[0].id
        else:
            tell(self, _("No live views are defined; an administrator adds them with imtui admin views add."))

    @on(Select.Changed, "#live-view")
    async def view_changed(self, event: Select.Changed) -> None:
        view = next((v for v in self.views if v.id == event.value), None)
        if view is None or view == self.view:
            return
        self.view = view
        grid = self.query_one("#live-grid", Grid)
        await grid.remove_children()
        self._shown.clear()
        grid.styles.grid_size_columns = 1 if len(view.cameras) == 1 else 2
        await grid.mount_all(FrameView(self.mode, id=f"live-cam-{c.id}") for c in view.cameras)
        for c in view.cameras:
            self.query_one(f"#live-cam-{c.id}", FrameView).show(None, c.name)
        if self.project is not None:  # a real-time project follows the operator's views
            self.project.show([c.id for c in view.cameras])
            self._show_project()
        if self.mode != "off":
            self.refresh_frames()

    @work(exclusive=True, group="live-frames", exit_on_error=False)
    async def refresh_frames(self) -> None:
        """Draw each camera's newest frame if the worker wrote a newer one since the last draw."""
        if self.view is None:
            return
        svc, actor, tz = self.imtui.services.recordings, self.imtui.actor, self.imtui.services.settings.timezone
        for c in self.view.cameras:
            try:
                latest = await asyncio.to_thread(svc.latest, actor, c.id)
            except ServiceError:
                return
            if latest is None or self._shown.get(c.id) == latest[1]:
                continue
            frame, at, motion = latest
            views = self.query(f"#live-cam-{c.id}")
            if not views:
                continue
            view = cast(FrameView, views.first())
            picture = await asyncio.to_thread(prepare, frame, view.cells())
            self._shown[c.id] = at
            caption = f"{c.name} · {at.astimezone(tz):%H:%M:%S} · " + _("motion {level:.1f} %").format(level=motion * 100)
            view.show(picture, caption, time=at, frame=frame)

    # -- real-time incident project ------------------------------------------------------------------
    def action_realtime(self) -> None:
        if self.project is None:
            self.start_project()
        else:
            self.save_project()

    def start_project(self) -> None:
        if self.view is None:
            tell(self, _("View: choose a view with cameras first."), error=True)
            return
        try:
            self.project = self.imtui.services.realtime.start(self.imtui.actor, [c.id for c in self.view.cameras])
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            return
        self._ticker = self.set_interval(1.0, self._show_project, name="realtime-elapsed")
        self._show_project()
        tell(self, _("Real-time incident project started: collecting the cameras of this view."))

    @work(exclusive=True, group="action", exit_on_error=False)
    async def save_project(self) -> None:
        from imtui.screens.new_incident import NewIncidentDialog

        try:
            types = await self.imtui.services.incidents.types()
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            return
        self.app.push_screen(NewIncidentDialog(types, self._store), callback=self._stored)

    async def _store(self, choice: NewIncident) -> int:
        project = self.project
        if project is None:
            raise StaleError()
        saved = await self.imtui.services.realtime.save(self.imtui.actor, project, choice.type_id,
                                                        choice.description, token=choice.token)
        self._saved = saved.sequences
        return saved.incident_id

    def _stored(self, new_id: int | None) -> None:
        if new_id is None:  # cancelled: the project keeps collecting
            return
        self.project = None
        if self._ticker is not None:
            self._ticker.stop()
            self._ticker = None
        self._show_project()
        tell(self, ngettext("Incident project {id} created with {n} sequence.",
                            "Incident project {id} created with {n} sequences.", self._saved)
             .format(id=new_id, n=self._saved))

    def _show_project(self) -> None:
        label = self.query_one("#live-project", Static)
        if self.project is None:
            label.update("")
            return
        seconds = int(self.project.elapsed())
        label.update(safe(_("● Real-time incident project {h:02d}:{m:02d}:{s:02d} · {n} cameras · ctrl+r saves").format(
            h=seconds // 3600, m=seconds // 60 % 60, s=seconds % 60, n=len(self.project.active()))))

    def action_back(self) -> None:
        if self.project is None:
            self.dismiss(None)
            return
        self.ask(_("Discard the running real-time incident project?"), _("Discard"), lambda: self.dismiss(None))

"""LPR servers (manual 004, "View LPR server information"): screen ``#lpr-servers`` with every
registered server (``#lpr-servers-table``, row key = server id: name, host name, status) and the
highlighted server's details (``#lpr-servers-detail``: status, host name, service up time,
computer CPU usage, memory available, license plates recognized this session, last heartbeat in
the site's time zone, its error) over the table of its cameras (``#lpr-servers-cameras``, row
key = camera id: id, name, LPR or recording only, state).

Keys: ``c`` Change server for the highlighted camera (dialog ``#change-server``), ``x`` stop the
server (it stops at its next heartbeat, wherever it runs), ``delete`` forget a server that no
longer runs, ``f5`` refresh, ``escape`` back; Tab, or the down arrow on the last server and the
up arrow on the first camera, move between the two tables.

The figures change with every heartbeat, and every heartbeat publishes the SERVERS topic: the
screen reloads when the app's change hub delivers it (under a dialog or another screen, once when
shown again) and touches a widget only when what it shows differs.  The up time alone is not a reason
to redraw (it would make the screen a clock): it is brought up to date with the next change, at
the latest the next heartbeat of a running server.  Everything goes through LprServerService,
which checks the grant (properties: view to see, manage to change) and writes the audit log.
"""

from __future__ import annotations

import dataclasses

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static
from textual.worker import Worker

from imtui.engine.changes import Topic
from imtui.engine.errors import ServiceError
from imtui.engine.lpr_servers import ServerCamera, ServerView
from imtui.engine.times import format_site
from imtui.i18n import _
from imtui.screens.base import AppAccess
from imtui.screens.render import cell, safe, tell
from imtui.units import memory_size, up_time

MANAGE_ACTIONS = ("change_server", "stop_server", "forget_server")
NAME_WIDTH, HOST_WIDTH = 22, 20


def _states() -> dict[str, str]:
    """What a camera's reported state reads as ("" while its server has not reported it)."""
    return {"running": _("Running"), "starting": _("Starting"), "lost": _("Connection lost"), "": "-"}


def _steady(view: ServerView) -> ServerView:
    """A view without its up time, which grows with the clock: what decides a redraw."""
    return dataclasses.replace(view, uptime=None)


class _EdgeTable(DataTable):
    """A row table whose down arrow on its last row moves to the table ``below`` (and up on its
    first row to the table ``above``), so both tables of the screen are reached with the arrows."""

    def __init__(self, *, below: str | None = None, above: str | None = None, **kwargs: object) -> None:
        super().__init__(cursor_type="row", **kwargs)  # type: ignore[arg-type]
        self.below, self.above = below, above

    def _hop(self, selector: str | None) -> bool:
        target = self.screen.query_one(selector, DataTable) if selector else None
        if target is None or not target.row_count:
            return False
        target.focus()
        return True

    def action_cursor_down(self) -> None:
        if not (self.row_count and self.cursor_row >= self.row_count - 1 and self._hop(self.below)):
            super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if not (self.cursor_row <= 0 and self._hop(self.above)):
            super().action_cursor_up()


class LprServersScreen(AppAccess, Screen[None]):
    BINDINGS = [
        Binding("escape", "app.pop_screen", _("Back"), id="lpr-servers-back"),
        Binding("c", "change_server", _("Change server"), id="lpr-servers-change"),
        Binding("x", "stop_server", _("Stop server"), id="lpr-servers-stop"),
        Binding("delete", "forget_server", _("Forget server"), id="lpr-servers-forget"),
        Binding("f5", "reload", _("Refresh"), id="lpr-servers-refresh"),
    ]

    def __init__(self) -> None:
        super().__init__(id="lpr-servers")
        self.servers: list[ServerView] = []  # as last shown
        self._drawn = False  # the first load draws even an empty list
        self._shown_detail: ServerView | None | bool = False  # the (steady) view the detail shows
        self._shown_cameras: tuple[ServerCamera, ...] | None = None
        self._loader: Worker | None = None
        self._last_error = ""  # a failing reload is told once, not at every heartbeat

    def compose(self) -> ComposeResult:
        yield Static(_("LPR servers"), id="lpr-servers-title")
        yield _EdgeTable(id="lpr-servers-table", below="#lpr-servers-cameras")
        yield Static("", id="lpr-servers-detail")
        yield _EdgeTable(id="lpr-servers-cameras", above="#lpr-servers-table")
        yield Footer()

    def on_mount(self) -> None:
        servers = self.query_one("#lpr-servers-table", DataTable)
        servers.add_column(_("Name"), key="name", width=NAME_WIDTH)
        servers.add_column(_("Host name"), key="host", width=HOST_WIDTH)
        servers.add_column(_("Status"), key="status")
        cameras = self.query_one("#lpr-servers-cameras", DataTable)
        for key, label in (("id", _("ID")), ("name", _("Camera")), ("use", _("Use")), ("state", _("State"))):
            cameras.add_column(label, key=key)
        servers.focus()
        self.follow((Topic.SERVERS, Topic.CAMERAS), self._tick)  # every heartbeat publishes SERVERS

    def on_screen_resume(self) -> None:
        """Shown (again): load now, then with every heartbeat."""
        self.load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Dim what this user may not do (the engine refuses it anyway)."""
        if action in MANAGE_ACTIONS and not self.may_manage:
            return None
        return True

    # -- loading ----------------------------------------------------------------------------------
    def _tick(self) -> None:
        """The heartbeat reload; skipped while another load still runs (a slow database, or the
        load after a change, which must not be cancelled: it moves the cursor)."""
        if self._loader is None or self._loader.is_finished:
            self.load()

    def action_reload(self) -> None:
        self.load(force=True)

    def load(self, select: int | None = None, camera: int | None = None, force: bool = False) -> Worker:
        """Load the servers in a worker (the newest load wins); ``select`` a server and ``camera``
        one of its cameras afterwards; ``force`` tells a refusal even when it was told before."""
        self._loader = self._load(select, camera, force)
        return self._loader

    @work(exclusive=True, group="lpr-servers-load", exit_on_error=False)
    async def _load(self, select: int | None, camera: int | None, force: bool) -> None:
        try:
            views = await self.imtui.services.servers.servers(self.imtui.actor)
        except ServiceError as exc:
            if force or exc.message != self._last_error:
                tell(self, exc.message, error=True)
            self._last_error = exc.message
            return
        self._last_error = ""
        same = [_steady(v) for v in views] == [_steady(v) for v in self.servers]
        if same and self._drawn and select is None and camera is None:
            return  # nothing to redraw
        self.servers = views
        self._show_servers(select)
        self._show_detail(camera)
        self._drawn = True

    def _show_servers(self, select: int | None) -> None:
        """The server table: only the cells that changed, unless servers came or went."""
        table = self.query_one("#lpr-servers-table", DataTable)
        rows = {str(v.id): (cell(v.name, 100), cell(v.host, 200), Text(v.status)) for v in self.servers}
        if list(rows) == [k.value for k in table.rows]:
            for key, values in rows.items():
                for column, value in zip(("name", "host", "status"), values, strict=True):
                    if table.get_cell(key, column) != value:
                        table.update_cell(key, column, value)
        else:
            current = self.selected_server()
            keep = str(current.id) if current else None
            position = table.cursor_row
            table.clear()
            for key, values in rows.items():
                table.add_row(*values, key=key)
            if keep in rows:
                table.move_cursor(row=table.get_row_index(keep))
            elif rows and position is not None:
                table.move_cursor(row=min(position, len(rows) - 1))
        if select is not None and str(select) in rows:
            table.move_cursor(row=table.get_row_index(str(select)))

    @on(DataTable.RowHighlighted, "#lpr-servers-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_detail()

    def _show_detail(self, camera: int | None = None) -> None:
        """The highlighted server's figures and cameras, each redrawn only when it differs."""
        server = self.selected_server()
        steady = _steady(server) if server is not None else None
        if steady != self._shown_detail:
            self._shown_detail = steady
            self.query_one("#lpr-servers-detail", Static).update(self._detail(server))
        cameras = server.cameras if server is not None else ()
        table = self.query_one("#lpr-servers-cameras", DataTable)
        if cameras != self._shown_cameras:
            current = self.selected_camera()
            keep = str(current.id) if current else None
            self._shown_cameras = cameras
            states = _states()
            table.clear()
            for c in cameras:
                table.add_row(str(c.id), cell(c.name, 100), _("LPR") if c.lpr else _("Recording only"),
                              states.get(c.state, c.state), key=str(c.id))
            if keep is not None and any(str(c.id) == keep for c in cameras):
                table.move_cursor(row=table.get_row_index(keep))
        if camera is not None and any(c.id == camera for c in cameras):
            table.move_cursor(row=table.get_row_index(str(camera)))

    def _detail(self, server: ServerView | None) -> Text:
        if server is None:
            return Text(_("No LPR server has registered yet; start one with imtui worker."))
        tz = self.imtui.services.settings.timezone
        sep = "  \u00b7  "
        out = Text(_("Status: ")) + Text(server.status, style="bold") + Text("\n")
        out += Text(_("Host name: ")) + safe(server.host) + Text(sep)
        out += Text(_("Last heartbeat: {at}").format(at=format_site(server.heartbeat_at, tz)) + "\n")
        if server.running and server.uptime is not None:
            out.append(_("Service up time: {uptime}").format(uptime=up_time(server.uptime.total_seconds())) + sep)
            out.append(_("Computer CPU usage: {cpu:.0f} %").format(cpu=server.cpu_percent) + "\n")
            out.append(_("Memory available: {memory}").format(memory=memory_size(server.memory_available)) + sep)
            out.append(_("Recognized license plates (this session): {n:,}").format(n=server.plates))
        else:
            out.append(_("Service up time: -"))
        if server.error:
            out += Text("\n") + Text(_("Error: ")) + safe(server.error)
        return out

    # -- what is highlighted ------------------------------------------------------------------------
    def selected_server(self) -> ServerView | None:
        table = self.query_one("#lpr-servers-table", DataTable)
        if not self.servers or table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((v for v in self.servers if str(v.id) == key), None)

    def selected_camera(self) -> ServerCamera | None:
        table = self.query_one("#lpr-servers-cameras", DataTable)
        if not self._shown_cameras or table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((c for c in self._shown_cameras if str(c.id) == key), None)

    def _server_or_tell(self) -> ServerView | None:
        server = self.selected_server()
        if server is None:
            tell(self, _("Select an item in the list first."))
        return server

    # -- changes --------------------------------------------------------------------------------------
    # Dialogs are pushed with a callback, so no worker stays alive while one waits for an answer.
    def action_change_server(self) -> None:
        from imtui.screens.change_server_dialog import ChangeServerDialog

        server = self._server_or_tell()
        if server is None:
            return
        camera = self.selected_camera()
        if camera is None:
            tell(self, _("LPR server \u201c{name}\u201d has no cameras to move.").format(name=server.name))
            return
        self.app.push_screen(ChangeServerDialog(camera, server, self.servers),
                             callback=lambda target: self.move(camera, target) if target is not None else None)

    @work(exclusive=True, group="lpr-servers-action", exit_on_error=False)
    async def move(self, camera: ServerCamera, target: ServerView) -> None:
        if await self.attempt(self.imtui.services.servers.move_camera(self.imtui.actor, camera.id, target.id),
                              lambda name: _("Camera {id} now runs on LPR server \u201c{name}\u201d.").format(
                                  id=camera.id, name=name)):
            self.load(select=target.id, camera=camera.id)  # follow the camera to its new server
        else:
            self.load(force=True)

    def action_stop_server(self) -> None:
        server = self._server_or_tell()
        if server is not None:
            self.ask(_("Stop LPR server \u201c{name}\u201d? It stops at its next heartbeat, on whatever host it "
                       "runs, and its cameras are neither recorded nor read until it starts again.").format(
                         name=server.name), _("Stop"), lambda: self.stop(server))

    @work(exclusive=True, group="lpr-servers-action", exit_on_error=False)
    async def stop(self, server: ServerView) -> None:
        if await self.attempt(self.imtui.services.servers.request_stop(self.imtui.actor, server.id),
                              lambda name: _("LPR server \u201c{name}\u201d asked to stop; it stops at its next "
                                             "heartbeat.").format(name=name)):
            self.load(select=server.id)
        else:
            self.load(force=True)

    def action_forget_server(self) -> None:
        server = self._server_or_tell()
        if server is not None:
            self.ask(_("Forget LPR server \u201c{name}\u201d? Its cameras go to the next worker that starts or "
                       "reloads.").format(name=server.name), _("Forget"), lambda: self.forget(server))

    @work(exclusive=True, group="lpr-servers-action", exit_on_error=False)
    async def forget(self, server: ServerView) -> None:
        await self.attempt(self.imtui.services.servers.forget(self.imtui.actor, server.id),
                           lambda name: _("LPR server \u201c{name}\u201d forgotten; its cameras go to the next "
                                          "worker.").format(name=name))
        self.load(force=True)

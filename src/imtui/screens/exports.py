"""The export list (manual 000, "Export an incident project"): what "Send for export" put there,
the format and settings, and the export itself with a progress bar, the time left and Cancel.
The list is kept per user in the database; an export runs in the engine's worker thread and a
cancelled one leaves no files behind."""

from __future__ import annotations

import threading

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Button, Checkbox, DataTable, Footer, Label, ProgressBar, Select, Static

from imtui.engine.errors import InvalidInput, ServiceError
from imtui.engine.export.clips import Cancelled
from imtui.engine.export.names import export_folder
from imtui.engine.export.service import ExportItemView, ExportOptions, ExportProgress
from imtui.i18n import _
from imtui.screens.base import AppAccess
from imtui.screens.render import cell, quiet_input, safe, tell, time_cell

TIME = "%Y-%m-%d %H:%M:%S"


def remaining_text(seconds: float | None) -> str:
    if seconds is None:
        return _("estimating the time left")
    seconds = int(round(seconds))
    if seconds >= 60:
        return _("{m} min {s} s left").format(m=seconds // 60, s=seconds % 60)
    return _("{s} s left").format(s=seconds)


class ExportsScreen(AppAccess, Screen[None]):
    """Screen id ``exports``: ``#export-list`` (row key = item id), ``#export-format``,
    ``#export-timestamp``, ``#export-zip``, ``#export-show-names``, ``#export-folder``,
    ``#export-name``, ``#export-start``, ``#export-cancel``, ``#export-remove``,
    ``#export-progress``, ``#export-status``."""

    BINDINGS = [
        Binding("delete", "remove", _("Remove"), id="export-remove-key"),
        Binding("ctrl+s", "start", _("Start export"), id="export-start-key", priority=True),
        Binding("escape", "back", _("Back"), id="export-back"),
    ]

    def __init__(self, folder: str = "~") -> None:
        super().__init__(id="exports")
        self.items: list[ExportItemView] = []
        self.folder = folder
        self.cancel_event: threading.Event | None = None

    def compose(self) -> ComposeResult:
        yield Static(_("Export list"), classes="screen-title")
        yield DataTable(id="export-list", cursor_type="row")
        with Horizontal(id="export-settings"):
            yield Select([(_("Evidence package"), "package"), (_("MP4 files"), "mp4"), (_("AVI files (MJPEG)"), "avi")],
                         value="package", allow_blank=False, id="export-format", compact=True)
            yield Checkbox(_("Timestamp"), False, id="export-timestamp", compact=True)
            yield Checkbox(_("ZIP"), False, id="export-zip", compact=True)
            yield Checkbox(_("User names"), False, id="export-show-names", compact=True)
        with Horizontal(id="export-target"):
            yield Label(_("To folder"))
            yield quiet_input(id="export-folder", value=self.folder)
            yield Label(_("Name"))
            yield quiet_input(id="export-name", placeholder=_("automatic"))
        yield ProgressBar(total=1.0, show_eta=False, id="export-progress")
        yield Static("", id="export-status", markup=False)
        with Horizontal(classes="buttons"):
            yield Button(_("Start export"), id="export-start", variant="primary", compact=True)
            yield Button(_("Cancel export"), id="export-cancel", compact=True, disabled=True)
            yield Button(_("Remove"), id="export-remove", variant="error", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#export-list", DataTable)
        for key, label in (("project", _("Project")), ("camera", _("Camera")), ("start", _("Start")),
                           ("end", _("End"))):
            table.add_column(label, key=key)
        self.query_one("#export-progress", ProgressBar).display = False
        table.focus()
        self.load()

    @work(exclusive=True, group="load", exit_on_error=False)
    async def load(self) -> None:
        try:
            self.items = await self.imtui.services.exports.list(self.imtui.actor)
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            return
        tz = self.imtui.services.settings.timezone
        table = self.query_one("#export-list", DataTable)
        row = table.cursor_row
        table.clear()
        for it in self.items:
            table.add_row(cell(it.incident_id or "–"), cell(it.camera_name, 40), time_cell(it.start_time, tz, TIME),
                          time_cell(it.end_time, tz, TIME), key=str(it.id))
        if self.items:
            table.move_cursor(row=min(row or 0, len(self.items) - 1))
        if not self.running:
            self.query_one("#export-status", Static).update(
                _("{n} sequences to export").format(n=len(self.items)) if self.items
                else _("The export list is empty: select a project and press e (Send for export)."))

    @property
    def running(self) -> bool:
        return self.cancel_event is not None

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        event.stop()
        {"export-start": self.action_start, "export-cancel": self.action_cancel_export,
         "export-remove": self.action_remove}[event.button.id or ""]()

    def action_back(self) -> None:
        if self.running:
            tell(self, _("An export is running: cancel it first, or wait until it is done."))
            return
        self.dismiss(None)

    def action_remove(self) -> None:
        """Deleting always asks first."""
        table = self.query_one("#export-list", DataTable)
        if self.running or not self.items or table.cursor_row is None or table.cursor_row >= len(self.items):
            return
        item = self.items[table.cursor_row].id
        self.ask(_("Remove the highlighted sequence from the export list?"), _("Remove"),
                 lambda: self.remove_item(item))

    @work(exclusive=True, group="action", exit_on_error=False)
    async def remove_item(self, item: int) -> None:
        try:
            await self.imtui.services.exports.remove(self.imtui.actor, [item])
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            return
        self.load()

    def action_cancel_export(self) -> None:
        if self.cancel_event is not None:
            self.cancel_event.set()
            self.query_one("#export-status", Static).update(_("Cancelling…"))

    def _options(self) -> ExportOptions:
        fmt = self.query_one("#export-format", Select).value
        return ExportOptions(
            format=str(fmt), burn_timestamp=self.query_one("#export-timestamp", Checkbox).value,
            zip=self.query_one("#export-zip", Checkbox).value, name=self.query_one("#export-name").value,
            show_user_names=self.query_one("#export-show-names", Checkbox).value)

    def _progress(self, p: ExportProgress) -> None:
        if self.cancel_event is None or self.cancel_event.is_set():
            return
        self.query_one("#export-progress", ProgressBar).update(progress=p.fraction)
        self.query_one("#export-status", Static).update(safe(f"{p.label} · {remaining_text(p.remaining)}"))

    def action_start(self) -> None:
        if not self.running:
            self.run_export()

    @work(exclusive=True, group="export", exit_on_error=False)
    async def run_export(self) -> None:
        status = self.query_one("#export-status", Static)
        bar = self.query_one("#export-progress", ProgressBar)
        try:
            folder = export_folder(self.query_one("#export-folder").value)
        except InvalidInput as exc:
            tell(self, exc.message, error=True)
            self.query_one("#export-folder").focus()
            return
        self.cancel_event = threading.Event()
        self.query_one("#export-start", Button).disabled = True
        self.query_one("#export-cancel", Button).disabled = False
        bar.display = True
        bar.update(progress=0)
        status.update(_("Preparing the export…"))
        try:
            result = await self.imtui.services.exports.export(
                self.imtui.actor, self.items, folder, self._options(), progress=self._progress,
                cancel=self.cancel_event)
        except Cancelled:
            status.update(_("Export cancelled: nothing was left in the folder."))
            tell(self, _("Export cancelled."))
            return
        except InvalidInput as exc:
            status.update(safe(exc.message))
            tell(self, exc.message, error=True)
            return
        except ServiceError as exc:
            status.update(safe(exc.message))
            tell(self, exc.message, error=True)
            return
        except OSError as exc:
            message = _("Cannot export: {reason}. Nothing was left in the folder.").format(
                reason=exc.strerror or str(exc))
            status.update(safe(message))
            tell(self, message, error=True)
            return
        finally:
            self.cancel_event = None
            self.query_one("#export-start", Button).disabled = False
            self.query_one("#export-cancel", Button).disabled = True
        bar.update(progress=1.0)
        message = result.message
        if result.manifest_sha256:
            message += " " + _("manifest.json SHA-256: {sha}").format(sha=result.manifest_sha256)
        status.update(safe(message))
        tell(self, message, error=bool(result.missing))

"""Cameras (administrators): screen ``#admin-cameras`` with the list ``#cameras`` (row key = camera id).

Everything goes through CameraService, which checks the grant (properties: view to see the list,
manage to change it), refuses to delete a camera whose recordings are evidence of incident
projects, and writes the audit log.  Without the manage grant the actions are shown disabled.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Static

from imtui.engine.errors import ServiceError
from imtui.engine.video.cameras import CameraView
from imtui.i18n import _, ngettext
from imtui.screens.base import AppAccess
from imtui.screens.camera_dialog import CameraDialog, CameraForm
from imtui.screens.render import cell, safe, tell

# actions that change cameras, with the button that runs each
MANAGE_ACTIONS = {"add_camera": "#add-camera", "edit_camera": "#edit-camera", "toggle_camera": "#toggle-camera",
                  "delete_camera": "#delete-camera"}


NAME_WIDTH, SOURCE_WIDTH = 12, 12


def _two_lines(label: str) -> Text:
    """A column header over two lines, broken at the last space ("Motion" / "sensitivity")."""
    head, _sep, tail = label.rpartition(" ")
    return Text(f"{head}\n{tail}" if head else label)


class AdminCamerasScreen(AppAccess, Screen[None]):
    BINDINGS = [
        Binding("escape", "app.pop_screen", _("Back"), id="cameras-back"),
        Binding("n", "add_camera", _("Add"), id="cameras-add"),
        Binding("e", "edit_camera", _("Edit"), id="cameras-edit"),
        Binding("t", "toggle_camera", _("Enable/disable"), id="cameras-toggle"),
        Binding("delete", "delete_camera", _("Delete"), id="cameras-delete"),
        Binding("f5", "reload", _("Refresh"), id="cameras-refresh"),
        Binding("s", "lpr_servers", _("LPR servers"), id="cameras-lpr-servers"),
    ]

    def __init__(self) -> None:
        super().__init__(id="admin-cameras")
        self.cameras: dict[int, CameraView] = {}
        self._saved: int | None = None  # the camera the open dialog saved, to select it afterwards

    def compose(self) -> ComposeResult:
        yield Static(_("Cameras"), id="cameras-title")
        yield DataTable(id="cameras", cursor_type="row", header_height=2)
        yield Static("", id="camera-detail")
        with Horizontal(id="cameras-buttons", classes="buttons"):
            yield Button(_("Add"), id="add-camera", compact=True, variant="primary")
            yield Button(_("Edit"), id="edit-camera", compact=True)
            yield Button(_("Enable/disable"), id="toggle-camera", compact=True)
            yield Button(_("Delete"), id="delete-camera", compact=True, variant="error")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#cameras", DataTable)
        # two-line headers and cut name and source, so a whole row fits in 80 columns; the line
        # under the table shows the highlighted camera's full name and source
        for key, label, width in (
            ("name", _("Name"), NAME_WIDTH), ("source", _("Source"), SOURCE_WIDTH), ("enabled", _("Enabled"), None),
            ("retention", _("Retention (days)"), None), ("sensitivity", _("Motion sensitivity"), None),
            ("sequences", _("Used by sequences"), None),
        ):
            table.add_column(_two_lines(label), key=key, width=width)
        if not self.may_manage:
            for selector in MANAGE_ACTIONS.values():
                self.query_one(selector, Button).disabled = True
        table.focus()
        self.load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Dim what this user may not do (the engine refuses it anyway)."""
        if action in MANAGE_ACTIONS and not self.may_manage:
            return None
        return True

    # -- the list ---------------------------------------------------------------------------------
    def action_reload(self) -> None:
        self.load()

    def action_lpr_servers(self) -> None:
        """The LPR servers (``#lpr-servers``): status, figures, and which cameras each one runs."""
        from imtui.screens.lpr_servers import LprServersScreen

        self.app.push_screen(LprServersScreen())

    @work(exclusive=True, group="cameras-load", exit_on_error=False)
    async def load(self, select: int | None = None) -> None:
        try:
            cameras = await self.imtui.services.cameras.list(self.imtui.actor)
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            return
        table = self.query_one("#cameras", DataTable)
        current = self.selected()
        keep = select if select is not None else (current.id if current else None)
        row = table.cursor_row
        self.cameras = {c.id: c for c in cameras}
        table.clear()
        for c in cameras:
            table.add_row(
                cell(c.name, 40), cell(c.source, 60), _("yes") if c.enabled else _("no"), cell(c.retention_days),
                cell(c.motion_sensitivity), self._used(c.sequences), key=str(c.id),
            )
        if keep in self.cameras:
            table.move_cursor(row=table.get_row_index(str(keep)))
        elif cameras and row is not None:
            table.move_cursor(row=min(row, len(cameras) - 1))
        self._show_detail()

    @on(DataTable.RowHighlighted, "#cameras")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_detail()

    def _show_detail(self) -> None:
        """The highlighted camera in full: name and source, and whether its recordings are evidence."""
        camera = self.selected()
        detail = Text()
        if camera is not None:
            detail = safe(camera.name) + Text("  \u00b7  ") + safe(camera.source) + Text("\n")
            if camera.sequences:
                detail.append(ngettext("Evidence lock: {n} sequence of incident projects uses its recordings.",
                                       "Evidence lock: {n} sequences of incident projects use its recordings.",
                                       camera.sequences).format(n=camera.sequences))
            else:
                detail.append(_("No sequence of an incident project uses it."))
        self.query_one("#camera-detail", Static).update(detail)

    @staticmethod
    def _used(sequences: int) -> str:
        """How many sequences use the camera; its recordings are then evidence and cannot go."""
        if not sequences:
            return "0"
        return _("{n} (evidence lock)").format(n=sequences)

    def selected(self) -> CameraView | None:
        table = self.query_one("#cameras", DataTable)
        if not self.cameras or table.row_count == 0 or table.cursor_row is None:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.cameras.get(int(key)) if key is not None else None

    def _selected_or_tell(self) -> CameraView | None:
        camera = self.selected()
        if camera is None:
            tell(self, _("Select an item in the list first."))
        return camera

    # -- actions ----------------------------------------------------------------------------------
    @on(Button.Pressed, "#cameras-buttons Button")
    async def pressed(self, event: Button.Pressed) -> None:
        event.stop()
        action = next(a for a, selector in MANAGE_ACTIONS.items() if selector == f"#{event.button.id}")
        await self.run_action(action)

    @on(DataTable.RowSelected, "#cameras")
    async def row_chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        await self.run_action("edit_camera")

    # Dialogs are pushed with a callback rather than awaited inside a worker, so no worker stays
    # alive while a dialog waits for the administrator.
    def action_add_camera(self) -> None:
        async def save(form: CameraForm) -> None:
            new_id = await self.imtui.services.cameras.add(
                self.imtui.actor, form.name or "", form.source or "", enabled=bool(form.enabled),
                retention_days=form.retention_days, motion_sensitivity=form.motion_sensitivity)
            self._saved = new_id

        self._saved = None
        self.app.push_screen(CameraDialog(None, save), callback=self._after_dialog)

    def action_edit_camera(self) -> None:
        camera = self._selected_or_tell()
        if camera is None:
            return

        async def save(form: CameraForm) -> None:
            await self.imtui.services.cameras.edit(
                self.imtui.actor, camera.id, name=form.name, source=form.source, enabled=form.enabled,
                retention_days=form.retention_days, motion_sensitivity=form.motion_sensitivity)
            self._saved = camera.id

        self._saved = None
        self.app.push_screen(CameraDialog(camera, save), callback=self._after_dialog)

    def _after_dialog(self, form: CameraForm | None) -> None:
        """Saved: show it selected.  Cancelled: reload too (a refusal may have been "refresh the list")."""
        if form is not None:
            tell(self, _("Saved."))
        self.load(select=self._saved)

    def action_toggle_camera(self) -> None:
        camera = self._selected_or_tell()
        if camera is not None:
            self.toggle(camera)

    @work(exclusive=True, group="cameras-action", exit_on_error=False)
    async def toggle(self, camera: CameraView) -> None:
        done = _("Camera enabled.") if not camera.enabled else _("Camera disabled.")
        if await self.attempt(self.imtui.services.cameras.edit(self.imtui.actor, camera.id,
                                                                enabled=not camera.enabled), done):
            self.load(select=camera.id)
        else:
            self.load()

    def action_delete_camera(self) -> None:
        camera = self._selected_or_tell()
        if camera is not None:
            self.ask(_("Delete camera \u201c{name}\u201d? This cannot be undone.").format(name=camera.name),
                     _("Delete"), lambda: self.delete(camera))

    @work(exclusive=True, group="cameras-action", exit_on_error=False)
    async def delete(self, camera: CameraView) -> None:
        await self.attempt(self.imtui.services.cameras.delete(self.imtui.actor, camera.id), _("Camera deleted."))
        self.load()

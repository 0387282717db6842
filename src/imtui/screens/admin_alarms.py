"""Alarm definitions (administrators; manual 004, "Alarms triggered by LPR"): screen
``#admin-alarms``, opened with ``d`` from the alarm manager, with the definitions
``#admin-alarms-table`` (row key = definition id) and the highlighted one in full
``#admin-alarms-detail``.

Each definition says what raises an alarm (a match list, or one of the four LPR server events),
from which cameras, with which priority, whether it is enabled, and its event actions (a webhook,
a command named in ``[actions.commands]`` of the worker host's config).  Keys: ``n`` new, ``e`` /
Enter edit (dialog ``#alarm-definition``), ``t`` enable/disable, ``delete`` delete (raised alarms
stay), ``f5`` refresh, ``escape`` back.  Everything goes through AlarmService, which checks the
grant (properties: view to see, manage to change) and writes the audit log; a refusal is shown.
A webhook URL is never shown here with its ``user:password@``.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from imtui.engine.alarms import DefinitionView, safe_url
from imtui.engine.errors import ServiceError
from imtui.engine.matchlists.service import ListView
from imtui.engine.video.cameras import CameraView
from imtui.i18n import _
from imtui.screens.alarm_definition_dialog import (
    AlarmDefinitionDialog,
    AlarmDefinitionForm,
    command_note,
    priority_names,
    trigger_names,
)
from imtui.screens.base import AppAccess
from imtui.screens.render import cell, safe, tell

MANAGE_ACTIONS = ("new", "edit", "toggle", "delete")


class AdminAlarmsScreen(AppAccess, Screen[None]):
    BINDINGS = [
        Binding("escape", "app.pop_screen", _("Back"), id="admin-alarms-back"),
        Binding("n", "new", _("New"), id="admin-alarms-new"),
        Binding("e", "edit", _("Edit"), id="admin-alarms-edit"),
        Binding("t", "toggle", _("Enable/disable"), id="admin-alarms-toggle"),
        Binding("delete", "delete", _("Delete"), id="admin-alarms-delete"),
        Binding("f5", "reload", _("Refresh"), id="admin-alarms-refresh"),
    ]

    def __init__(self) -> None:
        super().__init__(id="admin-alarms")
        self.definitions: dict[int, DefinitionView] = {}
        self.lists: list[ListView] = []
        self.cameras: list[CameraView] = []
        self.loaded = False  # the definitions, lists and cameras were read (the dialog needs them)
        self._saved: int | None = None  # the definition the open dialog saved, to select it afterwards

    @property
    def commands(self) -> dict[str, tuple[str, ...]]:
        """The commands of THIS host's config (a hint only: the worker host's config counts)."""
        return self.imtui.services.settings.action_commands

    def compose(self) -> ComposeResult:
        yield Static(_("Alarm definitions"), id="admin-alarms-title")
        yield DataTable(id="admin-alarms-table", cursor_type="row")
        yield Static("", id="admin-alarms-detail")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#admin-alarms-table", DataTable)
        # cut columns, so a whole row fits in 80 columns; the detail shows the highlighted one in full
        for key, label, width in (("name", _("Name"), 14), ("trigger", _("Trigger"), 14),
                                  ("sources", _("Sources"), 11), ("priority", _("Priority"), None),
                                  ("enabled", _("Enabled"), None), ("outputs", _("Outputs"), 12)):
            table.add_column(label, key=key, width=width)
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

    @work(exclusive=True, group="admin-alarms-load", exit_on_error=False)
    async def load(self, select: int | None = None) -> None:
        services, actor = self.imtui.services, self.imtui.actor
        try:
            found = await services.alarms.definitions(actor)
            lists = await services.matchlists.lists(actor)
            cameras = await services.cameras.list(actor)
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            if not self.loaded:
                self.query_one("#admin-alarms-detail", Static).update(safe(exc.message, multiline=True))
            return
        table = self.query_one("#admin-alarms-table", DataTable)
        current = self.selected()
        keep = select if select is not None else (current.id if current else None)
        row = table.cursor_row
        self.definitions = {d.id: d for d in found}
        self.lists, self.cameras, self.loaded = lists, cameras, True
        priorities = priority_names()
        table.clear()
        for d in found:
            table.add_row(cell(d.name, 40), cell(self.trigger_text(d), 40), cell(self.sources_text(d), 60),
                          priorities.get(d.priority, str(d.priority)), _("yes") if d.enabled else _("no"),
                          cell(self.outputs_text(d), 60), key=str(d.id))
        if keep in self.definitions:
            table.move_cursor(row=table.get_row_index(str(keep)))
        elif found and row is not None:
            table.move_cursor(row=min(row, len(found) - 1))
        self._show_detail()

    def trigger_text(self, d: DefinitionView) -> str:
        """The list's name, or the event as the manual names it."""
        if d.trigger == "list":
            name = next((v.name for v in self.lists if v.id == d.list_id), None)
            return name if name is not None else _("List {id} (deleted)").format(id=d.list_id)
        return trigger_names().get(d.trigger, d.trigger)

    def sources_text(self, d: DefinitionView) -> str:
        if not d.cameras:
            return _("All cameras")
        names = {c.id: c.name for c in self.cameras}
        return ", ".join(names.get(i, _("Camera {id} (deleted)").format(id=i)) for i in d.cameras)

    @staticmethod
    def outputs_text(d: DefinitionView) -> str:
        """Short, for the table: "webhook, command gate"."""
        out = []
        if d.webhook_url:
            out.append(_("webhook"))
        if d.command:
            out.append(_("command {name}").format(name=d.command))
        return ", ".join(out) or "-"

    @on(DataTable.RowHighlighted, "#admin-alarms-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_detail()

    def _show_detail(self) -> None:
        """The highlighted definition in full; user text sanitised, never markup, no credentials."""
        d = self.selected()
        detail = Text()
        if d is None:
            if self.loaded and not self.definitions:
                detail.append(_("No alarm definitions. Press n to add one."))
            self.query_one("#admin-alarms-detail", Static).update(detail)
            return
        kind = _("match list") if d.trigger == "list" else _("LPR server event")
        detail += safe(d.name) + Text("  \u00b7  ") + Text(f"{kind}: ") + safe(self.trigger_text(d))
        detail += Text("  \u00b7  ") + Text(priority_names().get(d.priority, str(d.priority)))
        detail += Text("  \u00b7  ") + Text(_("enabled") if d.enabled else _("disabled")) + Text("\n")
        detail += Text(_("Sources: ")) + safe(self.sources_text(d)) + Text("\n")
        if d.webhook_url:
            detail += Text(_("Webhook: ")) + safe(safe_url(d.webhook_url)) + Text(" ")
            detail += Text(_("({timeout:g} s, {retries} retries)").format(timeout=d.webhook_timeout,
                                                                          retries=d.webhook_retries))
        else:
            detail += Text(_("Webhook: none"))
        detail += Text("  \u00b7  ") + Text(_("Command: ")) + (safe(d.command) if d.command else Text(_("none")))
        if d.has_outputs:
            detail += Text("\n") + Text(_("Alarms found after the read: outputs run") if d.retroactive_outputs
                                        else _("Alarms found after the read: no output"))
        if note := command_note(d.command, self.commands):
            detail += Text("\n") + safe(note, style="italic")
        self.query_one("#admin-alarms-detail", Static).update(detail)

    def selected(self) -> DefinitionView | None:
        table = self.query_one("#admin-alarms-table", DataTable)
        if not self.definitions or table.row_count == 0 or table.cursor_row is None:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.definitions.get(int(key)) if key is not None else None

    def _selected_or_tell(self) -> DefinitionView | None:
        d = self.selected()
        if d is None:
            tell(self, _("Select an item in the list first."))
        return d

    # -- changes ----------------------------------------------------------------------------------
    @on(DataTable.RowSelected, "#admin-alarms-table")
    async def _row_chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        await self.run_action("edit")

    # Dialogs are pushed with a callback rather than awaited inside a worker, so no worker stays
    # alive while a dialog waits for the administrator.
    def action_new(self) -> None:
        if not self.loaded:
            tell(self, _("The list is still loading (or was refused); press f5 to refresh."), error=True)
            return

        async def save(form: AlarmDefinitionForm) -> None:
            saved = await self.imtui.services.alarms.define(self.imtui.actor, form.name or "", **form.changes())
            self._saved = saved.id

        self._saved = None
        self.app.push_screen(AlarmDefinitionDialog(None, self.lists, self.cameras, self.commands, save),
                             callback=self._after_dialog)

    def action_edit(self) -> None:
        d = self._selected_or_tell()
        if d is None:
            return

        async def save(form: AlarmDefinitionForm) -> None:
            changes = form.changes()
            if form.name is not None:
                changes["name"] = form.name
            await self.imtui.services.alarms.update_definition(self.imtui.actor, d.id, **changes)
            self._saved = d.id

        self._saved = None
        self.app.push_screen(AlarmDefinitionDialog(d, self.lists, self.cameras, self.commands, save),
                             callback=self._after_dialog)

    def _after_dialog(self, form: AlarmDefinitionForm | None) -> None:
        """Saved: show it selected (and the command hint).  Cancelled: reload too (a refusal may
        have been "refresh the list")."""
        if form is not None:
            note = command_note(form.command, self.commands)
            tell(self, _("Saved.") + (f"\n{note}" if note else ""))
        self.load(select=self._saved)

    def action_toggle(self) -> None:
        d = self._selected_or_tell()
        if d is not None:
            self.toggle(d)

    @work(exclusive=True, group="admin-alarms-change", exit_on_error=False)
    async def toggle(self, d: DefinitionView) -> None:
        done = _("Alarm definition enabled.") if not d.enabled else _("Alarm definition disabled.")
        if await self.attempt(self.imtui.services.alarms.update_definition(self.imtui.actor, d.id,
                                                                           enabled=not d.enabled), done):
            self.load(select=d.id)
        else:
            self.load()

    def action_delete(self) -> None:
        d = self._selected_or_tell()
        if d is not None:
            self.ask(_("Delete alarm definition \u201c{name}\u201d? Alarms it has already raised stay in the alarm "
                       "manager.").format(name=d.name), _("Delete"), lambda: self.delete(d))

    @work(exclusive=True, group="admin-alarms-change", exit_on_error=False)
    async def delete(self, d: DefinitionView) -> None:
        await self.attempt(self.imtui.services.alarms.delete_definition(self.imtui.actor, d.id),
                           _("Alarm definition deleted; the alarms it raised stay."))
        self.load()

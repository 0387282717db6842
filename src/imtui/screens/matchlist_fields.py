"""The custom fields of one match list (manual 004, "Working with license plate match lists"):
the dialog ``#matchlist-fields`` shows the list's fields in their column order in
``#matchlist-fields-table`` (row key = field id) and changes them through MatchListService.

Keys: ``ctrl+n`` add, ``f2`` rename (both in the form dialog ``#matchlist-field-dialog``, input
``#form-name``: a refusal keeps it open with what was typed), ``delete`` delete (after a
confirmation that names how many plates lose the field's values), ``ctrl+up`` / ``ctrl+down``
move the highlighted field (``ctrl+u`` / ``ctrl+d`` for terminals that send no ctrl+arrows),
``escape`` close.  No printable key acts: a name typed on after its form dialog closed must not
add, rename or move a field.  Dismisses with the list as it stands after the changes, or None when nothing changed.
"""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Label, Static

from imtui.engine.errors import ServiceError
from imtui.engine.matchlists.service import FieldView, ListView
from imtui.i18n import _
from imtui.screens.base import AppAccess
from imtui.screens.form_dialog import FormDialog, FormField, Values
from imtui.screens.render import cell, plain, tell

FIELD_DIALOG_ID = "matchlist-field-dialog"


class MatchListFieldsDialog(AppAccess, ModalScreen[ListView | None]):
    BINDINGS = [
        Binding("escape", "close", _("Close"), id="matchlist-fields-close"),
        Binding("ctrl+n", "add", _("Add"), id="matchlist-fields-add"),
        Binding("f2", "rename", _("Rename"), id="matchlist-fields-rename"),
        Binding("delete", "delete", _("Delete"), id="matchlist-fields-delete"),
        Binding("ctrl+up,ctrl+u", "move(-1)", _("Move up"), id="matchlist-fields-up"),
        Binding("ctrl+down,ctrl+d", "move(1)", _("Move down"), id="matchlist-fields-down"),
    ]

    def __init__(self, view: ListView) -> None:
        super().__init__()
        self.view = view
        self.changed = False
        self.writing = asyncio.Lock()  # changes run one after the other, in the order of the keys

    def compose(self) -> ComposeResult:
        with Vertical(id="matchlist-fields", classes="dialog"):
            yield Label(plain(_("Custom fields of {name}").format(name=self.view.name)), classes="dialog-title")
            yield DataTable(id="matchlist-fields-table", cursor_type="row")
            yield Static("", id="matchlist-fields-note")
            yield Static(Text("\n".join((_("ctrl+n add · f2 rename · delete delete · escape close"),
                                          _("ctrl+up or ctrl+u: move up · ctrl+down or ctrl+d: move down")))),
                         id="matchlist-fields-keys")
            with Horizontal(classes="buttons"):
                yield Button(_("Close"), id="matchlist-fields-done", compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#matchlist-fields-table", DataTable)
        table.add_column("#", key="position", width=2)
        table.add_column(_("Field (column order of the plates)"), key="name")
        self.show_fields()
        table.focus()
        self.reload()

    # -- showing ------------------------------------------------------------------------------------
    def show_fields(self, select: int | None = None) -> None:
        """Fill the table from ``self.view``; the cursor stays on ``select`` (a field id) or where it was."""
        table = self.query_one("#matchlist-fields-table", DataTable)
        keep = select if select is not None else (f.id if (f := self.highlighted()) else None)
        table.clear()
        for i, f in enumerate(self.view.fields, start=1):
            table.add_row(str(i), cell(f.name, 100), key=str(f.id))
        if keep is not None and any(f.id == keep for f in self.view.fields):
            table.move_cursor(row=table.get_row_index(str(keep)))
        plates = f"{self.view.entries:,}"
        note = (_("No custom fields yet; press ctrl+n to add one. The list has {n} plates.") if not self.view.fields
                else _("{count} fields, shown as columns in this order; the list has {n} plates."))
        self.query_one("#matchlist-fields-note", Static).update(
            Text(note.format(count=len(self.view.fields), n=plates)))

    def highlighted(self) -> FieldView | None:
        table = self.query_one("#matchlist-fields-table", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((f for f in self.view.fields if key is not None and str(f.id) == key), None)

    def took(self, view: ListView, select: int | None = None) -> None:
        """A change the service accepted: show the list as it now is."""
        self.view = view
        self.changed = True
        self.show_fields(select)

    @work(group="matchlist-fields", exit_on_error=False)
    async def reload(self) -> None:
        """The list as stored now (the screen's copy may be older)."""
        async with self.writing:
            try:
                self.view = await self.imtui.services.matchlists.get(self.imtui.actor, self.view.id)
            except ServiceError as exc:
                tell(self, exc.message, error=True)
                return
            self.show_fields()

    # -- changes ------------------------------------------------------------------------------------
    def action_add(self) -> None:
        async def save(values: Values) -> None:
            async with self.writing:
                view = await self.imtui.services.matchlists.add_field(self.imtui.actor, self.view.id,
                                                                      str(values["name"]))
                self.took(view, select=view.fields[-1].id if view.fields else None)

        self.app.push_screen(FormDialog(_("Add custom field to {name}").format(name=self.view.name),
                                        [FormField("name", _("Name"), "", _("e.g. Owner"))], save,
                                        dialog_id=FIELD_DIALOG_ID))

    def action_rename(self) -> None:
        field = self.highlighted()
        if field is None:
            return

        async def save(values: Values) -> None:
            async with self.writing:
                view = await self.imtui.services.matchlists.rename_field(self.imtui.actor, self.view.id, field.id,
                                                                         str(values["name"]))
                self.took(view, select=field.id)

        self.app.push_screen(FormDialog(_("Rename custom field {name}").format(name=field.name),
                                        [FormField("name", _("Name"), field.name)], save, dialog_id=FIELD_DIALOG_ID))

    def action_delete(self) -> None:
        field = self.highlighted()
        if field is None:
            return
        if self.view.entries:
            question = _("Delete the field {field} of {name}?\nIts values are dropped from every plate of the list "
                         "({n} plates).").format(field=field.name, name=self.view.name, n=f"{self.view.entries:,}")
        else:
            question = _("Delete the field {field} of {name}?\nThe list holds no plates, so no values are lost.").format(
                field=field.name, name=self.view.name)
        self.ask(question, _("Delete"), lambda: self.delete_field(field))

    @work(group="matchlist-fields", exit_on_error=False)
    async def delete_field(self, field: FieldView) -> None:
        async with self.writing:
            row = self.query_one("#matchlist-fields-table", DataTable).cursor_row
            try:
                view = await self.imtui.services.matchlists.delete_field(self.imtui.actor, self.view.id, field.id)
            except ServiceError as exc:
                tell(self, exc.message, error=True)
                self.reload()
                return
            self.took(view)
            table = self.query_one("#matchlist-fields-table", DataTable)
            if table.row_count:
                table.move_cursor(row=min(row, table.row_count - 1))
            tell(self, _("Custom field {name} deleted.").format(name=field.name))

    def action_move(self, step: int) -> None:
        field = self.highlighted()
        if field is not None:
            self.move_field(field, step)

    @work(group="matchlist-fields", exit_on_error=False)
    async def move_field(self, field: FieldView, step: int) -> None:
        """Not exclusive: a second ctrl+up must not cancel the first half-way; they queue instead."""
        async with self.writing:
            order = [f.id for f in self.view.fields]
            if field.id not in order or not 0 <= order.index(field.id) + step < len(order):
                return  # already first / last (or gone): nothing to write
            try:
                view = await self.imtui.services.matchlists.move_field(self.imtui.actor, self.view.id, field.id, step)
            except ServiceError as exc:
                tell(self, exc.message, error=True)
                self.reload()
                return
            self.took(view, select=field.id)

    # -- closing ------------------------------------------------------------------------------------
    @on(Button.Pressed, "#matchlist-fields-done")
    def _done_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_close()

    def action_close(self) -> None:
        self.dismiss(self.view if self.changed else None)

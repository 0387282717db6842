"""The draft sequence list (manual 000, "Add several sequences"): the operator's collected
sequences, kept across sessions.  Space selects rows; "add all" makes a new project of every
draft, "add selected" adds the selected ones (or the highlighted one) to an existing project."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Static

from imtui.engine.drafts import DraftView
from imtui.engine.errors import ServiceError
from imtui.i18n import _, ngettext
from imtui.screens.base import AppAccess
from imtui.screens.render import cell, tell, time_cell

if TYPE_CHECKING:
    from imtui.screens.new_incident import NewIncident

TIME = "%Y-%m-%d %H:%M:%S"


class DraftsScreen(AppAccess, Screen[None]):
    """Screen id ``drafts``; table ``#drafts`` (row key = draft id)."""

    BINDINGS = [
        Binding("space", "toggle", _("Select"), id="drafts-toggle"),
        Binding("delete", "remove", _("Remove"), id="drafts-remove"),
        Binding("n", "add_all_new", _("All to new project"), id="drafts-add-new"),
        Binding("x", "add_selected_existing", _("Selected to existing"), id="drafts-add-existing"),
        Binding("escape", "back", _("Back"), id="drafts-back"),
    ]

    def __init__(self) -> None:
        super().__init__(id="drafts")
        self.drafts: list[DraftView] = []
        self.selected: set[int] = set()

    def compose(self) -> ComposeResult:
        yield Static(_("Draft sequence list"), classes="screen-title")
        yield DataTable(id="drafts", cursor_type="row")
        with Horizontal(classes="buttons"):
            yield Button(_("Add all to new incident project"), id="drafts-new", compact=True, variant="primary")
            yield Button(_("Add selected to existing incident project"), id="drafts-existing", compact=True)
            yield Button(_("Remove"), id="drafts-delete", compact=True, variant="error")
        yield Static("", id="drafts-info", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#drafts", DataTable)
        for key, label in (("sel", "✓"), ("camera", _("Camera")), ("start", _("Start")), ("end", _("End"))):
            table.add_column(label, key=key)
        table.focus()
        self.load()

    @work(exclusive=True, group="load", exit_on_error=False)
    async def load(self) -> None:
        try:
            self.drafts = await self.imtui.services.drafts.list(self.imtui.actor)
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            return
        self.selected &= {d.id for d in self.drafts}
        self._fill()

    def _fill(self) -> None:
        tz = self.imtui.services.settings.timezone
        table = self.query_one("#drafts", DataTable)
        row = table.cursor_row
        table.clear()
        for d in self.drafts:
            table.add_row(Text("✓" if d.id in self.selected else " "), cell(d.camera_name, 40),
                          time_cell(d.start_time, tz, TIME), time_cell(d.end_time, tz, TIME), key=str(d.id))
        if self.drafts:
            table.move_cursor(row=min(row or 0, len(self.drafts) - 1))
        n = len(self.drafts)
        self.query_one("#drafts-info", Static).update(
            _("{n} sequences, {s} selected").format(n=n, s=len(self.selected)) if n
            else _("The draft sequence list is empty: add sequences from playback (a)."))

    def _current(self) -> int | None:
        table = self.query_one("#drafts", DataTable)
        if not self.drafts or table.cursor_row is None or table.cursor_row >= len(self.drafts):
            return None
        return self.drafts[table.cursor_row].id

    def _chosen(self) -> list[int]:
        """The selected drafts, or the highlighted one when none is selected."""
        if self.selected:
            return [d.id for d in self.drafts if d.id in self.selected]
        current = self._current()
        return [current] if current is not None else []

    def action_toggle(self) -> None:
        current = self._current()
        if current is not None:
            self.selected ^= {current}
            self._fill()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        event.stop()
        {"drafts-new": self.action_add_all_new, "drafts-existing": self.action_add_selected_existing,
         "drafts-delete": self.action_remove}[event.button.id or ""]()

    def action_remove(self) -> None:
        """Deleting always asks first."""
        ids = self._chosen()
        if ids:
            question = ngettext("Remove {n} sequence from the draft sequence list?",
                                "Remove {n} sequences from the draft sequence list?", len(ids)).format(n=len(ids))
            self.ask(question, _("Remove"), lambda: self.remove_drafts(ids))

    @work(exclusive=True, group="action", exit_on_error=False)
    async def remove_drafts(self, ids: list[int]) -> None:
        try:
            await self.imtui.services.drafts.remove(self.imtui.actor, ids)
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            return
        self.selected -= set(ids)
        self.load()

    @work(exclusive=True, group="action", exit_on_error=False)
    async def action_add_all_new(self) -> None:
        from imtui.screens.new_incident import NewIncidentDialog

        if not self.drafts:
            tell(self, _("Draft sequence list: select at least one sequence."), error=True)
            return
        try:
            types = await self.imtui.services.incidents.types()
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            return
        self.app.push_screen(NewIncidentDialog(types, self._create), callback=self._created)

    async def _create(self, choice: NewIncident) -> int:
        return await self.imtui.services.drafts.add_all_to_new(self.imtui.actor, choice.type_id, choice.description,
                                                               token=choice.token)

    def _created(self, new_id: int | None) -> None:
        if new_id is None:
            return
        tell(self, _("Incident project {id} created.").format(id=new_id))
        self.selected.clear()
        self.load()

    def action_add_selected_existing(self) -> None:
        from imtui.screens.pick_incident import PickIncidentScreen

        ids = self._chosen()
        if not ids:
            tell(self, _("Draft sequence list: select at least one sequence."), error=True)
            return
        self.app.push_screen(PickIncidentScreen(), callback=lambda iid: self.add_to(ids, iid) if iid else None)

    @work(exclusive=True, group="action", exit_on_error=False)
    async def add_to(self, ids: list[int], incident_id: int) -> None:
        try:
            await self.imtui.services.drafts.add_to_existing(self.imtui.actor, ids, incident_id)
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            return
        tell(self, _("Sequences added to incident project {id}.").format(id=incident_id))
        self.selected -= set(ids)
        self.load()

    def action_back(self) -> None:
        self.dismiss(None)

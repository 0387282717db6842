"""Licence-plate match lists (manual 004): screen ``#matchlists`` with the lists ``#matchlists``
(row key = list id) and the highlighted list's plates ``#matchlist-entries`` (row key = entry id).

Search ``#matchlist-search`` (``?`` = any one character), rows per page ``#matchlist-rows`` (50 to
1000), ``[`` / ``]`` pages.  ``f`` opens the highlighted list's custom fields (add, rename, delete,
order: ``imtui.screens.matchlist_fields``).  Space marks plates; edit and delete act on the marked
plates, or on the highlighted one.  Import (``i``) runs with a progress bar ``#matchlist-progress``;
nothing of a bad file is applied.  Everything goes through MatchListService, which checks the grant
(properties: view to see, manage to change) and writes the audit log.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, ProgressBar, Select, Static

from imtui.engine.errors import InvalidInput, ServiceError
from imtui.engine.matchlists.service import EntryView, ListView
from imtui.i18n import _
from imtui.screens.base import AppAccess
from imtui.screens.form_dialog import FormDialog, FormField, Values
from imtui.screens.matchlist_fields import MatchListFieldsDialog
from imtui.screens.list_tables import MatchListTable
from imtui.screens.render import cell, quiet_input, safe, tell

ROWS = (50, 100, 250, 500, 1000)
MANAGE_ACTIONS = ("new_list", "edit_list", "delete", "add_plate", "edit_plates", "fields", "import_file")


def _tolerance(values: Values, key: str, allowed: tuple[int, ...], label: str) -> int:
    text = str(values[key]).strip()
    if text not in {str(a) for a in allowed}:
        raise InvalidInput(key, _("{label}: {text!r} is not allowed; type {allowed}.").format(
            label=label, text=text, allowed=_(" or ").join(str(a) for a in allowed)))
    return int(text)


class MatchListsScreen(AppAccess, Screen[None]):
    BINDINGS = [  # the letters, / ] [ and delete are on both tables (MatchListTable)
        Binding("escape", "back", _("Back"), id="matchlists-back"),
        Binding("f5", "reload", _("Refresh"), id="matchlists-refresh"),
    ]

    def __init__(self) -> None:
        super().__init__(id="matchlists")
        self.lists: dict[int, ListView] = {}
        self.rows: dict[int, EntryView] = {}
        self.marked: set[int] = set()
        self.page_start = 0
        self.total = 0
        self.importing = False

    def compose(self) -> ComposeResult:
        yield Static(_("License plate match lists"), id="matchlists-title")
        yield MatchListTable(id="matchlists-lists", cursor_type="row")
        with Horizontal(id="matchlist-bar"):
            yield quiet_input(id="matchlist-search", placeholder=_("Search plates (? = any one character)"))
            yield Select([(str(n), n) for n in ROWS], value=50, allow_blank=False, id="matchlist-rows", compact=True)
        yield Static("", id="matchlist-page")
        yield MatchListTable(id="matchlist-entries", cursor_type="row")
        yield ProgressBar(total=1.0, show_eta=False, id="matchlist-progress")
        yield Footer()

    def on_mount(self) -> None:
        lists = self.query_one("#matchlists-lists", DataTable)
        for key, label in (("name", _("List")), ("plates", _("Plates")), ("tolerance", _("Tolerance")),
                           ("fields", _("Custom fields"))):
            lists.add_column(label, key=key)
        self.query_one("#matchlist-progress", ProgressBar).display = False
        lists.focus()
        self.load_lists()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in MANAGE_ACTIONS and not self.may_manage:
            return None
        return True

    # -- lists ------------------------------------------------------------------------------------
    def current(self) -> ListView | None:
        table = self.query_one("#matchlists-lists", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.lists.get(int(key)) if key is not None else None

    def action_reload(self) -> None:
        self.load_lists()

    @work(exclusive=True, group="matchlists-load", exit_on_error=False)
    async def load_lists(self, select: int | None = None) -> None:
        try:
            lists = await self.imtui.services.matchlists.lists(self.imtui.actor)
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            return
        table = self.query_one("#matchlists-lists", DataTable)
        keep = select if select is not None else (c.id if (c := self.current()) else None)
        self.lists = {v.id: v for v in lists}
        table.clear()
        for v in lists:
            tolerance = _("look-alikes {e}, differences {d}").format(e=v.ocr_equivalence, d=v.differences)
            table.add_row(cell(v.name, 40), "—" if v.unlisted else f"{v.entries:,}", "" if v.unlisted else tolerance,
                          cell(", ".join(f.name for f in v.fields), 60), key=str(v.id))
        if keep in self.lists:
            table.move_cursor(row=table.get_row_index(str(keep)))
        await self.load_entries()

    @on(DataTable.RowHighlighted, "#matchlists-lists")
    def _list_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.page_start = 0
        self.marked.clear()
        self.load_entries_soon()

    @work(exclusive=True, group="matchlist-entries", exit_on_error=False)
    async def load_entries_soon(self) -> None:
        await self.load_entries()

    async def load_entries(self) -> None:
        view = self.current()
        table = self.query_one("#matchlist-entries", DataTable)
        if view is None or view.unlisted:
            table.clear(columns=True)
            self.rows = {}
            if view is not None:
                self.query_one("#matchlist-page", Static).update(_(
                    "Matches reads that are on none of a camera's other lists; it holds no plates."))
            return
        limit = int(self.query_one("#matchlist-rows", Select).value)  # type: ignore[arg-type]
        search = self.query_one("#matchlist-search", Input).value
        try:
            page = await self.imtui.services.matchlists.entries(self.imtui.actor, view.id, search=search,
                                                                 offset=self.page_start, limit=limit)
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            return
        self.total = page.total
        table.clear(columns=True)  # after the read, with no await before the columns are added: the lists'
        self.rows = {}  # load and a highlight both call this, and interleaved they added them twice
        table.add_column(" ", key="mark", width=1)
        table.add_column(_("Plate"), key="plate")
        for f in view.fields:
            table.add_column(safe(f.name), key=f"field-{f.id}")
        for r in page.rows:
            self.rows[r.id] = r
            table.add_row("*" if r.id in self.marked else " ", cell(r.plate), *(cell(v, 40) for v in r.values), key=str(r.id))
        first = self.page_start + 1 if page.rows else 0
        pages = max(1, -(-page.total // limit))
        self.query_one("#matchlist-page", Static).update(Text(_(
            "{first}–{last} of {total} plates · page {page} of {pages} · {marked} marked").format(
            first=f"{first:,}", last=f"{self.page_start + len(page.rows):,}", total=f"{page.total:,}",
            page=self.page_start // limit + 1, pages=pages, marked=len(self.marked))))

    @on(Input.Changed, "#matchlist-search")
    def _search_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.page_start = 0
        self.load_entries_soon()

    @on(Select.Changed, "#matchlist-rows")
    def _rows_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.page_start = 0
        self.load_entries_soon()

    def action_back(self) -> None:
        """Escape leaves the search box for the plates first, then the screen."""
        if isinstance(self.focused, Input) or isinstance(self.focused, Select):
            self.query_one("#matchlist-entries", DataTable).focus()
        else:
            self.app.pop_screen()

    def action_search(self) -> None:
        self.query_one("#matchlist-search", Input).focus()

    def action_page(self, step: int) -> None:
        limit = int(self.query_one("#matchlist-rows", Select).value)  # type: ignore[arg-type]
        new = self.page_start + step * limit
        if 0 <= new < max(self.total, 1):
            self.page_start = new
            self.load_entries_soon()

    # -- marking ------------------------------------------------------------------------------------
    def highlighted_entry(self) -> EntryView | None:
        table = self.query_one("#matchlist-entries", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.rows.get(int(key)) if key is not None else None

    def action_mark(self) -> None:
        entry = self.highlighted_entry()
        if entry is None:
            return
        self.marked ^= {entry.id}
        table = self.query_one("#matchlist-entries", DataTable)
        table.update_cell(str(entry.id), "mark", "*" if entry.id in self.marked else " ")
        if table.cursor_row < table.row_count - 1:
            table.move_cursor(row=table.cursor_row + 1)

    def chosen(self) -> list[EntryView]:
        """The marked plates of this page, or the highlighted one."""
        if self.marked:
            return [self.rows[i] for i in sorted(self.marked) if i in self.rows]
        entry = self.highlighted_entry()
        return [entry] if entry else []

    # -- changes ------------------------------------------------------------------------------------
    def _list_form(self, view: ListView | None) -> list[FormField]:
        return [FormField("name", _("Name"), view.name if view else "", _("e.g. Stolen vehicles")),
                FormField("ocr_equivalence", _("OCR equivalence"), str(view.ocr_equivalence if view else 0),
                          _("0 off, 1 O/0 I/1, 2 also B/8 S/5 Z/2 G/6")),
                FormField("differences", _("Differences allowed"), str(view.differences if view else 0), _("0 or 1"))]

    def action_new_list(self) -> None:
        async def save(values: Values) -> None:
            eq = _tolerance(values, "ocr_equivalence", (0, 1, 2), _("OCR equivalence"))
            diff = _tolerance(values, "differences", (0, 1), _("Differences allowed"))
            made = await self.imtui.services.matchlists.create(self.imtui.actor, str(values["name"]),
                                                                ocr_equivalence=eq, differences=diff)
            self.load_lists(select=made.id)

        self.app.push_screen(FormDialog(_("New match list"), self._list_form(None), save, dialog_id="matchlist-dialog"))

    def action_edit_list(self) -> None:
        view = self.current()
        if view is None or view.unlisted:
            return

        async def save(values: Values) -> None:
            eq = _tolerance(values, "ocr_equivalence", (0, 1, 2), _("OCR equivalence"))
            diff = _tolerance(values, "differences", (0, 1), _("Differences allowed"))
            await self.imtui.services.matchlists.edit(self.imtui.actor, view.id, name=str(values["name"]),
                                                      ocr_equivalence=eq, differences=diff)
            self.load_lists(select=view.id)

        self.app.push_screen(FormDialog(_("Edit match list"), self._list_form(view), save, dialog_id="matchlist-dialog"))

    def action_fields(self) -> None:
        """The highlighted list's custom fields (add, rename, delete, order): the dialog calls the
        service itself; afterwards the lists and the plates' columns are read again."""
        view = self.current()
        if view is None or view.unlisted:
            return
        self.app.push_screen(MatchListFieldsDialog(view), callback=lambda _changed: self.load_lists(select=view.id))

    def action_add_plate(self) -> None:
        view = self.current()
        if view is None or view.unlisted:
            return
        fields = [FormField("plate", _("Plate"), "", _("ABC123; ? = any one character; _ between two parts"))]
        fields += [FormField(f"field-{f.id}", f.name) for f in view.fields]

        async def save(values: Values) -> None:
            entry, note = await self.imtui.services.matchlists.add_entry(self.imtui.actor, view.id, str(values["plate"]), {
                f.name: str(values[f"field-{f.id}"]) for f in view.fields})
            if note:
                tell(self, note)
            self.load_lists(select=view.id)

        self.app.push_screen(FormDialog(_("Add plate"), fields, save, dialog_id="plate-dialog"))

    def action_edit_plates(self) -> None:
        view = self.current()
        chosen = self.chosen()
        if view is None or view.unlisted or not chosen:
            return
        one = chosen[0] if len(chosen) == 1 else None
        fields = [FormField("plate", _("Plate"), one.plate if one else _("{n} plates").format(n=len(chosen)),
                            disabled=one is None)]
        fields += [FormField(f"field-{f.id}", f.name, one.values[i] if one else "") for i, f in enumerate(view.fields)]

        async def save(values: Values) -> None:
            typed = {f.name: str(values[f"field-{f.id}"]) for i, f in enumerate(view.fields)
                     if one is None and values[f"field-{f.id}"] or one is not None and values[f"field-{f.id}"] != one.values[i]}
            plate = str(values["plate"]) if one is not None and values["plate"] != one.plate else None
            _n, note = await self.imtui.services.matchlists.edit_entries(
                self.imtui.actor, view.id, [e.id for e in chosen], plate=plate, values=typed)
            if note:
                tell(self, note)
            self.marked.clear()
            self.load_lists(select=view.id)

        title = _("Edit plate") if one else _("Edit {n} plates (empty fields stay as they are)").format(n=len(chosen))
        self.app.push_screen(FormDialog(title, fields, save, dialog_id="plate-dialog"))

    def action_delete(self) -> None:
        view = self.current()
        if view is None:
            return
        entries_focused = self.query_one("#matchlist-entries", DataTable).has_focus
        if entries_focused:
            chosen = self.chosen()
            if not chosen:
                return
            question = _("Delete {n} plates from {name}?").format(n=len(chosen), name=view.name)
            self.ask(question, _("Delete"), lambda: self.delete_plates(view, chosen))
        else:
            question = _("Delete the list {name} and its {n} plates?").format(name=view.name, n=f"{view.entries:,}")
            self.ask(question, _("Delete"), lambda: self.delete_list(view))

    @work(exclusive=True, group="matchlists-action", exit_on_error=False)
    async def delete_plates(self, view: ListView, chosen: list[EntryView]) -> None:
        try:
            gone = await self.imtui.services.matchlists.delete_entries(self.imtui.actor, view.id, [e.id for e in chosen])
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            return
        tell(self, _("{n} plates deleted.").format(n=gone))
        self.marked.clear()
        self.load_lists(select=view.id)

    @work(exclusive=True, group="matchlists-action", exit_on_error=False)
    async def delete_list(self, view: ListView) -> None:
        try:
            await self.imtui.services.matchlists.delete(self.imtui.actor, view.id)
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            return
        tell(self, _("Match list deleted."))
        self.load_lists()

    # -- files ------------------------------------------------------------------------------------
    def action_import_file(self) -> None:
        view = self.current()
        if view is None or view.unlisted:
            return
        loaded: dict[str, bytes] = {}

        async def read(values: Values) -> None:
            path = Path(str(values["path"])).expanduser()
            try:
                loaded["data"] = await asyncio.to_thread(path.read_bytes)
            except OSError as exc:
                raise InvalidInput("path", _("File: cannot read {path} ({error}); give a .txt or .csv file.").format(
                    path=str(path), error=exc.strerror or exc)) from None

        def chosen(values: Values | None) -> None:
            if values is not None and "data" in loaded:
                self.run_import(view, loaded["data"], bool(values["replace"]))

        self.app.push_screen(FormDialog(
            _("Import plates into {name}").format(name=view.name),
            [FormField("path", _("File"), "", _("/path/plates.csv (a header row names the columns; without one: plate, then the fields)")),
             FormField("replace", _("Replace the list (otherwise add to it)"), False)],
            read, dialog_id="matchlist-import-dialog", save_label=_("Import")), callback=chosen)

    @work(group="matchlist-import", exit_on_error=False)
    async def run_import(self, view: ListView, data: bytes, replace: bool) -> None:
        """Not exclusive: a second import must not cancel one half-way (it is refused instead)."""
        if self.importing:
            tell(self, _("An import is running; wait for it to finish."), error=True)
            return
        self.importing = True
        bar = self.query_one("#matchlist-progress", ProgressBar)
        bar.update(progress=0.0)
        bar.display = True
        try:
            report = await self.imtui.services.matchlists.import_file(
                self.imtui.actor, view.id, data, replace=replace, progress=lambda share: bar.update(progress=share))
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            return
        finally:
            bar.display = False
            self.importing = False
        summary = _("{added} plates added, {updated} updated").format(added=report.added, updated=report.updated)
        if replace:
            summary += _(", {removed} removed").format(removed=report.removed)
        tell(self, summary + "." + ("\n" + "\n".join(report.notes[:5]) if report.notes else ""))
        self.load_lists(select=view.id)

    def action_export_file(self) -> None:
        view = self.current()
        if view is None or view.unlisted:
            return

        async def write(values: Values) -> None:
            path = Path(str(values["path"])).expanduser()
            if path.exists():
                raise InvalidInput("path", _("File: {path} exists; choose another name.").format(path=str(path)))
            lines = list(await self.imtui.services.matchlists.export_lines(self.imtui.actor, view.id))

            def save() -> None:
                tmp = path.with_name(f".{path.name}.partial")
                with tmp.open("w", encoding="utf-8", newline="") as f:
                    f.writelines(lines)
                tmp.replace(path)

            try:
                await asyncio.to_thread(save)
            except OSError as exc:
                raise InvalidInput("path", _("File: cannot write {path} ({error}).").format(
                    path=str(path), error=exc.strerror or exc)) from None
            tell(self, _("{n} plates written to {path}.").format(n=max(0, len(lines) - 1), path=str(path)))

        self.app.push_screen(FormDialog(_("Export {name}").format(name=view.name),
                                        [FormField("path", _("File"), "", _("/path/list.csv"))], write,
                                        dialog_id="matchlist-export-dialog", save_label=_("Export")))

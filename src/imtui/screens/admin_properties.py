"""Administration of incident properties (manual 003): types, statuses, categories and their
values, data fields and options (report title, retention time, the type of projects made of
alarms: ``#options-alarm-type``, "the operator chooses" when none), one tab each.  Every action calls PropertyService, which checks
the grant, refuses changes to properties in use and writes the audit log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Checkbox, DataTable, Footer, Input, Select, Static, TabbedContent, TabPane

from imtui.engine.errors import InvalidInput, ServiceError
from imtui.engine.properties import CATEGORY_SLOTS, PropertyView
from imtui.i18n import _
from imtui.screens.confirm import ConfirmDialog
from imtui.screens.render import cell, options, quiet_input, tell

if TYPE_CHECKING:
    from imtui.app import ImtuiApp


def _svc(widget) -> object:  # noqa: ANN001
    app = cast("ImtuiApp", widget.app)
    return app.services.properties, app.actor


class ItemsEditor(Vertical):
    """List, add, edit and delete one kind of named item: types, statuses, or one category's values.

    Ids follow ``prefix``: ``#<prefix>-table``, ``#<prefix>-name``, ``#<prefix>-description``,
    ``#<prefix>-add``, ``#<prefix>-save``, ``#<prefix>-delete``.
    """

    def __init__(self, kind: str, prefix: str, slot: int | None = None) -> None:
        super().__init__(classes="items-editor")
        self.kind, self.prefix, self.slot = kind, prefix, slot
        self.items: list[PropertyView] = []

    def compose(self) -> ComposeResult:
        p = self.prefix
        yield DataTable(id=f"{p}-table", cursor_type="row")
        with Horizontal(classes="field-row"):
            yield quiet_input(id=f"{p}-name", placeholder=_("Name"))
            yield quiet_input(id=f"{p}-description", placeholder=_("Description"))
        with Horizontal(classes="buttons"):
            yield Button(_("Add"), id=f"{p}-add", compact=True, variant="primary")
            yield Button(_("Save selected"), id=f"{p}-save", compact=True)
            yield Button(_("Delete selected"), id=f"{p}-delete", compact=True, variant="error")

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(_("ID"), _("Name"), _("In use"), _("Description"))
        self.reload()

    @work(exclusive=True, group="items", exit_on_error=False)
    async def reload(self) -> None:
        svc, actor = _svc(self)
        try:
            self.items = await svc.list_items(actor, self.kind, self.slot)
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            return
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for item in self.items:
            table.add_row(cell(item.id), cell(item.name, 60), cell(item.in_use), cell(item.description, 80),
                          key=str(item.id))
        if self.items and row is not None:
            table.move_cursor(row=min(row, len(self.items) - 1))

    def selected(self) -> PropertyView | None:
        table = self.query_one(DataTable)
        if not self.items or table.cursor_row is None or table.cursor_row >= len(self.items):
            return None
        return self.items[table.cursor_row]

    @on(DataTable.RowSelected)
    def load_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        item = self.selected()
        if item is not None:
            self.query_one(f"#{self.prefix}-name", Input).value = item.name
            self.query_one(f"#{self.prefix}-description", Input).value = item.description
            self.query_one(f"#{self.prefix}-name", Input).focus()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        event.stop()
        action = (event.button.id or "").removeprefix(f"{self.prefix}-")
        item = self.selected()
        if action == "delete" and item is not None:  # deleting always asks first
            question = _("Delete \u201c{name}\u201d?").format(name=item.name)
            self.app.push_screen(ConfirmDialog(question, _("Delete")), callback=lambda yes: self.act(action) if yes else None)
            return
        self.act(action)

    @work(exclusive=True, group="items-action", exit_on_error=False)
    async def act(self, action: str) -> None:
        svc, actor = _svc(self)
        name = self.query_one(f"#{self.prefix}-name", Input).value
        description = self.query_one(f"#{self.prefix}-description", Input).value
        item = self.selected()
        try:
            if action == "add":
                await svc.add_item(actor, self.kind, name, description, slot=self.slot)
            elif item is None:
                tell(self, _("Select an item in the list first."))
                return
            elif action == "save":
                await svc.edit_item(actor, self.kind, item.id, name=name, description=description)
            elif action == "delete":
                await svc.delete_item(actor, self.kind, item.id)
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            if isinstance(exc, InvalidInput) and exc.field in ("name", "description"):
                self.query_one(f"#{self.prefix}-{exc.field}", Input).focus()
            return
        for field in ("name", "description"):
            self.query_one(f"#{self.prefix}-{field}", Input).value = ""
        tell(self, _("Saved."))
        self.reload()


def _switchable_form(prefix: str) -> ComposeResult:
    """The table and form for things that are switched on and named: categories, data fields."""
    yield DataTable(id=f"{prefix}-table", cursor_type="row")
    with Horizontal(classes="field-row"):
        yield Checkbox(_("Enabled"), id=f"{prefix}-enabled", compact=True)
        yield quiet_input(id=f"{prefix}-name", placeholder=_("Name"))
        yield quiet_input(id=f"{prefix}-description", placeholder=_("Description (tooltip)"))
    with Horizontal(classes="buttons"):
        yield Button(_("Save selected"), id=f"{prefix}-save", compact=True, variant="primary")


class AdminPropertiesScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "app.pop_screen", _("Back"), id="admin-back"),
        Binding("ctrl+n", "switch_tab(1)", _("Next tab"), id="admin-next-tab", priority=True),
        Binding("ctrl+p", "switch_tab(-1)", _("Previous tab"), id="admin-previous-tab", priority=True),
    ]
    OPERATOR_CHOOSES = _("None: the operator chooses")
    PANES = ("types", "statuses", "categories", *(f"category-{n}" for n in range(1, CATEGORY_SLOTS + 1)),
             "data-fields", "options")

    def compose(self) -> ComposeResult:
        yield Static(_("Incident properties"), id="admin-title")
        with TabbedContent(id="admin-properties", initial="types"):
            with TabPane(_("Types"), id="types"):
                yield ItemsEditor("type", "types")
            with TabPane(_("Statuses"), id="statuses"):
                yield ItemsEditor("status", "statuses")
            with TabPane(_("Categories"), id="categories"):
                yield from _switchable_form("categories")
            for n in range(1, CATEGORY_SLOTS + 1):
                with TabPane(_("Category {n}").format(n=n), id=f"category-{n}"):
                    yield ItemsEditor("value", f"category-{n}", slot=n)
            with TabPane(_("Data fields"), id="data-fields"):
                yield from _switchable_form("data-fields")
            with TabPane(_("Options"), id="options"):
                with Horizontal(classes="field-row"):
                    yield Static(_("Report title"), classes="field-label wide")
                    yield quiet_input(id="options-report-title")
                with Horizontal(classes="field-row"):
                    yield Static(_("Retention time (days, 1 to 365,000)"), classes="field-label wide")
                    yield quiet_input(id="options-retention-days")
                with Horizontal(classes="field-row"):
                    yield Static(_("Type of projects made of alarms"), classes="field-label wide")
                    yield Select([(self.OPERATOR_CHOOSES, 0)], value=0, allow_blank=False, id="options-alarm-type",
                                 compact=True)
                with Horizontal(classes="buttons"):
                    yield Button(_("Save options"), id="options-save", compact=True, variant="primary")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#categories-table", DataTable).add_columns(
            _("Category"), _("Enabled"), _("Name"), _("Values"), _("Description"))
        self.query_one("#data-fields-table", DataTable).add_columns(
            _("Kind"), _("No."), _("Enabled"), _("Name"), _("Description"))
        self.query_one("#admin-properties Tabs").focus()
        self.load()

    def action_switch_tab(self, step: int) -> None:
        tabs = self.query_one("#admin-properties", TabbedContent)
        index = self.PANES.index(tabs.active) if tabs.active in self.PANES else 0
        tabs.active = self.PANES[(index + step) % len(self.PANES)]

    @work(exclusive=True, group="admin-load", exit_on_error=False)
    async def load(self) -> None:
        svc, actor = _svc(self)
        try:
            self.categories = await svc.categories(actor)
            self.fields = await svc.data_fields(actor)
            opts = await svc.options(actor)
            types = await svc.list_items(actor, "type")
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            return
        cats = self.query_one("#categories-table", DataTable)
        cats.clear()
        for c in self.categories:
            cats.add_row(cell(c.slot), _("yes") if c.enabled else _("no"), cell(c.name, 60), cell(len(c.values)),
                         cell(c.description, 80))
        fields = self.query_one("#data-fields-table", DataTable)
        fields.clear()
        for f in self.fields:
            fields.add_row(cell(f.kind), cell(f.slot), _("yes") if f.enabled else _("no"), cell(f.name, 60),
                           cell(f.description, 80))
        self.query_one("#options-report-title", Input).value = opts.report_title
        self.query_one("#options-retention-days", Input).value = str(opts.retention_days)
        alarm_type = self.query_one("#options-alarm-type", Select)
        alarm_type.set_options([(self.OPERATOR_CHOOSES, 0), *options(types)])
        alarm_type.value = opts.alarm_type_id or 0

    @on(DataTable.RowSelected, "#categories-table, #data-fields-table")
    def load_row(self, event: DataTable.RowSelected) -> None:
        prefix = "categories" if event.data_table.id == "categories-table" else "data-fields"
        source = self.categories if prefix == "categories" else self.fields
        row = source[event.cursor_row]
        self.query_one(f"#{prefix}-enabled", Checkbox).value = row.enabled
        self.query_one(f"#{prefix}-name", Input).value = row.name
        self.query_one(f"#{prefix}-description", Input).value = row.description
        self.query_one(f"#{prefix}-name", Input).focus()

    @on(Button.Pressed, "#categories-save, #data-fields-save, #options-save")
    @work(exclusive=True, group="admin-action", exit_on_error=False)
    async def save(self, event: Button.Pressed) -> None:
        svc, actor = _svc(self)
        target = event.button.id or ""
        try:
            if target == "options-save":
                await svc.set_options(
                    actor,
                    report_title=self.query_one("#options-report-title", Input).value,
                    retention_days=self.query_one("#options-retention-days", Input).value,
                    alarm_type_id=int(self.query_one("#options-alarm-type", Select).value or 0),  # type: ignore[arg-type]
                )
            else:
                prefix = target.removesuffix("-save")
                table = self.query_one(f"#{prefix}-table", DataTable)
                if table.cursor_row is None or table.row_count == 0:
                    tell(self, _("Select an item in the list first."))
                    return
                values = {
                    "enabled": self.query_one(f"#{prefix}-enabled", Checkbox).value,
                    "name": self.query_one(f"#{prefix}-name", Input).value,
                    "description": self.query_one(f"#{prefix}-description", Input).value,
                }
                if prefix == "categories":
                    await svc.set_category(actor, self.categories[table.cursor_row].slot, **values)
                else:
                    await svc.set_data_field(actor, self.fields[table.cursor_row].id, **values)
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            if isinstance(exc, InvalidInput) and exc.field == "retention_days":
                self.query_one("#options-retention-days", Input).focus()
            return
        tell(self, _("Saved."))
        self.load()

"""The system audit log (administrators): newest first, filtered by time and user."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from imtui.engine.errors import InvalidInput, ServiceError
from imtui.engine.incidents import parse_time_field
from imtui.i18n import _
from imtui.screens.render import cell, quiet_input, tell, time_cell

if TYPE_CHECKING:
    from imtui.app import ImtuiApp


class AuditScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "app.pop_screen", _("Back"), id="audit-back"),
        Binding("f5", "reload", _("Refresh"), id="audit-refresh"),
    ]

    def __init__(self) -> None:
        super().__init__(id="audit")

    def compose(self) -> ComposeResult:
        yield Static(_("System audit log"), id="audit-title")
        with Horizontal(id="audit-filters"):
            yield quiet_input(id="audit-since", placeholder=_("Since YYYY-MM-DD HH:MM"))
            yield quiet_input(id="audit-user", placeholder=_("User"))
        yield DataTable(id="audit-log", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#audit-log", DataTable).add_columns(_("Time"), _("User"), _("Action"), _("Target"), _("Details"))
        self.query_one("#audit-log", DataTable).focus()
        self.reload()

    def action_reload(self) -> None:
        self.reload()

    @on(Input.Submitted, "#audit-filters Input")
    def filter(self) -> None:
        self.reload()

    @work(exclusive=True, group="audit", exit_on_error=False)
    async def reload(self) -> None:
        app = cast("ImtuiApp", self.app)
        tz = app.services.settings.timezone
        raw = self.query_one("#audit-since", Input).value.strip()
        user = self.query_one("#audit-user", Input).value.strip() or None
        try:
            since = parse_time_field(_("Since"), raw, tz) if raw else None
            entries = await app.services.audit.entries(app.actor, since=since, user=user, limit=1000)
        except InvalidInput as exc:
            tell(self, exc.message, error=True)
            self.query_one("#audit-since", Input).focus()
            return
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            return
        table = self.query_one("#audit-log", DataTable)
        table.clear()
        for e in entries:
            table.add_row(time_cell(e.at, tz, "%Y-%m-%d %H:%M:%S"), cell(e.user, 30), cell(e.action, 30),
                          cell(e.target, 60), cell(e.details, 120))

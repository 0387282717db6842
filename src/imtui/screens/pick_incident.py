"""Choosing an existing incident project to add sequences to: the incident list with its filters,
where Enter picks the highlighted project instead of opening it.  Dismisses with the id or None."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import DataTable, Input

from imtui.i18n import _
from imtui.screens.list_tables import PickTable
from imtui.screens.incidents import IncidentsScreen


class PickIncidentScreen(IncidentsScreen):
    """Screen id ``pick-incident``; same table (``#incidents``) and filters as the list."""

    TABLE = PickTable
    inherit_bindings = False
    BINDINGS = [
        Binding("enter", "pick", _("Add to this project"), id="pick", show=True),
        Binding("f5", "refresh", _("Refresh"), id="refresh"),
        Binding("escape", "cancel", _("Cancel"), id="pick-cancel"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.id = "pick-incident"

    def on_mount(self) -> None:  # Textual also runs IncidentsScreen.on_mount (handlers run along the MRO)
        self.sub_title = _("Choose the incident project")

    def chosen(self, incident_id: int) -> None:
        self.dismiss(incident_id)

    def action_pick(self) -> None:
        selected = self.selected_incident()
        if selected is not None:
            self.dismiss(selected[0])

    def action_cancel(self) -> None:
        if isinstance(self.focused, Input):
            self.query_one("#incidents", DataTable).focus()
        else:
            self.dismiss(None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return True

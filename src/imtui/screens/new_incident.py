"""Dialog for a new empty incident project: type and description.  Dismisses with the choice or None."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Select

from imtui.engine.incidents import Option
from imtui.i18n import _
from imtui.screens.render import options, quiet_text_area, tell


@dataclass(frozen=True)
class NewIncident:
    type_id: int
    description: str


class NewIncidentDialog(ModalScreen[NewIncident | None]):
    BINDINGS = [
        Binding("escape", "cancel", _("Cancel"), id="new-cancel"),
        Binding("ctrl+s", "save", _("Save"), id="new-save", priority=True),
    ]

    def __init__(self, types: list[Option]) -> None:
        super().__init__()
        self.types = types

    def compose(self) -> ComposeResult:
        with Vertical(id="new-dialog", classes="dialog"):
            yield Label(_("New incident project"), classes="dialog-title")
            yield Label(_("Type"))
            yield Select(
                options(self.types),
                value=self.types[0].id if self.types else Select.NULL,
                allow_blank=not self.types,
                id="new-type",
                compact=True,
            )
            yield Label(_("Description"))
            yield quiet_text_area(id="new-description")
            with Horizontal(classes="buttons"):
                yield Button(_("Save"), id="new-save", variant="primary", compact=True)
                yield Button(_("Cancel"), id="new-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#new-type", Select).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "new-save":
            self.action_save()
        else:
            self.action_cancel()

    def action_save(self) -> None:
        value = self.query_one("#new-type", Select).value
        if not isinstance(value, int):
            tell(self, _("Type: choose a type for the incident project."), error=True)
            return
        self.dismiss(NewIncident(type_id=value, description=self.query_one("#new-description").text))

    def action_cancel(self) -> None:
        self.dismiss(None)

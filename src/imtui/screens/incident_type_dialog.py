"""Choose an incident type: the dialog ``#incident-type`` with the types in their order in the list
``#incident-type-list`` (option id = type id).  The alarm manager opens it when an alarm becomes a
project and no administrator has set the type of alarm projects, so the project gets the type the
operator means rather than whichever comes first.

Keys: arrows and ``enter`` choose, ``escape`` cancels.  Dismisses with the chosen type (an engine
``Option``) or None; the screen that opened it makes the project.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option as ListOption

from imtui.engine.incidents import Option
from imtui.i18n import _
from imtui.screens.render import plain, safe


class IncidentTypeDialog(ModalScreen[Option | None]):
    BINDINGS = [Binding("escape", "cancel", _("Cancel"), id="incident-type-cancel")]

    def __init__(self, title: str, types: list[Option]) -> None:
        super().__init__()
        self.title_text = title
        self.types = types

    def compose(self) -> ComposeResult:
        with Vertical(id="incident-type", classes="dialog"):
            yield Label(plain(self.title_text), classes="dialog-title")
            yield Static(Text(_("No type is set for projects made of alarms. Type of the project:")),
                         id="incident-type-note")
            yield OptionList(*(ListOption(safe(t.name), id=str(t.id)) for t in self.types), id="incident-type-list",
                             compact=True)
            yield Static(Text(_("enter choose · escape cancel")), id="incident-type-keys")

    def on_mount(self) -> None:
        self.query_one("#incident-type-list", OptionList).focus()

    @on(OptionList.OptionSelected, "#incident-type-list")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(next((t for t in self.types if str(t.id) == event.option_id), None))

    def action_cancel(self) -> None:
        self.dismiss(None)

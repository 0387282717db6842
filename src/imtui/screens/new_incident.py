"""Dialog for a new incident project: type and description.

The dialog saves through the ``save`` call it is given and stays open, with what was typed, until
the save succeeds; a failure is shown over it (the operator retypes nothing).  It dismisses with
the new project's id, or None when cancelled.  Each distinct content gets one client token, so a
second try after a save whose answer was lost finds the stored project instead of adding another.

Given a loader instead of the types, the dialog opens at once and reads them itself: an operator
who presses ``n`` during an outage and starts typing types into this dialog (the failure is told
over it, and ``ctrl+s`` tries the types again) rather than into the list behind, whose letter keys
act."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Select

from imtui.engine.errors import ServiceError
from imtui.engine.incidents import Option
from imtui.i18n import _
from imtui.screens.render import options, quiet_text_area, tell


@dataclass(frozen=True)
class NewIncident:
    type_id: int
    description: str
    token: str = ""  # the client token of this save (IncidentService.create)


class NewIncidentDialog(ModalScreen[int | None]):
    BINDINGS = [
        Binding("escape", "cancel", _("Cancel"), id="new-cancel"),
        Binding("ctrl+s", "save", _("Save"), id="new-save", priority=True),
    ]

    def __init__(self, types: list[Option] | Callable[[], Awaitable[list[Option]]],
                 save: Callable[[NewIncident], Awaitable[int]]) -> None:
        super().__init__()
        self.loader = None if isinstance(types, list) else types
        self.types: list[Option] = types if isinstance(types, list) else []
        self.save = save
        self._attempt: tuple[int, str, str] | None = None  # type, description, token of the last try

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
        if self.loader is not None:
            self.load_types()

    @work(exclusive=True, group="new-types", exit_on_error=False)
    async def load_types(self) -> None:
        assert self.loader is not None
        try:
            self.types = await self.loader()
        except ServiceError as exc:
            tell(self, exc.message, error=True)  # stays open: ctrl+s tries again
            return
        if not self.is_attached:
            return  # closed while the types were on their way
        select = self.query_one("#new-type", Select)
        select.set_options(options(self.types))
        if self.types:
            select.value = self.types[0].id

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "new-save":
            self.action_save()
        else:
            self.action_cancel()

    def action_save(self) -> None:
        value = self.query_one("#new-type", Select).value
        if not isinstance(value, int) and self.loader is not None and not self.types:
            self.load_types()  # the types could not be read when the dialog opened
            return
        if not isinstance(value, int):
            tell(self, _("Type: choose a type for the incident project."), error=True)
            return
        description = self.query_one("#new-description").text
        if self._attempt is None or self._attempt[:2] != (value, description):
            self._attempt = (value, description, uuid.uuid4().hex)
        self.store(NewIncident(type_id=value, description=description, token=self._attempt[2]))

    @work(exclusive=True, group="new-save", exit_on_error=False)
    async def store(self, choice: NewIncident) -> None:
        try:
            new_id = await self.save(choice)
        except ServiceError as exc:
            tell(self, exc.message, error=True)  # stays open with what was typed
            return
        self.dismiss(new_id)

    def action_cancel(self) -> None:
        self.dismiss(None)

"""A yes/no question: ``ConfirmDialog(question)`` dismisses with True (yes) or False."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from imtui.i18n import _
from imtui.screens.render import safe


class ConfirmDialog(ModalScreen[bool]):
    BINDINGS = [
        Binding("escape", "answer(False)", _("Cancel"), id="confirm-cancel"),
        Binding("y", "answer(True)", _("Yes"), show=False),
        Binding("n", "answer(False)", _("No"), show=False),
    ]

    def __init__(self, question: str, yes_label: str | None = None) -> None:
        super().__init__()
        self.question = question
        self.yes_label = yes_label or _("Yes")

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog", classes="dialog"):
            yield Static(safe(self.question, multiline=True), id="confirm-question")
            with Horizontal(classes="buttons"):
                yield Button(self.yes_label, id="confirm-yes", variant="error", compact=True)
                yield Button(_("No"), id="confirm-no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)

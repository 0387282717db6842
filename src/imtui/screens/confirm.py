"""A yes/no question: ``ConfirmDialog(question)`` dismisses with True (yes) or False.

No letter answers it: an operator who typed on after a stray key (a comment, a description)
would otherwise confirm with the first "y" of a word, or drop the question with an "n" and let the
rest of the sentence reach the screen below.  The focus starts on No; ``left``/``right`` or ``tab``
move between the buttons, ``enter`` answers, ``escape`` cancels."""

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
        Binding("left", "app.focus_previous", show=False),
        Binding("right", "app.focus_next", show=False),
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


class ChoiceDialog(ModalScreen[str | None]):
    """A question with several answers, e.g. reload keeping the typed fields / discard them /
    cancel: dismisses with the chosen answer's key, or None on Cancel and ``escape``.  Like
    ConfirmDialog, no letter answers it; the focus starts on Cancel."""

    BINDINGS = ConfirmDialog.BINDINGS

    def __init__(self, question: str, answers: list[tuple[str, str]]) -> None:
        """``answers``: (key, button label) in the order shown, before Cancel."""
        super().__init__()
        self.question = question
        self.answers = answers

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog", classes="dialog"):
            yield Static(safe(self.question, multiline=True), id="confirm-question")
            with Horizontal(classes="buttons"):
                for key, label in self.answers:
                    yield Button(label, id=f"choice-{key}", name=key, compact=True)
                yield Button(_("Cancel"), id="confirm-no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.name if event.button.id != "confirm-no" else None)

    def action_answer(self, value: bool) -> None:
        self.dismiss(None)

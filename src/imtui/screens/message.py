"""A full-screen message for failures that leave nothing else to do (unknown user, no database)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from imtui.i18n import _
from imtui.screens.render import safe


class MessageScreen(Screen[None]):
    BINDINGS = [Binding("escape,enter", "app.quit", _("Quit"))]

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def compose(self) -> ComposeResult:
        yield Static(safe(self.message, multiline=True), id="message")
        yield Footer()

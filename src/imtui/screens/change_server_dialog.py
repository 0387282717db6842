"""Change server (manual 004, "Info tab"): the dialog ``#change-server`` chooses the LPR server a
camera moves to, from the list ``#change-server-target`` (option id = server id) of the other
servers with their status and CPU usage, so an administrator can balance the load.

Keys: arrows and ``enter`` choose, ``escape`` cancels.  Dismisses with the chosen server's
view, or None; the screen that opened it asks the service to move the camera.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from imtui.engine.lpr_servers import ServerCamera, ServerView
from imtui.i18n import _
from imtui.screens.render import plain, safe


class ChangeServerDialog(ModalScreen[ServerView | None]):
    BINDINGS = [Binding("escape", "cancel", _("Cancel"), id="change-server-cancel")]

    def __init__(self, camera: ServerCamera, current: ServerView, servers: list[ServerView]) -> None:
        super().__init__()
        self.camera = camera
        self.current = current
        self.targets = [s for s in servers if s.id != current.id]

    def compose(self) -> ComposeResult:
        with Vertical(id="change-server", classes="dialog"):
            yield Label(plain(_("Change server: camera {id} \u201c{name}\u201d").format(
                id=self.camera.id, name=self.camera.name)), classes="dialog-title")
            yield Static(safe(_("Now on LPR server \u201c{name}\u201d. Move it to:").format(name=self.current.name)),
                         id="change-server-note")
            yield OptionList(*(Option(self._prompt(s), id=str(s.id)) for s in self.targets), id="change-server-target",
                             compact=True)
            yield Static(Text(_("enter move · escape cancel")), id="change-server-keys")

    @staticmethod
    def _prompt(server: ServerView) -> Text:
        """The server's name (literally) with its status and, while it runs, its CPU usage."""
        prompt = safe(server.name) + Text(f"  \u00b7  {server.status}")
        if server.running:
            prompt.append("  \u00b7  " + _("CPU {cpu:.0f} %").format(cpu=server.cpu_percent))
        return prompt

    def on_mount(self) -> None:
        if not self.targets:
            self.query_one("#change-server-note", Static).update(
                Text(_("There is no other LPR server; start one with imtui worker on another host.")))
        self.query_one("#change-server-target", OptionList).focus()

    @on(OptionList.OptionSelected, "#change-server-target")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(next((s for s in self.targets if str(s.id) == event.option_id), None))

    def action_cancel(self) -> None:
        self.dismiss(None)

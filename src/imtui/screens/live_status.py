"""``#live-status``: the status line that says when live updates are interrupted.

PostgreSQL delivers other operators' changes through one LISTEN connection.  While it is lost (a
database restart, a network cut) the app polls instead and reconnects with backoff; this line
says so for as long as it lasts, and is empty (zero height, nothing repainted) otherwise.  On
SQLite, polling is the normal way and nothing is shown.
"""

from __future__ import annotations

from textual.widgets import Static

from imtui.i18n import _
from imtui.screens.base import AppAccess


class LiveStatus(AppAccess, Static):
    DEFAULT_CSS = """
    LiveStatus { height: auto; padding: 0 1; color: $warning; }
    LiveStatus.-live { display: none; }
    """

    def __init__(self) -> None:
        super().__init__("", id="live-status", markup=False)

    def on_mount(self) -> None:
        self.show(self.imtui.hub.live is not False)
        self.imtui.live_updates.subscribe(self, self.show)

    def show(self, live: bool) -> None:
        self.set_class(live, "-live")
        self.update("" if live else interrupted(self.imtui.services.settings.poll_seconds))


def interrupted(poll_seconds: float) -> str:
    """The one wording of a LISTEN outage: the notification and the status line."""
    return _("Live updates interrupted: lists refresh every {n:g} s until the database connection is back.").format(
        n=poll_seconds)

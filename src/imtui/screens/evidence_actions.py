""""Create report" and "Send for export", shared by the incident list and the editor (both act
on one project; the engine checks the permissions and writes the activity entries)."""

from __future__ import annotations

from collections.abc import Callable

from textual.screen import Screen

from imtui.engine.errors import ServiceError
from imtui.i18n import _
from imtui.screens.confirm import ConfirmDialog
from imtui.screens.render import tell


def open_report(screen: Screen, incident_id: int, on_done=None) -> None:  # noqa: ANN001
    from imtui.screens.report_dialog import ReportDialog

    screen.app.push_screen(ReportDialog(incident_id), callback=on_done)


def ask_send_for_export(screen: Screen, incident_id: int, on_done: Callable[[object], object] | None = None) -> None:
    """Send for export is logged and queues work, so it always asks first (a stray key must not
    send a project); on yes, a worker of ``screen`` puts the sequences on the list."""

    def answered(yes: bool | None) -> None:
        if yes:
            screen.run_worker(send_for_export(screen, incident_id, on_done), group="export", exclusive=True,
                              exit_on_error=False)

    question = _("Send the sequences of incident project {id} for export?").format(id=incident_id)
    screen.app.push_screen(ConfirmDialog(question, _("Send for export")), callback=answered)


async def send_for_export(screen: Screen, incident_id: int, on_done=None) -> None:  # noqa: ANN001
    """Put the project's sequences on the export list, then show the list (manual 000)."""
    from imtui.screens.exports import ExportsScreen

    app = screen.app
    try:
        n = await app.services.exports.send_for_export(app.actor, incident_id)  # type: ignore[attr-defined]
    except ServiceError as exc:
        tell(screen, exc.message, error=True)
        return
    if n:
        tell(screen, _("{n} sequences of incident project {id} added to the export list.").format(n=n, id=incident_id))
    else:
        tell(screen, _("The sequences of incident project {id} are already on the export list.").format(id=incident_id))
    app.push_screen(ExportsScreen(), callback=on_done)

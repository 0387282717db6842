""""Create report" and "Send for export", shared by the incident list and the editor (both act
on one project; the engine checks the permissions and writes the activity entries)."""

from __future__ import annotations

from textual.screen import Screen

from imtui.engine.errors import ServiceError
from imtui.i18n import _
from imtui.screens.render import tell


def open_report(screen: Screen, incident_id: int, on_done=None) -> None:  # noqa: ANN001
    from imtui.screens.report_dialog import ReportDialog

    screen.app.push_screen(ReportDialog(incident_id), callback=on_done)


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

"""The report dialog (manual 000, "Create a report"): "Show user names" (off: names become
User 1, User 2…), where to save the PDF, and Print when this machine has ``lp``.  The report is
built by the engine (database reads on the loop, layout and PDF in a thread) while a progress bar
moves; the dialog stays open with the outcome so the operator can also print.  Dismisses with the
last ReportResult or None."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Label, ProgressBar, Static

from imtui.engine.errors import InvalidInput, ServiceError
from imtui.engine.report.service import ReportResult, printer_available, report_path
from imtui.i18n import _
from imtui.screens.base import AppAccess
from imtui.screens.render import quiet_input, safe, tell


class ReportDialog(AppAccess, ModalScreen[ReportResult | None]):
    """Screen id ``report``: ``#report-show-names``, ``#report-path``, ``#report-save``,
    ``#report-print``, ``#report-close``, ``#report-progress``, ``#report-status``."""

    BINDINGS = [
        Binding("escape", "close", _("Close"), id="report-escape"),
        Binding("ctrl+s", "save", _("Save as PDF"), id="report-ctrl-s", priority=True),
    ]

    def __init__(self, incident_id: int, folder: str = "~") -> None:
        super().__init__(id="report")
        self.incident_id = incident_id
        self.folder = folder
        self.result: ReportResult | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="report-dialog", classes="dialog"):
            yield Label(_("Create report: incident project {id}").format(id=self.incident_id), classes="dialog-title")
            yield Checkbox(_("Show user names"), False, id="report-show-names", compact=True)
            yield Label(_("Save as"))
            yield quiet_input(id="report-path",
                              value=f"{self.folder.rstrip('/')}/incident-{self.incident_id}-report.pdf")
            yield ProgressBar(total=1.0, show_eta=False, show_percentage=True, id="report-progress")
            yield Static("", id="report-status", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(_("Save as PDF"), id="report-save", variant="primary", compact=True)
                yield Button(_("Print"), id="report-print", compact=True, disabled=not printer_available())
                yield Button(_("Close"), id="report-close", compact=True)

    def on_mount(self) -> None:
        self.query_one("#report-progress", ProgressBar).display = False
        self.query_one("#report-show-names", Checkbox).focus()

    @on(Button.Pressed, "#report-save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#report-print")
    def _print_pressed(self) -> None:
        self.produce(printing=True)

    @on(Button.Pressed, "#report-close")
    def _close_pressed(self) -> None:
        self.action_close()

    def action_save(self) -> None:
        self.produce(printing=False)

    def action_close(self) -> None:
        if self.busy:
            tell(self, _("The report is still being generated; close the dialog when it is done."))
            return
        self.dismiss(self.result)

    @property
    def busy(self) -> bool:
        return any(w.group == "report" and w.is_running for w in self.workers)

    def _progress(self, fraction: float, label: str) -> None:
        self.query_one("#report-progress", ProgressBar).update(progress=fraction)
        self.query_one("#report-status", Static).update(safe(label))

    @work(exclusive=True, group="report", exit_on_error=False)
    async def produce(self, printing: bool) -> None:
        reports = self.imtui.services.reports
        names = self.query_one("#report-show-names", Checkbox).value
        status = self.query_one("#report-status", Static)
        bar = self.query_one("#report-progress", ProgressBar)
        try:
            bar.display = True
            bar.update(progress=0)
            if printing:
                result = await reports.print(self.imtui.actor, self.incident_id, show_user_names=names,
                                             progress=self._progress)
                message = (_("Report sent to the printer.") if not result.missing else result.message)
            else:
                target = report_path(self.query_one("#report-path").value, self.incident_id)
                result = await reports.save(self.imtui.actor, self.incident_id, target, show_user_names=names,
                                            progress=self._progress)
                message = result.message
        except InvalidInput as exc:
            bar.display = False
            status.update(safe(exc.message))
            tell(self, exc.message, error=True)
            if exc.field == "path":
                self.query_one("#report-path").focus()
            return
        except ServiceError as exc:
            bar.display = False
            status.update(safe(exc.message))
            tell(self, exc.message, error=True)
            return
        self.result = result
        status.update(safe(message))
        tell(self, message, error=bool(result.missing))

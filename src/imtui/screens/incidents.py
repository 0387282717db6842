"""The incident list: 100 projects a page, newest first, with filters and keyset paging."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static
from textual.worker import Worker

from imtui.engine.changes import Topic
from imtui.engine.errors import InvalidInput, ServiceError
from imtui.engine.incidents import Cursor, IncidentFilter, Page, orders_by_end_time, parse_time_field
from imtui.i18n import _
from imtui.screens.base import AppAccess
from imtui.screens.evidence_actions import ask_send_for_export, open_report
from imtui.screens.list_tables import IncidentTable
from imtui.screens.live_status import LiveStatus
from imtui.screens.new_incident import NewIncident, NewIncidentDialog
from imtui.screens.paging import PageTurns
from imtui.screens.render import cell, quiet_input, tell, time_cell

PAGE_SIZE = 100


class IncidentsScreen(AppAccess, Screen[None]):
    TABLE: type[DataTable] = IncidentTable
    BINDINGS = [
        Binding("f5", "refresh", _("Refresh"), id="refresh"),
        Binding("escape", "focus_table", _("List"), id="focus-list", show=False),
        Binding("f2", "admin_properties", _("Properties"), id="admin-properties"),
        Binding("f3", "audit_log", _("Audit"), id="audit-log"),
        Binding("f4", "admin_security", _("Users"), id="admin-security"),
        Binding("f6", "admin_cameras", _("Cameras"), id="admin-cameras"),
        Binding("f7", "exports", _("Exports"), id="exports"),
        Binding("f8", "matchlists", _("Match lists"), id="matchlists"),
        Binding("f9", "alarms", _("Alarms"), id="alarms"),
        Binding("f10", "lpr_events", _("LPR events"), id="lpr-events"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.filter = IncidentFilter()
        self.page_starts: list[Cursor | None] = [None]
        self.page: Page | None = None
        self.total: tuple[int, bool] | None = None
        self.turns = PageTurns()

    def compose(self) -> ComposeResult:
        with Horizontal(id="filters"):
            yield quiet_input(id="filter-id", placeholder=_("ID"), type="integer")
            yield quiet_input(id="filter-text", placeholder=_("Text in description"))
            yield quiet_input(id="filter-after", placeholder=_("After YYYY-MM-DD HH:MM"))
            yield quiet_input(id="filter-before", placeholder=_("Before YYYY-MM-DD HH:MM"))
        table = self.TABLE(id="incidents", cursor_type="row", zebra_stripes=False)
        yield table
        yield Static("", id="page-info")
        yield LiveStatus()
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#incidents", DataTable)
        for key, label in (
            ("id", _("ID")), ("type", _("Type")), ("status", _("Status")), ("start", _("Start")),
            ("end", _("End")), ("created_by", _("Created by")), ("description", _("Description")),
        ):
            table.add_column(label, key=key)
        table.focus()
        # The app's hub watches since before this screen was pushed: no change is missed.
        self.follow((Topic.INCIDENTS, Topic.PROPERTIES), self._on_external_change)
        self.load_page()
        self.load_count()

    # -- loading ----------------------------------------------------------------------------------
    def load_page(self, keep_row: int | None = None, turning: bool = False) -> None:
        self.turns.loading = self._load_page(keep_row, turning)

    @work(exclusive=True, group="page", exit_on_error=False)
    async def _load_page(self, keep_row: int | None, turning: bool) -> None:
        """Load the page at ``page_starts[-1]`` (``turning``: start from the page shown), then the
        turns pressed meanwhile (see paging.py); the rows, ``page_starts`` and the label change
        together."""
        svc, starts, query = self.imtui.services.incidents, list(self.page_starts), self.filter
        page = self.page if turning else None

        def after(page: Page) -> Cursor | None:
            return Cursor.after(page.rows[-1]) if page.has_next and page.rows else None

        async def fetch(start: Cursor | None) -> Page:
            return await svc.list_page(self.imtui.actor, query, start, PAGE_SIZE)

        try:
            shown = page = page or await fetch(starts[-1])
            page = await self.turns.apply(page, starts, after, fetch)
        except ServiceError as exc:
            self.turns.drop()
            tell(self, exc.message, error=True)
            return
        if turning and page is self.page:
            return  # ] on the last page, [ on the first: nothing changed
        self.page_starts, self.page = starts, page
        self._fill(page, keep_row if page is shown else 0)
        self._show_page_info()

    @work(exclusive=True, group="count", exit_on_error=False)
    async def load_count(self) -> None:
        try:
            self.total = await self.imtui.services.incidents.count(self.imtui.actor, self.filter)
        except ServiceError:
            self.total = None
        self._show_page_info()

    def _on_external_change(self) -> None:
        """Another operator changed a project or the properties it shows (the change hub's
        INCIDENTS and PROPERTIES topics; an alarm does not reload the list)."""
        table = self.query_one("#incidents", DataTable)
        self.load_page(keep_row=table.cursor_row)
        self.load_count()

    def _fill(self, page: Page, keep_row: int | None) -> None:
        table = self.query_one("#incidents", DataTable)
        if page.rows == getattr(self, "_shown_rows", None) and table.row_count == len(page.rows):
            return  # a change elsewhere (another page, a project not shown): nothing to repaint
        self._shown_rows = page.rows
        tz = self.imtui.services.settings.timezone
        table.clear()
        table.add_rows(
            (
                cell(r.id),
                cell(r.type_name, 30),
                cell(r.status_name, 20),
                time_cell(r.start_time, tz),
                time_cell(r.end_time, tz),
                cell(r.created_by, 20),
                cell(r.description, 80),
            )
            for r in page.rows
        )
        # add_rows gives random keys; keep our own id list to map rows back to incidents
        self._row_ids = [r.id for r in page.rows]
        self._row_versions = [r.version for r in page.rows]
        if keep_row is not None and page.rows:
            table.move_cursor(row=min(keep_row, len(page.rows) - 1))

    def _show_page_info(self) -> None:
        number = len(self.page_starts)
        if self.total is None:
            text = _("Page {n}").format(n=number)
        else:
            count, capped = self.total
            pages = max(1, -(-count // PAGE_SIZE))
            if capped:
                text = _("Page {n} of {pages}+").format(n=number, pages=pages)
            else:
                text = _("Page {n} of {pages}").format(n=number, pages=pages)
            text += "  ·  " + (
                _("{count:,}+ incident projects").format(count=count) if capped
                else _("{count:,} incident projects").format(count=count)
            )
        if orders_by_end_time(self.filter):
            text += "  ·  " + _("latest-ending first")
        self.query_one("#page-info", Static).update(text)

    def selected_incident(self) -> tuple[int, int] | None:
        table = self.query_one("#incidents", DataTable)
        ids = getattr(self, "_row_ids", [])
        if not ids or table.cursor_row is None or not 0 <= table.cursor_row < len(ids):
            return None
        return ids[table.cursor_row], self._row_versions[table.cursor_row]

    # -- paging and filters -----------------------------------------------------------------------
    def action_next_page(self) -> None:
        if self.turns.press(1):
            self.load_page(turning=True)

    def action_previous_page(self) -> None:
        if self.turns.press(-1):
            self.load_page(turning=True)

    def action_refresh(self) -> None:
        self.load_page(keep_row=self.query_one("#incidents", DataTable).cursor_row)
        self.load_count()

    @work(exclusive=True, group="action", exit_on_error=False)
    async def action_admin_properties(self) -> None:
        """Open the properties administration; the engine decides whether this user may."""
        from imtui.screens.admin_properties import AdminPropertiesScreen

        try:
            await self.imtui.services.properties.options(self.imtui.actor)
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            return
        self.app.push_screen(AdminPropertiesScreen(), callback=lambda _r: self.action_refresh())

    def action_admin_security(self) -> None:
        from imtui.screens.admin_security import AdminSecurityScreen

        self.app.push_screen(AdminSecurityScreen())

    def action_admin_cameras(self) -> None:
        from imtui.screens.admin_cameras import AdminCamerasScreen

        self.app.push_screen(AdminCamerasScreen())

    def action_alarms(self) -> None:
        from imtui.screens.alarms import AlarmsScreen

        self.app.push_screen(AlarmsScreen())

    def action_lpr_events(self) -> None:
        from imtui.screens.lpr_events import LprEventsScreen

        self.app.push_screen(LprEventsScreen())

    def action_matchlists(self) -> None:
        from imtui.screens.matchlists import MatchListsScreen

        self.app.push_screen(MatchListsScreen())

    def action_playback(self) -> None:
        from imtui.screens.playback import PlaybackScreen

        self.app.push_screen(PlaybackScreen(), callback=lambda _r: self.action_refresh())

    def action_live(self) -> None:
        from imtui.screens.live import LiveScreen

        self.app.push_screen(LiveScreen(), callback=lambda _r: self.action_refresh())

    def action_drafts(self) -> None:
        from imtui.screens.drafts import DraftsScreen

        self.app.push_screen(DraftsScreen(), callback=lambda _r: self.action_refresh())

    def action_report(self) -> None:
        selected = self.selected_incident()
        if selected is not None:
            open_report(self, selected[0], on_done=lambda _r: self.action_refresh())

    def action_send_for_export(self) -> None:
        selected = self.selected_incident()
        if selected is not None:
            ask_send_for_export(self, selected[0], on_done=lambda _r: self.action_refresh())

    def action_exports(self) -> None:
        from imtui.screens.exports import ExportsScreen

        self.app.push_screen(ExportsScreen())

    def action_audit_log(self) -> None:
        from imtui.screens.audit import AuditScreen

        self.app.push_screen(AuditScreen())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Dim what this user may not do (the engine refuses it anyway).  While an action is on
        its way to a dialog (``n`` reading the types from a slow or absent database), the list's
        printable keys are off: what the operator types for the dialog must not act here."""
        if action in IncidentTable.PRINTABLE and self._dialog_coming():
            return False
        if self.imtui.actor is None:
            return True
        can = self.imtui.services.incidents.capabilities(self.imtui.actor)
        rules = {"new_incident": can.manage_incidents, "drafts": can.manage_sequences, "delete_incident": can.delete_incidents,
                 "admin_properties": can.view_properties, "audit_log": can.view_properties,
                 "admin_security": can.view_security, "admin_cameras": can.view_properties,
                 "report": can.make_reports, "send_for_export": can.export, "exports": can.export}
        if action in rules:
            hide = ("admin_properties", "audit_log", "admin_security", "admin_cameras")
            return True if rules[action] else (False if action in hide else None)
        return True

    def _dialog_coming(self) -> bool:
        return any(w.node is self and w.group == "action" and not w.is_finished for w in self.app.workers)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "action":
            self.refresh_bindings()  # the footer shows the printable keys again once the action is done

    def action_focus_text_filter(self) -> None:
        self.query_one("#filter-text", Input).focus()

    def action_focus_table(self) -> None:
        self.query_one("#incidents", DataTable).focus()

    @on(Input.Submitted, "#filters Input")
    def apply_filters(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            new = self._read_filters()
        except InvalidInput as exc:
            tell(self, exc.message, error=True)
            self.query_one(f"#filter-{exc.field}", Input).focus()
            return
        self.filter = new
        self.page_starts = [None]
        self.turns.drop()
        self.total = None
        self.load_page(keep_row=0)
        self.load_count()
        self.action_focus_table()

    def _read_filters(self) -> IncidentFilter:
        tz = self.imtui.services.settings.timezone
        raw_id = self.query_one("#filter-id", Input).value.strip()
        incident_id = None
        if raw_id:
            if not raw_id.isdigit():
                raise InvalidInput("id", _("ID: type a whole number such as 42."))
            incident_id = int(raw_id)
        text = self.query_one("#filter-text", Input).value.strip() or None
        after = before = None
        raw_after = self.query_one("#filter-after", Input).value.strip()
        raw_before = self.query_one("#filter-before", Input).value.strip()
        if raw_after:
            try:
                after = parse_time_field(_("After"), raw_after, tz)
            except InvalidInput as exc:
                raise InvalidInput("after", exc.message) from None
        if raw_before:
            try:
                before = parse_time_field(_("Before"), raw_before, tz)
            except InvalidInput as exc:
                raise InvalidInput("before", exc.message) from None
        if after and before and before < after:
            raise InvalidInput("before", _("Before: the time is earlier than After; swap them or clear one."))
        return IncidentFilter(incident_id=incident_id, text=text, after=after, before=before)

    # -- create, open, delete ---------------------------------------------------------------------
    # Dialogs are pushed with a callback rather than awaited inside a worker, so no worker stays
    # alive while a dialog waits for the operator (tests can wait for workers to finish).
    def action_new_incident(self) -> None:
        # the dialog reads the types itself, so it is on screen before the database answers (or not)
        self.app.push_screen(NewIncidentDialog(self.imtui.services.incidents.types, self._store_incident),
                             callback=self._incident_created)

    async def _store_incident(self, choice: NewIncident) -> int:
        return await self.imtui.services.incidents.create(self.imtui.actor, choice.type_id, choice.description,
                                                          token=choice.token)

    def _incident_created(self, new_id: int | None) -> None:
        if new_id is None:
            return
        tell(self, _("Incident project {id} created.").format(id=new_id))
        self.page_starts = [None]
        self.turns.drop()
        self.load_page(keep_row=0)
        self.load_count()

    @on(DataTable.RowSelected, "#incidents")
    def open_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        selected = self.selected_incident()
        if selected is not None:
            self.chosen(selected[0])

    def chosen(self, incident_id: int) -> None:
        """Enter on a row: open the editor (the project picker overrides this)."""
        from imtui.screens.editor import IncidentEditorScreen

        self.app.push_screen(IncidentEditorScreen(incident_id), callback=lambda _r: self.action_refresh())

    def action_delete_incident(self) -> None:
        selected = self.selected_incident()
        if selected is None:
            return
        incident_id, version = selected
        question = _("Delete incident project {id}? This cannot be undone.").format(id=incident_id)
        self.ask(question, _("Delete"), lambda: self.delete_incident(incident_id, version))

    @work(exclusive=True, group="action", exit_on_error=False)
    async def delete_incident(self, incident_id: int, version: int) -> None:
        try:
            await self.imtui.services.incidents.delete(self.imtui.actor, incident_id, version)
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            return
        tell(self, _("Incident project {id} deleted.").format(id=incident_id))
        self.action_refresh()

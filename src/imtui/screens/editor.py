"""The incident project editor: main details, categories, comments, sequences, calls, activity."""

from __future__ import annotations

from datetime import datetime

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import (
    Button,
    DataTable,
    Footer,
    Input,
    Label,
    Select,
    Static,
    TabbedContent,
    TabPane,
    TextArea,
)

from imtui.engine.errors import InvalidInput, ServiceError
from imtui.engine.incidents import CallInput, Definitions, IncidentDetail, parse_time_field
from imtui.engine.times import INPUT_FORMAT, format_site
from imtui.i18n import _
from imtui.safetext import clean
from imtui.screens.confirm import ChoiceDialog
from imtui.screens.editor_fields import EditorFields
from imtui.screens.evidence_actions import ask_send_for_export, open_report
from imtui.screens.render import cell, options, quiet_input, quiet_text_area, safe, tell, time_cell


class IncidentEditorScreen(EditorFields):
    """No printable key acts here: the operator types a description, comments and calls, and one
    stray Tab must not turn a sentence into actions.  Report and Send for export are F-keys; a
    sequence plays with ``enter`` on its row or the View video button."""

    BINDINGS = [
        Binding("ctrl+s", "save", _("Save"), id="save", priority=True),
        Binding("escape", "close", _("Back"), id="close"),
        Binding("f5", "reload", _("Reload"), id="reload"),
        Binding("delete", "delete_item", _("Delete item"), id="delete-item", show=False),
        Binding("f6", "report", _("Report"), id="editor-report"),
        Binding("f7", "send_for_export", _("Send for export"), id="editor-send-for-export"),
        Binding("ctrl+n", "switch_tab(1)", _("Next tab"), id="next-tab", priority=True),
        Binding("ctrl+p", "switch_tab(-1)", _("Previous tab"), id="previous-tab", priority=True),
    ]
    PANES = ("main", "categories", "comments-pane", "sequences-pane", "calls-pane", "activity-pane")

    def __init__(self, incident_id: int) -> None:
        super().__init__()
        self.incident_id = incident_id
        self.detail: IncidentDetail | None = None
        self.definitions: Definitions | None = None
        self.editing_comment: tuple[int, int] | None = None  # (id, version)
        self.editing_call: tuple[int, int] | None = None
        self.shown_fields: dict[str, object] = {}  # main-detail and category fields as last loaded

    # -- layout -----------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static(_("Incident project {id}").format(id=self.incident_id), id="editor-title")
        with TabbedContent(id="editor", initial="main"):
            with TabPane(_("Main details"), id="main"):
                with Horizontal(classes="field-row"):
                    yield Label(_("ID"), classes="field-label")
                    yield Static("", id="incident-id", classes="field-value")
                    yield Label(_("Created by"), classes="field-label")
                    yield Static("", id="created-by", classes="field-value")
                with Horizontal(classes="field-row"):
                    yield Label(_("Start time"), classes="field-label")
                    yield Static("", id="start-time", classes="field-value")
                    yield Label(_("End time"), classes="field-label")
                    yield Static("", id="end-time", classes="field-value")
                with Horizontal(classes="field-row"):
                    yield Label(_("Type"), classes="field-label")
                    yield Select([], id="type", allow_blank=True, compact=True)
                with Horizontal(classes="field-row"):
                    yield Label(_("Status"), classes="field-label")
                    yield Select([], id="status", allow_blank=True, compact=True)
                yield Label(_("Description"))
                yield quiet_text_area(id="description")
            with TabPane(_("Categories"), id="categories"):
                yield VerticalScroll(id="categories-form")
            with TabPane(_("Comments"), id="comments-pane"):
                yield Static(_("This information is not available to you."), id="comments-unavailable",
                             classes="unavailable")
                yield quiet_text_area(id="comment-text", placeholder=_("Type a comment, then Add comment"))
                with Horizontal(classes="buttons"):
                    yield Button(_("Add comment"), id="add-comment", compact=True, variant="primary")
                    yield Button(_("Cancel edit"), id="cancel-comment", compact=True)
                yield DataTable(id="comments", cursor_type="row")
            with TabPane(_("Sequence list"), id="sequences-pane"):
                yield Static(_("This information is not available to you."), id="sequences-unavailable",
                             classes="unavailable")
                yield DataTable(id="sequences", cursor_type="row")
                with Horizontal(classes="buttons"):
                    yield Button(_("View video"), id="view-video", compact=True, variant="primary")
                    yield Button(_("Remove"), id="remove-sequence", compact=True, variant="error")
            with TabPane(_("Calls"), id="calls-pane"):
                yield Static(_("This information is not available to you."), id="calls-unavailable",
                             classes="unavailable")
                with Horizontal(classes="field-row", id="call-form-1"):
                    yield quiet_input(id="call-time", placeholder=_("YYYY-MM-DD HH:MM"))
                    yield Select(
                        [(_("Incoming"), "incoming"), (_("Outgoing"), "outgoing")],
                        value="incoming", allow_blank=False, id="call-direction", compact=True,
                    )
                    yield quiet_input(id="call-party", placeholder=_("Caller/callee"))
                    yield quiet_input(id="call-number", placeholder=_("Number"))
                with Horizontal(classes="field-row", id="call-form-2"):
                    yield quiet_input(id="call-notes", placeholder=_("Notes"))
                    yield Button(_("Add call"), id="add-call", compact=True, variant="primary")
                    yield Button(_("Cancel edit"), id="cancel-call", compact=True)
                yield DataTable(id="calls", cursor_type="row")
            with TabPane(_("Activity log"), id="activity-pane"):
                yield DataTable(id="activity", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        columns = {
            "#comments": (_("Time"), _("Author"), _("Comment")),
            "#sequences": (_("Camera"), _("Start"), _("End"), _("Added by")),
            "#calls": (_("Time"), _("Direction"), _("Caller/callee"), _("Number"), _("Notes"), _("By")),
            "#activity": (_("Time"), _("User"), _("Action"), _("Details")),
        }
        for selector, labels in columns.items():
            self.query_one(selector, DataTable).add_columns(*labels)
        self._reset_call_form()
        self.query_one("#cancel-comment").display = False
        self.query_one("#cancel-call").display = False
        self.query_one("#editor Tabs").focus()  # left/right switch tabs from the start
        self.load(initial=True)

    def action_switch_tab(self, step: int) -> None:
        """Next/previous tab from anywhere (ctrl+n / ctrl+p), focusing the new pane's first field."""
        tabs = self.query_one("#editor", TabbedContent)
        index = self.PANES.index(tabs.active) if tabs.active in self.PANES else 0
        tabs.active = self.PANES[(index + step) % len(self.PANES)]
        pane = tabs.get_pane(tabs.active)
        focusable = [w for w in pane.query("*") if w.focusable]
        if focusable:
            focusable[0].focus()
        else:
            self.query_one("#editor Tabs").focus()

    # -- loading ----------------------------------------------------------------------------------
    @work(exclusive=True, group="load", exit_on_error=False)
    async def load(self, initial: bool = False, keep: dict[str, object] | None = None) -> None:
        """(Re)load the project; ``keep``: fields the operator typed, put back over the stored ones."""
        svc = self.imtui.services.incidents
        try:
            if initial:
                types, statuses = await svc.types(), await svc.statuses()
                self.query_one("#type", Select).set_options(options(types))
                self.query_one("#status", Select).set_options(options(statuses))
                self.definitions = await svc.definitions()
                await self._build_categories_form(self.definitions)
                detail = await svc.open(self.imtui.actor, self.incident_id)
            else:
                detail = await svc.get(self.imtui.actor, self.incident_id)
            entries = await svc.activity(self.imtui.actor, self.incident_id)
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            if initial:
                self.dismiss(None)
            return
        if initial:
            self._apply_capabilities(detail)
        self._show(detail, main=True)
        self._show_activity(entries)
        if keep:
            self._put_fields(keep)

    def _apply_capabilities(self, detail: IncidentDetail) -> None:
        """Hide what this user may not see, make read-only what they may not change."""
        can = self.imtui.services.incidents.capabilities(self.imtui.actor)
        self.query_one("#description", TextArea).read_only = not can.manage_incidents
        sections = {
            "comments": (["#comment-text", "#add-comment", "#comments", "#cancel-comment"], can.manage_comments,
                         ["#comment-text", "#add-comment"]),
            "calls": (["#call-form-1", "#call-form-2", "#calls"], can.manage_calls,
                      ["#call-time", "#call-direction", "#call-party", "#call-number", "#call-notes", "#add-call"]),
            "sequences": (["#sequences", "#remove-sequence", "#view-video"], can.manage_sequences,
                          ["#remove-sequence"]),
        }
        for name, (widgets, manage, controls) in sections.items():
            hidden = name in detail.hidden
            self.query_one(f"#{name}-unavailable").display = hidden
            for selector in widgets:
                if hidden:
                    self.query_one(selector).display = False
            if not manage:
                for selector in controls:
                    widget = self.query_one(selector)
                    if isinstance(widget, TextArea):
                        widget.read_only = True
                    else:
                        widget.disabled = True

    async def _reload_lists(self) -> None:
        """After a comment, call or sequence change: refresh those lists, keep unsaved main edits."""
        svc = self.imtui.services.incidents
        detail = await svc.get(self.imtui.actor, self.incident_id)
        self._show(detail, main=False)
        self._show_activity(await svc.activity(self.imtui.actor, self.incident_id))

    def _show(self, d: IncidentDetail, *, main: bool) -> None:
        tz = self.imtui.services.settings.timezone
        self.detail = d
        self.query_one("#incident-id", Static).update(str(d.id))
        self.query_one("#created-by", Static).update(safe(d.created_by))
        self.query_one("#start-time", Static).update(format_site(d.start_time, tz) or "—")
        self.query_one("#end-time", Static).update(format_site(d.end_time, tz) or "—")
        if main:
            self.query_one("#type", Select).value = d.type_id
            self.query_one("#status", Select).value = d.status_id
            # TextArea draws its text as is: control characters would reach the terminal.  It
            # shows the sanitised text; saving an untouched description keeps the stored one.
            self.query_one("#description", TextArea).load_text(clean(d.description, multiline=True))
            self._show_categories(d)
            self.shown_fields = self._field_values()
        comments = self.query_one("#comments", DataTable)
        comments.clear()
        for c in d.comments:
            comments.add_row(time_cell(c.created_at, tz), cell(c.author, 20), cell(c.text, 200), key=str(c.id))
        seqs = self.query_one("#sequences", DataTable)
        seqs.clear()
        for q in d.sequences:
            seqs.add_row(cell(q.camera_name, 40), time_cell(q.start_time, tz, "%Y-%m-%d %H:%M:%S"),
                         time_cell(q.end_time, tz, "%Y-%m-%d %H:%M:%S"), cell(q.added_by, 20), key=str(q.id))
        calls = self.query_one("#calls", DataTable)
        calls.clear()
        directions = {"incoming": _("Incoming"), "outgoing": _("Outgoing")}
        for c in d.calls:
            calls.add_row(time_cell(c.at, tz), directions.get(c.direction, c.direction), cell(c.party, 40),
                          cell(c.number, 30), cell(c.notes, 120), cell(c.author, 20), key=str(c.id))

    def _show_activity(self, entries: list) -> None:
        tz = self.imtui.services.settings.timezone
        table = self.query_one("#activity", DataTable)
        table.clear()
        for e in entries:
            table.add_row(time_cell(e.at, tz, "%Y-%m-%d %H:%M:%S"), cell(e.user, 20), e.label, cell(e.details, 200))

    def _fail(self, exc: ServiceError) -> None:
        tell(self, exc.message, error=True)

    # -- main details -----------------------------------------------------------------------------
    def _main_values(self) -> tuple[object, object, str]:
        text = self.query_one("#description", TextArea).text
        if self.detail is not None and text == clean(self.detail.description, multiline=True):
            text = self.detail.description
        return (self.query_one("#type", Select).value, self.query_one("#status", Select).value, text)

    def is_dirty(self) -> bool:
        if self.detail is None:
            return False
        main = self._main_values() != (self.detail.type_id, self.detail.status_id, self.detail.description)
        return main or self._categories_dirty()

    @work(exclusive=True, group="action", exit_on_error=False)
    async def action_save(self) -> None:
        if self.detail is None:
            return
        type_id, status_id, description = self._main_values()
        if not isinstance(type_id, int) or not isinstance(status_id, int):
            tell(self, _("Type and Status: choose a value for both before saving."), error=True)
            return
        categories, data = self._category_values()
        try:
            await self.imtui.services.incidents.update_main(
                self.imtui.actor, self.detail.id, self.detail.version,
                type_id=type_id, status_id=status_id, description=description,
                categories=categories, data=data, tz=self.imtui.services.settings.timezone,
            )
            detail = await self.imtui.services.incidents.get(self.imtui.actor, self.incident_id)
            entries = await self.imtui.services.incidents.activity(self.imtui.actor, self.incident_id)
        except InvalidInput as exc:
            self._fail(exc)  # the typed text stays in the fields: nothing is lost
            if exc.field.startswith(("category-", "field-")):
                self.query_one("#editor", TabbedContent).active = "categories"
                self.query_one(f"#{exc.field}").focus()
            return
        except ServiceError as exc:
            self._fail(exc)  # the typed text stays in the fields: nothing is lost
            return
        self._show(detail, main=True)
        self._show_activity(entries)
        tell(self, _("Incident project saved."))

    def action_reload(self) -> None:
        """f5: with unsaved main details, ask (as Escape does) whether to reload keeping them."""
        if not self.is_dirty():
            self.load()
            return
        question = _("The main details have unsaved changes. Reload the stored project and keep "
                     "what you typed over it, or discard what you typed?")
        answers = [("keep", _("Reload, keep my changes")), ("discard", _("Reload, discard"))]
        self.app.push_screen(ChoiceDialog(question, answers), callback=self._reload_answered)

    def _reload_answered(self, answer: str | None) -> None:
        if answer == "keep":
            self.load(keep=self._typed_fields())
        elif answer == "discard":
            self.load()

    @work(exclusive=True, group="load", exit_on_error=False)
    async def reload_lists(self) -> None:
        """After the report or export dialogs: the new activity entries, keeping typed details."""
        try:
            await self._reload_lists()
        except ServiceError as exc:
            self._fail(exc)

    def action_close(self) -> None:
        if not self.is_dirty():
            self.dismiss(None)
            return
        self.ask(_("Discard the unsaved changes to the main details?"), _("Discard"), lambda: self.dismiss(None))

    # -- comments ---------------------------------------------------------------------------------
    @on(Button.Pressed, "#add-comment")
    @work(exclusive=True, group="action", exit_on_error=False)
    async def add_comment(self) -> None:
        area = self.query_one("#comment-text", TextArea)
        svc = self.imtui.services.incidents
        try:
            if self.editing_comment is None:
                await svc.add_comment(self.imtui.actor, self.incident_id, area.text,
                                      token=self.save_token("comment", area.text))
            else:
                cid, version = self.editing_comment
                await svc.edit_comment(self.imtui.actor, cid, version, area.text)
            await self._reload_lists()
        except ServiceError as exc:
            self._fail(exc)
            return
        self._end_comment_edit()

    @on(DataTable.RowSelected, "#comments")
    def edit_comment(self, event: DataTable.RowSelected) -> None:
        if self.detail is None or event.row_key.value is None:
            return
        comment = next((c for c in self.detail.comments if str(c.id) == event.row_key.value), None)
        if comment is None:
            return
        self.editing_comment = (comment.id, comment.version)
        area = self.query_one("#comment-text", TextArea)
        area.load_text(clean(comment.text, multiline=True))
        self.query_one("#add-comment", Button).label = _("Save comment")
        self.query_one("#cancel-comment").display = True
        area.focus()

    @on(Button.Pressed, "#cancel-comment")
    def _end_comment_edit(self) -> None:
        self.editing_comment = None
        self.query_one("#comment-text", TextArea).load_text("")
        self.query_one("#add-comment", Button).label = _("Add comment")
        self.query_one("#cancel-comment").display = False

    # -- calls ------------------------------------------------------------------------------------
    def _reset_call_form(self) -> None:
        tz = self.imtui.services.settings.timezone
        self.query_one("#call-time", Input).value = datetime.now(tz).strftime(INPUT_FORMAT)
        for field in ("#call-party", "#call-number", "#call-notes"):
            self.query_one(field, Input).value = ""
        self.query_one("#call-direction", Select).value = "incoming"

    def _read_call(self) -> CallInput:
        tz = self.imtui.services.settings.timezone
        at = parse_time_field(_("Call time"), self.query_one("#call-time", Input).value, tz)
        direction = self.query_one("#call-direction", Select).value
        return CallInput(
            at=at,
            direction=str(direction),
            party=self.query_one("#call-party", Input).value,
            number=self.query_one("#call-number", Input).value,
            notes=self.query_one("#call-notes", Input).value,
        )

    @on(Button.Pressed, "#add-call")
    @work(exclusive=True, group="action", exit_on_error=False)
    async def add_call(self) -> None:
        svc = self.imtui.services.incidents
        try:
            call = self._read_call()
            if self.editing_call is None:
                await svc.add_call(self.imtui.actor, self.incident_id, call, token=self.save_token("call", call))
            else:
                call_id, version = self.editing_call
                await svc.edit_call(self.imtui.actor, call_id, version, call)
            await self._reload_lists()
        except InvalidInput as exc:
            self._fail(exc)
            target = {"party": "#call-party", "time": "#call-time"}.get(exc.field, "#call-time")
            self.query_one(target).focus()
            return
        except ServiceError as exc:
            self._fail(exc)
            return
        self._end_call_edit()

    @on(DataTable.RowSelected, "#calls")
    def edit_call(self, event: DataTable.RowSelected) -> None:
        if self.detail is None:
            return
        call = next((c for c in self.detail.calls if str(c.id) == event.row_key.value), None)
        if call is None:
            return
        tz = self.imtui.services.settings.timezone
        self.editing_call = (call.id, call.version)
        self.query_one("#call-time", Input).value = format_site(call.at, tz, INPUT_FORMAT)
        self.query_one("#call-direction", Select).value = call.direction
        self.query_one("#call-party", Input).value = clean(call.party)
        self.query_one("#call-number", Input).value = clean(call.number)
        self.query_one("#call-notes", Input).value = clean(call.notes)
        self.query_one("#add-call", Button).label = _("Save call")
        self.query_one("#cancel-call").display = True
        self.query_one("#call-time", Input).focus()

    @on(Button.Pressed, "#cancel-call")
    def _end_call_edit(self) -> None:
        self.editing_call = None
        self._reset_call_form()
        self.query_one("#add-call", Button).label = _("Add call")
        self.query_one("#cancel-call").display = False

    # -- viewing a sequence ---------------------------------------------------------------------------
    @on(Button.Pressed, "#view-video")
    @on(DataTable.RowSelected, "#sequences")
    def action_view_video(self) -> None:
        from imtui.screens.video import VideoScreen

        table = self.query_one("#sequences", DataTable)
        if self.detail is None or not table.display or self.query_one("#editor", TabbedContent).active != "sequences-pane":
            return
        if table.row_count == 0:
            tell(self, _("Select an item in the list first."))
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        seq = next((q for q in self.detail.sequences if str(q.id) == key), None)
        if seq is not None:
            self.app.push_screen(VideoScreen(seq.camera_id, seq.camera_name, seq.start_time, seq.end_time))

    def action_report(self) -> None:
        open_report(self, self.incident_id, on_done=lambda _r: self.reload_lists())

    def action_send_for_export(self) -> None:
        ask_send_for_export(self, self.incident_id, on_done=lambda _r: self.reload_lists())

    # -- deleting items (sequence, comment, call) -------------------------------------------------
    @on(Button.Pressed, "#remove-sequence")
    def remove_sequence(self) -> None:
        self._delete_from("#sequences")

    def action_delete_item(self) -> None:
        focused = self.focused
        if isinstance(focused, DataTable) and focused.id in ("sequences", "comments", "calls"):
            self._delete_from(f"#{focused.id}")

    def _delete_from(self, selector: str) -> None:
        table = self.query_one(selector, DataTable)
        if table.row_count == 0:
            tell(self, _("Select an item in the list first."))
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if key is None:
            return
        questions = {
            "#sequences": _("Remove the selected sequence from the incident project?"),
            "#comments": _("Delete the selected comment?"),
            "#calls": _("Delete the selected call?"),
        }
        self.ask(questions[selector], _("Remove"), lambda: self._delete_item(selector, int(key)))

    @work(exclusive=True, group="action", exit_on_error=False)
    async def _delete_item(self, selector: str, key: int) -> None:
        svc = self.imtui.services.incidents
        try:
            if selector == "#sequences":
                await svc.remove_sequence(self.imtui.actor, key)
            elif selector == "#comments":
                await svc.delete_comment(self.imtui.actor, key)
                self._end_comment_edit()
            else:
                await svc.delete_call(self.imtui.actor, key)
                self._end_call_edit()
            await self._reload_lists()
        except ServiceError as exc:
            self._fail(exc)

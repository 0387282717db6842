"""The alarm manager (architecture 002, "View and manage alarms"): screen ``#alarms`` with the
alarms newest first (``#alarms-table``, row key = alarm id; the camera in its own column) and the
highlighted alarm's camera, message, matched list entry with its custom fields and last log lines
(``#alarm-detail``) beside the plate picture (``#alarm-snapshot``: ``#alarm-picture`` in the site's
``ui.image_mode``, ``#alarm-snapshot-note``), as ``imtui.engine.alarm_detail`` gives them.

Keys: ``a`` assign to me, ``p`` In progress, ``h`` On hold, ``c`` Closed, ``m`` comment, ``i`` an
incident project of the alarm (linked both ways; of the type set for alarm projects, else the
operator picks one in ``#incident-type``), ``v`` plays the recording around the read (View video).
New alarms arrive through the app's change hub (the ALARMS topic, which also brings other
operators' handling).  Every change goes through AlarmService, which checks the grant
and logs it on the alarm.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from imtui.engine.alarm_detail import AlarmDetail
from imtui.engine.alarm_incident import AlreadyLinked, TypeNeeded
from imtui.engine.alarms import PRIORITIES, STATE_NAMES, AlarmView
from imtui.engine.changes import Topic
from imtui.engine.errors import ServiceError
from imtui.engine.incidents import Option
from imtui.engine.times import format_site
from imtui.i18n import _
from imtui.screens.base import AppAccess
from imtui.screens.form_dialog import FormDialog, FormField, Values
from imtui.screens.incident_type_dialog import IncidentTypeDialog
from imtui.screens.plate_picture import PlatePicture
from imtui.screens.live_status import LiveStatus
from imtui.screens.render import cell, safe, tell, time_cell
from imtui.screens.video import VideoScreen


class AlarmsScreen(AppAccess, Screen[None]):
    BINDINGS = [
        Binding("escape", "app.pop_screen", _("Back"), id="alarms-back"),
        Binding("a", "assign", _("Assign to me"), id="alarms-assign"),
        Binding("p", "state('in_progress')", _("In progress"), id="alarms-in-progress"),
        Binding("h", "state('on_hold')", _("On hold"), id="alarms-on-hold"),
        Binding("c", "state('closed')", _("Close"), id="alarms-close"),
        Binding("m", "comment", _("Comment"), id="alarms-comment"),
        Binding("i", "incident", _("Project"), id="alarms-incident"),
        Binding("v", "video", _("View video"), id="alarms-video"),
        Binding("f5", "reload", _("Refresh"), id="alarms-refresh"),
        Binding("d", "definitions", _("Definitions"), id="alarms-definitions"),
    ]

    def __init__(self) -> None:
        super().__init__(id="alarms")
        self.shown: dict[int, AlarmView] = {}

    def compose(self) -> ComposeResult:
        yield Static(_("Alarms"), id="alarms-title")
        yield DataTable(id="alarms-table", cursor_type="row")
        with Horizontal(id="alarm-bottom"):
            with VerticalScroll(id="alarm-detail-box"):
                yield Static("", id="alarm-detail", markup=False)
            yield PlatePicture(self.imtui.services.settings.image_mode, "alarm")
        yield LiveStatus()
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#alarms-table", DataTable)
        for key, label in (("at", _("Time")), ("priority", _("Priority")), ("state", _("State")), ("name", _("Alarm")),
                           ("camera", _("Camera")), ("object", _("Object")), ("tag", _("Tag")), ("type", _("Type")),
                           ("assigned", _("Assigned to")), ("project", _("Project"))):
            table.add_column(label, key=key)
        table.focus()
        self.follow((Topic.ALARMS,), self.load)  # new alarms and other operators' handling
        self.load()

    def action_definitions(self) -> None:
        """The alarm definitions (``#admin-alarms``, administrators); the service refuses others."""
        from imtui.screens.admin_alarms import AdminAlarmsScreen

        self.app.push_screen(AdminAlarmsScreen())

    def action_reload(self) -> None:
        self.load()

    def selected(self) -> AlarmView | None:
        table = self.query_one("#alarms-table", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.shown.get(int(key)) if key is not None else None

    @work(exclusive=True, group="alarms-load", exit_on_error=False)
    async def load(self, select: int | None = None) -> None:
        try:
            found = await self.imtui.services.alarms.alarms(self.imtui.actor)
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            return
        table = self.query_one("#alarms-table", DataTable)
        keep = select if select is not None else (a.id if (a := self.selected()) else None)
        tz = self.imtui.services.settings.timezone
        self.shown = {a.id: a for a in found}
        table.clear()
        for a in found:
            table.add_row(time_cell(a.at, tz, "%m-%d %H:%M:%S"), PRIORITIES[a.priority], STATE_NAMES[a.state],
                          cell(a.name, 30), cell(a.where, 16), cell(a.object), cell(a.tag), cell(a.type, 30),
                          cell(a.assigned_to), str(a.incident_id or ""), key=str(a.id))
        if keep in self.shown:
            table.move_cursor(row=table.get_row_index(str(keep)))
        await self.show_detail()

    @on(DataTable.RowHighlighted, "#alarms-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.detail_soon()

    @work(exclusive=True, group="alarm-detail", exit_on_error=False)
    async def detail_soon(self) -> None:
        await self.show_detail()

    async def show_detail(self) -> None:
        alarm = self.selected()
        picture = self.query_one(PlatePicture)
        if alarm is None:
            self.query_one("#alarm-detail", Static).update(Text())
            picture.say("")
            return
        try:
            detail = await self.imtui.services.alarm_details.detail(self.imtui.actor, alarm.id, decode=picture.draws)
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            return
        self.query_one("#alarm-detail", Static).update(self.describe(detail))
        none = _("No plate picture was kept for this event.") if detail.match is not None else ""
        await picture.show(detail.snapshot, none=none)

    def describe(self, d: AlarmDetail) -> Text:
        """Where, what, why (the list entry and its fields), and the last log lines; every text
        that came from a camera, a list or a plate literally."""
        tz = self.imtui.services.settings.timezone
        text = Text()
        if d.alarm.camera_id is not None:
            text += Text(_("Camera") + " ") + safe(d.alarm.where, style="bold") + Text(" · ")
        text += Text(format_site(d.alarm.at, tz) + "\n") + safe(d.alarm.message) + Text("\n")
        if d.match is not None:
            text += safe(d.match.list_name, style="bold")
            if d.match.entry_plate:
                text += Text(" · " + _("entry") + " ") + safe(d.match.entry_plate)
            text += Text("\n")
            for name, value in d.match.fields.items():
                text += Text("  ") + safe(name) + Text(": ") + safe(value) + Text("\n")
        elif d.event_gone:
            text += Text(_("Its LPR event is gone (events are kept for a limited time).") + "\n")
        for entry in d.log[-3:]:
            text += time_cell(entry.at, tz, "%H:%M:%S") + Text(" ") + safe(entry.user) + Text(f" {entry.action} ")
            text += safe(entry.details) + Text("\n")
        text.rstrip()
        return text

    def action_video(self) -> None:
        if (alarm := self.selected()) is not None:
            self.play(alarm)

    @work(exclusive=True, group="alarms-video", exit_on_error=False)
    async def play(self, alarm: AlarmView) -> None:
        """View video of the alarm's camera from 10 s before to 10 s after the read."""
        try:
            detail = await self.imtui.services.alarm_details.detail(self.imtui.actor, alarm.id)
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            return
        if detail.video is None:
            tell(self, _("Alarm {id} has no camera: there is no video to play.").format(id=alarm.id), error=True)
            return
        w = detail.video
        self.app.push_screen(VideoScreen(w.camera_id, w.camera_name, w.start, w.end))

    # -- changes ----------------------------------------------------------------------------------
    def action_assign(self) -> None:
        if (alarm := self.selected()) is not None:
            self.change(lambda s, a: s.alarms.assign_to_me(a, alarm.id), alarm.id)

    def action_state(self, state: str) -> None:
        if (alarm := self.selected()) is not None:
            self.change(lambda s, a: s.alarms.set_state(a, alarm.id, state), alarm.id)

    @work(exclusive=True, group="alarms-change", exit_on_error=False)
    async def change(self, op, alarm_id: int) -> None:  # noqa: ANN001
        try:
            await op(self.imtui.services, self.imtui.actor)
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            return
        self.load(select=alarm_id)

    def action_comment(self) -> None:
        alarm = self.selected()
        if alarm is None:
            return

        async def save(values: Values) -> None:
            await self.imtui.services.alarms.comment(self.imtui.actor, alarm.id, str(values["comment"]))
            self.load(select=alarm.id)

        self.app.push_screen(FormDialog(_("Comment on alarm {id}").format(id=alarm.id),
                                        [FormField("comment", _("Comment"), "", _("What was done, who was told"))],
                                        save, dialog_id="alarm-comment-dialog"))

    def action_incident(self) -> None:
        if (alarm := self.selected()) is not None:
            self.make_project(alarm)

    @work(exclusive=True, group="alarms-change", exit_on_error=False)
    async def make_project(self, alarm: AlarmView, type_id: int | None = None) -> None:
        """The alarm's project, of the type set for alarm projects; with none set, the operator
        picks the type and this runs again with it."""
        services = self.imtui.services
        try:
            try:
                project = await services.alarms.to_incident(self.imtui.actor, alarm.id, type_id, services.incidents)
            except TypeNeeded:
                types = await services.incidents.types()
                if not types:
                    tell(self, _("Type: no incident types are defined; ask an administrator to add one."), error=True)
                    return
                self.app.push_screen(IncidentTypeDialog(_("Project of alarm {id}").format(id=alarm.id), types),
                                     callback=lambda chosen: self._typed(alarm, chosen))
                return
        except AlreadyLinked as exc:  # another operator was faster: their project is the one
            tell(self, exc.message)
            self.load(select=alarm.id)
            return
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            return
        tell(self, _("Alarm {alarm}: incident project {id}.").format(alarm=alarm.id, id=project))
        self.load(select=alarm.id)

    def _typed(self, alarm: AlarmView, chosen: Option | None) -> None:
        if chosen is not None:
            self.make_project(alarm, chosen.id)

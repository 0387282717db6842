"""LPR events (the Smart Client's LPR tab, manual 004): screen ``#lpr-events``, opened with ``f10``
from the incident list.  The recognitions the workers stored, newest first, with the lists they
matched, searched by plate, camera, list and time; the highlighted event's matches and the plate
crop.

Widgets: ``#lpr-events-plate`` (a part of the plate, ``?`` for any one character; searches as
you type), ``#lpr-events-camera`` / ``#lpr-events-list`` (Selects: "All"
first), ``#lpr-events-since`` / ``#lpr-events-until`` (site time ``YYYY-MM-DD HH:MM``; Enter
searches), ``#lpr-events-page`` (the page, or what is wrong with a filter), ``#lpr-events-table``
(row key = recognition id), ``#lpr-events-detail`` (the highlighted event and each match with its
list, entry, rule and custom fields) and ``#lpr-events-snapshot`` (the plate crop drawn in the
site's ``ui.image_mode``; with pictures off, a line saying where the file is).

Keys: ``/`` plate filter, ``]`` / ``[`` next (older) / previous page, ``f5`` refresh, ``escape``
leaves a filter for the table, then the screen.  Everything goes through LprEventService (which
checks the sequences grant); every text that came from a camera, a list or a plate is shown
sanitised and never as markup.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Select, Static

from imtui.engine.errors import InvalidInput, ServiceError
from imtui.engine.incidents import parse_time_field
from imtui.engine.lpr_events import EventCursor, EventPage, LprEvent
from imtui.engine.times import format_site
from imtui.i18n import _
from imtui.safetext import clean
from imtui.screens.base import AppAccess
from imtui.screens.frame_view import image_class, prepare
from imtui.screens.render import cell, quiet_input, safe, tell, time_cell

PAGE_SIZE = 100
ALL = 0  # the "All" choice of the camera and list Selects (database ids start at 1)


def _rule(rule: str) -> str:
    return {"exact": _("exact"), "wildcard": _("wildcard"), "ocr-equivalence": _("look-alike characters"),
            "one-difference": _("one difference"), "unlisted": _("not on any list")}.get(rule, rule)


class LprEventsScreen(AppAccess, Screen[None]):
    BINDINGS = [
        Binding("escape", "back", _("Back"), id="lpr-events-back"),
        Binding("slash", "focus_plate", _("Plate"), id="lpr-events-search", key_display="/"),
        Binding("right_square_bracket", "page(1)", _("Older"), id="lpr-events-next", key_display="]"),
        Binding("left_square_bracket", "page(-1)", _("Newer"), id="lpr-events-previous", key_display="["),
        Binding("f5", "reload", _("Refresh"), id="lpr-events-refresh"),
    ]

    def __init__(self) -> None:
        super().__init__(id="lpr-events")
        self.page_starts: list[EventCursor | None] = [None]
        self.page: EventPage | None = None
        self.shown: dict[int, LprEvent] = {}

    @property
    def mode(self) -> str:
        return self.imtui.services.settings.image_mode

    def compose(self) -> ComposeResult:
        with Horizontal(id="lpr-events-filters"):
            yield quiet_input(id="lpr-events-plate", placeholder=_("Plate (? = any one character)"))
            yield Select([(_("All cameras"), ALL)], value=ALL, allow_blank=False, id="lpr-events-camera", compact=True)
            yield Select([(_("All lists"), ALL)], value=ALL, allow_blank=False, id="lpr-events-list", compact=True)
        with Horizontal(id="lpr-events-times"):
            yield quiet_input(id="lpr-events-since", placeholder=_("Since YYYY-MM-DD HH:MM"))
            yield quiet_input(id="lpr-events-until", placeholder=_("Until YYYY-MM-DD HH:MM"))
            yield Static("", id="lpr-events-page", markup=False)
        yield DataTable(id="lpr-events-table", cursor_type="row")
        with Horizontal(id="lpr-events-bottom"):
            with VerticalScroll(id="lpr-events-detail-box"):
                yield Static("", id="lpr-events-detail", markup=False)
            with Vertical(id="lpr-events-snapshot"):
                picture = image_class(self.mode)
                if picture is not None:
                    yield picture(id="lpr-events-picture")
                yield Static("", id="lpr-events-snapshot-note", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#lpr-events-table", DataTable)
        for key, label in (("at", _("Time")), ("camera", _("Camera")), ("plate", _("Plate")),
                           ("country", _("Country")), ("confidence", _("Conf.")), ("lists", _("Lists matched"))):
            table.add_column(label, key=key)
        table.focus()
        self.load_choices()

    # -- loading ------------------------------------------------------------------------------------
    @work(exclusive=True, group="lpr-events-choices", exit_on_error=False)
    async def load_choices(self, then_search: bool = True) -> None:
        """The cameras and lists of the filters (kept as chosen when they still exist); then the
        first page, unless ``then_search`` is off (f5 reloads the page itself)."""
        try:
            choices = await self.imtui.services.lpr_events.choices(self.imtui.actor)
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            return
        for select_id, everything, items in (("#lpr-events-camera", _("All cameras"), choices.cameras),
                                             ("#lpr-events-list", _("All lists"), choices.lists)):
            select = self.query_one(select_id, Select)
            keep = select.value
            with select.prevent(Select.Changed):
                select.set_options([(everything, ALL), *((safe(o.name), o.id) for o in items)])
                select.value = keep if keep in {o.id for o in items} else ALL
        if then_search:
            self.search()

    def _filters(self) -> dict:
        """The filters as LprEventService.search arguments; InvalidInput names the bad one."""
        tz = self.imtui.services.settings.timezone
        times = {}
        for key, label in (("since", _("Since")), ("until", _("Until"))):
            raw = self.query_one(f"#lpr-events-{key}", Input).value.strip()
            try:
                times[key] = parse_time_field(label, raw, tz) if raw else None
            except InvalidInput as exc:
                raise InvalidInput(key, exc.message) from None
        camera = self.query_one("#lpr-events-camera", Select).value
        listed = self.query_one("#lpr-events-list", Select).value
        return dict(plate=self.query_one("#lpr-events-plate", Input).value,
                    camera_id=camera if isinstance(camera, int) and camera != ALL else None,
                    list_id=listed if isinstance(listed, int) and listed != ALL else None, **times)

    @work(exclusive=True, group="lpr-events-search", exit_on_error=False)
    async def search(self, *, restart: bool = True, loud: bool = True) -> None:
        """Load the page at ``page_starts[-1]`` (the first page when ``restart``).  A bad filter
        is said on the page line (and notified unless ``loud`` is off: typing a plate)."""
        if restart:
            self.page_starts = [None]
        try:
            filters = self._filters()
            page = await self.imtui.services.lpr_events.search(self.imtui.actor, limit=PAGE_SIZE,
                                                               before=self.page_starts[-1], **filters)
        except ServiceError as exc:
            self.query_one("#lpr-events-page", Static).update(Text(clean(exc.message), style="bold"))
            if loud:
                tell(self, exc.message, error=True)
            if isinstance(exc, InvalidInput) and loud and exc.field in ("plate", "since", "until"):
                self.query_one(f"#lpr-events-{exc.field}", Input).focus()
            return
        self.page = page
        self._fill(page)

    def _fill(self, page: EventPage) -> None:
        table = self.query_one("#lpr-events-table", DataTable)
        tz = self.imtui.services.settings.timezone
        keep = (e.id if (e := self.selected()) else None)
        self.shown = {e.id: e for e in page.events}
        table.clear()
        for e in page.events:
            lists = ", ".join(m.list_name for m in e.matches)
            table.add_row(time_cell(e.at, tz, "%m-%d %H:%M:%S"), cell(e.camera_name or f"#{e.camera_id}", 16),
                          cell(e.plate, 16), cell(e.country, 8), Text(f"{e.confidence * 100:.0f} %"),
                          cell(lists, 30), key=str(e.id))
        if keep in self.shown:
            table.move_cursor(row=table.get_row_index(str(keep)))
        number = len(self.page_starts)
        first = (number - 1) * PAGE_SIZE
        if page.events:
            text = _("{first}–{last} · page {page}").format(first=first + 1, last=first + len(page.events), page=number)
            if page.has_next:
                text += " · " + _("] older")
        else:
            text = _("No LPR events match.") if number == 1 else _("No older events.")
        self.query_one("#lpr-events-page", Static).update(Text(text))
        self.show_detail()

    # -- the highlighted event ----------------------------------------------------------------------
    def selected(self) -> LprEvent | None:
        table = self.query_one("#lpr-events-table", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.shown.get(int(key)) if key is not None else None

    @on(DataTable.RowHighlighted, "#lpr-events-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.show_detail()

    def show_detail(self) -> None:
        event = self.selected()
        self.query_one("#lpr-events-detail", Static).update(self.describe(event) if event else Text())
        self.load_snapshot(event)

    def describe(self, e: LprEvent) -> Text:
        tz = self.imtui.services.settings.timezone
        text = Text(_("Plate") + " ") + safe(e.plate, style="bold")
        text += Text(f" · {clean(e.country)} · {e.confidence * 100:.0f} % · ")
        text += Text(_("{n} reads").format(n=e.reads) + "\n")
        text += Text(_("Camera") + " ") + safe(e.camera_name or f"#{e.camera_id}")
        text += Text(f" ({e.camera_id}) · {format_site(e.at, tz)}\n")
        if not e.matches:
            text += Text(_("No list matched.") + "\n")
        for m in e.matches:
            text += safe(m.list_name, style="bold")
            if m.entry_plate:
                text += Text(" · " + _("entry") + " ") + safe(m.entry_plate)
            text += Text(" · " + _rule(m.rule))
            if m.retroactive:
                text += Text(" · " + _("retroactive (the list gained the plate after the read)"))
            text += Text("\n")
            for name, value in m.fields.items():
                text += Text("  ") + safe(name) + Text(": ") + safe(value) + Text("\n")
        text.rstrip()
        return text

    @work(exclusive=True, group="lpr-events-snapshot", exit_on_error=False)
    async def load_snapshot(self, event: LprEvent | None) -> None:
        note = self.query_one("#lpr-events-snapshot-note", Static)
        pictures = self.query("#lpr-events-picture")
        picture = None
        if event is None:
            text = ""
        elif not event.snapshot:
            text = _("No plate picture was kept for this event.")
        else:
            try:
                path = await self.imtui.services.lpr_events.snapshot(self.imtui.actor, event.id)
                if path is not None and pictures:
                    frame = await self.imtui.services.lpr_events.snapshot_image(self.imtui.actor, event.id)
                    if frame is not None:
                        size = pictures.first().content_size
                        picture = await self._prepare(frame, (size.width or 30, size.height or 5))
            except ServiceError as exc:
                note.update(Text(clean(exc.message), overflow="fold"))
                return
            if path is None:
                text = _("No plate picture was kept for this event.")
            elif not path.exists():
                text = _("The plate picture is gone (purged or deleted): {path}").format(path=path)
            elif not pictures:
                text = _("Pictures are off (ui.image_mode); the plate picture is {path}").format(path=path)
            elif picture is None:
                text = _("The plate picture cannot be read: {path}").format(path=path)
            else:
                text = _("Plate picture {name}").format(name=path.name)
        if pictures and (picture is not None or pictures.first().image is not None):  # type: ignore[attr-defined]
            pictures.first().image = picture  # type: ignore[attr-defined]
        note.update(Text(clean(text), overflow="fold"))

    @staticmethod
    async def _prepare(frame, cells: tuple[int, int]):  # noqa: ANN001, ANN205 - numpy in, PIL out
        import asyncio

        return await asyncio.to_thread(prepare, frame, cells)

    # -- keys ---------------------------------------------------------------------------------------
    @on(Input.Changed, "#lpr-events-plate")
    def _plate_typed(self, event: Input.Changed) -> None:
        event.stop()
        self.search(loud=False)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.input.id in ("lpr-events-plate", "lpr-events-since", "lpr-events-until"):
            event.stop()
            self.search()

    @on(Select.Changed, "#lpr-events-camera, #lpr-events-list")
    def _choice(self, event: Select.Changed) -> None:
        event.stop()
        self.search()

    def action_reload(self) -> None:
        self.search(restart=False)
        self.load_choices(then_search=False)

    def action_page(self, step: int) -> None:
        if step > 0:
            if self.page is None or self.page.next is None:
                return
            self.page_starts.append(self.page.next)
        else:
            if len(self.page_starts) == 1:
                return
            self.page_starts.pop()
        self.search(restart=False)

    def action_focus_plate(self) -> None:
        self.query_one("#lpr-events-plate", Input).focus()

    def action_back(self) -> None:
        """Escape leaves a filter for the table first, then the screen."""
        if isinstance(self.focused, (Input, Select)):
            self.query_one("#lpr-events-table", DataTable).focus()
        else:
            self.app.pop_screen()

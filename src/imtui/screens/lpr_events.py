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

Keys: ``/`` plate filter, ``]`` / ``[`` next (older) / previous page, ``f5`` refresh (to the first
page when new events were announced), ``escape`` leaves a filter for the table, then the screen.
Everything goes through LprEventService (which checks the sequences grant); every text that came
from a camera, a list or a plate is shown sanitised and never as markup.

New recognitions come by themselves, like the Smart Client's LPR tab.  The worker publishes the
RECOGNITIONS topic with each batch it stores, and the app's change hub delivers it (at once on
PostgreSQL, within ``settings.poll_seconds`` on SQLite; under a dialog or another screen, once
when the screen is shown again).  Then the screen reads the highest recognition id, one
primary-key read, and draws nothing while that does not change.  When it does, and the first page is shown, the new events matching the filters of that page are
added at their place (newest first: usually the top) without rebuilding the table; the cursor
stays on its event and the detail is not redrawn; the rows pushed past the page size go to the
next page (``]`` starts after the last row kept).  When an older page is shown, or adding would
push the highlighted event off the first page, nothing moves: ``#lpr-events-page`` says how many
new events match ("3 new — press f5") and ``f5`` (or ``[`` back to the first page) shows them.
Filters being typed are left alone: the poll uses the filters of the page shown, and waits while
a search runs or a filter is refused.  A stored event that changes (the worker's read count and
last-seen time when a passage ends, a match added retroactively) is not followed: the table shows
neither, and knowing would mean reading the whole page again every few seconds; ``f5`` shows the
event as it is now.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.coordinate import Coordinate
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Select, Static
from textual.worker import Worker

from imtui.engine.changes import Topic
from imtui.engine.errors import InvalidInput, ServiceError
from imtui.engine.incidents import parse_time_field
from imtui.engine.lpr_events import EventCursor, EventPage, LprEvent
from imtui.engine.times import format_site
from imtui.i18n import _
from imtui.safetext import clean
from imtui.screens.base import AppAccess
from imtui.screens.list_tables import LprEventTable
from imtui.screens.paging import PageTurns
from imtui.screens.plate_picture import PlatePicture
from imtui.screens.render import cell, quiet_input, safe, tell, time_cell

PAGE_SIZE = 100
ALL = 0  # the "All" choice of the camera and list Selects (database ids start at 1)


def _rule(rule: str) -> str:
    return {"exact": _("exact"), "wildcard": _("wildcard"), "ocr-equivalence": _("look-alike characters"),
            "one-difference": _("one difference"), "unlisted": _("not on any list")}.get(rule, rule)


class LprEventsScreen(AppAccess, Screen[None]):
    BINDINGS = [  # / ] [ are on the table (LprEventTable): they act only while it holds focus
        Binding("escape", "back", _("Back"), id="lpr-events-back"),
        Binding("f5", "reload", _("Refresh"), id="lpr-events-refresh"),
    ]

    def __init__(self) -> None:
        super().__init__(id="lpr-events")
        self.page_starts: list[EventCursor | None] = [None]  # of the page shown
        self.turns = PageTurns()
        self.page: EventPage | None = None
        self.shown: dict[int, LprEvent] = {}
        self.filters: dict | None = None  # what the page shown was searched with
        self.seen: int | None = None  # the first page holds every matching event up to this id
        self.pending = 0  # new matching events announced, not shown
        self._polled = 0  # the highest id at the last poll: nothing to do while it stays
        self._generation = 0  # bumped by every search: a poll begun before it is dropped
        self._failed = False  # the last search was refused (said on the page line)
        self._page_text: Text | None = None
        self._detailed: int | None | bool = False  # the event the detail shows (False: none yet)
        self._searcher: Worker | None = None
        self._poller: Worker | None = None
        self._tick_again = False  # recognitions announced while a poll ran: poll once more

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
        yield LprEventTable(id="lpr-events-table", cursor_type="row")
        with Horizontal(id="lpr-events-bottom"):
            with VerticalScroll(id="lpr-events-detail-box"):
                yield Static("", id="lpr-events-detail", markup=False)
            yield PlatePicture(self.mode, "lpr-events")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#lpr-events-table", DataTable)
        for key, label in (("at", _("Time")), ("camera", _("Camera")), ("plate", _("Plate")),
                           ("country", _("Country")), ("confidence", _("Conf.")), ("lists", _("Lists matched"))):
            table.add_column(label, key=key)
        table.focus()
        self.follow((Topic.RECOGNITIONS,), self._tick)
        self.load_choices()

    def on_screen_resume(self) -> None:
        """Shown (again): catch up now (reads stored meanwhile were announced while covered)."""
        self._tick()

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

    def search(self, *, restart: bool = True, loud: bool = True, turning: bool = False) -> Worker:
        """Load the page at ``page_starts[-1]`` (the first page when ``restart``; ``turning``: from
        the page shown) in a worker, then the page turns pressed meanwhile (paging.py); the newest
        search wins, and a poll begun before it is dropped."""
        self._generation += 1
        self._searcher = self.turns.loading = self._search(restart, loud, turning)
        return self._searcher

    @work(exclusive=True, group="lpr-events-search", exit_on_error=False)
    async def _search(self, restart: bool, loud: bool, turning: bool) -> None:
        """A bad filter is said on the page line (and notified unless ``loud`` is off: typing a
        plate).  Other filters than the page shown start again at the first page.  The rows, the
        page starts and the page line change together."""
        events, actor = self.imtui.services.lpr_events, self.imtui.actor
        starts: list[EventCursor | None] = [None] if restart else list(self.page_starts)
        latest = 0

        async def fetch(before: EventCursor | None) -> EventPage:
            nonlocal latest  # read first on the first page, so the poll misses nothing
            latest = await events.latest(actor) if before is None else 0
            return await events.search(actor, limit=PAGE_SIZE, before=before, **filters)

        try:
            filters = self._filters()
            if filters != self.filters:
                starts, turning = [None], False
                self.turns.drop()
            page = await self.turns.apply((self.page if turning else None) or await fetch(starts[-1]), starts,
                                          lambda page: page.next, fetch)
        except ServiceError as exc:
            self.turns.drop()
            self._failed = isinstance(exc, InvalidInput)  # the poll waits for a filter it can use
            self._page_text = Text(clean(exc.message), style="bold")
            self.query_one("#lpr-events-page", Static).update(self._page_text)
            if loud:
                tell(self, exc.message, error=True)
            if isinstance(exc, InvalidInput) and loud and exc.field in ("plate", "since", "until"):
                self.query_one(f"#lpr-events-{exc.field}", Input).focus()
            return
        if page is self.page:
            return  # ] on the oldest page, [ on the newest: nothing changed
        self._failed = False
        self.filters = filters
        self.page_starts = starts
        if len(starts) == 1:
            self.seen = self._polled = max([latest, *(e.id for e in page.events)])
            self.pending = 0
        self.page = page
        self._fill(page)

    def _cells(self, e: LprEvent) -> tuple[Text, ...]:
        tz = self.imtui.services.settings.timezone
        lists = ", ".join(m.list_name for m in e.matches)
        return (time_cell(e.at, tz, "%m-%d %H:%M:%S"), cell(e.camera_name or f"#{e.camera_id}", 16),
                cell(e.plate, 16), cell(e.country, 8), Text(f"{e.confidence * 100:.0f} %"), cell(lists, 30))

    def _fill(self, page: EventPage) -> None:
        table = self.query_one("#lpr-events-table", DataTable)
        keep = (e.id if (e := self.selected()) else None)
        self.shown = {e.id: e for e in page.events}
        table.clear()
        for e in page.events:
            table.add_row(*self._cells(e), key=str(e.id))
        if keep in self.shown:
            table.move_cursor(row=table.get_row_index(str(keep)))
        self._show_page_line()
        self.show_detail(force=True)

    def _show_page_line(self) -> None:
        """Where the page is, and the new events waiting; drawn only when it reads differently."""
        page = self.page
        number = len(self.page_starts)
        first = (number - 1) * PAGE_SIZE
        if page is not None and page.events:
            text = _("{first}–{last} · page {page}").format(first=first + 1, last=first + len(page.events), page=number)
            if page.has_next:
                text += " · " + _("] older")
        else:
            text = _("No LPR events match.") if number == 1 else _("No older events.")
        if self.pending:  # first: the page line is narrow at 80 columns
            text = _("{n} new — press f5").format(n=self.pending) + " · " + text
        if Text(text) != self._page_text:
            self._page_text = Text(text)
            self.query_one("#lpr-events-page", Static).update(self._page_text)

    # -- following new recognitions -----------------------------------------------------------------
    def _tick(self) -> None:
        """New recognitions were stored: skipped before the first page, while a filter is refused
        and while a search runs (each loads the page afresh); while the previous poll still runs
        (a slow database), once more after it."""
        if self.seen is None or self._failed or self.filters is None:
            return
        if self._searcher is not None and not self._searcher.is_finished:
            return
        if self._poller is not None and not self._poller.is_finished:
            self._tick_again = True  # it may have read the highest id before these were stored
            return
        self._tick_again = False
        self._poller = self._poll()

    @work(group="lpr-events-poll", exit_on_error=False)
    async def _poll(self) -> None:
        while True:
            self._tick_again = False
            await self._poll_once()
            if not self._tick_again:
                return

    async def _poll_once(self) -> None:
        events, actor = self.imtui.services.lpr_events, self.imtui.actor
        generation, filters, seen = self._generation, dict(self.filters or {}), self.seen or 0
        try:
            latest = await events.latest(actor)
            if latest <= self._polled:
                return  # nothing stored since: nothing to draw
            if len(self.page_starts) == 1:
                newer = await events.search(actor, limit=PAGE_SIZE, after=seen, **filters)
                waiting = None if newer.has_next else len([e for e in newer.events if e.id not in self.shown])
                if newer.has_next:
                    waiting = await events.count(actor, after=seen, **filters)
            else:
                newer, waiting = None, await events.count(actor, after=seen, **filters)
        except ServiceError:
            return  # said by the next f5; not at every interval
        if generation != self._generation:
            return  # a search replaced the page meanwhile
        self._polled = latest
        if newer is not None and self._merge(newer):
            self.seen = max([latest, *(e.id for e in newer.events)])
            self.pending = 0
        else:
            self.pending = waiting or 0
        self._show_page_line()

    def _merge(self, newer: EventPage) -> bool:
        """Put the new events of the first page at their place; False (nothing touched) when
        that would push the highlighted event off the page, or more than a page came."""
        if self.page is None or newer.has_next:
            return False
        fresh = [e for e in newer.events if e.id not in self.shown]
        if not fresh:
            return True
        events = sorted([*self.page.events, *fresh], key=lambda e: (e.at, e.id), reverse=True)
        kept, dropped = events[:PAGE_SIZE], events[PAGE_SIZE:]
        selected = self.selected()
        if selected is not None and any(e.id == selected.id for e in dropped):
            return False
        table = self.query_one("#lpr-events-table", DataTable)
        kept_ids = {e.id for e in kept}
        added = [e for e in fresh if e.id in kept_ids]
        removed = [e for e in dropped if e.id in self.shown]
        self.page = EventPage(kept, self.page.has_next or bool(dropped))
        self.shown = {e.id: e for e in kept}
        if not added:
            return True  # all older than the page's last row: they open the next page
        top = round(table.scroll_y)
        top_key = table.coordinate_to_cell_key(Coordinate(top, 0)).row_key if 0 < top < table.row_count else None
        for e in added:
            table.add_row(*self._cells(e), key=str(e.id))
        for e in removed:
            table.remove_row(str(e.id))
        # the order of the page (``at``, then ``id``, newest first), told to the public sort by the
        # identity of each row's time cell (a new row is appended first)
        rank = {id(table.get_cell(str(e.id), "at")): n for n, e in enumerate(kept)}
        table.sort("at", key=lambda at: rank[id(at)])
        if top_key is not None and top_key in table.rows:  # scrolled down, reading: what is on screen stays
            table.call_after_refresh(table.scroll_to, y=table.get_row_index(top_key), animate=False)
        if selected is not None:
            table.move_cursor(row=table.get_row_index(str(selected.id)))
        return True

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

    def show_detail(self, force: bool = False) -> None:
        """The highlighted event's detail and picture; not redrawn for the same event (the cursor
        follows its event when new rows come above it) unless ``force`` (a reload)."""
        event = self.selected()
        if not force and (event.id if event else None) == self._detailed:
            return
        self._detailed = event.id if event else None
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
        view = self.query_one(PlatePicture)
        if event is None or not event.snapshot:
            view.say(_("No plate picture was kept for this event.") if event is not None else "")
            return
        try:
            crop = await self.imtui.services.lpr_events.crop(self.imtui.actor, event.id, decode=view.draws)
        except ServiceError as exc:
            view.say(exc.message)
            return
        await view.show(crop, none=_("No plate picture was kept for this event."))

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
        """Reload the page shown; the first page when new events are announced (to show them)."""
        self.search(restart=self.pending > 0)
        self.load_choices(then_search=False)

    def action_page(self, step: int) -> None:
        if self.turns.press(step):
            self.search(restart=False, turning=True)

    def action_focus_plate(self) -> None:
        self.query_one("#lpr-events-plate", Input).focus()

    def action_back(self) -> None:
        """Escape leaves a filter for the table first, then the screen."""
        if isinstance(self.focused, (Input, Select)):
            self.query_one("#lpr-events-table", DataTable).focus()
        else:
            self.app.pop_screen()

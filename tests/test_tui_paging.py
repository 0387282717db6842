"""Issue 14, #13: quick page turns never show one page under another's number.

``]`` pressed 20 times without waiting (as fast as a key repeats): one page load runs at a time,
the turns pressed meanwhile add up, and the page label always matches the rows shown; past the last
page the turns stop there.  On the incident list (2,500 projects, 25 pages) on both backends, and
on the LPR events (older pages)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from textual import events
from textual.keys import _character_to_key  # noqa: PLC2701 - the pilot's own mapping
from textual.widgets import DataTable, Static

from conftest import seeded
from imtui.app import ImtuiApp
from imtui.engine.incidents import Cursor, IncidentFilter
from imtui.engine.seed import seed_defaults
from imtui.engine.times import utcnow
from imtui.engine.video.media import MediaStore
from imtui.screens.lpr_events import LprEventsScreen
from imtui.storage.db import Database
from pilot import make_app, settle, wait_for
from test_lpr_events import lpr_on, store_reads
from test_tui_matchlists import _world as matchlists_world


def _burst(app: ImtuiApp, key: str, times: int) -> None:
    """``times`` key presses queued at once (``pilot.press`` waits for an idle CPU after each)."""
    for _ in range(times):
        event = events.Key(_character_to_key(key), key)
        event.set_sender(app)
        app._driver.send_message(event)  # noqa: SLF001 - what the pilot does for each key


async def _first_ids(app: ImtuiApp) -> list[int]:
    """The first row's id of every page, walked one page at a time through the service."""
    svc, firsts, cursor = app.services.incidents, [], None
    while True:
        page = await svc.list_page(app.actor, IncidentFilter(), cursor, 100)
        firsts.append(page.rows[0].id)
        if not page.has_next:
            return firsts
        cursor = Cursor.after(page.rows[-1])


async def test_twenty_quick_page_turns_on_the_incident_list(db_url: str) -> None:
    await seeded(db_url, 2500)
    app = make_app(db_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        table = screen.query_one("#incidents", DataTable)
        firsts = await _first_ids(app)
        assert len(firsts) == 25

        def shown() -> tuple[str, int]:
            label = str(screen.query_one("#page-info", Static).render()).split("  ·  ")[0]
            return label, int(table.get_row_at(0)[0].plain)

        await wait_for(lambda: shown()[0] == "Page 1 of 25", pilot=pilot)
        _burst(app, "]", 20)
        await wait_for(lambda: shown()[0] == "Page 21 of 25", timeout=20, pilot=pilot)
        await settle(app, pilot)
        assert shown() == ("Page 21 of 25", firsts[20])
        assert table.row_count == 100 and len(screen.page_starts) == 21

        _burst(app, "]", 20)  # 4 pages left: the rest stop at the last page
        await wait_for(lambda: shown()[0] == "Page 25 of 25", timeout=20, pilot=pilot)
        await settle(app, pilot)
        assert shown() == ("Page 25 of 25", firsts[24])

        _burst(app, "[", 3)
        _burst(app, "]", 1)
        await wait_for(lambda: shown()[0] == "Page 23 of 25", timeout=20, pilot=pilot)
        await settle(app, pilot)
        assert shown() == ("Page 23 of 25", firsts[22])  # the turns pressed together add up

        _burst(app, "[", 40)
        await wait_for(lambda: shown()[0] == "Page 1 of 25", timeout=20, pilot=pilot)
        await settle(app, pilot)
        assert shown() == ("Page 1 of 25", firsts[0])


async def test_quick_page_turns_on_the_lpr_events(sqlite_url: str, tmp_path: Path) -> None:
    db = Database(sqlite_url)
    try:
        await db.upgrade()
        await seed_defaults(db, cameras=1)
        await lpr_on(db, 1)
        now = utcnow()
        await store_reads(db, MediaStore(tmp_path / "media"),
                          [(1, f"P{i:04d}", now - timedelta(seconds=i)) for i in range(550)])
    finally:
        await db.dispose()
    app = make_app(sqlite_url, user="viewer", media_dir=tmp_path / "media")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("f10")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, LprEventsScreen)
        table = screen.query_one("#lpr-events-table", DataTable)
        await wait_for(lambda: table.row_count == 100, pilot=pilot)

        def shown() -> tuple[str, str]:
            line = str(screen.query_one("#lpr-events-page", Static).render())
            return line.split(" · ")[1], table.get_row_at(0)[2].plain

        assert shown() == ("page 1", "P0000")
        _burst(app, "]", 4)
        await wait_for(lambda: shown()[0] == "page 5", timeout=20, pilot=pilot)
        await settle(app, pilot)
        assert shown() == ("page 5", "P0400")  # newest first: page n starts 100 (n-1) reads back
        _burst(app, "]", 10)  # page 6 is the last (50 reads): the rest are dropped
        await wait_for(lambda: shown()[0] == "page 6", timeout=20, pilot=pilot)
        await settle(app, pilot)
        assert shown() == ("page 6", "P0500") and table.row_count == 50
        _burst(app, "[", 2)
        await wait_for(lambda: shown()[0] == "page 4", timeout=20, pilot=pilot)
        await settle(app, pilot)
        assert shown() == ("page 4", "P0300")


async def test_quick_page_turns_on_a_match_list(sqlite_url: str) -> None:
    """The match lists page by offset, and a turn cancels the load before it: not affected, kept so."""
    await matchlists_world(sqlite_url)  # 120 plates, 50 a page
    app = make_app(sqlite_url, user="admin")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("f8")
        await settle(app, pilot)
        screen = app.screen
        table = screen.query_one("#matchlist-entries", DataTable)
        await wait_for(lambda: table.row_count == 50, pilot=pilot)
        table.focus()

        def shown() -> tuple[str, str]:
            line = str(screen.query_one("#matchlist-page", Static).render())
            if not table.row_count or " · " not in line:
                return "", ""  # a load under way (it clears the table first)
            return line.split(" · ")[1], str(table.get_row_at(0)[1])

        _burst(app, "]", 10)
        await wait_for(lambda: shown()[0] == "page 3 of 3", timeout=20, pilot=pilot)
        await settle(app, pilot)
        assert shown() == ("page 3 of 3", "Q100Z") and table.row_count == 20
        _burst(app, "[", 1)
        await wait_for(lambda: shown()[0] == "page 2 of 3", timeout=20, pilot=pilot)
        await settle(app, pilot)
        assert shown() == ("page 2 of 3", "Q050Z")

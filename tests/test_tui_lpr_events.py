"""The LPR events screen (``#lpr-events``) in the real app under pilot, on a SQLite file at 80x24,
keyboard only: ``f10`` from the incident list, a ``?`` plate pattern typed in ``#lpr-events-plate``,
a list chosen in ``#lpr-events-list``, a bad time refused with the field named, pages with ``]`` /
``[``; the highlighted event's matches with their custom fields in ``#lpr-events-detail``, and the
plate crop in ``#lpr-events-snapshot`` (drawn in ``unicode`` mode; with pictures off, its path).
New recognitions stored by another process come by themselves (``poll_seconds``): on the first page
at the top, the table not rebuilt and the cursor on its event, nothing drawn while nothing comes;
on an older page announced on ``#lpr-events-page`` without moving anything, shown by ``f5``.
Hostile text stored in a plate, a camera name and a match's custom field (the database keeps the
exact bytes) is shown literally: no escape byte reaches the screen, markup is not interpreted."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Input, Select, Static

from conftest import ADMIN
from imtui.engine.matchlists.service import MatchListService
from imtui.engine.seed import seed_defaults
from imtui.engine.times import utcnow
from imtui.engine.video.cameras import CameraService
from imtui.engine.video.media import MediaStore
from imtui.screens.confirm import ConfirmDialog
from imtui.screens.lpr_events import LprEventsScreen
from imtui.storage.db import Database
from imtui.storage.models import PlateMatch, PlateRecognition
from pilot import make_app, notifications, settle, wait_for
from test_lpr_events import lpr_on, store_reads

SIZE = (80, 24)
HOSTILE_PLATE = "[b]X\x1b[2J"
HOSTILE_CAMERA = "[bold]Gate\x1b]0;PWNED\x07"
HOSTILE_FIELD = "[bold]Case\x1b]52;c;eA==\x07"


async def _world(url: str, media: Path, extra: int = 0) -> dict[str, int]:
    """Two cameras (the second with a hostile name), the list Stolen (field Case) holding AB12?CD,
    and reads: AB123CD and AB124CD (Stolen), ZAB123CD and XY999 (Unlisted), one with a hostile
    plate and match field, and ``extra`` more old reads for paging."""
    db = Database(url)
    await db.upgrade()
    await seed_defaults(db, cameras=2)
    await CameraService(db).edit(ADMIN, 2, name=HOSTILE_CAMERA)
    await lpr_on(db, 1, 2)
    ml = MatchListService(db)
    stolen = await ml.create(ADMIN, "Stolen", fields=["Case"])
    await ml.add_entry(ADMIN, stolen.id, "AB12?CD", {"Case": "2026-117 [bold]urgent[/bold]"})
    now = utcnow()
    store = MediaStore(media)
    older = [(1, f"OLD{i:03d}", now - timedelta(hours=2, seconds=i)) for i in range(extra)]
    ago = [now - timedelta(minutes=n) for n in range(6)]
    ids = await store_reads(db, store, [(1, "AB123CD", ago[5]), (1, "ZAB123CD", ago[4]), (2, "XY999", ago[3]),
                                        (2, "AB124CD", ago[2]), (2, "EVIL1", ago[1]), *older], crop=True)
    r, m = PlateRecognition.__table__, PlateMatch.__table__
    async with db.write() as s:  # bytes no screen or import accepts, as a hand-edit or older version left them
        await s.execute(sa.update(r).where(r.c.id == ids[4]).values(plate=HOSTILE_PLATE))
        await s.execute(sa.update(m).where(m.c.recognition_id == ids[4]).values(
            fields=json.dumps({HOSTILE_FIELD: "v[/]\x1b[31m"})))
    await db.dispose()
    return {"AB123CD": ids[0], "ZAB123CD": ids[1], "XY999": ids[2], "AB124CD": ids[3], "EVIL": ids[4],
            "stolen": stolen.id}


def _plates(screen: LprEventsScreen) -> list[str]:
    table = screen.query_one("#lpr-events-table", DataTable)
    return [table.get_row_at(i)[2].plain for i in range(table.row_count)]


def _text(screen: LprEventsScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def _open(app, pilot) -> LprEventsScreen:  # noqa: ANN001
    await settle(app, pilot)
    await pilot.press("f10")
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, LprEventsScreen) and screen.id == "lpr-events"
    await wait_for(lambda: screen.query_one("#lpr-events-table", DataTable).row_count > 0, pilot=pilot)
    return screen


async def _select(pilot, selector: str, label: str) -> None:  # noqa: ANN001
    """Choose ``label`` in a Select with the keyboard: open it, walk down to the label, Enter."""
    select = pilot.app.screen.query_one(selector, Select)
    select.focus()
    await pilot.press("enter")
    await pilot.pause()
    for _ in range(20):
        highlighted = select.query_one("SelectOverlay").highlighted_option  # type: ignore[attr-defined]
        if highlighted is not None and str(highlighted.prompt) == label:
            break
        await pilot.press("down")
    await pilot.press("enter")


async def test_search_by_pattern_and_list_and_see_the_matches(sqlite_url: str, tmp_path: Path) -> None:
    ids = await _world(sqlite_url, tmp_path / "media")
    app = make_app(sqlite_url, user="operator", media_dir=tmp_path / "media")  # image_mode: off
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        assert _plates(screen)[:4] == ["[b]X␛[2J", "AB124CD", "XY999", "ZAB123CD"]  # newest first
        table = screen.query_one("#lpr-events-table", DataTable)
        assert [str(c) for c in table.get_row_at(1)[1:]] == ["[bold]Gate␛]0;P…", "AB124CD", "FR", "90 %", "Stolen"]
        assert "1–5 · page 1" in _text(screen, "#lpr-events-page")

        # a ? pattern, typed: one character before AB (only ZAB123CD has one)
        await pilot.press("slash")
        assert app.focused is screen.query_one("#lpr-events-plate", Input)
        await pilot.press(*"?ab12?cd")
        await settle(app, pilot)
        assert _plates(screen) == ["ZAB123CD"]
        await pilot.press(*["backspace"] * 8, *"123")  # a part of the plate
        await settle(app, pilot)
        assert _plates(screen) == ["ZAB123CD", "AB123CD"]

        # the list Stolen, chosen with the keyboard
        await _select(pilot, "#lpr-events-list", "Stolen")
        await settle(app, pilot)
        assert screen.query_one("#lpr-events-list", Select).value == ids["stolen"]
        assert _plates(screen) == ["AB123CD"]
        await _select(pilot, "#lpr-events-list", "Unlisted license plates")
        await settle(app, pilot)
        assert _plates(screen) == ["ZAB123CD"]

        # a bad time: refused naming the field, the list stays as it was
        since = screen.query_one("#lpr-events-since", Input)
        since.focus()
        await pilot.press(*"yesterday", "enter")
        await settle(app, pilot)
        assert any(n.startswith("Since: type the date and time as YYYY-MM-DD HH:MM") for n in notifications(app))
        assert _text(screen, "#lpr-events-page").startswith("Since: type the date") and app.focused is since
        assert _plates(screen) == ["ZAB123CD"]
        await pilot.press(*["backspace"] * 9, "enter")
        await settle(app, pilot)

        # the detail of the highlighted event: list, entry, rule and the custom field
        await _select(pilot, "#lpr-events-list", "All lists")
        await _type_plate(pilot, "ab???cd")
        await settle(app, pilot)
        await pilot.press("escape")  # from the filter to the table
        assert app.focused is table and app.screen is screen
        await pilot.press("down")  # AB124CD, then AB123CD
        await settle(app, pilot)
        detail = _text(screen, "#lpr-events-detail")
        assert "Plate AB123CD · FR · 90 % · 3 reads" in detail and "Camera 01 (1)" in detail
        assert "Stolen · entry AB12?CD · wildcard" in detail and "Case: 2026-117 [bold]urgent[/bold]" in detail
        assert "Pictures are off (ui.image_mode); the plate picture is " + str(tmp_path / "media") in \
            _text(screen, "#lpr-events-snapshot-note").replace("\n", "")
        await pilot.press("escape")  # the table: escape leaves the screen
        await settle(app, pilot)
        assert app.screen is not screen


async def _type_plate(pilot, text: str) -> None:  # noqa: ANN001
    field = pilot.app.screen.query_one("#lpr-events-plate", Input)
    field.focus()
    field.value = ""
    await pilot.press(*text)


async def test_hostile_text_is_shown_literally(sqlite_url: str, tmp_path: Path) -> None:
    await _world(sqlite_url, tmp_path / "media")
    app = make_app(sqlite_url, user="operator", media_dir=tmp_path / "media")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        table = screen.query_one("#lpr-events-table", DataTable)
        assert app.focused is table
        row = table.get_row_at(0)  # the hostile event is the newest
        assert (row[1].plain, row[2].plain) == ("[bold]Gate␛]0;P…", "[b]X␛[2J")  # cut in the table
        assert not row[1].spans and not row[2].spans  # literal: not bold
        await settle(app, pilot)
        detail = screen.query_one("#lpr-events-detail", Static)
        shown = str(detail.render())
        assert "Plate [b]X␛[2J" in shown and "[bold]Gate␛]0;PWNED␇" in shown
        assert "[bold]Case␛]52;c;eA==␇: v[/]␛[31m" in shown and "\x1b" not in shown
        shot = app.export_screenshot()
        assert "[b]X␛[2J" in shot and "[bold]Gate" in shot and "\x1b" not in shot and "\x07" not in shot


async def test_pages_and_the_plate_picture(sqlite_url: str, tmp_path: Path) -> None:
    ids = await _world(sqlite_url, tmp_path / "media", extra=120)
    app = make_app(sqlite_url, user="viewer", media_dir=tmp_path / "media", image_mode="unicode")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        table = screen.query_one("#lpr-events-table", DataTable)
        assert table.row_count == 100 and "1–100 · page 1 · ] older" in _text(screen, "#lpr-events-page")
        await pilot.press("right_square_bracket")
        await settle(app, pilot)
        assert table.row_count == 25 and _plates(screen)[-1] == "OLD119" and "101–125 · page 2" in _text(
            screen, "#lpr-events-page")
        await pilot.press("right_square_bracket")  # no older page: nothing moves
        await settle(app, pilot)
        assert "page 2" in _text(screen, "#lpr-events-page")
        await pilot.press("left_square_bracket")
        await settle(app, pilot)
        assert _plates(screen)[1] == "AB124CD"
        await pilot.press("down")
        await settle(app, pilot)
        picture = screen.query_one("#lpr-events-picture")
        await wait_for(lambda: picture.image is not None, pilot=pilot)  # type: ignore[attr-defined]
        assert _text(screen, "#lpr-events-snapshot-note").startswith("Plate picture ")
        # the crop gone from the store: said, and no picture
        crop = next((tmp_path / "media").rglob("*AB124CD*.jpg"))
        crop.unlink()
        await pilot.press("f5")
        await settle(app, pilot)
        assert "The plate picture is gone" in _text(screen, "#lpr-events-snapshot-note")
        assert picture.image is None  # type: ignore[attr-defined]
        assert ids["AB124CD"] in screen.shown


POLL = 0.2  # seconds between the change hub's polls in these tests (2 s on site)


async def _store_now(url: str, media: Path, *plates: tuple[int, str], started: timedelta | None = None) -> list[int]:
    """Another process (a worker) stores passages that started now, 10 ms apart (``started``
    ago for all of them: a passage that ended late)."""
    db = Database(url)
    try:
        now = utcnow() - (started or timedelta())
        return await store_reads(db, MediaStore(media), [(camera, plate, now + timedelta(milliseconds=10 * n))
                                                         for n, (camera, plate) in enumerate(plates)])
    finally:
        await db.dispose()


def _spy_draws(screen: LprEventsScreen) -> list[str]:
    """Every call that draws on the screen's table, page line, detail or picture, by name."""
    draws: list[str] = []

    def spy(owner, name: str, label: str) -> None:  # noqa: ANN001
        method = getattr(owner, name)

        def spied(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            draws.append(label)
            return method(*args, **kwargs)

        setattr(owner, name, spied)

    table = screen.query_one("#lpr-events-table", DataTable)
    for name in ("clear", "add_row", "remove_row", "sort", "update_cell", "move_cursor"):
        spy(table, name, f"table.{name}")
    for selector in ("#lpr-events-page", "#lpr-events-detail", "#lpr-events-snapshot-note"):
        spy(screen.query_one(selector, Static), "update", f"{selector}.update")
    spy(screen, "load_snapshot", "load_snapshot")
    return draws


def _polls(app) -> list[int]:  # noqa: ANN001
    """Count the screen's polls (LprEventService.latest calls)."""
    calls: list[int] = []
    original = app.services.lpr_events.latest

    async def counted(actor):  # noqa: ANN001, ANN202
        calls.append(1)
        return await original(actor)

    app.services.lpr_events.latest = counted
    return calls


def _keys(table: DataTable) -> list[str]:
    """The row keys (recognition ids) in the order shown."""
    return [table.coordinate_to_cell_key(Coordinate(n, 0)).row_key.value or "" for n in range(table.row_count)]


def _cursor_key(table: DataTable) -> int:
    return int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)


async def test_new_reads_come_at_the_top_by_themselves(sqlite_url: str, tmp_path: Path) -> None:
    ids = await _world(sqlite_url, tmp_path / "media")
    app = make_app(sqlite_url, user="operator", media_dir=tmp_path / "media", poll_seconds=POLL)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        table = screen.query_one("#lpr-events-table", DataTable)
        await _type_plate(pilot, "ab 12")  # a part of the plate: ZAB123CD, AB123CD, AB124CD
        await settle(app, pilot)
        await pilot.press("escape", "down")  # the table, the second row
        await settle(app, pilot)
        assert _plates(screen) == ["AB124CD", "ZAB123CD", "AB123CD"] and _cursor_key(table) == ids["ZAB123CD"]
        assert "Plate ZAB123CD" in _text(screen, "#lpr-events-detail")
        polls, draws = _polls(app), _spy_draws(screen)

        await asyncio.sleep(POLL * 4)  # quiet: nothing stored, so nothing asked and nothing drawn
        await settle(app, pilot)
        assert polls == [] and draws == []

        # two matching reads and one that does not match, stored by a worker: no key pressed
        loop = asyncio.get_running_loop()
        start = loop.time()
        new = await _store_now(sqlite_url, tmp_path / "media", (1, "AB126CD"), (2, "QQ777"), (1, "AB127CD"))
        await wait_for(lambda: len(_plates(screen)) == 5, timeout=POLL * 10, pilot=pilot)
        assert loop.time() - start < POLL * 5
        await settle(app, pilot)
        assert _plates(screen) == ["AB127CD", "AB126CD", "AB124CD", "ZAB123CD", "AB123CD"]  # newest first
        assert _keys(table)[:2] == [str(new[2]), str(new[0])]  # row keys = recognition ids
        assert _cursor_key(table) == ids["ZAB123CD"] and table.cursor_row == 3  # still on its event
        assert sorted(draws) == ["#lpr-events-page.update", "table.add_row", "table.add_row", "table.move_cursor",
                                 "table.sort"], draws  # two rows added: no clear, no detail redrawn
        assert "1–5 · page 1" in _text(screen, "#lpr-events-page")
        assert "Plate ZAB123CD" in _text(screen, "#lpr-events-detail")

        # stored now, but it started before AB124CD (2 min ago): in its place by time, not at the top
        del draws[:]
        await _store_now(sqlite_url, tmp_path / "media", (2, "AB125CD"), started=timedelta(minutes=3))
        await wait_for(lambda: len(_plates(screen)) == 6, timeout=POLL * 10, pilot=pilot)
        assert _plates(screen) == ["AB127CD", "AB126CD", "AB124CD", "AB125CD", "ZAB123CD", "AB123CD"]
        assert _cursor_key(table) == ids["ZAB123CD"] and "table.clear" not in draws

        # quiet again: nothing drawn
        del draws[:]
        await asyncio.sleep(POLL * 3)
        await settle(app, pilot)
        assert draws == []

        # a time being typed (not yet submitted) is left alone: the poll keeps the page's filters
        since = screen.query_one("#lpr-events-since", Input)
        since.focus()
        await pilot.press(*"2030")
        await _store_now(sqlite_url, tmp_path / "media", (2, "AB128CD"))
        await wait_for(lambda: _plates(screen)[0] == "AB128CD", timeout=POLL * 10, pilot=pilot)
        assert since.value == "2030" and app.focused is since and not notifications(app)
        assert "1–7 · page 1" in _text(screen, "#lpr-events-page") and "table.clear" not in draws
        assert _cursor_key(table) == ids["ZAB123CD"]

        # covered by a dialog the screen does not poll; shown again it catches up at once
        app.push_screen(ConfirmDialog("?"))
        await settle(app, pilot)
        paused = len(polls)
        await _store_now(sqlite_url, tmp_path / "media", (1, "AB129CD"))
        await asyncio.sleep(POLL * 3)
        assert len(polls) == paused and _plates(screen)[0] == "AB128CD"
        await pilot.press("escape")  # No
        await wait_for(lambda: _plates(screen)[0] == "AB129CD", timeout=POLL * 10, pilot=pilot)
        assert "table.clear" not in draws and _cursor_key(table) == ids["ZAB123CD"]

        # a plate being typed that is refused: its message stays on the page line, nothing moves
        since.value = ""
        await _type_plate(pilot, "ab%")
        await settle(app, pilot)
        refused, rows = _text(screen, "#lpr-events-page"), _plates(screen)
        assert refused.startswith("Plate: '%' cannot be in a plate")
        await _store_now(sqlite_url, tmp_path / "media", (1, "AB12ZZ"))
        await asyncio.sleep(POLL * 3)
        await settle(app, pilot)
        assert _text(screen, "#lpr-events-page") == refused and _plates(screen) == rows
        assert screen.query_one("#lpr-events-plate", Input).value == "ab%"
        await pilot.press("backspace")  # "ab": searched at once, and followed again
        await settle(app, pilot)
        assert _plates(screen)[0] == "AB12ZZ"
        await _store_now(sqlite_url, tmp_path / "media", (2, "AB12ZY"))
        await wait_for(lambda: _plates(screen)[0] == "AB12ZY", timeout=POLL * 10, pilot=pilot)


async def test_an_older_page_stays_and_announces_new_reads(sqlite_url: str, tmp_path: Path) -> None:
    await _world(sqlite_url, tmp_path / "media", extra=120)  # 125 events: pages of 100 and 25
    app = make_app(sqlite_url, user="operator", media_dir=tmp_path / "media", poll_seconds=POLL)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        table = screen.query_one("#lpr-events-table", DataTable)
        await pilot.press("right_square_bracket")
        await settle(app, pilot)
        await pilot.press("down", "down")
        await settle(app, pilot)
        older, key = _plates(screen), _cursor_key(table)
        assert len(older) == 25 and "101–125 · page 2" in _text(screen, "#lpr-events-page")
        draws = _spy_draws(screen)
        new = await _store_now(sqlite_url, tmp_path / "media", (1, "NEW1"), (2, "NEW2"), (1, "NEW3"))
        await wait_for(lambda: "3 new — press f5" in _text(screen, "#lpr-events-page"), timeout=POLL * 10, pilot=pilot)
        assert _text(screen, "#lpr-events-page").startswith("3 new — press f5 · 101–125 · page 2")
        await asyncio.sleep(POLL * 3)  # announced once, then quiet
        await settle(app, pilot)
        assert draws == ["#lpr-events-page.update"]  # nothing moved
        assert _plates(screen) == older and _cursor_key(table) == key

        # f5 shows them: the first page, newest first
        await pilot.press("f5")
        await settle(app, pilot)
        assert _plates(screen)[:4] == ["NEW3", "NEW2", "NEW1", "[b]X␛[2J"] and table.row_count == 100
        assert _text(screen, "#lpr-events-page") == "1–100 · page 1 · ] older"

        # the first page stays at 100 rows: what new reads push past it opens the next page
        before = _keys(table)
        assert _keys(table)[:3] == [str(i) for i in reversed(new)]
        table.move_cursor(row=5)
        del draws[:]
        two = await _store_now(sqlite_url, tmp_path / "media", (1, "NEW4"), (2, "NEW5"))
        await wait_for(lambda: _plates(screen)[0] == "NEW5", timeout=POLL * 10, pilot=pilot)
        await settle(app, pilot)
        rows = _keys(table)
        assert table.row_count == 100 and rows == [str(two[1]), str(two[0]), *before[:98]]
        assert "table.clear" not in draws and draws.count("table.remove_row") == 2
        assert _cursor_key(table) == int(before[5])
        await pilot.press("right_square_bracket")  # the rows pushed out open page 2: none skipped, none repeated
        await settle(app, pilot)
        assert _keys(table)[:2] == before[98:] and table.row_count == 30
        await pilot.press("left_square_bracket")
        await settle(app, pilot)

        # scrolled down, reading: a new read at the top leaves what is on screen where it was
        table.move_cursor(row=50)
        await settle(app, pilot)
        await pilot.press("up", "up")  # the cursor inside the view, not at its edge
        await settle(app, pilot)
        top = round(table.scroll_y)
        assert top > 0 and table.cursor_row == 48
        shown = _keys(table)[top:top + 10]
        await _store_now(sqlite_url, tmp_path / "media", (1, "NEW7"))
        await wait_for(lambda: _plates(screen)[0] == "NEW7", timeout=POLL * 10, pilot=pilot)
        await settle(app, pilot)
        assert round(table.scroll_y) == top + 1 and _keys(table)[top + 1:top + 11] == shown
        assert table.cursor_row == 49

        # the highlighted event would be pushed off the first page: nothing moves, announced instead
        await pilot.press("ctrl+end")
        await settle(app, pilot)
        last = _cursor_key(table)
        rows = _keys(table)
        await _store_now(sqlite_url, tmp_path / "media", (1, "NEW8"))
        await wait_for(lambda: "1 new — press f5" in _text(screen, "#lpr-events-page"), timeout=POLL * 10, pilot=pilot)
        assert _keys(table) == rows and _cursor_key(table) == last
        await pilot.press("f5")
        await settle(app, pilot)
        assert _plates(screen)[0] == "NEW8" and "new" not in _text(screen, "#lpr-events-page")

"""The match-lists screen (``#matchlists``, ``#matchlist-entries``) under pilot, on a real SQLite
database at 80x24: lists and pages, search with ``?``, rows per page, adding a plate (normalised
with a note), marking and editing several plates at once, deleting marked plates, importing with a
bad line (nothing applied) and a good file, exporting; a user without the manage grant cannot change."""

from __future__ import annotations

import csv
from pathlib import Path

from textual.widgets import DataTable, Input, Select

from conftest import ADMIN
from imtui.engine.matchlists.service import MatchListService
from imtui.engine.seed import seed_defaults
from imtui.screens.confirm import ConfirmDialog
from imtui.screens.form_dialog import FormDialog
from imtui.screens.matchlists import MatchListsScreen
from imtui.storage.db import Database
from pilot import make_app, notifications, settle, wait_for

SIZE = (80, 24)


async def _world(url: str) -> None:
    db = Database(url)
    try:
        await db.upgrade()
        await seed_defaults(db, cameras=1)
        ml = MatchListService(db)
        v = await ml.create(ADMIN, "Visitors", fields=["Host"])
        await ml.import_file(ADMIN, v.id, "".join(f"Q{i:03d}Z,host {i}\n" for i in range(120)).encode())
    finally:
        await db.dispose()


async def _entries(url: str) -> dict[str, tuple[str, ...]]:
    db = Database(url)
    try:
        ml = MatchListService(db)
        v = next(x for x in await ml.lists(ADMIN) if x.name == "Visitors")
        page = await ml.entries(ADMIN, v.id, limit=1000)
        return {r.plate: r.values for r in page.rows}
    finally:
        await db.dispose()


def _plates(screen: MatchListsScreen) -> list[str]:
    table = screen.query_one("#matchlist-entries", DataTable)
    return [str(table.get_row(key)[1]) for key in table.rows]


def _page_line(screen: MatchListsScreen) -> str:
    return str(screen.query_one("#matchlist-page").render())


async def _open(app, pilot) -> MatchListsScreen:  # noqa: ANN001
    await settle(app, pilot)
    await pilot.press("f8")
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, MatchListsScreen) and screen.id == "matchlists"
    await wait_for(lambda: screen.query_one("#matchlist-entries", DataTable).row_count > 0, pilot=pilot)
    return screen


async def _type(pilot, selector: str, text: str) -> None:  # noqa: ANN001
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    field.value = ""
    await pilot.press(*text)


async def test_browse_search_page_add_edit_delete(sqlite_url: str) -> None:
    await _world(sqlite_url)
    app = make_app(sqlite_url, user="admin")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        lists = screen.query_one("#matchlists-lists", DataTable)
        assert [str(lists.get_row(k)[0]) for k in lists.rows] == ["Visitors", "Unlisted license plates"]
        assert len(_plates(screen)) == 50 and _plates(screen)[0] == "Q000Z"
        assert "1–50 of 120 plates · page 1 of 3" in _page_line(screen)
        screen.query_one("#matchlist-entries", DataTable).focus()
        await pilot.press("right_square_bracket")
        await settle(app, pilot)
        assert _plates(screen)[0] == "Q050Z" and "page 2 of 3" in _page_line(screen)
        screen.query_one("#matchlist-rows", Select).value = 100
        await settle(app, pilot)
        assert len(_plates(screen)) == 100 and "page 1 of 2" in _page_line(screen)
        await _type(pilot, "#matchlist-search", "q0?1")
        await settle(app, pilot)
        assert _plates(screen) == [f"Q0{d}1Z" for d in range(10)]

        # add a plate typed the way people type it: stored normalised, with a note
        await _type(pilot, "#matchlist-search", "")
        await pilot.press("escape")  # from the search box to the plates (a second escape would leave)
        assert app.screen is screen and app.focused is screen.query_one("#matchlist-entries", DataTable)
        await pilot.press("a")
        await settle(app, pilot)
        assert isinstance(app.screen, FormDialog)
        await _type(pilot, "#form-plate", "ab*1")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, FormDialog)  # refused, still open, the plate input focused
        assert any("'*' cannot be in a plate" in n for n in notifications(app))
        assert app.focused is app.screen.query_one("#form-plate", Input)
        await _type(pilot, "#form-plate", "ab 123")
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen is screen
        assert "Plate 'ab 123' stored as AB123." in notifications(app)
        await wait_for(lambda: "AB123" in _plates(screen), pilot=pilot)

        # mark two plates, edit their host at once, then delete them
        table = screen.query_one("#matchlist-entries", DataTable)
        table.focus()
        table.move_cursor(row=_plates(screen).index("Q001Z"))
        await pilot.press("space", "space")  # Q001Z and Q002Z
        await pilot.press("e")
        await settle(app, pilot)
        assert isinstance(app.screen, FormDialog)
        assert app.screen.query_one("#form-plate", Input).disabled
        host = next(i for i in app.screen.query(Input) if i.id and i.id.startswith("form-field-"))
        host.focus()
        await pilot.press(*"Reception")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        await wait_for(lambda: app.screen is screen, pilot=pilot)
        stored = await _entries(sqlite_url)
        assert stored["Q001Z"] == ("Reception",) and stored["Q002Z"] == ("Reception",) and stored["Q003Z"] == ("host 3",)
        await wait_for(lambda: screen.query_one("#matchlist-entries", DataTable).row_count > 0, pilot=pilot)
        table = screen.query_one("#matchlist-entries", DataTable)
        table.focus()
        table.move_cursor(row=_plates(screen).index("Q001Z"))
        await pilot.press("space", "space", "delete")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(app, pilot)
        await wait_for(lambda: "2 plates deleted." in notifications(app), pilot=pilot)
    stored = await _entries(sqlite_url)
    assert "Q001Z" not in stored and "Q002Z" not in stored and "AB123" in stored and len(stored) == 119


async def test_import_bad_then_good_and_export(sqlite_url: str, tmp_path: Path) -> None:
    await _world(sqlite_url)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"NEW1,a\nB@D,b\n")
    good = tmp_path / "good.csv"
    good.write_bytes(b"Plate;Host\nNEW1;Ann\nNEW2;Bob\n")
    out = tmp_path / "out.csv"
    app = make_app(sqlite_url, user="admin")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        for path, replace in ((bad, False), (tmp_path / "missing.csv", False), (good, False)):
            await pilot.press("i")
            await settle(app, pilot)
            await _type(pilot, "#form-path", str(path))
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            if path.name == "missing.csv":
                assert isinstance(app.screen, FormDialog)  # cannot read: the dialog says so and stays
                assert any("cannot read" in n for n in notifications(app))
                await pilot.press("escape")
                await settle(app, pilot)
            elif path is bad:
                await wait_for(lambda: any("line 2" in n and "nothing was imported" in n for n in notifications(app)),
                               pilot=pilot)
                assert len(await _entries(sqlite_url)) == 120  # nothing of the bad file
        await wait_for(lambda: any("2 plates added, 0 updated." in n for n in notifications(app)), pilot=pilot)
        assert not screen.query_one("#matchlist-progress").display
        await pilot.press("x")
        await settle(app, pilot)
        await _type(pilot, "#form-path", str(out))
        await pilot.press("enter")
        await settle(app, pilot)
        await wait_for(lambda: out.exists(), pilot=pilot)
    stored = await _entries(sqlite_url)
    assert stored["NEW1"] == ("Ann",) and stored["NEW2"] == ("Bob",) and len(stored) == 122
    rows = list(csv.reader(out.open(encoding="utf-8", newline="")))
    assert rows[0] == ["Plate", "Host"] and ["NEW2", "Bob"] in rows and len(rows) == 123


async def test_operator_sees_lists_but_cannot_change_them(sqlite_url: str) -> None:
    await _world(sqlite_url)
    app = make_app(sqlite_url, user="viewer")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f8")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, MatchListsScreen)
        await pilot.press("n", "a", "i")
        await settle(app, pilot)
        assert app.screen is screen  # no dialog opened
        assert screen.query_one("#matchlists-lists", DataTable).row_count == 0  # the service refused to list
        assert notifications(app)  # ... and said so

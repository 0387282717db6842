"""The match-lists screen (``#matchlists``, ``#matchlist-entries``) under pilot, on a real SQLite
database at 80x24: lists and pages, search with ``?``, rows per page, adding a plate (normalised
with a note), marking and editing several plates at once, deleting marked plates, importing with a
bad line (nothing applied) and a good file, exporting; a user without the manage grant cannot change;
the custom-fields dialog (``f``): add, rename, move, delete with the plates' columns following, a
refused rename that keeps what was typed, and field names shown literally."""

from __future__ import annotations

import csv
from pathlib import Path

from textual.widgets import DataTable, Input, Select

from conftest import ADMIN
from imtui.engine.matchlists.service import MatchListService
from imtui.engine.seed import seed_defaults
from imtui.screens.confirm import ConfirmDialog
from imtui.screens.form_dialog import FormDialog
from imtui.screens.matchlist_fields import MatchListFieldsDialog
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
    """Fill an input; only the last character is a key press (it sends the Changed a user's typing
    does): a key costs the pilot ~70 ms, and 60-character file paths are not what these tests test."""
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    field.value = text[:-1]
    field.cursor_position = len(field.value)
    if text:
        await pilot.press(text[-1])


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
        await pilot.press("left", "enter")
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
        await pilot.press("n", "a", "i", "f")
        await settle(app, pilot)
        assert app.screen is screen  # no dialog opened
        assert screen.query_one("#matchlists-lists", DataTable).row_count == 0  # the service refused to list
        assert notifications(app)  # ... and said so


# -- custom fields (dialog #matchlist-fields) ------------------------------------------------------

async def _fields(url: str) -> list[str]:
    db = Database(url)
    try:
        return [f.name for f in (await MatchListService(db).find(ADMIN, "Visitors")).fields]
    finally:
        await db.dispose()


def _field_rows(app) -> list[str]:  # noqa: ANN001
    table = app.screen.query_one("#matchlist-fields-table", DataTable)
    return [table.get_row(key)[1].plain for key in table.rows]


def _headers(screen: MatchListsScreen) -> list[str]:
    return [c.label.plain for c in screen.query_one("#matchlist-entries", DataTable).ordered_columns]


async def _open_fields(app, pilot) -> MatchListFieldsDialog:  # noqa: ANN001
    await pilot.press("f")
    await settle(app, pilot)
    dialog = app.screen
    assert isinstance(dialog, MatchListFieldsDialog) and dialog.query_one("#matchlist-fields")
    assert app.focused is dialog.query_one("#matchlist-fields-table", DataTable)
    return dialog


async def _name_field(app, pilot, key: str, name: str, submit: str = "enter") -> None:  # noqa: ANN001
    await pilot.press(key)
    await settle(app, pilot)
    assert isinstance(app.screen, FormDialog) and app.screen.query_one("#matchlist-field-dialog")
    await _type(pilot, "#form-name", name)
    await pilot.press(submit)
    await settle(app, pilot)


async def test_fields_add_rename_move_delete(sqlite_url: str) -> None:
    """Every field operation from the keyboard; the stored order and the plates' columns agree,
    and the values stay with their field through renames and moves."""
    await _world(sqlite_url)
    app = make_app(sqlite_url, user="admin")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        assert _headers(screen) == [" ", "Plate", "Host"]
        dialog = await _open_fields(app, pilot)
        assert _field_rows(app) == ["Host"]
        await _name_field(app, pilot, "ctrl+n", "Owner")
        await _name_field(app, pilot, "ctrl+n", "Phone", submit="ctrl+s")
        assert app.screen is dialog and _field_rows(app) == ["Host", "Owner", "Phone"]
        assert await _fields(sqlite_url) == ["Host", "Owner", "Phone"]

        # the new field is highlighted: rename it, then move it with both key sets
        await _name_field(app, pilot, "f2", "Mobile")
        assert app.screen is dialog and _field_rows(app) == ["Host", "Owner", "Mobile"]
        for key, order in (("ctrl+up", ["Host", "Mobile", "Owner"]), ("ctrl+u", ["Mobile", "Host", "Owner"]),
                           ("ctrl+u", ["Mobile", "Host", "Owner"]),  # already first: nothing moves
                           ("ctrl+down", ["Host", "Mobile", "Owner"]), ("ctrl+d", ["Host", "Owner", "Mobile"])):
            await pilot.press(key)
            await settle(app, pilot)
            assert _field_rows(app) == order, key
        await pilot.press("ctrl+up", "ctrl+up")  # back to back: queued, not lost
        await settle(app, pilot)
        assert _field_rows(app) == ["Mobile", "Host", "Owner"]
        assert await _fields(sqlite_url) == ["Mobile", "Host", "Owner"]

        # delete Owner: the confirmation says its values go from all 120 plates
        dialog.query_one("#matchlist-fields-table", DataTable).move_cursor(row=2)
        await pilot.press("delete")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmDialog)
        assert "Owner" in app.screen.question and "120 plates" in app.screen.question
        await pilot.press("left", "enter")
        await settle(app, pilot)
        assert app.screen is dialog and _field_rows(app) == ["Mobile", "Host"]
        assert "Custom field Owner deleted." in notifications(app)

        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen is screen
        await wait_for(lambda: _headers(screen) == [" ", "Plate", "Mobile", "Host"], pilot=pilot)
        row = screen.query_one("#matchlist-entries", DataTable).get_row("{}".format(
            next(e.id for e in screen.rows.values() if e.plate == "Q003Z")))
        assert [str(v) for v in row[1:]] == ["Q003Z", "", "host 3"]
        lists = screen.query_one("#matchlists-lists", DataTable)
        assert str(lists.get_row_at(0)[3]) == "Mobile, Host"
    assert await _fields(sqlite_url) == ["Mobile", "Host"]
    assert (await _entries(sqlite_url))["Q003Z"] == ("", "host 3")


async def test_field_rename_to_existing_name_keeps_the_dialog(sqlite_url: str) -> None:
    await _world(sqlite_url)
    app = make_app(sqlite_url, user="admin")
    async with app.run_test(size=SIZE) as pilot:
        await _open(app, pilot)
        dialog = await _open_fields(app, pilot)
        await _name_field(app, pilot, "ctrl+n", "Owner")
        assert _field_rows(app) == ["Host", "Owner"]
        await _name_field(app, pilot, "f2", "HOST")  # names are unique whatever the case
        form = app.screen
        assert isinstance(form, FormDialog)  # refused: still open, with what was typed, focused
        message = "Custom field: the list has a field called 'Host'; choose another name."
        assert message in notifications(app)
        assert str(form.query_one("#form-error").render()) == message
        assert form.query_one("#form-name", Input).value == "HOST"
        assert app.focused is form.query_one("#form-name", Input)
        await pilot.press("escape")  # cancel the rename; the fields dialog is still there
        await settle(app, pilot)
        assert app.screen is dialog and _field_rows(app) == ["Host", "Owner"]
    assert await _fields(sqlite_url) == ["Host", "Owner"]


async def test_field_names_are_shown_literally(sqlite_url: str) -> None:
    """A field name holding markup and terminal escapes (put there by another tool: the service
    refuses control characters, which the dialog also shows) is drawn as plain visible text."""
    from imtui.storage.models import MatchListField

    await _world(sqlite_url)
    db = Database(sqlite_url)
    try:
        visitors = await MatchListService(db).find(ADMIN, "Visitors")
        async with db.write() as session:
            session.add(MatchListField(list_id=visitors.id, position=1, name="\x1b]52;c;aGk=\x07[b]Odd[/b]"))
    finally:
        await db.dispose()
    shown = "␛]52;c;aGk=␇[b]Odd[/b]"
    app = make_app(sqlite_url, user="admin")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        assert _headers(screen) == [" ", "Plate", "Host", shown]
        dialog = await _open_fields(app, pilot)
        assert _field_rows(app) == ["Host", shown]

        # typed with an escape: refused, and the text stays in the input
        await _name_field(app, pilot, "ctrl+n", "[i]x")
        assert app.screen is dialog
        await pilot.press("ctrl+n")
        await settle(app, pilot)
        form = app.screen.query_one("#form-name", Input)
        form.value = "bad\x1bname"
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, FormDialog) and form.value == "bad\x1bname"
        assert any("holds control characters" in n for n in notifications(app))
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen is dialog and _field_rows(app) == ["Host", shown, "[i]x"]

        table = dialog.query_one("#matchlist-fields-table", DataTable)
        drawn = [table.render_line(y).text for y in range(table.size.height)]
        assert any(shown in line for line in drawn) and any("[i]x" in line for line in drawn)
        assert not any("\x1b" in line or "\x07" in line for line in drawn)
        table.move_cursor(row=1)
        await pilot.press("delete")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmDialog)
        question = app.screen.query_one("#confirm-question").render()
        assert shown in str(question) and "\x1b" not in str(question)
        await pilot.press("escape")
        await settle(app, pilot)
        await pilot.press("escape")
        await settle(app, pilot)
        await wait_for(lambda: _headers(screen) == [" ", "Plate", "Host", shown, "[i]x"], pilot=pilot)
        header = screen.query_one("#matchlist-entries", DataTable).render_line(0).text
        assert "[i]x" in header and "\x1b" not in header
    assert await _fields(sqlite_url) == ["Host", "\x1b]52;c;aGk=\x07[b]Odd[/b]", "[i]x"]

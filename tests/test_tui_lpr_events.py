"""The LPR events screen (``#lpr-events``) in the real app under pilot, on a SQLite file at 80x24,
keyboard only: ``f10`` from the incident list, a ``?`` plate pattern typed in ``#lpr-events-plate``,
a list chosen in ``#lpr-events-list``, a bad time refused with the field named, pages with ``]`` /
``[``; the highlighted event's matches with their custom fields in ``#lpr-events-detail``, and the
plate crop in ``#lpr-events-snapshot`` (drawn in ``unicode`` mode; with pictures off, its path).
Hostile text stored in a plate, a camera name and a match's custom field (the database keeps the
exact bytes) is shown literally: no escape byte reaches the screen, markup is not interpreted."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from textual.widgets import DataTable, Input, Select, Static

from conftest import ADMIN
from imtui.engine.matchlists.service import MatchListService
from imtui.engine.seed import seed_defaults
from imtui.engine.times import utcnow
from imtui.engine.video.cameras import CameraService
from imtui.engine.video.media import MediaStore
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

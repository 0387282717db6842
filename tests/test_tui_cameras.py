"""The cameras admin screen (``#admin-cameras``) under pilot, on a real SQLite database, at 80x24."""

from __future__ import annotations

from datetime import UTC, datetime

from textual.widgets import Button, Checkbox, DataTable, Input

from conftest import ADMIN, OPERATOR
from imtui.engine.incidents import IncidentService, SequenceInput
from imtui.engine.security import SecurityService
from imtui.engine.seed import seed_defaults
from imtui.engine.video.cameras import CameraService, CameraView
from imtui.screens.admin_cameras import AdminCamerasScreen
from imtui.screens.camera_dialog import CameraDialog
from imtui.screens.confirm import ConfirmDialog
from imtui.screens.incidents import IncidentsScreen
from imtui.storage.db import Database
from pilot import make_app, notifications, settle

SIZE = (80, 24)


async def _world(url: str, *, evidence: bool = False) -> None:
    """Default properties and users, two cameras; with ``evidence`` a project with a sequence on Camera 01."""
    db = Database(url)
    try:
        await db.upgrade()
        await seed_defaults(db, cameras=2)
        if evidence:
            svc = IncidentService(db)
            cam = next(c for c in await CameraService(db).list(ADMIN) if c.name == "Camera 01")
            t = datetime(2026, 4, 1, 12, tzinfo=UTC)
            await svc.create(OPERATOR, (await svc.types())[0].id, "break-in", [SequenceInput(cam.id, t, t)])
    finally:
        await db.dispose()


async def _cameras(url: str) -> list[CameraView]:
    db = Database(url)
    try:
        return await CameraService(db).list(ADMIN)
    finally:
        await db.dispose()


async def _open(app, pilot) -> AdminCamerasScreen:  # noqa: ANN001
    await settle(app, pilot)
    await pilot.press("f6")
    await settle(app, pilot)
    assert isinstance(app.screen, AdminCamerasScreen) and app.screen.id == "admin-cameras"
    return app.screen


def _rows(screen: AdminCamerasScreen) -> dict[str, list[str]]:
    """Rows by camera id (the row key): the cells as plain text."""
    table = screen.query_one("#cameras", DataTable)
    return {key.value: [getattr(c, "plain", c) for c in table.get_row(key)] for key in table.rows}


def _select(screen: AdminCamerasScreen, name: str) -> int:
    table = screen.query_one("#cameras", DataTable)
    camera_id = next(key for key, row in _rows(screen).items() if row[0] == name)
    table.focus()
    table.move_cursor(row=table.get_row_index(camera_id))
    return int(camera_id)


async def _type(pilot, selector: str, text: str) -> None:  # noqa: ANN001
    """Clear an input of the dialog and type ``text`` key by key, as an administrator would."""
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    field.value = ""
    await pilot.press(*text)


async def test_add_camera_through_the_dialog_with_a_bad_retention_first(sqlite_url: str) -> None:
    await _world(sqlite_url)
    app = make_app(sqlite_url, user="admin")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        assert [row[0] for row in _rows(screen).values()] == ["Camera 01", "Camera 02"]
        columns = screen.query_one("#cameras", DataTable).columns.values()
        assert [str(c.label).replace("\n", " ") for c in columns] == [
            "Name", "Source", "Enabled", "Retention (days)", "Motion sensitivity", "Used by sequences"]
        await pilot.click("#add-camera")
        await settle(app, pilot)
        assert isinstance(app.screen, CameraDialog)
        await _type(pilot, "#camera-name", "Gate north")
        await _type(pilot, "#camera-source", "rtsp://10.0.0.5/stream1")
        await _type(pilot, "#camera-retention", "abc")
        await _type(pilot, "#camera-sensitivity", "70")
        await pilot.click("#camera-save")
        await settle(app, pilot)
        assert "Recording retention (days): type a whole number from 1 to 36,500." in notifications(app)
        dialog = app.screen
        assert isinstance(dialog, CameraDialog)  # still open, nothing typed is lost
        assert dialog.query_one("#camera-name", Input).value == "Gate north"
        assert dialog.query_one("#camera-retention", Input).value == "abc"
        assert app.focused is dialog.query_one("#camera-retention", Input)
        assert "Recording retention" in str(dialog.query_one("#camera-error").render())
        assert len(await _cameras(sqlite_url)) == 2  # nothing saved
        await _type(pilot, "#camera-retention", "14")
        await pilot.press("enter")  # enter in an input saves
        await settle(app, pilot)
        assert app.screen is screen
        rows = _rows(screen)
        gate = next(row for row in rows.values() if row[0] == "Gate north")
        assert gate == ["Gate north", "rtsp://10.0.0.5/stream1", "yes", "14", "70", "0"]
        table = screen.query_one("#cameras", DataTable)
        assert table.get_row_at(table.cursor_row)[0].plain == "Gate north"  # the new camera is selected
    saved = next(c for c in await _cameras(sqlite_url) if c.name == "Gate north")
    assert (saved.source, saved.enabled, saved.retention_days, saved.motion_sensitivity) == (
        "rtsp://10.0.0.5/stream1", True, 14, 70)
    assert str(saved.id) in rows


async def test_bad_source_names_the_field_and_cancel_saves_nothing(sqlite_url: str) -> None:
    await _world(sqlite_url)
    app = make_app(sqlite_url, user="admin")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        await pilot.press("n")
        await settle(app, pilot)
        await _type(pilot, "#camera-name", "Dock")
        await _type(pilot, "#camera-source", "gopher://x")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert any(m.startswith("Source:") for m in notifications(app))
        assert app.focused is app.screen.query_one("#camera-source", Input)
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen is screen and len(_rows(screen)) == 2
    assert len(await _cameras(sqlite_url)) == 2


async def test_edit_with_enter_on_the_row(sqlite_url: str) -> None:
    await _world(sqlite_url)
    app = make_app(sqlite_url, user="admin")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        camera_id = _select(screen, "Camera 02")
        await pilot.press("enter")
        await settle(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, CameraDialog)
        assert dialog.query_one("#camera-name", Input).value == "Camera 02"
        assert dialog.query_one("#camera-retention", Input).value == "30"
        await _type(pilot, "#camera-name", "Loading bay")
        await _type(pilot, "#camera-sensitivity", "20")
        await pilot.click("#camera-save")
        await settle(app, pilot)
        assert app.screen is screen
        assert _rows(screen)[str(camera_id)][0] == "Loading bay"
        assert _rows(screen)[str(camera_id)][4] == "20"
    edited = next(c for c in await _cameras(sqlite_url) if c.id == camera_id)
    assert (edited.name, edited.motion_sensitivity, edited.source, edited.retention_days) == (
        "Loading bay", 20, "synthetic:?seed=2", 30)


async def test_toggle_enabled(sqlite_url: str) -> None:
    await _world(sqlite_url)
    app = make_app(sqlite_url, user="admin")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        camera_id = _select(screen, "Camera 01")
        await pilot.click("#toggle-camera")
        await settle(app, pilot)
        assert _rows(screen)[str(camera_id)][2] == "no"
        assert "Camera disabled." in notifications(app)
        assert not next(c for c in await _cameras(sqlite_url) if c.id == camera_id).enabled
        await pilot.press("t")
        await settle(app, pilot)
        assert _rows(screen)[str(camera_id)][2] == "yes"
    assert next(c for c in await _cameras(sqlite_url) if c.id == camera_id).enabled


async def test_a_camera_holding_evidence_cannot_be_deleted(sqlite_url: str) -> None:
    await _world(sqlite_url, evidence=True)
    app = make_app(sqlite_url, user="admin")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        rows = _rows(screen)
        locked = next(key for key, row in rows.items() if row[0] == "Camera 01")
        assert rows[locked][5] == "1 (evidence lock)"
        _select(screen, "Camera 01")
        await settle(app, pilot)
        detail = str(screen.query_one("#camera-detail").render())
        assert "synthetic:?seed=1" in detail and "Evidence lock: 1 sequence of incident projects" in detail
        assert next(row for row in rows.values() if row[0] == "Camera 02")[5] == "0"
        _select(screen, "Camera 01")
        await pilot.click("#delete-camera")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.click("#confirm-yes")
        await settle(app, pilot)
        assert ("Cannot delete camera \u201cCamera 01\u201d: 1 sequence of incident projects uses it; "
                "disable it instead.") in notifications(app)
        assert locked in _rows(screen)
        free = _select(screen, "Camera 02")  # a camera no sequence uses goes, after confirmation
        await pilot.press("delete")
        await settle(app, pilot)
        await pilot.click("#confirm-no")
        await settle(app, pilot)
        assert str(free) in _rows(screen)
        await pilot.press("delete")
        await settle(app, pilot)
        await pilot.click("#confirm-yes")
        await settle(app, pilot)
        assert list(_rows(screen)) == [locked]
    assert [c.name for c in await _cameras(sqlite_url)] == ["Camera 01"]


async def test_user_text_is_shown_literally_and_sanitised(sqlite_url: str) -> None:
    await _world(sqlite_url)
    typed = "[b]x[/b]\x1b]52;c;eA==\x07"
    app = make_app(sqlite_url, user="admin")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        await pilot.click("#add-camera")
        await settle(app, pilot)
        app.screen.query_one("#camera-name", Input).value = typed  # ESC cannot be typed as a key
        await _type(pilot, "#camera-source", "synthetic:?fps=2")
        await pilot.click("#camera-save")
        await settle(app, pilot)
        assert app.screen is screen
        table = screen.query_one("#cameras", DataTable)
        camera_id = _select(screen, "[b]x[/b]␛]52;c;eA==␇")
        shown = table.get_row(str(camera_id))[0]
        assert shown.plain == "[b]x[/b]␛]52;c;eA==␇" and not shown.spans  # literal, not bold
        shot = app.export_screenshot()
        assert "[b]x[/b]" in shot and "\x1b]52" not in shot
        # editing shows the sanitised name; leaving it as shown keeps the stored bytes
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen.query_one("#camera-name", Input).value == "[b]x[/b]␛]52;c;eA==␇"
        await _type(pilot, "#camera-retention", "9")
        await pilot.click("#camera-save")
        await settle(app, pilot)
        # the delete question quotes the name literally too
        await pilot.press("delete")
        await settle(app, pilot)
        question = app.screen.query_one("#confirm-question")
        assert "\u201c[b]x[/b]␛]52;c;eA==␇\u201d" in str(question.render())
        await pilot.click("#confirm-no")
        await settle(app, pilot)
    saved = next(c for c in await _cameras(sqlite_url) if c.id == camera_id)
    assert (saved.name, saved.retention_days) == (typed, 9)


async def test_view_only_users_see_the_list_but_cannot_change_it(sqlite_url: str) -> None:
    await _world(sqlite_url)
    db = Database(sqlite_url)
    try:
        sec = SecurityService(db)
        await sec.add_role(ADMIN, "camera viewer")
        await sec.grant(ADMIN, "camera viewer", "properties", "view")
        await sec.add_user(ADMIN, "vera", roles=["camera viewer", "viewer"])
    finally:
        await db.dispose()
    app = make_app(sqlite_url, user="vera")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        assert len(_rows(screen)) == 2
        for button in ("#add-camera", "#edit-camera", "#toggle-camera", "#delete-camera"):
            assert screen.query_one(button, Button).disabled
        _select(screen, "Camera 01")
        for key in ("n", "e", "t", "enter", "delete"):
            await pilot.press(key)
            await settle(app, pilot)
            assert app.screen is screen
        await pilot.press("escape")
        await settle(app, pilot)
        assert not isinstance(app.screen, AdminCamerasScreen)
    assert all(c.enabled for c in await _cameras(sqlite_url)) and len(await _cameras(sqlite_url)) == 2


async def test_operators_may_not_open_it_and_escape_goes_back(sqlite_url: str) -> None:
    await _world(sqlite_url)
    app = make_app(sqlite_url, user="operator")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert "Cameras" not in app.export_screenshot()
        await pilot.press("f6")
        await settle(app, pilot)
        assert not isinstance(app.screen, AdminCamerasScreen)
    app = make_app(sqlite_url, user="admin")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        assert screen.query_one("#add-camera", Button).region.bottom <= 24  # fits at 80x24
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, IncidentsScreen)

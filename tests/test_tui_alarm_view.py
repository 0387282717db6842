"""The alarm manager says where and why, under pilot at 80x24 (SQLite file, keyboard only): a list
alarm raised by another process (the worker's own store step) is announced naming its camera; the
manager's table has a Camera column; the detail shows the camera, the matched entry's custom
fields and the plate picture (``unicode`` image mode); ``v`` opens View video on the alarm's
camera 10 s either side of the read.  A project of an alarm takes the type an administrator set
for alarm projects (F2, Options) without asking; when another operator made the project first,
``i`` says which project exists and makes none."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from textual.widgets import DataTable, Select, Static

from conftest import ADMIN, OPERATOR
from imtui.engine.alarms import AlarmService
from imtui.engine.incidents import IncidentService
from imtui.engine.properties import PropertyService
from imtui.engine.seed import seed_defaults
from imtui.engine.video.cameras import CameraService
from imtui.screens.alarms import AlarmsScreen
from imtui.screens.incident_type_dialog import IncidentTypeDialog
from imtui.screens.video import VideoScreen
from imtui.storage.db import Database
from imtui.storage.models import Incident
from pilot import make_app, notifications, settle, wait_for
from test_alarm_detail import REASON, stolen_read

SIZE = (80, 24)
HOSTILE_CAMERA = "[bold]Gate\x1b]0;PWNED\x07"


def _text(screen, selector: str) -> str:  # noqa: ANN001
    return str(screen.query_one(selector, Static).render())


async def _manager(app, pilot) -> AlarmsScreen:  # noqa: ANN001
    await pilot.press("f9")
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, AlarmsScreen)
    await wait_for(lambda: screen.query_one("#alarms-table", DataTable).row_count == 1, pilot=pilot)
    await settle(app, pilot)
    return screen


async def test_the_alarm_names_its_camera_shows_why_and_plays_the_read(sqlite_url: str, tmp_path: Path) -> None:
    db = Database(sqlite_url)
    await db.upgrade()
    await seed_defaults(db, cameras=2)
    app = make_app(sqlite_url, user="operator", media_dir=tmp_path / "media", image_mode="unicode")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await stolen_read(db, tmp_path / "media")  # another process: the worker stores a listed plate
            await wait_for(lambda: "New alarm (High): Stolen car · AB123CD · Stolen · Gate" in notifications(app),
                           timeout=5, pilot=pilot)
            screen = await _manager(app, pilot)
            table = screen.query_one("#alarms-table", DataTable)
            assert [str(c.label) for c in table.columns.values()][3:5] == ["Alarm", "Camera"]
            assert [str(c) for c in table.get_row_at(0)][3:6] == ["Stolen car", "Gate", "AB123CD"]
            assert "Gate" in app.export_screenshot()  # within the 80 columns, not scrolled off
            detail = _text(screen, "#alarm-detail")
            assert "Camera Gate" in detail and "Stolen · entry AB123CD" in detail
            assert "Owner: J. Doe" in detail and f"Reason: {REASON}" in detail
            picture = screen.query_one("#alarm-picture")
            await wait_for(lambda: picture.image is not None, pilot=pilot)  # type: ignore[attr-defined]
            assert _text(screen, "#alarm-snapshot-note").startswith("Plate picture ")
            alarm = next(iter(screen.shown.values()))

            await pilot.press("v")
            await wait_for(lambda: isinstance(app.screen, VideoScreen), pilot=pilot)
            video = app.screen
            assert (video.camera_id, video.camera_name) == (1, "Gate")  # type: ignore[attr-defined]
            assert (video.start, video.end) == (alarm.at - timedelta(seconds=10),  # type: ignore[attr-defined]
                                                alarm.at + timedelta(seconds=10))
            await pilot.press("escape")
            await settle(app, pilot)
            assert app.screen is screen

            # a camera name that is markup and escape sequences is shown literally, everywhere
            await CameraService(db).edit(ADMIN, 1, name=HOSTILE_CAMERA)
            await pilot.press("f5")
            await wait_for(lambda: "[bold]Gate" in str(table.get_row_at(0)[4]), pilot=pilot)
            await settle(app, pilot)
            assert str(table.get_row_at(0)[4]) == "[bold]Gate␛]0;P…"  # cut to the column, literally
            assert "Camera [bold]Gate␛]0;PWNED␇" in _text(screen, "#alarm-detail")
            shot = app.export_screenshot()
            assert "[bold]Gate" in shot and "\x1b]0;" not in shot and "\x07" not in shot
    finally:
        await db.dispose()


async def test_the_type_set_for_alarm_projects_is_used_and_a_second_project_refused(sqlite_url: str,
                                                                                      tmp_path: Path) -> None:
    db = Database(sqlite_url)
    await db.upgrade()
    await seed_defaults(db, cameras=2)
    await stolen_read(db, tmp_path / "media")
    types = await IncidentService(db).types()
    app = make_app(sqlite_url, user="admin", media_dir=tmp_path / "media")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            # the administrator sets the type in F2, Options
            await pilot.press("f2")
            await settle(app, pilot)
            app.screen.query_one("#admin-properties").active = "options"  # type: ignore[attr-defined]
            await settle(app, pilot)
            select = app.screen.query_one("#options-alarm-type", Select)
            assert select.value == 0  # none set: the operator chooses
            select.value = types[3].id
            await pilot.click("#options-save")
            await wait_for(lambda: "Saved." in notifications(app), pilot=pilot)
            assert (await PropertyService(db).options(ADMIN)).alarm_type_id == types[3].id
            await pilot.press("escape")
            await settle(app, pilot)

            screen = await _manager(app, pilot)
            await pilot.press("i")
            await wait_for(lambda: any("incident project" in n for n in notifications(app)), pilot=pilot)
            assert not isinstance(app.screen, IncidentTypeDialog)  # set: nobody is asked
            [alarm] = await AlarmService(db).alarms(ADMIN)
            assert (await IncidentService(db).get(ADMIN, alarm.incident_id)).type_id == types[3].id

            # a second alarm whose project another operator makes while this manager shows it
            async with db.write() as s:
                await s.execute(sa.text("UPDATE alarm SET incident_id = NULL"))  # an alarm without its project
            other = await AlarmService(db).to_incident(OPERATOR, alarm.id, types[0].id, IncidentService(db))
            await pilot.press("i")
            await wait_for(lambda: any("already has incident project" in n for n in notifications(app)), pilot=pilot)
            assert f"Alarm {alarm.id} already has incident project {other}" in notifications(app)[-1]
            assert screen.is_attached
        async with db.read() as s:
            assert (await s.execute(sa.select(sa.func.count()).select_from(Incident.__table__))).scalar_one() == 2
    finally:
        await db.dispose()

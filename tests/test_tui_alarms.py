"""Alarms in a running TUI under pilot (SQLite, 80x24): an alarm raised by another process (the
worker's camera event) is announced within the poll interval without any key pressed, appears in
the alarm manager (``#alarms``), and the operator assigns, comments, moves it and makes it a
project there; every step is in the alarm's log."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable

from conftest import ADMIN
from imtui.engine.alarms import AlarmService
from imtui.engine.incidents import IncidentService
from imtui.engine.seed import seed_defaults
from imtui.engine.video.worker import Worker
from imtui.screens.alarms import AlarmsScreen
from imtui.screens.form_dialog import FormDialog
from imtui.screens.incident_type_dialog import IncidentTypeDialog
from imtui.storage.db import Database
from pilot import make_app, notifications, settle, wait_for
from recording import settings_for

SIZE = (80, 24)


async def test_a_new_alarm_reaches_the_open_tui_and_is_handled_there(sqlite_url: str, tmp_path: Path) -> None:
    db = Database(sqlite_url)
    await db.upgrade()
    await seed_defaults(db, cameras=2)
    alarms = AlarmService(db)
    await alarms.define(ADMIN, "Gate camera down", "camera_lost", cameras=[1], priority=1)
    app = make_app(sqlite_url, user="operator")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            worker = Worker(db, settings_for(db, tmp_path / "media"))  # another process's writes, as the worker's
            await worker.event("camera_lost", 1, "Camera 01: connection lost.")
            await wait_for(lambda: any(n.startswith("New alarm (High): Gate camera down") for n in notifications(app)),
                           timeout=5, pilot=pilot)
            await pilot.press("f9")
            await settle(app, pilot)
            screen = app.screen
            assert isinstance(screen, AlarmsScreen) and screen.id == "alarms"
            table = screen.query_one("#alarms-table", DataTable)
            await wait_for(lambda: table.row_count == 1, pilot=pilot)
            row = [str(c) for c in table.get_row_at(0)]
            assert row[1:8] == ["High", "New", "Gate camera down", "Camera 01", "", "", "camera_lost"]
            await pilot.press("a", "p")
            await settle(app, pilot)
            await pilot.press("m")
            await settle(app, pilot)
            assert isinstance(app.screen, FormDialog)
            await pilot.press(*"Technician sent")
            await pilot.press("enter")
            await settle(app, pilot)
            await pilot.press("i")  # no type is set for alarm projects: the operator picks one
            await wait_for(lambda: isinstance(app.screen, IncidentTypeDialog), pilot=pilot)
            await pilot.press("down", "enter")
            await wait_for(lambda: any("incident project" in n for n in notifications(app)), pilot=pilot)
            await pilot.press("c")
            await wait_for(lambda: str(screen.query_one("#alarms-table", DataTable).get_row_at(0)[2]) == "Closed",
                           pilot=pilot)
            # a second alarm while the manager is open: it appears without a key
            await worker.event("camera_lost", 1, "Camera 01: connection lost again.")
            await wait_for(lambda: screen.query_one("#alarms-table", DataTable).row_count == 2, timeout=5, pilot=pilot)
        [first, second] = sorted(await alarms.alarms(ADMIN), key=lambda a: a.id)
        view, log = await alarms.get(ADMIN, first.id)
        assert (view.state, view.assigned_to) == ("closed", "operator") and view.incident_id
        assert [(x.user, x.action) for x in log] == [("system", "raised"), ("operator", "assigned"),
                                                     ("operator", "state"), ("operator", "comment"),
                                                     ("operator", "project"), ("operator", "state")]
        assert log[3].details == "Technician sent" and second.state == "new"
        types = await IncidentService(db).types()
        assert (await IncidentService(db).get(ADMIN, view.incident_id)).type_id == types[1].id  # the one picked
    finally:
        await db.dispose()

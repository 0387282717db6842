"""Alarm definitions in the running TUI under pilot (SQLite, 80x24): the alarm manager's ``d`` opens
``#admin-alarms``; an administrator adds a match-list definition (two cameras, High, a webhook with
credentials, a command) and an event one from the keyboard, edits, disables and deletes them, and
a bad webhook URL gets the service's message without losing what was typed.  Every step is checked
through AlarmService as well as on screen.  An operator gets the refusal and changes nothing;
hostile names are drawn literally."""

from __future__ import annotations

from textual.widgets import Checkbox, DataTable, Input, Select, SelectionList, Static

from conftest import ADMIN
from imtui.engine.alarms import AlarmService, raise_for_event
from imtui.engine.matchlists.service import MatchListService
from imtui.engine.seed import seed_defaults
from imtui.engine.times import utcnow
from imtui.screens.admin_alarms import AdminAlarmsScreen
from imtui.screens.alarm_definition_dialog import AlarmDefinitionDialog
from imtui.screens.confirm import ConfirmDialog
from imtui.storage.db import Database
from pilot import make_app, notifications, settle, wait_for

SIZE = (80, 24)
SECRET = "s3cretPW"


async def _world(url: str) -> tuple[Database, AlarmService, dict[str, int]]:
    db = Database(url)
    await db.upgrade()
    await seed_defaults(db, cameras=3)
    lists = MatchListService(db)
    ids = {name: (await lists.create(ADMIN, name)).id for name in ("Staff", "Stolen vehicles")}
    return db, AlarmService(db), ids


async def _open(app, pilot) -> AdminAlarmsScreen:  # noqa: ANN001
    await settle(app, pilot)
    await pilot.press("f9")
    await settle(app, pilot)
    assert app.screen.id == "alarms"
    await pilot.press("d")
    await settle(app, pilot)
    assert isinstance(app.screen, AdminAlarmsScreen) and app.screen.id == "admin-alarms"
    return app.screen


def _rows(screen: AdminAlarmsScreen) -> list[list[str]]:
    table = screen.query_one("#admin-alarms-table", DataTable)
    return [[getattr(c, "plain", c) for c in table.get_row(key)] for key in table.rows]


def _detail(screen: AdminAlarmsScreen) -> str:
    return str(screen.query_one("#admin-alarms-detail", Static).render())


def _select(screen: AdminAlarmsScreen, name: str) -> None:
    table = screen.query_one("#admin-alarms-table", DataTable)
    row = next(i for i, r in enumerate(_rows(screen)) if r[0] == name)
    table.focus()
    table.move_cursor(row=row)


async def _tab_to(pilot, widget_id: str) -> None:  # noqa: ANN001
    """Tab (only Tab) until ``widget_id`` has the focus."""
    for _ in range(20):
        if pilot.app.focused is not None and pilot.app.focused.id == widget_id:
            return
        await pilot.press("tab")
    raise AssertionError(f"Tab never reached #{widget_id}")


async def _retype(pilot, text: str) -> None:  # noqa: ANN001
    """Replace the focused input's text from the keyboard."""
    field = pilot.app.focused
    assert isinstance(field, Input)
    await pilot.press("end", *["backspace"] * len(field.value), *text)


async def test_define_edit_toggle_and_delete_from_the_keyboard(sqlite_url: str) -> None:
    db, alarms, lists = await _world(sqlite_url)
    app = make_app(sqlite_url, user="admin")  # no [actions.commands] on this host
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = await _open(app, pilot)
            assert "No alarm definitions" in _detail(screen)

            # 1. a match-list definition, every field reached with Tab
            await pilot.press("n")
            await settle(app, pilot)
            dialog = app.screen
            assert isinstance(dialog, AlarmDefinitionDialog) and dialog.query_one("#alarm-definition")
            assert app.focused is dialog.query_one("#alarm-definition-name", Input)
            await pilot.press(*"Gate stolen")
            await _tab_to(pilot, "alarm-definition-trigger")
            assert dialog.query_one("#alarm-definition-trigger", Select).value == "list"
            await _tab_to(pilot, "alarm-definition-list")
            await pilot.press("enter", "down", "down", "enter")  # the prompt, Staff, Stolen vehicles
            await settle(app, pilot)
            assert dialog.query_one("#alarm-definition-list", Select).value == lists["Stolen vehicles"]
            await _tab_to(pilot, "alarm-definition-cameras")
            await pilot.press("space", "down", "down", "space")  # Camera 01 and Camera 03
            assert sorted(dialog.query_one("#alarm-definition-cameras", SelectionList).selected) == [1, 3]
            assert "2 cameras ticked" in str(dialog.query_one("#alarm-definition-cameras-note", Static).render())
            await _tab_to(pilot, "alarm-definition-priority")
            await pilot.press("enter", "up", "enter")  # Medium -> High
            await settle(app, pilot)
            assert dialog.query_one("#alarm-definition-priority", Select).value == 1
            await _tab_to(pilot, "alarm-definition-webhook")
            await pilot.press(*f"https://gate:{SECRET}@gate.example/open")
            await _tab_to(pilot, "alarm-definition-timeout")
            await _retype(pilot, "3")
            await _tab_to(pilot, "alarm-definition-retries")
            await _retype(pilot, "1")
            await _tab_to(pilot, "alarm-definition-command")
            await pilot.press(*"gate")
            await settle(app, pilot)
            # not in this host's [actions.commands]: a hint, not a refusal
            assert "not in [actions.commands]" in str(
                dialog.query_one("#alarm-definition-command-note", Static).render())
            await _tab_to(pilot, "alarm-definition-retroactive")  # off by default; left off here
            assert dialog.query_one("#alarm-definition-retroactive", Checkbox).value is False
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            assert app.screen is screen
            [d] = await alarms.definitions(ADMIN)
            assert (d.name, d.trigger, d.list_id, d.cameras, d.priority, d.enabled) == (
                "Gate stolen", "list", lists["Stolen vehicles"], (1, 3), 1, True)
            assert (d.webhook_url, d.webhook_timeout, d.webhook_retries, d.command, d.retroactive_outputs) == (
                f"https://gate:{SECRET}@gate.example/open", 3.0, 1, "gate", False)
            assert _rows(screen) == [["Gate stolen", "Stolen vehicles", "Camera 01, Camera 03", "High", "yes",
                                      "webhook, command gate"]]
            detail = _detail(screen)
            assert "Sources: Camera 01, Camera 03" in detail
            assert "Webhook: https://gate.example/open (3 s, 1 retries)" in detail and "Command: gate" in detail
            assert "not in [actions.commands]" in detail and "Alarms found after the read: no output" in detail
            assert SECRET not in detail and SECRET not in app.export_screenshot()

            # 2. an event definition: the list is not asked for
            await pilot.press("n")
            await settle(app, pilot)
            dialog = app.screen
            await pilot.press(*"Server down")
            await _tab_to(pilot, "alarm-definition-trigger")
            await pilot.press("enter", "down", "down", "down", "enter")  # the third event
            await settle(app, pilot)
            assert dialog.query_one("#alarm-definition-trigger", Select).value == "server_not_responding"
            assert dialog.query_one("#alarm-definition-list", Select).disabled
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            assert app.screen is screen
            event = next(x for x in await alarms.definitions(ADMIN) if x.name == "Server down")
            assert (event.trigger, event.list_id, event.cameras, event.priority, event.has_outputs) == (
                "server_not_responding", None, (), 2, False)
            assert _rows(screen)[1] == ["Server down", "LPR server not responding", "All cameras", "Medium", "yes", "-"]
            assert "LPR server event: LPR server not responding" in _detail(screen)

            # 3. edit: rename and lower the priority (Enter opens the dialog); the outputs stay
            _select(screen, "Gate stolen")
            await pilot.press("enter")
            await settle(app, pilot)
            dialog = app.screen
            assert isinstance(dialog, AlarmDefinitionDialog)
            assert dialog.query_one("#alarm-definition-webhook", Input).value.endswith("gate.example/open")
            await _retype(pilot, "Gate north stolen")
            await _tab_to(pilot, "alarm-definition-priority")
            await pilot.press("enter", "down", "down", "enter")  # High -> Low
            await _tab_to(pilot, "alarm-definition-retroactive")
            await pilot.press("space")  # outputs also for alarms found after the read
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            edited = next(x for x in await alarms.definitions(ADMIN) if x.id == d.id)
            assert (edited.name, edited.priority, edited.cameras, edited.webhook_url, edited.command,
                    edited.retroactive_outputs) == ("Gate north stolen", 3, (1, 3), d.webhook_url, "gate", True)
            assert "Alarms found after the read: outputs run" in _detail(screen)
            assert _rows(screen)[0][:5] == ["Gate north stolen", "Stolen vehicles", "Camera 01, Camera 03", "Low",
                                            "yes"]

            # 4. t disables it, t again enables it
            await pilot.press("t")
            await settle(app, pilot)
            assert not next(x for x in await alarms.definitions(ADMIN) if x.id == d.id).enabled
            assert _rows(screen)[0][4] == "no" and "disabled" in _detail(screen)
            await pilot.press("t")
            await settle(app, pilot)
            assert next(x for x in await alarms.definitions(ADMIN) if x.id == d.id).enabled
            assert _rows(screen)[0][4] == "yes"

            # 5. a bad webhook URL: the service's message names the field; what was typed stays
            saved = await alarms.definitions(ADMIN)
            _select(screen, "Server down")
            await pilot.press("e")
            await settle(app, pilot)
            dialog = app.screen
            await _retype(pilot, "Server silent")
            await _tab_to(pilot, "alarm-definition-webhook")
            await pilot.press(*"ftp://gate")
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            assert app.screen is dialog
            error = str(dialog.query_one("#alarm-definition-error", Static).render())
            assert error.startswith("Webhook URL: write an http:// or https:// address")
            assert dialog.query_one("#alarm-definition-error", Static).display
            assert app.focused is dialog.query_one("#alarm-definition-webhook", Input)
            assert dialog.query_one("#alarm-definition-webhook", Input).value == "ftp://gate"
            assert dialog.query_one("#alarm-definition-name", Input).value == "Server silent"
            assert await alarms.definitions(ADMIN) == saved  # nothing saved
            await pilot.press("escape")
            await settle(app, pilot)
            assert app.screen is screen

            # 6. delete after confirming; the alarm it raised stays
            async with db.write() as s:
                assert await raise_for_event(s, db, "server_not_responding", None, "LPR server gone.", utcnow()) == 1
            _select(screen, "Server down")
            await pilot.press("delete")
            await settle(app, pilot)
            assert isinstance(app.screen, ConfirmDialog)
            question = str(app.screen.query_one("#confirm-question", Static).render())
            assert "\u201cServer down\u201d" in question and "stay" in question
            await pilot.press("left", "enter")
            await settle(app, pilot)
            assert app.screen is screen
            assert [x.name for x in await alarms.definitions(ADMIN)] == ["Gate north stolen"]
            assert [r[0] for r in _rows(screen)] == ["Gate north stolen"]
            assert [a.name for a in await alarms.alarms(ADMIN)] == ["Server down"]
            assert any("deleted" in n for n in notifications(app))
    finally:
        await db.dispose()


async def test_an_operator_gets_the_refusal_and_changes_nothing(sqlite_url: str) -> None:
    db, alarms, lists = await _world(sqlite_url)
    await alarms.define(ADMIN, "Gate stolen", "list", list_id=lists["Staff"], priority=1)
    before = await alarms.definitions(ADMIN)
    app = make_app(sqlite_url, user="operator")
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = await _open(app, pilot)
            await wait_for(lambda: "Permission denied." in notifications(app), pilot=pilot)
            assert screen.query_one("#admin-alarms-table", DataTable).row_count == 0
            assert "Permission denied." in _detail(screen)
            for key in ("n", "e", "enter", "t", "delete"):
                await pilot.press(key)
                await settle(app, pilot)
                assert app.screen is screen  # no dialog, no question
            await pilot.press("escape")
            await settle(app, pilot)
            assert app.screen.id == "alarms"
        assert await alarms.definitions(ADMIN) == before
    finally:
        await db.dispose()


async def test_hostile_names_are_drawn_literally(sqlite_url: str) -> None:
    db, alarms, lists = await _world(sqlite_url)
    hostile = "Gate\x1b[2J [b]x[/b]"
    await alarms.define(ADMIN, hostile, "list", list_id=lists["Staff"], cameras=[2],
                        webhook_url=f"https://u:{SECRET}@gate.example/[b]", command="gate")
    app = make_app(sqlite_url, user="admin", action_commands={"gate": ("true",)})
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = await _open(app, pilot)
            table = screen.query_one("#admin-alarms-table", DataTable)
            name = table.get_row_at(0)[0]
            assert name.plain == "Gate␛[2J [b]x[/b]" and not name.spans  # literal, not bold
            detail = _detail(screen)
            assert "Gate␛[2J [b]x[/b]" in detail and "https://gate.example/[b]" in detail
            assert "\x1b" not in detail and "not in [actions.commands]" not in detail  # this host has "gate"
            shot = app.export_screenshot()
            assert "[b]x" in shot and "\x1b" not in shot and SECRET not in shot
            # editing shows the sanitised name; saved as shown, the stored bytes stay
            await pilot.press("e")
            await settle(app, pilot)
            dialog = app.screen
            assert isinstance(dialog, AlarmDefinitionDialog)
            assert dialog.query_one("#alarm-definition-name", Input).value == "Gate␛[2J [b]x[/b]"
            assert "\x1b" not in app.export_screenshot()
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            assert app.screen is screen
            # the delete question quotes it literally too
            await pilot.press("delete")
            await settle(app, pilot)
            assert "\u201cGate␛[2J [b]x[/b]\u201d" in str(app.screen.query_one("#confirm-question").render())
            await pilot.press("escape")
            await settle(app, pilot)
        [d] = await alarms.definitions(ADMIN)
        assert d.name == hostile and d.cameras == (2,)
    finally:
        await db.dispose()

"""Issue 14, #14: f5 in the editor after a stale-edit refusal asks before it drops typed text,
and can reload the stored project while keeping what the operator typed over it."""

from __future__ import annotations

from textual.widgets import Button, DataTable, Select, TextArea

from conftest import OPERATOR
from imtui.engine.incidents import IncidentService
from imtui.screens.confirm import ChoiceDialog
from imtui.screens.editor import IncidentEditorScreen
from imtui.storage.db import Database
from pilot import make_app, notifications, settle
from test_tui_editor import _get, _world

STALE = "Cannot perform this action. Please refresh the list."


async def _colleague_sets_status(url: str, incident_id: int, status_id: int) -> None:
    """Another desk saves the project meanwhile (a new version): its status, nothing else."""
    db = Database(url)
    try:
        svc = IncidentService(db)
        d = await svc.get(OPERATOR, incident_id)
        await svc.update_main(OPERATOR, incident_id, d.version, type_id=d.type_id, status_id=status_id,
                              description=d.description)
    finally:
        await db.dispose()


async def _stale_edit(app, pilot, url: str, iid: int) -> IncidentEditorScreen:  # noqa: ANN001
    """Open the project, type a description, let a colleague save first: the save is refused."""
    await settle(app, pilot)
    app.screen.query_one("#incidents", DataTable).focus()
    await pilot.press("enter")
    await settle(app, pilot)
    editor = app.screen
    assert isinstance(editor, IncidentEditorScreen)
    area = editor.query_one("#description", TextArea)
    area.focus()
    await pilot.press("end", *" near bay 4")
    await _colleague_sets_status(url, iid, 2)
    await pilot.press("ctrl+s")
    await settle(app, pilot)
    assert STALE in notifications(app)
    return editor


async def test_reload_keeps_the_typed_text_over_the_stored_project(sqlite_url: str) -> None:
    iid = await _world(sqlite_url)
    app = make_app(sqlite_url)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await _stale_edit(app, pilot, sqlite_url, iid)
        area = editor.query_one("#description", TextArea)
        typed = area.text
        assert typed == "Forklift hit a shelf near bay 4"

        # f5 asks; Cancel (escape) changes nothing
        await pilot.press("f5")
        await settle(app, pilot)
        assert isinstance(app.screen, ChoiceDialog)
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen is editor and area.text == typed
        assert editor.query_one("#status", Select).value == 1  # still the project as first loaded

        # "Reload, keep my changes": the colleague's status, the operator's description
        await pilot.press("f5")
        await settle(app, pilot)
        app.screen.query_one("#choice-keep", Button).press()
        await settle(app, pilot)
        assert app.screen is editor and area.text == typed
        assert editor.query_one("#status", Select).value == 2
        await pilot.press("ctrl+s")  # the save now goes through, over the new version
        await settle(app, pilot)
        assert "Incident project saved." in notifications(app)
    detail, log = await _get(sqlite_url, iid)
    assert detail.description == typed and detail.status_id == 2 and detail.version == 3
    assert [e.action for e in log][:2] == ["description_changed", "status_changed"]


async def test_reload_can_discard_the_typed_text(sqlite_url: str) -> None:
    iid = await _world(sqlite_url)
    app = make_app(sqlite_url)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await _stale_edit(app, pilot, sqlite_url, iid)
        await pilot.press("f5")
        await settle(app, pilot)
        app.screen.query_one("#choice-discard", Button).press()
        await settle(app, pilot)
        assert app.screen is editor and not editor.is_dirty()
        assert editor.query_one("#description", TextArea).text == "Forklift hit a shelf"
        assert editor.query_one("#status", Select).value == 2
        # nothing typed: f5 reloads at once, without a question
        await pilot.press("f5")
        await settle(app, pilot)
        assert app.screen is editor
    detail, _log = await _get(sqlite_url, iid)
    assert detail.description == "Forklift hit a shelf" and detail.version == 2

"""The incident project editor under pilot: edit, comment, call, remove sequence, refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from textual.widgets import DataTable, Input, Select, Static, TabbedContent, TextArea

from conftest import OPERATOR
from imtui.engine.incidents import IncidentService, SequenceInput
from imtui.engine.seed import seed_defaults
from imtui.screens.editor import IncidentEditorScreen
from imtui.storage.db import Database
from pilot import make_app, notifications, settle, wait_for

T0 = datetime(2026, 2, 3, 10, 0, tzinfo=UTC)


async def _world(url: str, description: str = "Forklift hit a shelf") -> int:
    db = Database(url)
    try:
        await db.upgrade()
        await seed_defaults(db, cameras=3)
        svc = IncidentService(db)
        cam = (await svc.cameras())[0].id
        return await svc.create(
            OPERATOR, (await svc.types())[0].id, description,
            [SequenceInput(cam, T0, T0 + timedelta(minutes=2)), SequenceInput(cam, T0 + timedelta(hours=1), T0 + timedelta(hours=2))],
        )
    finally:
        await db.dispose()


async def _get(url: str, incident_id: int):  # noqa: ANN202
    db = Database(url)
    try:
        svc = IncidentService(db)
        return await svc.get(OPERATOR, incident_id), await svc.activity(OPERATOR, incident_id)
    finally:
        await db.dispose()


async def _open(app, pilot) -> IncidentEditorScreen:  # noqa: ANN001
    await settle(app, pilot)
    app.screen.query_one("#incidents", DataTable).focus()
    await pilot.press("enter")
    await settle(app, pilot)
    assert isinstance(app.screen, IncidentEditorScreen)
    return app.screen


async def test_edit_main_details(sqlite_url: str) -> None:
    iid = await _world(sqlite_url)
    app = make_app(sqlite_url)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await _open(app, pilot)
        assert str(editor.query_one("#incident-id", Static).render()) == str(iid)
        assert str(editor.query_one("#created-by", Static).render()) == "operator"
        assert str(editor.query_one("#start-time", Static).render()) == "2026-02-03 10:00:00"
        assert str(editor.query_one("#end-time", Static).render()) == "2026-02-03 12:00:00"
        editor.query_one("#status", Select).value = 2
        area = editor.query_one("#description", TextArea)
        area.focus()
        await pilot.press("end", *" near bay 4")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert "Incident project saved." in notifications(app)
        activity = editor.query_one("#activity", DataTable)
        assert [activity.get_row_at(i)[2] for i in range(2)] == ["Changed description", "Changed status"]
    detail, log = await _get(sqlite_url, iid)
    assert detail.status_id == 2 and detail.description.endswith("near bay 4") and detail.version == 2
    assert [e.action for e in log][:3] == ["description_changed", "status_changed", "opened"]


async def test_comment_and_call(sqlite_url: str) -> None:
    iid = await _world(sqlite_url)
    app = make_app(sqlite_url)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await _open(app, pilot)
        editor.query_one("#editor", TabbedContent).active = "comments-pane"
        await settle(app, pilot)
        editor.query_one("#comment-text", TextArea).focus()
        await pilot.press(*"First aid given")
        await pilot.click("#add-comment")
        await settle(app, pilot)
        comments = editor.query_one("#comments", DataTable)
        assert comments.row_count == 1 and comments.get_row_at(0)[2].plain == "First aid given"
        assert editor.query_one("#comment-text", TextArea).text == ""
        # a bad call time names the field and keeps what was typed
        editor.query_one("#editor", TabbedContent).active = "calls-pane"
        await settle(app, pilot)
        editor.query_one("#call-time", Input).value = "soon"
        editor.query_one("#call-party", Input).value = "Site nurse"
        await pilot.click("#add-call")
        await settle(app, pilot)
        assert any(m.startswith("Call time:") and "YYYY-MM-DD HH:MM" in m for m in notifications(app))
        assert editor.query_one("#call-party", Input).value == "Site nurse"
        editor.query_one("#call-time", Input).value = "2026-02-03 10:05"
        editor.query_one("#call-direction", Select).value = "outgoing"
        editor.query_one("#call-number", Input).value = "+33 1 23 45 67 89"
        await pilot.click("#add-call")
        await settle(app, pilot)
        calls = editor.query_one("#calls", DataTable)
        assert calls.row_count == 1 and calls.get_row_at(0)[2].plain == "Site nurse"
    detail, log = await _get(sqlite_url, iid)
    assert [c.text for c in detail.comments] == ["First aid given"]
    assert (detail.calls[0].direction, detail.calls[0].at) == ("outgoing", datetime(2026, 2, 3, 10, 5, tzinfo=UTC))
    assert {"comment_added", "call_added"} <= {e.action for e in log}


async def test_remove_sequence_with_confirmation(sqlite_url: str) -> None:
    iid = await _world(sqlite_url)
    app = make_app(sqlite_url)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await _open(app, pilot)
        editor.query_one("#editor", TabbedContent).active = "sequences-pane"
        await settle(app, pilot)
        seqs = editor.query_one("#sequences", DataTable)
        assert seqs.row_count == 2
        seqs.focus()
        seqs.move_cursor(row=0)
        await pilot.click("#remove-sequence")
        await settle(app, pilot)
        await pilot.click("#confirm-no")
        await settle(app, pilot)
        assert seqs.row_count == 2
        seqs.focus()
        await pilot.press("delete")
        await settle(app, pilot)
        await pilot.click("#confirm-yes")
        await settle(app, pilot)
        assert seqs.row_count == 1
        assert str(editor.query_one("#start-time", Static).render()) == "2026-02-03 11:00:00"
    detail, log = await _get(sqlite_url, iid)
    assert len(detail.sequences) == 1 and detail.start_time == T0 + timedelta(hours=1)
    assert log[0].action == "sequence_removed"


async def test_viewer_save_is_refused_and_nothing_changes(sqlite_url: str) -> None:
    iid = await _world(sqlite_url)
    app = make_app(sqlite_url, user="viewer")
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await _open(app, pilot)
        editor.query_one("#description", TextArea).load_text("viewer was here")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert "Permission denied." in notifications(app)
        assert editor.query_one("#description", TextArea).text == "viewer was here"  # typed text kept
        # what a viewer may not do is disabled on screen too (the engine refuses it regardless)
        assert editor.query_one("#add-comment").disabled and editor.query_one("#description", TextArea).read_only
    detail, log = await _get(sqlite_url, iid)
    assert detail.description == "Forklift hit a shelf" and detail.comments == [] and detail.version == 1
    assert [e.action for e in log][0] == "opened"


async def test_edit_of_a_project_deleted_meanwhile(sqlite_url: str) -> None:
    iid = await _world(sqlite_url)
    app = make_app(sqlite_url)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await _open(app, pilot)
        other = Database(sqlite_url)
        await IncidentService(other).delete(OPERATOR, iid)
        await other.dispose()
        editor.query_one("#description", TextArea).load_text("my careful notes")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert "Cannot perform this action. Please refresh the list." in notifications(app)
        assert editor.query_one("#description", TextArea).text == "my careful notes"
        assert app.is_running
        # back to the list (confirming the discard), which no longer shows the project
        await pilot.press("escape")
        await settle(app, pilot)
        await pilot.click("#confirm-yes")
        await settle(app, pilot)
        table = app.screen.query_one("#incidents", DataTable)
        assert table.row_count == 0


MARKUP = "[bold]x[/] [@click=app.quit]q[/] \x1b[2J [link=file:///etc/passwd]ok[/]"


async def test_user_text_is_shown_literally(sqlite_url: str) -> None:
    iid = await _world(sqlite_url, MARKUP)
    db = Database(sqlite_url)
    await IncidentService(db).add_comment(OPERATOR, iid, MARKUP)
    await db.dispose()
    app = make_app(sqlite_url)
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(app, pilot)
        shown = "[bold]x[/] [@click=app.quit]q[/] ␛[2J [link=file:///etc/passwd]ok[/]"
        cell = app.screen.query_one("#incidents", DataTable).get_row_at(0)[6]
        assert cell.plain == shown and not cell.spans  # literal, no style from the text
        def on_screen() -> bool:  # the first paint can lag the data on a loaded machine
            text = app.export_screenshot().replace("&#160;", " ")
            return "[@click=app.quit]q[/]" in text and "␛[2J" in text

        await wait_for(on_screen, timeout=10, pilot=pilot)
        editor = await _open(app, pilot)
        # the editor shows markup as typed and control characters as placeholders
        assert editor.query_one("#description", TextArea).text == MARKUP.replace("\x1b", "␛")
        editor.query_one("#editor", TabbedContent).active = "comments-pane"
        await settle(app, pilot)
        comment = editor.query_one("#comments", DataTable).get_row_at(0)[2]
        assert comment.plain == shown
        # clicking the would-be link does nothing: the app keeps running
        await pilot.click("#comments")
        await settle(app, pilot)
        assert app.is_running


async def test_keyboard_only_comment(sqlite_url: str) -> None:
    """Switch tabs and add a comment with the keyboard alone."""
    iid = await _world(sqlite_url)
    app = make_app(sqlite_url)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await _open(app, pilot)
        await pilot.press("right", "right")  # the tab bar has focus when the editor opens
        assert editor.query_one("#editor", TabbedContent).active == "comments-pane"
        await pilot.press("ctrl+n", "ctrl+p")  # next tab and back; focus lands in the pane
        await settle(app, pilot)
        assert app.focused is editor.query_one("#comment-text", TextArea)
        await pilot.press(*"Typed only", "tab", "enter")  # to Add comment, press it
        await settle(app, pilot)
        assert editor.query_one("#comments", DataTable).row_count == 1
    detail, _log = await _get(sqlite_url, iid)
    assert [c.text for c in detail.comments] == ["Typed only"]


async def test_categories_tab(sqlite_url: str) -> None:
    iid = await _world(sqlite_url)
    app = make_app(sqlite_url)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await _open(app, pilot)
        defs = editor.definitions
        assert [c.name for c in defs.categories] == ["Reason", "Location"]
        editor.query_one("#editor", TabbedContent).active = "categories"
        await settle(app, pilot)
        integer = next(f for f in defs.fields if f.kind == "integer")
        box = next(f for f in defs.fields if f.kind == "checkbox")
        editor.query_one("#category-1", Select).value = defs.categories[0].values[2].id
        editor.query_one(f"#field-{integer.id}", Input).value = "two"
        from textual.widgets import Checkbox

        editor.query_one(f"#field-{box.id}", Checkbox).value = True
        editor.query_one("#editor", TabbedContent).active = "main"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        # the wrong integer names the field, brings its tab back and keeps every typed value
        assert "Number of injured persons: type a whole number, e.g. 3." in notifications(app)
        assert editor.query_one("#editor", TabbedContent).active == "categories"
        assert app.focused is editor.query_one(f"#field-{integer.id}", Input)
        assert editor.query_one("#category-1", Select).value == defs.categories[0].values[2].id
        app.focused.value = "2"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert "Incident project saved." in notifications(app)
        actions = [editor.query_one("#activity", DataTable).get_row_at(i)[2] for i in range(3)]
        assert sorted(actions) == ["Changed category", "Changed incident data", "Changed incident data"]
        assert not editor.is_dirty()
    detail, _log = await _get(sqlite_url, iid)
    assert detail.categories == {1: defs.categories[0].values[2].id}
    assert detail.data == {integer.id: "2", box.id: "true"}


async def test_what_a_role_may_not_see_or_change(sqlite_url: str) -> None:
    """A role with view on projects only sees "not available" on comments/calls/sequences; the
    viewer role sees them read-only."""
    from conftest import ADMIN
    from imtui.engine.security import SecurityService

    await _world(sqlite_url)
    db = Database(sqlite_url)
    sec = SecurityService(db)
    await sec.add_role(ADMIN, "auditors")
    await sec.grant(ADMIN, "auditors", "incidents", "view")
    await sec.add_user(ADMIN, "ann", roles=["auditors"])
    await db.dispose()
    app = make_app(sqlite_url, user="ann")
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await _open(app, pilot)
        for name in ("comments", "calls", "sequences"):
            assert editor.query_one(f"#{name}-unavailable").display
            assert str(editor.query_one(f"#{name}-unavailable", Static).render()) == (
                "This information is not available to you.")
        assert not editor.query_one("#comments").display and not editor.query_one("#sequences").display
        assert editor.query_one("#description", TextArea).read_only
    app = make_app(sqlite_url, user="viewer")
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await _open(app, pilot)
        assert not editor.query_one("#comments-unavailable").display
        assert editor.query_one("#sequences", DataTable).row_count == 2
        assert editor.query_one("#remove-sequence").disabled and editor.query_one("#add-comment").disabled
        assert editor.query_one("#comment-text", TextArea).read_only

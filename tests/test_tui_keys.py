"""Issue 14, #12: a sentence typed anywhere in the editor or in a dialog runs no action.

Each test focuses every focusable widget in turn (every tab of the editor, every field and
button of each dialog) and types a sentence holding every letter and sign that some screen binds;
then it measures what an action would have left: a pushed or dismissed screen, an activity-log
entry, an export-list item, a saved form, a notification."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from textual import events
from textual.keys import _character_to_key  # noqa: PLC2701 - the pilot's own mapping
from textual.widgets import DataTable, Select, TabbedContent, Tabs

from conftest import OPERATOR, seeded
from imtui.app import ImtuiApp
from imtui.engine.incidents import CallInput, IncidentFilter, IncidentService, SequenceInput
from imtui.engine.lpr_servers import ServerCamera, ServerView
from imtui.screens.alarm_definition_dialog import AlarmDefinitionDialog
from imtui.screens.camera_dialog import CameraDialog
from imtui.screens.change_server_dialog import ChangeServerDialog
from imtui.screens.confirm import ChoiceDialog, ConfirmDialog
from imtui.screens.editor import IncidentEditorScreen
from imtui.screens.form_dialog import FormDialog, FormField
from imtui.screens.matchlist_fields import MatchListFieldsDialog
from imtui.screens.new_incident import NewIncidentDialog
from imtui.screens.report_dialog import ReportDialog
from imtui.storage.db import Database
from pilot import make_app, notifications, settle, wait_for
from tcp_proxy import proxy_for

# every letter a screen binds (a c d e f g h i l m n p r s t u v x y) and , . / [ ] + space
SENTENCE = "Yes, grey van left via exit 2 [dump truck] / chased + filmed."


def _send(app: ImtuiApp, text: str) -> None:
    """Type at full speed, as an operator does (``pilot.press`` waits for an idle CPU after each
    key: seconds a sentence on a busy machine); the app handles the keys in order."""
    for ch in text:
        key = ch if ch.isalnum() else _character_to_key(ch)
        event = events.Key(key, ch)
        event.set_sender(app)
        app._driver.send_message(event)  # noqa: SLF001 - what the pilot does for each key


async def _type(app: ImtuiApp, pilot, text: str) -> None:  # noqa: ANN001
    _send(app, text)
    await settle(app, pilot, rounds=2)


async def _type_on_each(app: ImtuiApp, pilot, widgets: list) -> None:  # noqa: ANN001
    screen = app.screen
    for widget in widgets:
        widget.focus()
        await pilot.pause()
        assert app.focused is widget, widget
        await _type(app, pilot, SENTENCE)
        assert app.screen is screen, f"typing on {widget!r} left {screen!r} for {app.screen!r}"
        focused = app.focused
        assert focused is widget or widget in focused.ancestors, f"typing on {widget!r} moved to {focused!r}"
        if isinstance(widget, Select):
            widget.expanded = False  # type-to-search in its open menu: no value is chosen


@pytest.mark.slow  # about 25 widgets, a sentence each: 5 to 12 s
async def test_typing_in_every_field_of_the_editor_runs_nothing(sqlite_url: str) -> None:
    await seeded(sqlite_url, 3)
    db = Database(sqlite_url)
    try:
        svc = IncidentService(db)
        await svc.add_comment(OPERATOR, 3, "first comment")
        await svc.add_call(OPERATOR, 3, CallInput(datetime(2026, 1, 5, 9, 0, tzinfo=UTC), "incoming", "Guard", "", ""))
    finally:
        await db.dispose()
    app = make_app(sqlite_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.screen.query_one("#incidents", DataTable).focus()
        await pilot.press("enter")
        await settle(app, pilot)
        editor = app.screen
        assert isinstance(editor, IncidentEditorScreen)
        log = len(await app.services.incidents.activity(app.actor, 3))
        told = len(notifications(app))
        tabs = editor.query_one("#editor", TabbedContent)
        typed_on = []
        for pane in IncidentEditorScreen.PANES:
            if tabs.active != pane:
                await pilot.press("ctrl+n")  # the next tab
            assert tabs.active == pane
            holder = tabs.get_pane(pane)
            widgets = [w for w in editor.focus_chain if holder in w.ancestors or isinstance(w, Tabs)]
            widgets = [w for w in widgets if not (isinstance(w, Tabs) and typed_on)]  # the tab bar once
            await _type_on_each(app, pilot, widgets)
            typed_on += widgets
        await settle(app, pilot)
        kinds = {"Tabs" if isinstance(w, Tabs) else type(w).__name__ for w in typed_on}
        assert {"Tabs", "Select", "TextArea", "Input", "Button", "DataTable"} <= kinds, kinds
        assert len(typed_on) >= 20  # the tab bar, 3 main, the categories form, 3+3+7+1 in the other tabs
        assert app.screen is editor and len(app.screen_stack) == 3  # default, list, editor: nothing pushed
        assert len(await app.services.incidents.activity(app.actor, 3)) == log  # nothing logged
        assert await app.services.exports.list(app.actor) == []  # nothing sent for export
        assert notifications(app)[told:] == []  # no action told anything
        assert SENTENCE in editor.query_one("#description").text  # the text went where it was typed


@pytest.mark.slow  # nine dialogs, a sentence on each widget: 5 to 12 s
async def test_typing_in_every_dialog_runs_nothing(sqlite_url: str) -> None:
    await seeded(sqlite_url, 1)
    app = make_app(sqlite_url, user="admin")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        services, actor = app.services, app.actor
        saved: list[object] = []

        async def save(form: object) -> None:
            saved.append(form)

        match_list = await services.matchlists.create(actor, "Stolen", fields=("Owner",))
        now = datetime.now(UTC)
        camera = ServerCamera(1, "Gate", True, "running")
        here = ServerView(1, "alpha", "host-a", 10, "", True, now, now, None, 0.0, 0, 0, (camera,), "")
        there = ServerView(2, "beta", "host-b", 11, "", True, now, now, None, 0.0, 0, 0, (), "")
        dialogs = [
            ConfirmDialog("Delete incident project 1? This cannot be undone.", "Delete"),
            ChoiceDialog("Reload?", [("keep", "Reload, keep my changes"), ("discard", "Reload, discard")]),
            NewIncidentDialog(services.incidents.types, save),  # reads its types itself, as on `n`
            ReportDialog(1),
            FormDialog("Comment", [FormField("text", "Comment"), FormField("urgent", "Urgent", False)], save),
            CameraDialog(None, save),
            AlarmDefinitionDialog(None, await services.matchlists.lists(actor), await services.cameras.list(actor),
                                  ["gate"], save),
            ChangeServerDialog(camera, here, [here, there]),
            MatchListFieldsDialog(match_list),
        ]
        audit = await services.audit.entries(actor)  # administrators' changes are audited
        for dialog in dialogs:
            answers: list[object] = []
            told = len(notifications(app))
            app.push_screen(dialog, callback=answers.append)
            await settle(app, pilot)
            assert app.screen is dialog
            widgets = list(dialog.focus_chain)
            assert widgets, dialog
            await _type_on_each(app, pilot, widgets)
            await settle(app, pilot)
            assert app.screen is dialog and answers == [] and saved == [], (dialog, answers, saved)
            assert notifications(app)[told:] == [], dialog
            dialog.dismiss(None)
            await settle(app, pilot)
        stored = next(v for v in await services.matchlists.lists(actor) if v.id == match_list.id)
        assert stored.fields == match_list.fields  # no field added, renamed or moved
        assert await services.audit.entries(actor) == audit


async def test_every_delete_asks_first(sqlite_url: str) -> None:
    """Removing drafts, export items, a role or a property asks; escape keeps them."""
    await seeded(sqlite_url, 1)
    app = make_app(sqlite_url, user="admin")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        services, actor = app.services, app.actor
        start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        await services.drafts.add(actor, 1, start, start.replace(minute=5))
        await services.incidents.add_sequences(actor, 1, [SequenceInput(1, start, start.replace(minute=5))])
        await services.exports.send_for_export(actor, 1)
        await services.security.add_role(actor, "Night shift")
        before = (await services.drafts.list(actor), await services.exports.list(actor),
                  await services.security.roles(actor), await services.properties.list_items(actor, "type"))
        assert before[0] and before[1]

        async def refused(opening: list[str], selector: str, deleting: str) -> None:
            await pilot.press(*opening)
            await settle(app, pilot)
            screen = app.screen
            table = screen.query_one(selector, DataTable)
            table.focus()
            table.move_cursor(row=table.row_count - 1)
            if deleting.startswith("#"):
                screen.query_one(deleting).press()  # type: ignore[attr-defined]
            else:
                await pilot.press(deleting)
            await settle(app, pilot)
            assert isinstance(app.screen, ConfirmDialog), (opening, app.screen)
            await pilot.press("escape")
            await settle(app, pilot)
            assert app.screen is screen
            await pilot.press("escape")  # back to the list
            await settle(app, pilot)

        await refused(["d"], "#drafts", "delete")
        await refused(["f7"], "#export-list", "delete")
        await refused(["f4"], "#roles-table", "#roles-delete")
        await refused(["f2"], "#types-table", "#types-delete")
        after = (await services.drafts.list(actor), await services.exports.list(actor),
                 await services.security.roles(actor), await services.properties.list_items(actor, "type"))
        assert after == before


async def test_typing_in_the_fields_of_the_lists_runs_nothing(sqlite_url: str) -> None:
    """On the screens with a list and fields to type in (incident list, match lists, LPR events,
    playback), the printable keys act only from the list (or the playback frame): a sentence typed
    on any other widget runs nothing."""
    await seeded(sqlite_url, 3)
    app = make_app(sqlite_url, user="admin")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        services, actor = app.services, app.actor
        lists, drafts = await services.matchlists.lists(actor), await services.drafts.list(actor)
        for key, keyed in (("f8", ("matchlists-lists", "matchlist-entries")), ("f10", ("lpr-events-table",)),
                           ("p", ("playback-frame",)), (None, ("incidents",))):
            if key is not None:
                app.screen.query_one("#incidents", DataTable).focus()
                await pilot.press(key)
                await settle(app, pilot)
            screen = app.screen
            widgets = [w for w in screen.focus_chain if w.id not in keyed]
            assert widgets, screen
            await _type_on_each(app, pilot, widgets)
            await settle(app, pilot)
            assert app.screen is screen
            assert getattr(screen, "start", None) is None and getattr(screen, "end", None) is None  # playback
            assert len(getattr(screen, "page_starts", [None])) == 1  # LPR events, incident list: no page turned
            if key is not None:
                await pilot.press("escape", "escape")  # out of a field, then back to the list
                await settle(app, pilot)
        assert await services.matchlists.lists(actor) == lists and await services.drafts.list(actor) == drafts
        assert len(app.screen_stack) == 2 and notifications(app) == []


async def test_text_typed_while_the_new_project_dialog_is_on_its_way_runs_nothing(pg_url: str) -> None:
    """The outage of the issue: ``n``, the database does not answer, the operator types the
    description.  The dialog is on screen at once (it reads the types itself), so what is typed
    goes to it and never to the list's keys; when the database answers, the types arrive."""
    await seeded(pg_url, 3)
    with proxy_for(pg_url) as (proxy, url):
        app = make_app(url)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            incidents = app.screen
            proxy.set_mode("blackhole")  # the types for the dialog are held
            try:
                await pilot.press("n")
                await pilot.pause(0.2)
                assert isinstance(app.screen, NewIncidentDialog)  # before the database answered
                dialog = app.screen
                _send(app, SENTENCE)
                await pilot.pause(0.5)
                assert app.screen is dialog and len(app.screen_stack) == 3  # no report, drafts, playback...
                assert len(incidents.page_starts) == 1  # no page turned
            except AssertionError:
                proxy.restart()  # so that what the keys started ends, and the app with it
                raise
            proxy.set_mode("pass")  # the held query goes through
            await wait_for(lambda: bool(dialog.types), timeout=15, pilot=pilot)
            await settle(app, pilot)
            assert app.screen is dialog and notifications(app) == []
            assert await app.services.exports.list(app.actor) == []


async def test_the_new_project_dialog_opens_during_an_outage_and_saves_when_it_ends(pg_url: str) -> None:
    """A refused database: ``n`` still opens the dialog, the failure is told over it, and once the
    database is back ``ctrl+s`` reads the types and a second one saves what was typed."""
    await seeded(pg_url, 3)
    with proxy_for(pg_url) as (proxy, url):
        app = make_app(url)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            proxy.set_mode("reset")  # the pooled connections are gone ...
            proxy.set_mode("refuse")  # ... and no new one is let in
            await pilot.press("n")
            await wait_for(lambda: isinstance(app.screen, NewIncidentDialog) and notifications(app) != [],
                           timeout=15, pilot=pilot)
            dialog = app.screen
            assert any("Try again later" in str(n) for n in notifications(app)) and dialog.types == []
            dialog.query_one("#new-description").text = "Van at gate 2"
            proxy.set_mode("pass")
            await pilot.press("ctrl+s")  # the types first
            await wait_for(lambda: bool(dialog.types), timeout=15, pilot=pilot)
            await pilot.press("ctrl+s")
            await wait_for(lambda: app.screen is not dialog, timeout=15, pilot=pilot)
            page = await app.services.incidents.list_page(app.actor, IncidentFilter(text="Van at gate 2"), None, 10)
            assert len(page.rows) == 1


async def test_typing_in_a_read_only_description_runs_nothing(sqlite_url: str) -> None:
    """A viewer's description is read-only: it takes no key, so each one reaches the screen."""
    await seeded(sqlite_url, 1)
    app = make_app(sqlite_url, user="viewer")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.screen.query_one("#incidents", DataTable).focus()
        await pilot.press("enter")
        await settle(app, pilot)
        editor = app.screen
        assert isinstance(editor, IncidentEditorScreen)
        area = editor.query_one("#description")
        assert area.read_only
        await _type_on_each(app, pilot, [area])
        await settle(app, pilot)
        assert app.screen is editor and notifications(app) == []

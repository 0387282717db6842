"""The running TUI during a database outage (issue 14, findings 6 and 8), under pilot: PostgreSQL
black-holed or refused through a real TCP proxy, SQLite locked by another connection.  The operator
reads the manual's message within the configured bound (1 s here), never driver text; what was typed
stays; after the outage one save stores one row."""

from __future__ import annotations

import sqlite3
import time

from textual.widgets import DataTable, TabbedContent, TextArea

from conftest import OPERATOR
from imtui.engine.incidents import IncidentService
from imtui.screens.editor import IncidentEditorScreen
from imtui.screens.new_incident import NewIncidentDialog
from imtui.storage.db import Database
from pilot import make_app, notifications, settle, wait_for
from tcp_proxy import proxy_for
from test_outage import _world

BOUND = 1.0
SLACK = 5.0  # a loaded 2-core CI machine
TIMEOUTS = dict(db_connect_timeout=BOUND, db_pool_timeout=BOUND, db_statement_timeout=BOUND)
DRIVER_WORDS = ("sqlalchemy", "asyncpg", "Errno", "sqlite3", "locked", "Traceback")


async def _descriptions(url: str) -> list[str]:
    db = Database(url)
    try:
        svc = IncidentService(db)
        return [(await svc.get(OPERATOR, iid)).description for iid in range(1, 10)
                if await _exists(svc, iid)]
    finally:
        await db.dispose()


async def _exists(svc: IncidentService, iid: int) -> bool:
    try:
        await svc.get(OPERATOR, iid)
    except Exception:  # noqa: BLE001 - NotFound
        return False
    return True


async def _told(app, pilot, message: str, since: float) -> float:  # noqa: ANN001
    await wait_for(lambda: message in notifications(app), timeout=BOUND + SLACK + 10, pilot=pilot)
    seconds = time.monotonic() - since
    assert not [n for n in notifications(app) if any(w in n for w in DRIVER_WORDS)], notifications(app)
    return seconds


async def test_comment_and_refresh_during_a_postgres_outage(pg_url: str) -> None:
    iid = await _world(pg_url)
    with proxy_for(pg_url) as (proxy, url):
        app = make_app(url, **TIMEOUTS)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            app.screen.query_one("#incidents", DataTable).focus()
            await pilot.press("enter")
            await settle(app, pilot)
            editor = app.screen
            assert isinstance(editor, IncidentEditorScreen)
            editor.query_one("#editor", TabbedContent).active = "comments-pane"
            await settle(app, pilot)
            editor.query_one("#comment-text", TextArea).focus()
            await pilot.press(*"Gate 3 closed")
            proxy.set_mode("blackhole")  # a hung server: connections accepted, nothing answered
            start = time.monotonic()
            await pilot.click("#add-comment")
            seconds = await _told(app, pilot, "Cannot save comment. Try again later.", start)
            assert seconds < BOUND + SLACK, seconds
            assert editor.query_one("#comment-text", TextArea).text == "Gate 3 closed"  # nothing typed is lost
            proxy.restart()  # the server comes back (its old connections reset)
            await pilot.click("#add-comment")
            await settle(app, pilot)
            await wait_for(lambda: editor.query_one("#comments", DataTable).row_count == 1, pilot=pilot)
            await pilot.press("escape")
            await settle(app, pilot)
            proxy.restart()
            proxy.set_mode("refuse")  # the server is down: f5 says so within the bound
            app.clear_notifications()
            start = time.monotonic()
            await app.screen.run_action("refresh")
            seconds = await _told(app, pilot, "Cannot perform this action. Try again later.", start)
            assert seconds < BOUND + SLACK, seconds
            proxy.set_mode("pass")
            await settle(app, pilot)
    db = Database(pg_url)
    try:
        detail = await IncidentService(db).get(OPERATOR, iid)
    finally:
        await db.dispose()
    assert [c.text for c in detail.comments] == ["Gate 3 closed"]


async def test_new_project_dialog_stays_open_with_the_text_until_it_saves(sqlite_url: str) -> None:
    await _world(sqlite_url)
    app = make_app(sqlite_url, **TIMEOUTS)
    holder = sqlite3.connect(sqlite_url.split("///", 1)[1], isolation_level=None)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            await app.screen.run_action("new_incident")
            await wait_for(lambda: isinstance(app.screen, NewIncidentDialog), pilot=pilot)
            await settle(app, pilot)  # mounted, its types read
            dialog = app.screen
            dialog.query_one("#new-description", TextArea).focus()
            await pilot.press(*"Van parked on the fire lane")
            holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
            start = time.monotonic()
            await pilot.click("#new-save")
            seconds = await _told(app, pilot, "Cannot create incident project. Try again later.", start)
            assert seconds < 2 * BOUND + SLACK, seconds  # the lock wait, then the message
            assert app.screen is dialog
            assert dialog.query_one("#new-description", TextArea).text == "Van parked on the fire lane"
            holder.execute("ROLLBACK")
            await pilot.click("#new-save")
            await wait_for(lambda: app.screen is not dialog, timeout=10, pilot=pilot)
            await settle(app, pilot)
            assert "Incident project 2 created." in notifications(app)
    finally:
        holder.close()
    assert await _descriptions(sqlite_url) == ["Barrier hit", "Van parked on the fire lane"]


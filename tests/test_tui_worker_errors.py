"""A worker that fails is told to the operator in one line and logged with its traceback in
imtui.log, once, whichever screen started it; refusals the screens tell themselves are not told
twice.  The fault is real: an incident whose creation time cannot be read back as a Python datetime
(a bad import or a hand-made SQL fix), so loading the list fails."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from textual.widgets import DataTable

from conftest import ADMIN, seeded
from imtui.applog import setup_logging
from imtui.engine.matchlists.service import MatchListService
from imtui.screens.editor import IncidentEditorScreen
from imtui.screens.matchlists import MatchListsScreen
from imtui.storage.db import Database
from imtui.storage.models import Incident
from pilot import make_app, notifications, settle, wait_for

UNEXPECTED = ("Cannot perform this action. Try again later. "
              "If the problem persists, contact your system administrators.")


@pytest.fixture
def app_log(tmp_path: Path) -> Iterator[Path]:
    """imtui.log as the CLI sets it up, removed again after the test."""
    root = logging.getLogger()
    level = root.level
    handler = setup_logging(tmp_path / "imtui.log")
    yield tmp_path / "imtui.log"
    root.removeHandler(handler)
    handler.close()
    root.setLevel(level)


async def test_a_failed_list_load_is_told_in_one_line_and_logged_with_its_traceback(
        db_url: str, app_log: Path) -> None:
    await seeded(db_url, 3)
    db = Database(db_url)
    t = Incident.__table__
    # Beyond Python's datetime on PostgreSQL; on SQLite not a time at all (a year 10000 would sort
    # before today there, and the start-up retention purge would delete the row).
    bad = "not a time" if db.is_sqlite else "10000-01-01 00:00:00"
    async with db.write() as s:
        await s.execute(sa.text(f"UPDATE {t.name} SET created_at = '{bad}' WHERE id = 2"))
    await db.dispose()
    app = make_app(db_url)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await wait_for(lambda: notifications(app), pilot=pilot)
        await settle(app, pilot)
        assert notifications(app) == [UNEXPECTED]  # once, and no driver text ("date value out of range")
        for _ in range(2):
            await pilot.press("f5")  # the same failure again: counted in the log, not told again
            await settle(app, pilot)
        assert notifications(app) == [UNEXPECTED]
    text = app_log.read_text()
    assert "worker _load_page of IncidentsScreen failed" in text
    assert "Traceback (most recent call last)" in text and "list_page" in text
    assert text.count("Traceback (most recent call last)") == 1 and "load_page of IncidentsScreen failed again" in text
    assert "ValueError" in text or "OverflowError" in text  # SQLite's parser, asyncpg's decoder


async def test_a_refusal_the_screen_tells_is_not_told_again(sqlite_url: str, app_log: Path) -> None:
    await seeded(sqlite_url, 3)
    app = make_app(sqlite_url, user="viewer")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.screen.query_one("#incidents", DataTable).focus()
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, IncidentEditorScreen)
        await pilot.press("ctrl+s")  # a viewer may not save: the editor's save worker tells it
        await settle(app, pilot)
        assert notifications(app) == ["Permission denied."]
    assert "failed" not in app_log.read_text()


async def test_the_match_lists_open_without_a_failure(sqlite_url: str, app_log: Path) -> None:
    """Found by this handler: the lists' load and the highlighted list's load both rebuilt the
    plates' columns, one of them across an await, and the second failed ("column key 'mark'
    already exists"), silently until now."""
    await seeded(sqlite_url, 0)
    db = Database(sqlite_url)
    ml = MatchListService(db)
    v = await ml.create(ADMIN, "Visitors", fields=["Host"])
    await ml.import_file(ADMIN, v.id, "".join(f"Q{i:03d}Z,host {i}\n" for i in range(60)).encode())
    await db.dispose()
    app = make_app(sqlite_url, user="admin")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("f8")
        await settle(app, pilot)
        assert isinstance(app.screen, MatchListsScreen)
        await wait_for(lambda: app.screen.query_one("#matchlist-entries", DataTable).row_count == 50, pilot=pilot)
        await pilot.press("down", "up")  # another list and back: each highlight reloads the plates
        await settle(app, pilot)
        assert app.screen.query_one("#matchlist-entries", DataTable).row_count == 50
        assert UNEXPECTED not in notifications(app)
    assert "failed" not in app_log.read_text()

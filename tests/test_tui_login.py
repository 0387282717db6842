"""The login screen under pilot: wrong password, lockout, success."""

from __future__ import annotations

import dataclasses

from textual.widgets import DataTable, Input, Static

from conftest import ADMIN, seeded
from imtui.app import create_app
from imtui.config import Settings
from imtui.engine.security import SecurityService
from imtui.screens.incidents import IncidentsScreen
from imtui.screens.login import LoginScreen
from imtui.storage.db import Database
from pilot import settle


async def _with_user(url: str) -> None:
    await seeded(url, 3)
    db = Database(url)
    await SecurityService(db).add_user(ADMIN, "nina", roles=["operator"], password="correct horse")
    await db.dispose()


def _app(url: str, hint: str | None = None):  # noqa: ANN202
    return create_app(url, settings=dataclasses.replace(Settings(database_url=url)), login=True, login_hint=hint)


async def _attempt(app, pilot, user: str, password: str) -> None:  # noqa: ANN001
    app.screen.query_one("#login-user", Input).value = user
    app.screen.query_one("#login-password", Input).value = password
    await pilot.click("#login-submit")
    await settle(app, pilot)


async def test_login_then_the_list(sqlite_url: str) -> None:
    await _with_user(sqlite_url)
    app = _app(sqlite_url, hint="nina")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, LoginScreen)
        assert app.focused is app.screen.query_one("#login-password", Input)  # the hint fills the user
        await _attempt(app, pilot, "nina", "wrong")
        assert str(app.screen.query_one("#login-error", Static).render()) == "Wrong user name or password."
        assert app.screen.query_one("#login-password", Input).value == ""
        await _attempt(app, pilot, "nina", "correct horse")
        assert isinstance(app.screen, IncidentsScreen) and app.actor.name == "nina"
        assert app.screen.query_one("#incidents", DataTable).row_count == 3


async def test_five_failures_lock_the_account(sqlite_url: str) -> None:
    await _with_user(sqlite_url)
    app = _app(sqlite_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        for _ in range(5):
            await _attempt(app, pilot, "nina", "guess")
        await _attempt(app, pilot, "nina", "correct horse")
        assert str(app.screen.query_one("#login-error", Static).render()).startswith("Too many failed attempts")
        assert isinstance(app.screen, LoginScreen)

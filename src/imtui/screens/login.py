"""The login screen: user name and password, checked by the engine (lockout after 5 failures)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Static

from imtui.engine.errors import ServiceError
from imtui.i18n import _
from imtui.screens.render import quiet_input, safe

if TYPE_CHECKING:
    from imtui.app import ImtuiApp


class LoginScreen(Screen[None]):
    def __init__(self, user_hint: str | None = None) -> None:
        super().__init__()
        self.user_hint = user_hint or ""

    def compose(self) -> ComposeResult:
        with Vertical(id="login-dialog", classes="dialog"):
            yield Label(_("imtui: log in"), classes="dialog-title")
            yield Label(_("User name"))
            yield quiet_input(id="login-user", value=self.user_hint)
            yield Label(_("Password"))
            yield quiet_input(id="login-password", password=True)
            yield Static("", id="login-error")
            yield Button(_("Log in"), id="login-submit", variant="primary", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#login-password" if self.user_hint else "#login-user", Input).focus()

    @on(Input.Submitted, "#login-user")
    def next_field(self) -> None:
        self.query_one("#login-password", Input).focus()

    @on(Input.Submitted, "#login-password")
    @on(Button.Pressed, "#login-submit")
    def submit(self) -> None:
        self.log_in(self.query_one("#login-user", Input).value.strip(), self.query_one("#login-password", Input).value)

    @work(exclusive=True, group="login", exit_on_error=False)
    async def log_in(self, name: str, password: str) -> None:
        app = cast("ImtuiApp", self.app)
        try:
            actor = await app.services.security.login(name, password)
        except ServiceError as exc:
            self.query_one("#login-error", Static).update(safe(exc.message, style="bold"))
            self.query_one("#login-password", Input).value = ""
            self.query_one("#login-password", Input).focus()
            return
        # Switch screens from the app, not from this worker: it dies with the login screen.
        app.call_later(app.logged_in, actor)

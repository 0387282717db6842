"""Roles and users (administrators): panes ``#admin-roles`` and ``#admin-users``.

Everything goes through SecurityService, which checks the grant and writes the audit log; the
built-in Administrator role cannot be changed there either.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Input, Select, Static, TabbedContent, TabPane

from imtui.engine.errors import ServiceError
from imtui.engine.permissions import Feature
from imtui.engine.security import RoleView, UserView
from imtui.i18n import _
from imtui.screens.base import AppAccess
from imtui.screens.render import cell, quiet_input, tell

LEVELS = ("none", "view", "manage")


class AdminSecurityScreen(AppAccess, Screen[None]):
    BINDINGS = [
        Binding("escape", "app.pop_screen", _("Back"), id="security-back"),
        Binding("ctrl+n", "switch_tab", _("Other tab"), id="security-tab", priority=True),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.roles: list[RoleView] = []
        self.users: list[UserView] = []

    def compose(self) -> ComposeResult:
        yield Static(_("Roles and users"), id="security-title")
        with TabbedContent(id="admin-security", initial="admin-roles"):
            with TabPane(_("Roles"), id="admin-roles"):
                yield DataTable(id="roles-table", cursor_type="row")
                with Horizontal(classes="field-row"):
                    yield quiet_input(id="roles-name", placeholder=_("New role name"))
                    yield Button(_("Add role"), id="roles-add", compact=True, variant="primary")
                    yield Button(_("Delete selected"), id="roles-delete", compact=True, variant="error")
                with Horizontal(classes="field-row"):
                    yield Select([(f.value, f.value) for f in Feature], id="roles-feature", allow_blank=False,
                                 compact=True)
                    yield Select([(lvl, lvl) for lvl in LEVELS], id="roles-level", allow_blank=False, compact=True)
                    yield Button(_("Grant to selected"), id="roles-grant", compact=True)
            with TabPane(_("Users"), id="admin-users"):
                yield DataTable(id="users-table", cursor_type="row")
                with Horizontal(classes="field-row"):
                    yield quiet_input(id="users-name", placeholder=_("User name"))
                    yield quiet_input(id="users-full-name", placeholder=_("Full name"))
                    yield quiet_input(id="users-roles", placeholder=_("Roles, comma-separated"))
                with Horizontal(classes="field-row"):
                    yield quiet_input(id="users-password", placeholder=_("Password (8+ characters)"), password=True)
                    yield Button(_("Add user"), id="users-add", compact=True, variant="primary")
                    yield Button(_("Set roles"), id="users-save-roles", compact=True)
                with Horizontal(classes="field-row"):
                    yield Button(_("Set password"), id="users-set-password", compact=True)
                    yield Button(_("Disable"), id="users-disable", compact=True, variant="error")
                    yield Button(_("Enable"), id="users-enable", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#roles-table", DataTable).add_columns(_("Role"), _("Built in"), _("Members"), _("Grants"))
        self.query_one("#users-table", DataTable).add_columns(
            _("User"), _("Full name"), _("Roles"), _("Disabled"), _("Password"))
        self.query_one("#admin-security Tabs").focus()
        self.load()

    def action_switch_tab(self) -> None:
        tabs = self.query_one("#admin-security", TabbedContent)
        tabs.active = "admin-users" if tabs.active == "admin-roles" else "admin-roles"

    @work(exclusive=True, group="security-load", exit_on_error=False)
    async def load(self) -> None:
        sec, actor = self.imtui.services.security, self.imtui.actor
        try:
            self.roles, self.users = await sec.roles(actor), await sec.users(actor)
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            return
        roles = self.query_one("#roles-table", DataTable)
        roles.clear()
        for r in self.roles:
            grants = ", ".join(f"{f}={lvl}" for f, lvl in r.grants.items() if lvl != "none")
            roles.add_row(cell(r.name, 40), _("yes") if r.builtin else "", cell(", ".join(r.users), 60), cell(grants, 200))
        users = self.query_one("#users-table", DataTable)
        users.clear()
        for u in self.users:
            users.add_row(cell(u.name, 30), cell(u.full_name, 40), cell(", ".join(u.roles), 60),
                          _("yes") if u.disabled else "", _("set") if u.has_password else _("none"))

    def _selected(self, table_id: str, rows: list) -> object | None:  # noqa: ANN401
        table = self.query_one(f"#{table_id}", DataTable)
        if not rows or table.cursor_row is None or table.cursor_row >= len(rows):
            tell(self, _("Select an item in the list first."))
            return None
        return rows[table.cursor_row]

    @on(DataTable.RowSelected, "#users-table")
    def load_user(self, event: DataTable.RowSelected) -> None:
        user = self.users[event.cursor_row]
        self.query_one("#users-name", Input).value = user.name
        self.query_one("#users-full-name", Input).value = user.full_name
        self.query_one("#users-roles", Input).value = ", ".join(user.roles)

    @on(Button.Pressed, "#admin-security Button")
    def pressed(self, event: Button.Pressed) -> None:
        action = event.button.id or ""
        role = self._selected("roles-table", self.roles) if action == "roles-delete" else None
        if role is not None:  # deleting always asks first
            self.ask(_("Delete the role \u201c{name}\u201d?").format(name=role.name), _("Delete"),
                     lambda: self.act(action))
        elif action != "roles-delete":
            self.act(action)

    @work(exclusive=True, group="security-action", exit_on_error=False)
    async def act(self, action: str) -> None:
        sec, actor = self.imtui.services.security, self.imtui.actor
        value = lambda selector: self.query_one(selector, Input).value  # noqa: E731
        roles = [r.strip() for r in value("#users-roles").split(",") if r.strip()]
        try:
            if action == "roles-add":
                await sec.add_role(actor, value("#roles-name"))
            elif action in ("roles-delete", "roles-grant"):
                role = self._selected("roles-table", self.roles)
                if role is None:
                    return
                if action == "roles-delete":
                    await sec.delete_role(actor, role.name)
                else:
                    await sec.grant(actor, role.name, str(self.query_one("#roles-feature", Select).value),
                                    str(self.query_one("#roles-level", Select).value))
            elif action == "users-add":
                await sec.add_user(actor, value("#users-name"), roles=roles, full_name=value("#users-full-name"),
                                   password=value("#users-password") or None)
            else:
                name = value("#users-name").strip()
                if action == "users-save-roles":
                    await sec.set_roles(actor, name, roles)
                elif action == "users-set-password":
                    await sec.set_password(actor, name, value("#users-password"))
                elif action in ("users-disable", "users-enable"):
                    await sec.set_disabled(actor, name, action == "users-disable")
        except ServiceError as exc:
            tell(self, exc.message, error=True)
            return
        finally:
            self.query_one("#users-password", Input).value = ""
        tell(self, _("Saved."))
        self.load()

"""The incident-properties admin screen under pilot."""

from __future__ import annotations

from textual.widgets import Button, Checkbox, DataTable, Input, TabbedContent

from conftest import ADMIN, seeded
from imtui.engine.properties import PropertyService
from imtui.screens.admin_properties import AdminPropertiesScreen
from imtui.storage.db import Database
from pilot import make_app, notifications, settle


async def _open(app, pilot) -> AdminPropertiesScreen:  # noqa: ANN001
    await settle(app, pilot)
    await pilot.press("f2")
    await settle(app, pilot)
    assert isinstance(app.screen, AdminPropertiesScreen)
    return app.screen


async def _tab(app, pilot, screen, pane: str) -> None:  # noqa: ANN001
    screen.query_one("#admin-properties", TabbedContent).active = pane
    await settle(app, pilot)


async def test_operators_may_not_open_it(sqlite_url: str) -> None:
    await seeded(sqlite_url, 1)
    app = make_app(sqlite_url, user="operator")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert "Properties" not in app.export_screenshot()  # the key is not offered to operators ...
        await pilot.press("f2")
        await settle(app, pilot)
        assert not isinstance(app.screen, AdminPropertiesScreen)  # ... and does nothing


async def test_types_add_and_refused_delete(sqlite_url: str) -> None:
    await seeded(sqlite_url, 30)
    app = make_app(sqlite_url, user="admin")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open(app, pilot)
        table = screen.query_one("#types-table", DataTable)
        assert table.row_count == 5
        screen.query_one("#types-name", Input).value = "Burn"
        screen.query_one("#types-description", Input).value = "hot surfaces"
        await pilot.click("#types-add")
        await settle(app, pilot)
        assert table.row_count == 6 and table.get_row_at(5)[1].plain == "Burn"
        used = next(i for i in range(5) if int(table.get_row_at(i)[2].plain) > 0)
        table.focus()
        table.move_cursor(row=used)
        await pilot.click("#types-delete")  # asks first
        await settle(app, pilot)
        await pilot.click("#confirm-yes")
        await settle(app, pilot)
        assert any("incident project" in m and m.startswith("Cannot delete type") for m in notifications(app))
        assert table.row_count == 6
        table.move_cursor(row=5)
        await pilot.click("#types-delete")
        await settle(app, pilot)
        await pilot.click("#confirm-no")  # no: kept
        await settle(app, pilot)
        assert table.row_count == 6
        await pilot.click("#types-delete")
        await settle(app, pilot)
        await pilot.click("#confirm-yes")
        await settle(app, pilot)
        assert table.row_count == 5


async def test_categories_values_fields_and_options(sqlite_url: str) -> None:
    await seeded(sqlite_url, 1)
    app = make_app(sqlite_url, user="admin")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open(app, pilot)
        await _tab(app, pilot, screen, "categories")
        cats = screen.query_one("#categories-table", DataTable)
        cats.focus()
        cats.move_cursor(row=2)
        await pilot.press("enter")
        screen.query_one("#categories-enabled", Checkbox).value = True
        screen.query_one("#categories-name", Input).value = "Weather"
        await pilot.click("#categories-save")
        await settle(app, pilot)
        assert cats.get_row_at(2)[1] == "yes" and cats.get_row_at(2)[2].plain == "Weather"
        await _tab(app, pilot, screen, "category-3")
        screen.query_one("#category-3-name", Input).value = "Snow"
        await pilot.click("#category-3-add")
        await settle(app, pilot)
        assert screen.query_one("#category-3-table", DataTable).row_count == 1
        await _tab(app, pilot, screen, "data-fields")
        fields = screen.query_one("#data-fields-table", DataTable)
        text_row = next(i for i in range(fields.row_count) if fields.get_row_at(i)[0].plain == "text")
        fields.focus()
        fields.move_cursor(row=text_row)
        await pilot.press("enter")
        screen.query_one("#data-fields-enabled", Checkbox).value = True
        screen.query_one("#data-fields-name", Input).value = "Witness"
        await pilot.click("#data-fields-save")
        await settle(app, pilot)
        await _tab(app, pilot, screen, "options")
        screen.query_one("#options-retention-days", Input).value = "0"
        await pilot.click("#options-save")
        await settle(app, pilot)
        assert "Retention time: type a whole number of days from 1 to 365,000." in notifications(app)
        screen.query_one("#options-retention-days", Input).value = "30"
        await pilot.click("#options-save")
        await settle(app, pilot)
    db = Database(sqlite_url)
    try:
        props = PropertyService(db)
        cats = await props.categories(ADMIN)
        assert (cats[2].name, cats[2].enabled, [v.name for v in cats[2].values]) == ("Weather", True, ["Snow"])
        assert any(f.name == "Witness" and f.enabled and f.kind == "text" for f in await props.data_fields(ADMIN))
        assert (await props.options(ADMIN)).retention_days == 30
    finally:
        await db.dispose()


async def test_audit_screen(sqlite_url: str) -> None:
    await seeded(sqlite_url, 1)
    db = Database(sqlite_url)
    await PropertyService(db).add_item(ADMIN, "type", "[b]Burn\x1b]52;c;x\x07")
    await db.dispose()
    app = make_app(sqlite_url, user="admin")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("f3")
        await settle(app, pilot)
        log = app.screen.query_one("#audit-log", DataTable)
        rows = [log.get_row_at(i) for i in range(log.row_count)]
        added = next(r for r in rows if r[2].plain == "property_added")
        assert added[4].plain == "[b]Burn␛]52;c;x␇"  # literal and sanitised
        app.screen.query_one("#audit-user", Input).value = "nobody"
        app.screen.query_one("#audit-user", Input).focus()
        await pilot.press("enter")
        await settle(app, pilot)
        assert log.row_count == 0
        app.screen.query_one("#audit-since", Input).value = "last week"
        app.screen.query_one("#audit-since", Input).focus()
        await pilot.press("enter")
        await settle(app, pilot)
        assert any(m.startswith("Since: type the date and time") for m in notifications(app))


async def test_roles_and_users_screen(sqlite_url: str) -> None:
    from textual.widgets import Select

    from imtui.engine.security import SecurityService

    await seeded(sqlite_url, 1)
    app = make_app(sqlite_url, user="admin")
    async with app.run_test(size=(110, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("f4")
        await settle(app, pilot)
        screen = app.screen
        roles = screen.query_one("#roles-table", DataTable)
        assert [roles.get_row_at(i)[0].plain for i in range(roles.row_count)] == ["Administrator", "operator", "viewer"]
        screen.query_one("#roles-name", Input).value = "night shift"
        await pilot.click("#roles-add")
        await settle(app, pilot)
        assert roles.row_count == 4
        night = next(i for i in range(roles.row_count) if roles.get_row_at(i)[0].plain == "night shift")
        roles.move_cursor(row=night)
        screen.query_one("#roles-feature", Select).value = "incidents"
        screen.query_one("#roles-level", Select).value = "manage"
        await pilot.click("#roles-grant")
        await settle(app, pilot)
        roles.move_cursor(row=0)  # the Administrator role cannot be changed
        await pilot.click("#roles-grant")
        await settle(app, pilot)
        assert any("cannot be changed" in m for m in notifications(app))
        screen.query_one("#admin-security", TabbedContent).active = "admin-users"
        await settle(app, pilot)
        screen.query_one("#users-name", Input).value = "nina"
        screen.query_one("#users-roles", Input).value = "night shift, viewer"
        screen.query_one("#users-password", Input).value = "short"
        screen.query_one("#users-add", Button).press()
        await settle(app, pilot)
        assert "Password: use at least 8 characters." in notifications(app)
        screen.query_one("#users-password", Input).value = "long enough"
        screen.query_one("#users-add", Button).press()
        await settle(app, pilot)
        users = screen.query_one("#users-table", DataTable)
        assert any(users.get_row_at(i)[0].plain == "nina" for i in range(users.row_count))
        screen.query_one("#users-disable", Button).press()
        await settle(app, pilot)
    db = Database(sqlite_url)
    try:
        views = {u.name: u for u in await SecurityService(db).users(ADMIN)}
        assert views["nina"].roles == ["night shift", "viewer"] and views["nina"].disabled
        role = next(r for r in await SecurityService(db).roles(ADMIN) if r.name == "night shift")
        assert role.grants["incidents"] == "manage"
    finally:
        await db.dispose()

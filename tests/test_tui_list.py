"""The incident list under pilot: paging, filters, create, delete, live refresh."""

from __future__ import annotations

from textual.widgets import DataTable, Input, Static

from conftest import OPERATOR, seeded
from imtui.engine.incidents import IncidentService
from imtui.storage.db import Database
from pilot import make_app, notifications, settle, wait_for


def first_ids(app, n: int = 3) -> list[int]:  # noqa: ANN001
    table = app.screen.query_one("#incidents", DataTable)
    return [int(table.get_row_at(i)[0].plain) for i in range(min(n, table.row_count))]


def page_info(app) -> str:  # noqa: ANN001
    return str(app.screen.query_one("#page-info", Static).render())


async def test_paging_through_250_newest_first(sqlite_url: str) -> None:
    await seeded(sqlite_url, 250)
    app = make_app(sqlite_url)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one("#incidents", DataTable)
        assert table.row_count == 100 and first_ids(app) == [250, 249, 248]
        assert page_info(app).startswith("Page 1 of 3")
        await pilot.press("]")
        await settle(app, pilot)
        assert first_ids(app) == [150, 149, 148] and page_info(app).startswith("Page 2 of 3")
        await pilot.press("]")
        await settle(app, pilot)
        assert table.row_count == 50 and first_ids(app, 1) == [50] and page_info(app).startswith("Page 3 of 3")
        await pilot.press("]")  # no page 4
        await settle(app, pilot)
        assert page_info(app).startswith("Page 3 of 3")
        await pilot.press("[")
        await settle(app, pilot)
        assert first_ids(app) == [150, 149, 148] and page_info(app).startswith("Page 2 of 3")


async def _apply(app, pilot, field: str, value: str) -> None:  # noqa: ANN001
    widget = app.screen.query_one(f"#filter-{field}", Input)
    widget.focus()
    widget.value = value
    await pilot.press("enter")
    await settle(app, pilot)


async def test_every_filter(sqlite_url: str) -> None:
    await seeded(sqlite_url, 250)
    db = Database(sqlite_url)
    svc = IncidentService(db)
    special = await svc.create(OPERATOR, (await svc.types())[0].id, "Zebra crossing collision")
    await db.dispose()
    app = make_app(sqlite_url)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await _apply(app, pilot, "id", "42")
        assert first_ids(app, 5) == [42] and page_info(app).startswith("Page 1 of 1")
        await _apply(app, pilot, "id", "")
        await pilot.press("slash")
        assert app.focused is app.screen.query_one("#filter-text", Input)
        await _apply(app, pilot, "text", "zebra")
        assert first_ids(app, 5) == [special]
        await _apply(app, pilot, "text", "")
        assert app.screen.query_one("#incidents", DataTable).row_count == 100
        # sequences in the last 30 days: each row's start/end must lie in the window
        from datetime import UTC, datetime, timedelta

        now = datetime.now(UTC)
        after = (now - timedelta(days=30)).strftime("%Y-%m-%d %H:%M")
        before = (now - timedelta(days=10)).strftime("%Y-%m-%d %H:%M")
        await _apply(app, pilot, "after", after)
        table = app.screen.query_one("#incidents", DataTable)
        starts = [table.get_row_at(i)[3].plain for i in range(table.row_count)]
        assert starts and all(s >= after for s in starts)
        await _apply(app, pilot, "before", before)
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        assert rows and all(r[3].plain >= after and r[4].plain <= before for r in rows)
        shown = table.row_count
        # a bad value names the field and the format, and keeps the current list
        await _apply(app, pilot, "after", "last tuesday")
        assert any("After" in m and "YYYY-MM-DD HH:MM" in m for m in notifications(app))
        assert app.focused is app.screen.query_one("#filter-after", Input)
        assert table.row_count == shown


async def test_create_and_delete_with_confirmation(sqlite_url: str) -> None:
    await seeded(sqlite_url, 3)
    app = make_app(sqlite_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("n")
        await settle(app, pilot)
        from textual.widgets import Select

        assert app.screen.query_one("#new-type", Select).value == 1  # preset to the first type
        app.screen.query_one("#new-description").focus()
        await pilot.press(*"Glass door broken")
        await pilot.click("#new-save")
        await settle(app, pilot)
        assert first_ids(app, 1) == [4]
        table = app.screen.query_one("#incidents", DataTable)
        assert "Glass door broken" in table.get_row_at(0)[6].plain
        # delete: "no" keeps it, "yes" removes it
        table.focus()
        table.move_cursor(row=0)
        await pilot.press("delete")
        await settle(app, pilot)
        await pilot.click("#confirm-no")
        await settle(app, pilot)
        assert first_ids(app, 1) == [4]
        await pilot.press("delete")
        await settle(app, pilot)
        await pilot.click("#confirm-yes")
        await settle(app, pilot)
        assert first_ids(app, 1) == [3]


async def _refreshes_from_another_desk(url: str, poll_seconds: float) -> None:
    await seeded(url, 3)
    app = make_app(url, poll_seconds=poll_seconds)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        other = Database(url)
        svc = IncidentService(other)
        new_id = await svc.create(OPERATOR, (await svc.types())[0].id, "from another desk")
        await other.dispose()
        await wait_for(lambda: first_ids(app, 1) == [new_id], pilot=pilot)


async def test_list_refreshes_when_another_operator_changes_something(sqlite_url: str) -> None:
    await _refreshes_from_another_desk(sqlite_url, poll_seconds=0.1)  # SQLite: the change counter


async def test_list_refreshes_on_postgres_notify(pg_url: str) -> None:
    await _refreshes_from_another_desk(pg_url, poll_seconds=3600)  # only NOTIFY can refresh it in time


async def test_the_app_purges_expired_projects_at_start(sqlite_url: str) -> None:
    from conftest import ADMIN
    from imtui.engine.properties import PropertyService

    await seeded(sqlite_url, 100)  # over the last year
    db = Database(sqlite_url)
    await PropertyService(db).set_options(ADMIN, retention_days=30)
    await db.dispose()
    app = make_app(sqlite_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        # the purge and the reload take a while on a busy machine
        await wait_for(lambda: "100 incident projects" not in page_info(app) and "of" in page_info(app),
                       timeout=30, pilot=pilot)
        await settle(app, pilot)
        shown = int(page_info(app).split("·")[1].split()[0])
    db = Database(sqlite_url)
    async with db.read() as s:
        import sqlalchemy as sa

        left = (await s.execute(sa.text("SELECT count(*) FROM incident"))).scalar_one()
        oldest = (await s.execute(sa.text("SELECT min(created_at) FROM incident"))).scalar_one()
    await db.dispose()
    from datetime import UTC, datetime, timedelta

    assert 0 < left == shown < 100
    assert datetime.fromisoformat(oldest).replace(tzinfo=UTC) > datetime.now(UTC) - timedelta(days=30)

"""Live updates in a running TUI under pilot: the change hub delivers each topic only to the
screens that show it, and PostgreSQL's LISTEN comes back after a restart or an outage (a real TCP
proxy in front of the server resets and refuses connections), with the status line saying so
meanwhile."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Static

from conftest import ADMIN, OPERATOR, seeded
from imtui.engine.alarms import AlarmService, raise_for_event
from imtui.engine.incidents import IncidentService
from imtui.engine.times import utcnow
from imtui.storage.db import Database
from pilot import make_app, notifications, settle, wait_for
from tcp_proxy import proxy_for

SIZE = (80, 24)


def first_id(app) -> int | None:  # noqa: ANN001
    table = app.screen.query_one("#incidents", DataTable)
    return int(table.get_row_at(0)[0].plain) if table.row_count else None


def live_status(app) -> str:  # noqa: ANN001
    widget = app.screen.query_one("#live-status", Static)
    return str(widget.render()) if widget.display else ""


def alarms_told(app, name: str) -> int:  # noqa: ANN001
    return sum(n.startswith(f"New alarm (High): {name}") for n in notifications(app))


async def _world(url: str) -> None:
    """Three projects and an alarm definition for lost cameras."""
    await seeded(url, 3)
    db = Database(url)
    try:
        await AlarmService(db).define(ADMIN, "Gate camera down", "camera_lost", cameras=[1], priority=1)
    finally:
        await db.dispose()


async def _another_desk_creates(url: str, description: str) -> int:
    db = Database(url)
    try:
        svc = IncidentService(db)
        return await svc.create(OPERATOR, (await svc.types())[0].id, description)
    finally:
        await db.dispose()


async def _another_desk_comments(url: str, incident_id: int) -> None:
    db = Database(url)
    try:
        await IncidentService(db).add_comment(OPERATOR, incident_id, "seen on camera 2")
    finally:
        await db.dispose()


async def _the_worker_raises_an_alarm(url: str) -> None:
    db = Database(url)
    try:
        async with db.write() as s:
            assert await raise_for_event(s, db, "camera_lost", 1, "Camera 01: connection lost.", utcnow()) == 1
    finally:
        await db.dispose()


async def _alarm_does_not_reload_the_list(url: str, poll_seconds: float) -> None:
    await _world(url)
    app = make_app(url, poll_seconds=poll_seconds)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        loads: list[int] = []
        list_page = app.services.incidents.list_page

        async def counted(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202 - the real query, counted
            loads.append(1)
            return await list_page(*args, **kwargs)

        app.services.incidents.list_page = counted  # type: ignore[method-assign]
        await _the_worker_raises_an_alarm(url)
        await _another_desk_comments(url, 1)  # the list shows no comments either
        await wait_for(lambda: alarms_told(app, "Gate camera down") == 1, timeout=10, pilot=pilot)
        await settle(app, pilot)
        await pilot.pause(1.0)  # a reload for them would have come by now (NOTIFY, or 10 polls)
        assert loads == []
        new_id = await _another_desk_creates(url, "from another desk")
        await wait_for(lambda: first_id(app) == new_id, timeout=10, pilot=pilot)
        assert len(loads) >= 1


async def test_an_alarm_or_a_comment_does_not_reload_the_incident_list_sqlite(sqlite_url: str) -> None:
    await _alarm_does_not_reload_the_list(sqlite_url, poll_seconds=0.1)


async def test_an_alarm_or_a_comment_does_not_reload_the_incident_list_postgres(pg_url: str) -> None:
    await _alarm_does_not_reload_the_list(pg_url, poll_seconds=3600)  # NOTIFY only


@pytest.mark.slow  # about 10 s: a restart, then several seconds of refused connections
async def test_live_updates_come_back_after_a_restart_and_an_outage(pg_url: str) -> None:
    """The TUI talks to PostgreSQL through the proxy; other writers go straight to the server."""
    await _world(pg_url)
    with proxy_for(pg_url) as (proxy, url):
        app = make_app(url, poll_seconds=3600)  # only LISTEN (or its catch-up) can refresh in time
        async with app.run_test(size=SIZE) as pilot:
            app.hub.max_backoff = 1.0  # retry every second: the test should not wait 30 s
            await settle(app, pilot)
            assert app.hub.live is True and live_status(app) == ""

            # 1. a restart: every connection reset, the server back at once
            proxy.restart()
            await wait_for(lambda: any(n.startswith("Live updates interrupted") for n in notifications(app)),
                           timeout=10, pilot=pilot)
            await wait_for(lambda: app.hub.live is True, timeout=15, pilot=pilot)
            assert "Live updates are back." in notifications(app)
            new_id = await _another_desk_creates(pg_url, "after the restart")
            await wait_for(lambda: first_id(app) == new_id, timeout=10, pilot=pilot)
            await _the_worker_raises_an_alarm(pg_url)
            await wait_for(lambda: alarms_told(app, "Gate camera down") == 1, timeout=10, pilot=pilot)

            # 2. a longer outage: connections reset, then refused for a while
            proxy.set_mode("reset")
            proxy.set_mode("refuse")
            await wait_for(lambda: live_status(app).startswith("Live updates interrupted"), timeout=10, pilot=pilot)
            during = await _another_desk_creates(pg_url, "written during the outage")
            await pilot.pause(3)  # several reconnect attempts fail
            assert app.hub.live is False and first_id(app) != during
            assert live_status(app).startswith("Live updates interrupted")
            proxy.set_mode("pass")
            # what was written meanwhile shows once LISTEN is back, and the status line clears
            await wait_for(lambda: first_id(app) == during, timeout=15, pilot=pilot)
            await wait_for(lambda: live_status(app) == "", timeout=5, pilot=pilot)
            after = await _another_desk_creates(pg_url, "after the outage")
            await wait_for(lambda: first_id(app) == after, timeout=10, pilot=pilot)
            app.clear_notifications()  # the first alarm's toast may still be up
            await _the_worker_raises_an_alarm(pg_url)
            await wait_for(lambda: alarms_told(app, "Gate camera down") == 1, timeout=10, pilot=pilot)

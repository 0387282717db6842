"""The LPR servers screen (``#lpr-servers``, f6 then s) under pilot, on a real SQLite file, at 80x24.

Servers are registered and heartbeat as ``imtui worker`` does (``lpr_servers.register`` /
``heartbeat``), from outside the app as another process would.  The screen shows the manual's
status strings and figures, follows every heartbeat by itself (and redraws nothing when nothing
changed), moves a camera to another server ("Change server"), stops and forgets servers through
the service (whose refusals it shows), and shows every name literally."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from textual.widgets import DataTable, OptionList, Static

from conftest import ADMIN
from imtui.engine import lpr_servers
from imtui.engine.lpr_servers import Beat, LprServerService
from imtui.engine.recognition.service import LprService
from imtui.engine.seed import seed_defaults
from imtui.engine.times import format_site
from imtui.engine.video.cameras import CameraService
from imtui.engine.video.media import MediaStore
from imtui.screens.admin_cameras import AdminCamerasScreen
from imtui.screens.change_server_dialog import ChangeServerDialog
from imtui.screens.confirm import ConfirmDialog
from imtui.screens.lpr_servers import LprServersScreen
from imtui.storage.db import Database
from imtui.storage.models import LprServer
from pilot import make_app, notifications, settle, wait_for

SIZE = (80, 24)
TZ = ZoneInfo("Asia/Tokyo")  # the site's zone, not the machine's (UTC in tests)
BEAT = 0.2  # settings.heartbeat_seconds (and twice as often, the change hub's poll of SQLite)
LONG = 3600.0  # the registered servers' own interval: they never fall silent during a test
ALPHA_BEAT = Beat(12.4, 2 * 2**30, 1234, {1: "running", 2: "lost", 3: "running", 4: "running"})


class World:
    """A seeded SQLite file with 4 cameras (1 and 2 LPR cameras) and the servers alpha (all
    four cameras, camera 2 lost), beta (none yet) and gamma (silent: "Service not responding")."""

    def __init__(self, url: str, tmp: Path) -> None:
        self.db = Database(url)
        self.tmp = tmp
        self.servers = LprServerService(self.db)
        self.ids: dict[str, int] = {}

    async def build(self, *, gamma: bool = True, servers: bool = True) -> World:
        await self.db.upgrade()
        await seed_defaults(self.db, cameras=4)
        if not servers:
            return self
        self.ids["alpha"] = await lpr_servers.register(self.db, "alpha", "host-a.example.org", 101, LONG)
        await lpr_servers.claim_cameras(self.db, self.ids["alpha"])
        self.ids["beta"] = await lpr_servers.register(self.db, "beta", "host-b", 102, LONG)
        lpr = LprService(self.db, MediaStore(self.tmp / "media"))
        for camera in (1, 2):
            await lpr.configure(ADMIN, camera, enabled=True)
        await lpr_servers.heartbeat(self.db, self.ids["alpha"], ALPHA_BEAT)
        await lpr_servers.heartbeat(self.db, self.ids["beta"], Beat(3.0, 512 * 2**20, 0, {}))
        if gamma:
            self.ids["gamma"] = await lpr_servers.register(self.db, "gamma", "host-c", 103, 0.1)
            await asyncio.sleep(0.4)  # more than 3 heartbeats of 0.1 s without a word
        return self

    async def view(self, name: str) -> Any:
        return next((v for v in await self.servers.servers(ADMIN) if v.name == name), None)

    async def row(self, name: str) -> Any:
        t = LprServer.__table__
        async with self.db.read() as s:
            return (await s.execute(sa.select(t).where(t.c.name == name))).first()


async def _open(app, pilot) -> LprServersScreen:  # noqa: ANN001
    await settle(app, pilot)
    await pilot.press("f6")
    await settle(app, pilot)
    assert isinstance(app.screen, AdminCamerasScreen)
    await pilot.press("s")
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, LprServersScreen) and screen.id == "lpr-servers"
    return screen


def _plain(value: object) -> str:
    return getattr(value, "plain", str(value))


def _servers(screen: LprServersScreen) -> list[list[str]]:
    table = screen.query_one("#lpr-servers-table", DataTable)
    return [[_plain(c) for c in table.get_row(key)] for key in table.rows]


def _cameras(screen: LprServersScreen) -> list[list[str]]:
    table = screen.query_one("#lpr-servers-cameras", DataTable)
    return [[_plain(c) for c in table.get_row(key)] for key in table.rows]


def _detail(screen: LprServersScreen) -> str:
    return str(screen.query_one("#lpr-servers-detail", Static).render())


def _highlight(screen: LprServersScreen, server_id: int) -> None:
    table = screen.query_one("#lpr-servers-table", DataTable)
    table.focus()
    table.move_cursor(row=table.get_row_index(str(server_id)))


async def test_servers_show_the_manuals_status_and_figures_and_a_camera_changes_server(
        sqlite_url: str, tmp_path: Path) -> None:
    world = await World(sqlite_url, tmp_path).build()
    app = make_app(sqlite_url, user="admin", timezone=TZ, heartbeat_seconds=BEAT, poll_seconds=BEAT / 2)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = await _open(app, pilot)
            assert _servers(screen) == [
                ["alpha", "host-a.example.org", "1 of 2 LPR cameras running"],
                ["beta", "host-b", "No LPR cameras configured"],
                ["gamma", "host-c", "Service not responding"],
            ]
            # the first server's details, the heartbeat in the site's zone
            alpha = await world.view("alpha")
            detail = _detail(screen)
            for shown in ("Status: 1 of 2 LPR cameras running", "Host name: host-a.example.org",
                          f"Last heartbeat: {format_site(alpha.heartbeat_at, TZ)}", "Service up time: 00:00:0",
                          "Computer CPU usage: 12 %", "Memory available: 2.0 GiB",
                          "Recognized license plates (this session): 1,234"):
                assert shown in detail, (shown, detail)
            assert format_site(alpha.heartbeat_at, TZ) != format_site(alpha.heartbeat_at, ZoneInfo("UTC"))
            assert _cameras(screen) == [["1", "Camera 01", "LPR", "Running"],
                                        ["2", "Camera 02", "LPR", "Connection lost"],
                                        ["3", "Camera 03", "Recording only", "Running"],
                                        ["4", "Camera 04", "Recording only", "Running"]]
            # a silent server: no up time, no figures
            _highlight(screen, world.ids["gamma"])
            await settle(app, pilot)
            assert "Status: Service not responding" in _detail(screen) and "Service up time: -" in _detail(screen)
            assert _cameras(screen) == []
            await pilot.press("down")  # the last server, without cameras: the arrow has nowhere to go
            assert screen.focused is screen.query_one("#lpr-servers-table")
            _highlight(screen, world.ids["alpha"])
            await settle(app, pilot)
            await pilot.press("tab", "down")  # Tab goes to alpha's cameras; camera 2 highlighted
            assert screen.focused is screen.query_one("#lpr-servers-cameras")

            # Change server: camera 2 to beta
            await pilot.press("c")
            await settle(app, pilot)
            dialog = app.screen
            assert isinstance(dialog, ChangeServerDialog) and dialog.query_one("#change-server")
            targets = dialog.query_one("#change-server-target", OptionList)
            assert [_plain(targets.get_option_at_index(i).prompt) for i in range(targets.option_count)] == [
                "beta  ·  No LPR cameras configured  ·  CPU 3 %", "gamma  ·  Service not responding"]
            assert "Camera 02" in str(dialog.query_one("#change-server .dialog-title").render())
            await pilot.press("enter")  # the highlighted first one: beta
            await settle(app, pilot)
            assert app.screen is screen
            assert any("Camera 2 now runs on LPR server \u201cbeta\u201d" in n for n in notifications(app))
            assert [c.id for c in (await world.view("beta")).cameras] == [2]  # the service moved it
            assert [c.id for c in (await world.view("alpha")).cameras] == [1, 3, 4]
            # the screen follows the camera to beta, which has not reported it yet
            assert screen.selected_server().name == "beta"
            assert _cameras(screen) == [["2", "Camera 02", "LPR", "-"]]
            assert screen.selected_camera().id == 2
            assert _servers(screen)[:2] == [["alpha", "host-a.example.org", "All LPR cameras are running"],
                                            ["beta", "host-b", "0 of 1 LPR cameras running"]]
            # beta's next heartbeat reports it running: shown without a key
            await lpr_servers.heartbeat(world.db, world.ids["beta"], Beat(4.0, 2**30, 0, {2: "running"}))
            await wait_for(lambda: _cameras(screen) == [["2", "Camera 02", "LPR", "Running"]], timeout=5, pilot=pilot)
            assert _servers(screen)[1] == ["beta", "host-b", "All LPR cameras are running"]
            assert "Status: All LPR cameras are running" in _detail(screen)

            # escape cancels the dialog and moves nothing
            await pilot.press("c")
            await settle(app, pilot)
            assert isinstance(app.screen, ChangeServerDialog)
            await pilot.press("escape")
            await settle(app, pilot)
            assert app.screen is screen and [c.id for c in (await world.view("beta")).cameras] == [2]
            await pilot.press("escape")
            await settle(app, pilot)
            assert isinstance(app.screen, AdminCamerasScreen)
    finally:
        await world.db.dispose()


async def test_stop_then_forget_a_server_and_the_refusal_to_forget_a_running_one(
        sqlite_url: str, tmp_path: Path) -> None:
    world = await World(sqlite_url, tmp_path).build(gamma=False)
    await world.servers.move_camera(ADMIN, 2, "beta")
    app = make_app(sqlite_url, user="admin", heartbeat_seconds=BEAT, poll_seconds=BEAT / 2)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = await _open(app, pilot)
            # the arrows reach both tables: down past the last server (beta, with camera 2) goes to its
            # cameras, up from the first camera comes back
            await pilot.press("down")
            assert screen.selected_server().name == "beta" and _cameras(screen) == [["2", "Camera 02", "LPR", "-"]]
            await pilot.press("down")
            assert screen.focused is screen.query_one("#lpr-servers-cameras")
            await pilot.press("up")
            assert screen.focused is screen.query_one("#lpr-servers-table")
            await pilot.press("up")
            await settle(app, pilot)
            assert screen.selected_server().name == "alpha"
            # forgetting a running server: the service refuses, with its own words
            await pilot.press("delete")
            await settle(app, pilot)
            assert isinstance(app.screen, ConfirmDialog)
            assert "\u201calpha\u201d" in str(app.screen.query_one("#confirm-question").render())
            await pilot.press("left", "enter")
            await wait_for(lambda: any("LPR server 'alpha' is running; stop it first (imtui worker stop alpha)." in n
                                       for n in notifications(app)), pilot=pilot)
            assert [r[0] for r in _servers(screen)] == ["alpha", "beta"]
            assert await world.view("alpha") is not None
            # stop beta: asked, and the worker learns it at its next heartbeat
            _highlight(screen, world.ids["beta"])
            await settle(app, pilot)
            await pilot.press("x")
            await settle(app, pilot)
            assert isinstance(app.screen, ConfirmDialog)
            await pilot.press("escape")  # no: nothing asked
            await settle(app, pilot)
            assert not (await world.row("beta")).stop_requested
            await pilot.press("x")
            await settle(app, pilot)
            await pilot.press("left", "enter")
            await wait_for(lambda: any("\u201cbeta\u201d asked to stop" in n for n in notifications(app)), pilot=pilot)
            assert (await world.row("beta")).stop_requested
            assert await lpr_servers.heartbeat(world.db, world.ids["beta"], Beat(1.0, 2**30, 0, {2: "running"})) is True
            await lpr_servers.stopped(world.db, world.ids["beta"])  # the worker's clean stop
            await wait_for(lambda: _servers(screen)[1] == ["beta", "host-b", "Service not running"], pilot=pilot)
            assert "Service up time: -" in _detail(screen)
            assert _cameras(screen) == [["2", "Camera 02", "LPR", "-"]]
            # stopping it again: the service says it is not running
            await pilot.press("x")
            await settle(app, pilot)
            await pilot.press("left", "enter")
            await wait_for(lambda: any("LPR server 'beta' is not running." in n for n in notifications(app)),
                           pilot=pilot)
            # forget the stopped one: gone, its camera unassigned for the next worker
            await pilot.press("delete")
            await settle(app, pilot)
            await pilot.press("left", "enter")
            await wait_for(lambda: [r[0] for r in _servers(screen)] == ["alpha"], pilot=pilot)
            assert any("\u201cbeta\u201d forgotten" in n for n in notifications(app))
            assert screen.selected_server().name == "alpha" and "Status: " in _detail(screen)
            assert await world.view("beta") is None
            assert [c.id for c in (await world.view("alpha")).cameras] == [1, 3, 4]
            assert await lpr_servers.claim_cameras(world.db, world.ids["alpha"]) == 1
            # the last one stopped and forgotten: the screen says how servers come
            await lpr_servers.stopped(world.db, world.ids["alpha"])
            await wait_for(lambda: _servers(screen)[0][2] == "Service not running", pilot=pilot)
            await pilot.press("delete")
            await settle(app, pilot)
            await pilot.press("left", "enter")
            await wait_for(lambda: _servers(screen) == [], pilot=pilot)
            assert _detail(screen) == "No LPR server has registered yet; start one with imtui worker."
            assert _cameras(screen) == []
            await pilot.press("c")
            await settle(app, pilot)
            assert app.screen is screen and notifications(app)[-1] == "Select an item in the list first."
    finally:
        await world.db.dispose()


async def test_no_server_yet_and_a_user_without_the_grant_is_told_once_and_gets_no_manage_keys(
        sqlite_url: str, tmp_path: Path) -> None:
    world = await World(sqlite_url, tmp_path).build(servers=False)
    app = make_app(sqlite_url, user="admin", heartbeat_seconds=BEAT, poll_seconds=BEAT / 2)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = await _open(app, pilot)
            assert _servers(screen) == [] and _cameras(screen) == []
            assert _detail(screen) == "No LPR server has registered yet; start one with imtui worker."
            # the grant gone (here: the screen's user becomes an operator): the service refuses, and the
            # screen says so once, not at every heartbeat
            app.actor = type(app.actor)("operator", "operator")
            await pilot.press("f5")  # f5 always tells (a heartbeat may have told it just before: 1 or 2)
            await settle(app, pilot)
            told = [n for n in notifications(app) if n == "Permission denied."]
            assert 1 <= len(told) <= 2
            await asyncio.sleep(BEAT * 3)
            await settle(app, pilot)
            assert [n for n in notifications(app) if n == "Permission denied."] == told  # not at every heartbeat
            assert screen.check_action("change_server", ()) is None and screen.check_action("reload", ()) is True
    finally:
        await world.db.dispose()


async def test_the_screen_follows_heartbeats_by_itself_and_redraws_nothing_when_nothing_changed(
        sqlite_url: str, tmp_path: Path) -> None:
    world = await World(sqlite_url, tmp_path).build(gamma=False)
    app = make_app(sqlite_url, user="admin", heartbeat_seconds=BEAT, poll_seconds=BEAT / 2)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = await _open(app, pilot)
            loads, draws = [], []
            original = app.services.servers.servers

            async def counted(actor):  # noqa: ANN001, ANN202
                loads.append(1)
                return await original(actor)

            app.services.servers.servers = counted  # type: ignore[method-assign]
            for selector in ("#lpr-servers-table", "#lpr-servers-cameras"):
                table = screen.query_one(selector, DataTable)
                for method in ("clear", "update_cell", "add_row"):
                    setattr(table, method, _spy(getattr(table, method), draws, f"{selector}.{method}"))
            detail = screen.query_one("#lpr-servers-detail", Static)
            detail.update = _spy(detail.update, draws, "detail.update")  # type: ignore[method-assign]

            await asyncio.sleep(BEAT * 5)  # five heartbeat intervals, nothing new in the database
            await settle(app, pilot)
            assert loads == [], "nothing written: nothing read (no timer of the screen's own)"
            assert draws == [], "nothing changed: nothing is redrawn"

            # a heartbeat with new figures: shown within a couple of intervals, no key pressed
            await lpr_servers.heartbeat(world.db, world.ids["alpha"],
                                        Beat(87.0, 3 * 2**30, 1300, {1: "running", 2: "running", 3: "running"}))
            loop = asyncio.get_running_loop()
            start = loop.time()
            await wait_for(lambda: "Computer CPU usage: 87 %" in _detail(screen), timeout=5, pilot=pilot)
            assert loop.time() - start < BEAT * 3
            assert "Recognized license plates (this session): 1,300" in _detail(screen)
            assert "Memory available: 3.0 GiB" in _detail(screen)
            assert _servers(screen)[0] == ["alpha", "host-a.example.org", "All LPR cameras are running"]
            assert _cameras(screen)[1] == ["2", "Camera 02", "LPR", "Running"]
            assert _cameras(screen)[3] == ["4", "Camera 04", "Recording only", "-"]  # not reported this time
            # only what changed: alpha's status cell, not the rows of the server table
            assert not [d for d in draws if d in ("#lpr-servers-table.clear", "#lpr-servers-table.add_row")]
            assert draws.count("#lpr-servers-table.update_cell") == 1

            # under a dialog, and after leaving, the screen stops reloading
            await pilot.press("x")
            await settle(app, pilot)
            assert isinstance(app.screen, ConfirmDialog)
            paused = len(loads)
            await asyncio.sleep(BEAT * 4)
            assert len(loads) == paused
            await pilot.press("escape")
            await wait_for(lambda: len(loads) > paused, timeout=BEAT * 3, pilot=pilot)  # shown again: it reloads
            await pilot.press("escape")
            await settle(app, pilot)
            gone = len(loads)
            await asyncio.sleep(BEAT * 4)
            assert len(loads) == gone and isinstance(app.screen, AdminCamerasScreen)
    finally:
        await world.db.dispose()


def _spy(method, calls: list[str], name: str):  # noqa: ANN001, ANN202
    def spied(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append(name)
        return method(*args, **kwargs)

    return spied


async def test_names_are_shown_literally_and_sanitised(sqlite_url: str, tmp_path: Path) -> None:
    world = await World(sqlite_url, tmp_path).build(gamma=False)
    hostile = "[b]evil[/b]\x1b[2J\x1b]52;c;eA==\x07"
    seen = "[b]evil[/b]␛[2J␛]52;c;eA==␇"
    evil = await lpr_servers.register(world.db, hostile, "[i]host[/i]\x1b]0;PWNED\x07", 104, LONG)
    await lpr_servers.heartbeat(world.db, evil, Beat(1.0, 2**30, 0, {}, error="[red]boom[/red]\x1b[31m"))
    await CameraService(world.db).edit(ADMIN, 3, name="[bold]Gate[/bold]\x1b[2J")
    await world.servers.move_camera(ADMIN, 3, evil)
    app = make_app(sqlite_url, user="admin", heartbeat_seconds=BEAT, poll_seconds=BEAT / 2)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = await _open(app, pilot)
            table = screen.query_one("#lpr-servers-table", DataTable)
            name_cell = table.get_row(str(evil))[0]
            assert name_cell.plain == seen and not name_cell.spans  # literal, not bold
            assert [_plain(c) for c in table.get_row(str(evil))][1:] == ["[i]host[/i]␛]0;PWNED␇", "Unknown error"]
            _highlight(screen, evil)
            await settle(app, pilot)
            detail = _detail(screen)
            assert "Host name: [i]host[/i]␛]0;PWNED␇" in detail and "Error: [red]boom[/red]␛[31m" in detail
            assert _cameras(screen) == [["3", "[bold]Gate[/bold]␛[2J", "Recording only", "-"]]
            shot = app.export_screenshot()
            assert "[b]evil[/b]" in shot and "\x1b" not in shot and "\x07" not in shot
            # the dialogs quote the names literally too
            await pilot.press("tab", "c")
            await settle(app, pilot)
            assert isinstance(app.screen, ChangeServerDialog)
            assert "[bold]Gate[/bold]␛[2J" in str(app.screen.query_one("#change-server .dialog-title").render())
            assert seen in str(app.screen.query_one("#change-server-note").render())
            await pilot.press("escape")
            await settle(app, pilot)
            _highlight(screen, world.ids["alpha"])
            await settle(app, pilot)
            await pilot.press("tab", "c")  # alpha's camera 1: the hostile server is one of the targets
            await settle(app, pilot)
            targets = app.screen.query_one("#change-server-target", OptionList)
            prompts = [_plain(targets.get_option_at_index(i).prompt) for i in range(targets.option_count)]
            assert prompts == [seen + "  ·  Unknown error  ·  CPU 1 %",
                               "beta  ·  No LPR cameras configured  ·  CPU 3 %"]
            await pilot.press("escape")
            await settle(app, pilot)
    finally:
        await world.db.dispose()

"""The Textual application and its factory.

``create_app(database_url, user=NAME)`` is the entry point of pilot tests and of the CLI: it
returns the app already logged in as NAME (the login screen and ``auth.trust_os_user`` are the
CLI's business).  Defaults are chosen for operators on slow SSH links: 16 ANSI colours, no
animations, no mouse tracking unless asked, nothing that repaints while idle.
"""

from __future__ import annotations

import dataclasses
import logging
import getpass
import os
from pathlib import Path

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.signal import Signal

from imtui.config import Settings, load_settings
from imtui.engine.changes import ChangeHub, Topic, Topics
from imtui.engine.errors import ServiceError
from imtui.engine.permissions import Actor
from imtui.engine.services import Services
from imtui.i18n import _
from imtui.screens.worker_errors import ReportingWorkerManager
from imtui.screens.live_status import interrupted
from imtui.screens.render import tell

log = logging.getLogger(__name__)
PURGE_EVERY_SECONDS = 3600


class ImtuiApp(App[None]):
    CSS_PATH = Path(__file__).parent / "screens" / "app.tcss"
    TITLE = "imtui"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [Binding("ctrl+q", "quit", _("Quit"), id="quit", priority=True)]

    def __init__(self, services: Services, user: str | None, login_hint: str | None = None,
                 worker: bool = False) -> None:
        super().__init__()
        self._workers = ReportingWorkerManager(self)  # failed workers reach the operator and imtui.log
        self.with_worker = worker
        self.services = services
        self.user_name = user
        self.login_hint = login_hint
        self.actor: Actor | None = None
        self.alarms_seen = 0  # the newest alarm this TUI has announced
        self.watching_alarms = False  # until the newest alarm is known (and never for those who may not see them)
        self.theme = "ansi-dark"  # 16 colours: about half the bytes of truecolor (tui-links notes)
        self.animation_level = "none"
        self.hub = ChangeHub(services.db, self.changed, self.live_changed, poll_seconds=services.settings.poll_seconds)
        self.changes: Signal[Topics] = Signal(self, "changes")  # the topics others changed: screens subscribe
        self.live_updates: Signal[bool] = Signal(self, "live-updates")  # PostgreSQL's LISTEN lost / back

    async def on_mount(self) -> None:
        from imtui.screens.login import LoginScreen
        from imtui.screens.message import MessageScreen

        if self.with_worker:
            self.record()
        try:
            if self.user_name is None:  # the CLI without a trusted identity: ask for a password
                await self.services.upgrade()
                await self.push_screen(LoginScreen(self.login_hint))
                return
            actor = await self.services.start(self.user_name)
        except ServiceError as exc:
            await self.push_screen(MessageScreen(exc.message))
            return
        await self.logged_in(actor)

    async def logged_in(self, actor: Actor) -> None:
        """Show the incident list as ``actor`` and start the hourly retention purge."""
        from imtui.screens.incidents import IncidentsScreen

        self.actor = actor
        await self.hub.start()  # before the first list loads, so it misses no change
        if len(self.screen_stack) > 1:
            await self.switch_screen(IncidentsScreen())
        else:
            await self.push_screen(IncidentsScreen())
        self.purge()
        self.set_interval(PURGE_EVERY_SECONDS, self.purge, name="retention-purge")
        self.watch_alarms()

    @work(group="alarms", exit_on_error=False)
    async def watch_alarms(self) -> None:
        """New alarms reach every open TUI through the change hub (the ALARMS topic: at once on
        PostgreSQL, within ``poll_seconds`` on SQLite)."""
        try:
            self.alarms_seen = await self.services.alarms.latest_id(self.actor)
        except ServiceError:
            return  # this user may not see alarms
        self.watching_alarms = True
        self.set_interval(self.services.settings.heartbeat_seconds, self.watch_servers, name="server-watch")

    def changed(self, topics: Topics) -> None:
        """The hub's delivery: the app's own alarm announcement, then every subscribed screen."""
        if Topic.ALARMS in topics and self.watching_alarms:
            self.check_alarms()
        self.changes.publish(topics)

    def live_changed(self, live: bool) -> None:
        """PostgreSQL's LISTEN lost or back: say so once (the list's status line keeps saying it)."""
        if live:
            tell(self, _("Live updates are back."))
        else:
            tell(self, interrupted(self.services.settings.poll_seconds), error=True)
        self.live_updates.publish(live)

    @work(exclusive=True, group="server-watch", exit_on_error=False)
    async def watch_servers(self) -> None:
        """Every open TUI also watches the LPR servers: a site with one worker has no other
        worker to notice it fall silent.  One small read per heartbeat; a write only when a
        server changes state."""
        try:
            await self.services.servers.watch()
        except ServiceError as exc:
            log.warning("LPR server watch failed: %s", exc.message)

    @work(exclusive=True, group="alarm-check", exit_on_error=False)
    async def check_alarms(self) -> None:
        from imtui.engine.alarms import PRIORITIES

        try:
            new = await self.services.alarms.newer(self.actor, self.alarms_seen)
        except ServiceError:
            return
        if not new:
            return
        self.alarms_seen = new[-1].id
        for alarm in new:
            what = " · ".join(x for x in (alarm.object, alarm.type, alarm.where) if x)  # where: its camera
            tell(self, _("New alarm ({priority}): {name} · {what}").format(
                priority=PRIORITIES[alarm.priority], name=alarm.name, what=what))
        if self.services.settings.bell:
            self.bell()

    @work(exclusive=True, group="retention", exit_on_error=False)
    async def purge(self) -> None:
        """The retention purge: at start and hourly, after the first screen is up."""
        try:
            await self.services.retention.purge()
        except ServiceError as exc:
            log.warning("retention purge failed: %s", exc.message)

    @work(group="recorder", exit_on_error=False)
    async def record(self) -> None:
        """``imtui demo``: the recording worker in this process (its frames are handled in threads)."""
        from imtui.engine.video.worker import Worker

        await self.services.db.upgrade()
        await Worker(self.services.db, self.services.settings).run()

    async def on_unmount(self) -> None:
        await self.hub.stop()
        await self.services.close()


def create_app(
    database_url: str | None = None, user: str | None = None, settings: Settings | None = None,
    *, login: bool = False, login_hint: str | None = None, worker: bool = False,
) -> ImtuiApp:
    """Build the app for ``database_url`` (or the configured one), logged in as ``user``.

    ``login=True`` shows the login screen instead (the CLI does that unless the OS identity is
    trusted); ``login_hint`` pre-fills the user name there.
    """
    settings = settings or load_settings()
    if database_url:
        settings = dataclasses.replace(settings, database_url=database_url)
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    if settings.image_mode in ("auto", "tgp", "sixel"):
        # textual-image probes the terminal on import, impossible once Textual runs; halfcell and
        # unicode are our own widgets (screens/cell_image.py) and need no probe.
        import textual_image.widget  # noqa: F401
    if worker:
        # The recorder's LPR process pool needs multiprocessing's resource tracker, a helper
        # process started with the terminal's stderr.  Once Textual runs, stderr is its capture
        # object with no file descriptor, and starting the tracker fails ("bad value(s) in
        # fds_to_keep"), which took the whole recorder down in `imtui demo`.  Start it now.
        from multiprocessing import resource_tracker

        resource_tracker.ensure_running()
    if login:
        return ImtuiApp(Services(settings), None, login_hint=login_hint, worker=worker)
    return ImtuiApp(Services(settings), user or getpass.getuser(), worker=worker)

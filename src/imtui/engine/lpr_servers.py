"""LPR servers (manual 004, "View LPR server information", "LPR Server Manager").

Every ``imtui worker`` is an LPR server: it registers under a name (``worker.name``, by default
its host name), records and reads the cameras assigned to it, and heartbeats its figures (CPU
usage of the computer, memory available, plates recognised this session, the state of each of
its cameras).  Several workers on several hosts share one database.

Nobody can report its own silence, so every worker (and every open TUI, see ``check_silent``)
watches the others: a running server whose last heartbeat is older than ``SILENT_BEATS``
intervals is marked not responding, once, with the "LPR server not responding" event and its
alarms; its next heartbeat marks it responding again with the "LPR server responding" event.
The flip is a conditional UPDATE, so two watchers never raise the same event twice.

The status shown to administrators is worked out from the row and the clock when it is read,
with the manual's exact strings (``status_of``).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psutil
import sqlalchemy as sa

from imtui.engine import audit, events
from imtui.engine.base import Service, announce
from imtui.engine.errors import InvalidInput, NotFound
from imtui.engine.permissions import Actor, Feature, Level, require
from imtui.engine.times import utcnow
from imtui.i18n import _
from imtui.storage.changes import Topic
from imtui.storage.db import Database
from imtui.storage.models import Camera, LprCamera, LprServer

log = logging.getLogger(__name__)
SILENT_BEATS = 3  # heartbeats missed before a server is "Service not responding"

# The manual's status strings (manual 004, "LPR server information properties"); not translated
# here because the manual gives them verbatim, and the TUI and CLI show them as they are.
NO_CAMERAS = "No LPR cameras configured"
ALL_RUNNING = "All LPR cameras are running"
SOME_RUNNING = "{running} of {total} LPR cameras running"
NOT_RESPONDING = "Service not responding"
NOT_RUNNING = "Service not running"
UNKNOWN_ERROR = "Unknown error"


class ServerNameTaken(Exception):
    """Another live worker already runs under this name."""


@dataclass(frozen=True)
class ServerCamera:
    id: int
    name: str
    lpr: bool  # an enabled LPR camera (the manual's "LPR cameras" list); other cameras are only recorded
    state: str  # starting | running | lost | "" (the server has not reported it yet)


@dataclass(frozen=True)
class ServerView:
    id: int
    name: str
    host: str
    pid: int
    status: str
    running: bool  # the service runs and answers
    started_at: datetime
    heartbeat_at: datetime
    uptime: timedelta | None  # None while it is not running or not answering
    cpu_percent: float
    memory_available: int  # bytes
    plates: int  # recognised this session
    cameras: tuple[ServerCamera, ...]
    error: str

    @property
    def lpr_cameras(self) -> tuple[ServerCamera, ...]:
        return tuple(c for c in self.cameras if c.lpr)


def silent(row, now: datetime) -> bool:  # noqa: ANN001 - a lpr_server row
    return row.state == "running" and now - row.heartbeat_at > timedelta(seconds=SILENT_BEATS * row.interval)


def status_of(row, lpr_states: list[str], now: datetime) -> str:  # noqa: ANN001
    """The manual's status of a server: its row (state, heartbeat, error) and the reported state
    of each enabled LPR camera assigned to it."""
    if row.state != "running":
        return NOT_RUNNING
    if silent(row, now):
        return NOT_RESPONDING
    if row.error:
        return UNKNOWN_ERROR
    if not lpr_states:
        return NO_CAMERAS
    running = sum(1 for s in lpr_states if s == "running")
    return ALL_RUNNING if running == len(lpr_states) else SOME_RUNNING.format(running=running, total=len(lpr_states))


async def _event(s, db: Database, kind: str, name: str, message: str, at: datetime) -> None:  # noqa: ANN001
    from imtui.engine.alarms import raise_for_event

    events.record(s, kind, message, None, name, at=at)
    await raise_for_event(s, db, kind, None, message, at, object=name)  # in the event's transaction; Object = server


def _not_responding(name: str, last: datetime) -> str:
    return _("LPR server \u201c{name}\u201d: service not responding (last heartbeat {at} UTC).").format(
        name=name, at=last.strftime("%Y-%m-%d %H:%M:%S"))


def _responding(name: str) -> str:
    return _("LPR server \u201c{name}\u201d: service responding again.").format(name=name)


# -- the worker's side ----------------------------------------------------------------------------
async def register(db: Database, name: str, host: str, pid: int, interval: float) -> int:
    """Register (or re-register) this worker; returns its server id.  A name held by a live
    worker elsewhere is refused; a stale row of the same name is taken over (a restart).  A crash
    that nobody watched is put on record now: not responding since the last heartbeat, and
    responding again."""
    t = LprServer.__table__
    now = utcnow()
    async with db.write() as s:
        row = (await s.execute(sa.select(t).where(t.c.name == name))).first()
        values = dict(host=host[:200], pid=pid, started_at=now, heartbeat_at=now, interval=interval, state="running",
                      responding=True, stop_requested=False, cpu_percent=0.0, memory_available=0, plates=0,
                      cameras="{}", error="")
        await announce(s, db, Topic.SERVERS)  # open LPR servers screens show it (the lines below commit it)
        if row is None:
            return (await s.execute(sa.insert(t).values(name=name, **values).returning(t.c.id))).scalar_one()
        if (row.state == "running" and not silent(row, now) and (row.host, row.pid) != (host[:200], pid)
                and not (row.host == host[:200] and gone_here(row.pid, row.started_at))):
            raise ServerNameTaken(_(
                "LPR server name {name!r} is in use by a running worker on {host} (process {pid}); give this "
                "worker another name (worker.name in the config) or stop that one (imtui worker stop {name})."
            ).format(name=name, host=row.host, pid=row.pid))
        unnoticed = row.responding and silent(row, now)  # it died without a word and nobody noticed
        if unnoticed:
            await _event(s, db, events.SERVER_NOT_RESPONDING, name, _not_responding(name, row.heartbeat_at),
                         row.heartbeat_at + timedelta(seconds=SILENT_BEATS * row.interval))
        if unnoticed or not row.responding:
            await _event(s, db, events.SERVER_RESPONDING, name, _responding(name), now)
        await s.execute(sa.update(t).where(t.c.id == row.id).values(**values))
        return row.id


def gone_here(pid: int, started_at: datetime) -> bool:
    """Whether the worker process ``pid`` that registered at ``started_at`` on this host has ended:
    no such process, a process of that number started after it (the number was reused), or this
    host booted since.  A worker restarted after kill -9 on the same host takes its name over at
    once instead of waiting for three missed heartbeats."""
    started = (started_at if started_at.tzinfo else started_at.replace(tzinfo=UTC)).timestamp()
    if psutil.boot_time() > started:
        return True
    try:
        process = psutil.Process(pid)
        return process.create_time() > started + 1.0 or process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@dataclass(frozen=True)
class Beat:
    cpu_percent: float
    memory_available: int
    plates: int
    cameras: dict[int, str]  # camera id -> starting | running | lost
    error: str = ""


async def heartbeat(db: Database, server_id: int, beat: Beat) -> bool | None:
    """Store this worker's figures.  Returns whether it was asked to stop (``imtui worker
    stop``), or None when its row is gone (forgotten by an administrator: register again)."""
    t = LprServer.__table__
    now = utcnow()
    async with db.write() as s:
        row = (await s.execute(sa.select(t.c.name, t.c.responding, t.c.stop_requested).where(t.c.id == server_id))).first()
        if row is None:
            return None
        await s.execute(sa.update(t).where(t.c.id == server_id).values(
            heartbeat_at=now, state="running", cpu_percent=beat.cpu_percent, memory_available=beat.memory_available,
            plates=beat.plates, cameras=json.dumps({str(k): v for k, v in sorted(beat.cameras.items())}),
            error=beat.error[:1000], responding=True))
        await announce(s, db, Topic.SERVERS)  # every heartbeat: the screen's figures and up time follow it
        if not row.responding:
            await _event(s, db, events.SERVER_RESPONDING, row.name, _responding(row.name), now)
        return bool(row.stop_requested)


async def stopped(db: Database, server_id: int) -> None:
    """A clean stop: "Service not running", and no "not responding" event for it."""
    t = LprServer.__table__
    async with db.write() as s:
        await s.execute(sa.update(t).where(t.c.id == server_id).values(
            state="stopped", heartbeat_at=utcnow(), stop_requested=False, cameras="{}"))
        await announce(s, db, Topic.SERVERS)


async def check_silent(db: Database, *, now: datetime | None = None) -> list[str]:
    """Mark running servers silent for ``SILENT_BEATS`` heartbeats as not responding, with the
    event and its alarms; returns their names.  Cheap (one small SELECT) when all is well."""
    t = LprServer.__table__
    now = now or utcnow()
    async with db.read() as s:
        rows = (await s.execute(sa.select(t.c.id, t.c.name, t.c.state, t.c.heartbeat_at, t.c.interval)
                                .where(t.c.state == "running", t.c.responding == sa.true()))).all()
    gone = [r for r in rows if silent(r, now)]
    names = []
    for r in gone:
        async with db.write() as s:
            flipped = (await s.execute(sa.update(t).where(
                t.c.id == r.id, t.c.responding == sa.true(), t.c.heartbeat_at == r.heartbeat_at,
            ).values(responding=False))).rowcount
            if flipped == 1:  # another watcher, or a heartbeat, did not get there first
                await announce(s, db, Topic.SERVERS)
                await _event(s, db, events.SERVER_NOT_RESPONDING, r.name, _not_responding(r.name, r.heartbeat_at), now)
                names.append(r.name)
    for name in names:
        log.warning("LPR server %s is not responding", name)
    return names


async def claim_cameras(db: Database, server_id: int) -> int:
    """Cameras assigned to no server (new ones, or those of a forgotten server) go to this one."""
    c = Camera.__table__
    async with db.write() as s:
        return (await s.execute(sa.update(c).where(c.c.server_id.is_(None)).values(server_id=server_id))).rowcount


# -- administrators -----------------------------------------------------------------------------------
class LprServerService(Service):
    async def servers(self, actor: Actor) -> list[ServerView]:
        """Every registered server with its status, figures and cameras, by name."""
        require(actor, Feature.PROPERTIES, Level.VIEW)
        t, c, lc = LprServer.__table__, Camera.__table__, LprCamera.__table__
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            rows = (await s.execute(sa.select(t).order_by(t.c.name))).all()
            cams = (await s.execute(
                sa.select(c.c.id, c.c.name, c.c.server_id, c.c.enabled, sa.func.coalesce(lc.c.enabled, False).label("lpr"))
                .select_from(c.outerjoin(lc, lc.c.camera_id == c.c.id))
                .where(c.c.server_id.is_not(None)).order_by(c.c.name, c.c.id))).all()
        now = utcnow()
        out = []
        for r in rows:
            reported = {int(k): v for k, v in json.loads(r.cameras or "{}").items()}
            mine = tuple(ServerCamera(x.id, x.name, bool(x.lpr) and bool(x.enabled),
                                      reported.get(x.id, "") if r.state == "running" and not silent(r, now) else "")
                         for x in cams if x.server_id == r.id)
            status = status_of(r, [x.state for x in mine if x.lpr], now)
            running = status not in (NOT_RUNNING, NOT_RESPONDING)
            out.append(ServerView(r.id, r.name, r.host, r.pid, status, running, r.started_at, r.heartbeat_at,
                                  now - r.started_at if running else None, r.cpu_percent, r.memory_available,
                                  r.plates, mine, r.error))
        return out

    async def _server(self, s, ref: int | str):  # noqa: ANN001, ANN202
        t = LprServer.__table__
        cond = t.c.id == ref if isinstance(ref, int) else t.c.name == ref
        row = (await s.execute(sa.select(t).where(cond))).first()
        if row is None:
            raise NotFound(_("LPR server: no server is named or numbered {ref!r}; see imtui worker status.").format(ref=ref))
        return row

    async def move_camera(self, actor: Actor, camera_id: int, server: int | str) -> str:
        """"Change server": the camera is recorded and read by ``server`` from its next reload
        (a few seconds); the old server lets it go at its own.  Returns the server's name."""
        require(actor, Feature.PROPERTIES, Level.MANAGE)
        c = Camera.__table__
        async with self._guard(_("Cannot save settings. Try again later.")), self.db.write() as s:
            target = await self._server(s, server)
            cam = (await s.execute(sa.select(c.c.name, c.c.server_id).where(c.c.id == camera_id))).first()
            if cam is None:
                raise InvalidInput("camera", _("Camera: no camera has ID {id}; see imtui admin cameras list.").format(id=camera_id))
            if cam.server_id != target.id:
                old = (await s.execute(sa.select(LprServer.__table__.c.name).where(
                    LprServer.__table__.c.id == cam.server_id))).scalar() if cam.server_id else None
                await s.execute(sa.update(c).where(c.c.id == camera_id).values(server_id=target.id))
                audit.record(s, actor, audit.PROPERTY_EDITED, f"camera {camera_id}",
                             f"{cam.name}: LPR server {old or '-'} -> {target.name}")
                await self._changed(s, Topic.SERVERS)
        return target.name

    async def request_stop(self, actor: Actor, server: int | str) -> str:
        """Ask a worker to stop (it does at its next heartbeat, on whatever host it runs)."""
        require(actor, Feature.PROPERTIES, Level.MANAGE)
        t = LprServer.__table__
        async with self._guard(_("Cannot save settings. Try again later.")), self.db.write() as s:
            row = await self._server(s, server)
            if row.state != "running":
                raise InvalidInput("server", _("LPR server {name!r} is not running.").format(name=row.name))
            await s.execute(sa.update(t).where(t.c.id == row.id).values(stop_requested=True))
            audit.record(s, actor, audit.PROPERTY_EDITED, f"LPR server {row.id}", f"{row.name}: stop requested")
        return row.name

    async def forget(self, actor: Actor, server: int | str) -> str:
        """Remove a server that no longer runs; its cameras go to the next worker that starts or
        reloads (they are unassigned, not lost)."""
        require(actor, Feature.PROPERTIES, Level.MANAGE)
        t, c = LprServer.__table__, Camera.__table__
        async with self._guard(_("Cannot save settings. Try again later.")), self.db.write() as s:
            row = await self._server(s, server)
            if row.state == "running" and not silent(row, utcnow()):
                raise InvalidInput("server", _(
                    "LPR server {name!r} is running; stop it first (imtui worker stop {name}).").format(name=row.name))
            await s.execute(sa.update(c).where(c.c.server_id == row.id).values(server_id=None))  # also without FKs
            await s.execute(sa.delete(t).where(t.c.id == row.id))
            audit.record(s, actor, audit.PROPERTY_DELETED, f"LPR server {row.id}", row.name)
            await self._changed(s, Topic.SERVERS)
        return row.name

    async def watch(self) -> list[str]:
        """``check_silent`` for an open TUI: with a single worker, nobody else would notice it
        die.  System behaviour, not a user's act: no permission, not audited."""
        async with self._guard(_("Cannot perform this action. Try again later.")):
            return await check_silent(self.db)

"""Alarms (architecture 002, "View and manage alarms"; manual 004, "Alarms triggered by LPR").

Definitions say what raises an alarm: a match list (a plate matched it) or a camera event (connection
lost / running), from which cameras, with which priority.  List-match alarms come from
engine/alarm_flow.py (reads -> matches -> alarms, for live and retroactive matches alike); the
worker raises event alarms in the transaction of the event (``raise_for_event``).
Operators handle them: New -> In progress / On hold -> Closed, assign to me, comment; every change
is logged per alarm.  One call turns an alarm into an incident project with a sequence from 10 s
before to 10 s after the read on its camera, linked both ways (the alarm keeps the project's ID,
the project's activity log names the alarm): ``imtui.engine.alarm_incident``, one guarded
transaction.  Every alarm read names its camera (``AlarmView.camera_name``); the detail of one
alarm (its match's fields, the plate picture, the video window) is ``imtui.engine.alarm_detail``.

Event actions (for gates and lights): a definition may name outputs, an HTTP webhook and a command.
An alarm of such a definition is raised with ``actions_pending``; a worker runs the outputs after
the alarm is stored (``imtui.engine.alarm_actions.dispatch_pending``) and logs each outcome in the
alarm's log.  The database only *names* a command: what it runs comes from ``[actions.commands]``
of the config of the host that runs it, so editing a definition cannot make a worker run an
arbitrary program.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa

from imtui.engine import audit
from imtui.engine.alarm_incident import AlarmIncidents
from imtui.engine.base import Service, announce
from imtui.engine.errors import InvalidInput, NotFound
from imtui.engine.permissions import Actor, Feature, Level, require
from imtui.engine.times import utcnow
from imtui.i18n import _
from imtui.storage.changes import Topic
from imtui.storage.models import Alarm, AlarmDefinition, AlarmLog, Camera, MatchList

STATES = ("new", "in_progress", "on_hold", "closed")
STATE_NAMES = {"new": "New", "in_progress": "In progress", "on_hold": "On hold", "closed": "Closed"}
EVENT_TRIGGERS = ("camera_lost", "camera_running", "server_not_responding", "server_responding")
TRIGGERS = ("list", *EVENT_TRIGGERS)
SERVER_TRIGGERS = ("server_not_responding", "server_responding")
PRIORITIES = {1: "High", 2: "Medium", 3: "Low"}
WEBHOOK_TIMEOUT = (0.5, 60.0)  # seconds per attempt: least, most
WEBHOOK_RETRIES = (0, 5)  # attempts after the first: least, most
MAX_URL = 1000
COMMAND_NAME = re.compile(r"[A-Za-z0-9_-]{1,100}")  # a bare TOML key of [actions.commands]


@dataclass(frozen=True)
class DefinitionView:
    id: int
    name: str
    trigger: str
    list_id: int | None
    cameras: tuple[int, ...]  # empty: all cameras
    priority: int
    enabled: bool
    webhook_url: str = ""  # "" = no webhook; may hold user:password@ (show it through safe_url)
    webhook_timeout: float = 5.0  # seconds per attempt
    webhook_retries: int = 2  # attempts after the first
    command: str = ""  # the NAME of a command in [actions.commands] of the worker host's config; "" = none
    retroactive_outputs: bool = False  # outputs also for alarms found after the read (the vehicle has passed)

    @property
    def has_outputs(self) -> bool:
        return bool(self.webhook_url or self.command)


@dataclass(frozen=True)
class AlarmView:
    id: int
    at: datetime
    name: str
    priority: int
    state: str
    assigned_to: str
    object: str  # the plate
    tag: str  # the country code
    type: str  # the list or event name
    camera_id: int | None
    incident_id: int | None
    message: str
    camera_name: str = ""  # "" when the alarm has no camera or the camera was deleted since

    @property
    def where(self) -> str:
        """The camera, as every view of an alarm names it: its name, else its ID (deleted
        since); "" for an alarm of no camera (an LPR server event)."""
        if self.camera_id is None:
            return ""
        return self.camera_name or f"#{self.camera_id}"


@dataclass(frozen=True)
class LogView:
    at: datetime
    user: str
    action: str
    details: str


def _definition(r) -> DefinitionView:  # noqa: ANN001
    return DefinitionView(r.id, r.name, r.trigger, r.list_id, tuple(json.loads(r.cameras or "[]")), r.priority,
                          bool(r.enabled), r.webhook_url or "", float(r.webhook_timeout), int(r.webhook_retries),
                          r.command or "", bool(r.retroactive_outputs))


def safe_url(url: str) -> str:
    """``url`` without its ``user:password@`` part: what logs and screens may show."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.rsplit("@", 1)[-1] if "@" in url else url
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def _check_webhook_url(url: str) -> str:
    url = (url or "").strip()
    if not url:
        return ""
    if len(url) > MAX_URL:
        raise InvalidInput("webhook_url", _("Webhook URL: {n} characters is too long; use at most {max}.").format(
            n=len(url), max=MAX_URL))
    fix = _("Webhook URL: write an http:// or https:// address with a host, e.g. https://gate.example/open.")
    if any(ord(ch) <= 32 or ord(ch) >= 127 for ch in url):  # http.client sends ASCII only
        raise InvalidInput("webhook_url", _("Webhook URL: spaces, control characters and non-ASCII letters are not "
                                            "allowed; percent-encode them (%20) and write an international host "
                                            "name in its xn-- form."))
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number 0-65535
    except ValueError:
        raise InvalidInput("webhook_url", fix) from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InvalidInput("webhook_url", fix)
    return url


def _check_webhook_timeout(value: float) -> float:
    least, most = WEBHOOK_TIMEOUT
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = math.nan
    if isinstance(value, bool) or not least <= seconds <= most:
        raise InvalidInput("webhook_timeout", _("Webhook timeout: {v!r} is not allowed; give {least:g} to {most:g} "
                                                "seconds per attempt.").format(v=value, least=least, most=most))
    return seconds


def _check_webhook_retries(value: int) -> int:
    least, most = WEBHOOK_RETRIES
    if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= most:
        raise InvalidInput("webhook_retries", _("Webhook retries: {v!r} is not allowed; give {least} to {most} "
                                                "attempts after the first.").format(v=value, least=least, most=most))
    return value


def _check_command(name: str) -> str:
    name = (name or "").strip()
    if name and not COMMAND_NAME.fullmatch(name):
        raise InvalidInput("command", _("Command: {name!r} is not a command name; use 1 to 100 letters, digits, - or _ "
                                        "as named in [actions.commands] of the worker's config.").format(name=name))
    return name


def _check_definition(values: dict) -> dict:
    """``values`` (every column of a definition) checked and normalised; the database checks
    (the list exists, the name is free) are the caller's."""
    name = (values["name"] or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput("name", _("Alarm definition: give a name of 1 to 100 characters."))
    trigger = values["trigger"]
    if trigger not in TRIGGERS:
        raise InvalidInput("trigger", _("Trigger: {t!r} is not known; use {known}.").format(
            t=trigger, known=", ".join(TRIGGERS)))
    if values["priority"] not in PRIORITIES or isinstance(values["priority"], bool):
        raise InvalidInput("priority", _("Priority: use 1 (high), 2 (medium) or 3 (low)."))
    if (trigger == "list") != (values["list_id"] is not None):
        raise InvalidInput("list", _("Trigger: a match-list alarm needs its list, and only it has one."))
    try:
        cameras = sorted({int(c) for c in values["cameras"]})
    except (TypeError, ValueError):
        raise InvalidInput("cameras", _("Cameras: give camera IDs (numbers), or none for all cameras.")) from None
    if cameras and trigger in SERVER_TRIGGERS:  # it would never fire: a server event names no camera
        raise InvalidInput("cameras", _("Sources: an LPR server event comes from a server, not a camera; "
                                        "choose no camera (it then fires for every server)."))
    return {**values, "name": name, "cameras": cameras, "enabled": bool(values["enabled"]),
            "webhook_url": _check_webhook_url(values["webhook_url"]),
            "webhook_timeout": _check_webhook_timeout(values["webhook_timeout"]),
            "webhook_retries": _check_webhook_retries(values["webhook_retries"]),
            "command": _check_command(values["command"]),
            "retroactive_outputs": bool(values.get("retroactive_outputs", False))}


def _shown(field: str, value: object) -> str:
    """A definition field's value in the audit log: no credentials, "" visible as such."""
    if field == "webhook_url":
        value = safe_url(str(value))
    if field == "cameras":
        return ",".join(map(str, value)) or "all"  # type: ignore[call-overload]
    return repr(value) if isinstance(value, str) else str(value)


def _outputs_text(v: dict) -> str:
    """The outputs of checked definition values, for the audit log (no credentials)."""
    out = []
    if v["webhook_url"]:
        out.append(f"webhook {safe_url(v['webhook_url'])} ({v['webhook_timeout']:g} s, {v['webhook_retries']} retries)")
    if v["command"]:
        out.append(f"command {v['command']}")
    if out and v.get("retroactive_outputs"):
        out.append("also for alarms found after the read")
    return "; ".join(out)


def _alarm(r) -> AlarmView:  # noqa: ANN001 - a row of _alarms()
    return AlarmView(r.id, r.at, r.name, r.priority, r.state, r.assigned_to, r.object, r.tag, r.type, r.camera_id,
                     r.incident_id, r.message, r.camera_name or "")


def _alarms() -> sa.Select:
    """Alarm rows with their camera's name (an outer join: a deleted camera leaves the alarm)."""
    a, c = Alarm.__table__, Camera.__table__
    return sa.select(a, c.c.name.label("camera_name")).select_from(a.outerjoin(c, c.c.id == a.c.camera_id))


def _log(s, alarm_id: int, user: str, action: str, details: str = "") -> None:  # noqa: ANN001
    s.add(AlarmLog(alarm_id=alarm_id, at=utcnow(), user=user, action=action, details=details))


async def _definitions_for(s, trigger: str, camera_id: int | None, list_id: int | None = None) -> list:  # noqa: ANN001
    d = AlarmDefinition.__table__
    stmt = sa.select(d).where(d.c.enabled == sa.true(), d.c.trigger == trigger)
    if list_id is not None:
        stmt = stmt.where(d.c.list_id == list_id)
    return [r for r in (await s.execute(stmt)).all()
            if not json.loads(r.cameras or "[]") or camera_id in json.loads(r.cameras)]


def _has_outputs(d) -> bool:  # noqa: ANN001 - a definition row
    return bool(d.webhook_url or d.command)


async def raise_for_event(s, db, kind: str, camera_id: int | None, message: str, at: datetime,  # noqa: ANN001
                          event_id: int | None = None, object: str = "") -> int:  # noqa: A002 - the manual's name
    """Alarms for a camera or server event; ``object`` names what the event is about when it is
    not a camera (the LPR server's name)."""
    raised = 0
    for d in await _definitions_for(s, kind, camera_id):
        alarm_id = (await s.execute(sa.insert(Alarm.__table__).values(
            at=at, definition_id=d.id, name=d.name, priority=d.priority, state="new", assigned_to="", object=object[:100],
            tag="", type=kind, camera_id=camera_id, match_id=None, event_id=event_id, incident_id=None,
            message=message, actions_pending=_has_outputs(d)).returning(Alarm.__table__.c.id))).scalar_one()
        _log(s, alarm_id, "system", "raised", d.name)
        raised += 1
    if raised:
        await announce(s, db, Topic.ALARMS)
    return raised


class AlarmService(Service):
    # -- definitions (administrators) ---------------------------------------------------------------
    async def definitions(self, actor: Actor) -> list[DefinitionView]:
        require(actor, Feature.PROPERTIES, Level.VIEW)
        d = AlarmDefinition.__table__
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            return [_definition(r) for r in (await s.execute(sa.select(d).order_by(d.c.name))).all()]

    async def define(self, actor: Actor, name: str, trigger: str, *, list_id: int | None = None,
                     cameras: Sequence[int] = (), priority: int = 2, enabled: bool = True, webhook_url: str = "",
                     webhook_timeout: float = 5.0, webhook_retries: int = 2, command: str = "",
                     retroactive_outputs: bool = False) -> DefinitionView:
        """A new definition.  Outputs (event actions), all optional: ``webhook_url`` (http:// or
        https://, at most 1,000 characters; "" = none) POSTed a JSON description of each alarm with
        ``webhook_timeout`` seconds per attempt (0.5-60) and ``webhook_retries`` more attempts
        (0-5); ``command`` names a command (1-100 letters, digits, - or _; "" = none).  The name
        need not be in this host's ``[actions.commands]``: the config of the worker host that runs
        the alarm's outputs says what the name runs there (and reports a name it lacks).  An alarm
        found after the read (a list gained the plate) runs no output unless ``retroactive_outputs``."""
        require(actor, Feature.PROPERTIES, Level.MANAGE)
        v = _check_definition(dict(name=name, trigger=trigger, list_id=list_id, cameras=cameras, priority=priority,
                                   enabled=enabled, webhook_url=webhook_url, webhook_timeout=webhook_timeout,
                                   webhook_retries=webhook_retries, command=command,
                                   retroactive_outputs=retroactive_outputs))
        d = AlarmDefinition.__table__
        async with self._guard(_("Cannot save the alarm definition. Try again later.")), self.db.write() as s:
            await self._check_stored(s, v)
            new_id = (await s.execute(sa.insert(d).values(
                **{**v, "cameras": json.dumps(v["cameras"])}, changed_at=utcnow()).returning(d.c.id))).scalar_one()
            outputs = _outputs_text(v)
            audit.record(s, actor, audit.PROPERTY_ADDED, f"alarm definition {new_id}",
                         f"{v['name']}: {v['trigger']}" + (f"; {outputs}" if outputs else ""))
            await self._changed(s, Topic.ALARM_DEFINITIONS)
            row = (await s.execute(sa.select(d).where(d.c.id == new_id))).one()
        return _definition(row)

    async def update_definition(self, actor: Actor, definition_id: int, **changes: object) -> DefinitionView:
        """Change some fields of a definition: ``name``, ``trigger``, ``list_id``, ``cameras``,
        ``priority``, ``enabled``, ``webhook_url``, ``webhook_timeout``, ``webhook_retries``,
        ``command``, ``retroactive_outputs`` (the same checks as :meth:`define`; "" clears an
        output).  A trigger changed away from "list" drops the list unless ``list_id`` is given too.  Alarms already raised
        keep what they copied; their pending outputs run with the definition as it is then."""
        require(actor, Feature.PROPERTIES, Level.MANAGE)
        known = ("name", "trigger", "list_id", "cameras", "priority", "enabled", "webhook_url", "webhook_timeout",
                 "webhook_retries", "command", "retroactive_outputs")
        unknown = sorted(set(changes) - set(known))
        if unknown:
            raise TypeError(f"update_definition() got unknown fields: {', '.join(unknown)}")
        d = AlarmDefinition.__table__
        async with self._guard(_("Cannot save the alarm definition. Try again later.")), self.db.write() as s:
            row = (await s.execute(sa.select(d).where(d.c.id == definition_id))).first()
            if row is None:
                raise NotFound(_("Alarm definition: no definition has ID {id}.").format(id=definition_id))
            before = _definition(row)
            old = {k: getattr(before, k) for k in known}
            new = {**old, **changes}
            if "trigger" in changes and new["trigger"] != "list" and "list_id" not in changes:
                new["list_id"] = None
            v = _check_definition(new)
            old["cameras"] = list(old["cameras"])
            changed = [k for k in known if v[k] != old[k]]
            if not changed:
                return before
            await self._check_stored(s, v, except_id=definition_id,
                                     check_list="list_id" in changed or "trigger" in changed)
            await s.execute(sa.update(d).where(d.c.id == definition_id).values(
                **{k: (json.dumps(v[k]) if k == "cameras" else v[k]) for k in changed}, changed_at=utcnow()))
            audit.record(s, actor, audit.PROPERTY_EDITED, f"alarm definition {definition_id}",
                         f"{v['name']}: " + "; ".join(f"{k} {_shown(k, old[k])} -> {_shown(k, v[k])}" for k in changed))
            await self._changed(s, Topic.ALARM_DEFINITIONS)
            row = (await s.execute(sa.select(d).where(d.c.id == definition_id))).one()
        return _definition(row)

    @staticmethod
    async def _check_stored(s, v: dict, *, except_id: int | None = None,  # noqa: ANN001
                            check_list: bool = True) -> None:
        """What only the database can say: the list exists, the name is free."""
        d = AlarmDefinition.__table__
        if check_list and v["list_id"] is not None and not (await s.execute(sa.select(MatchList.__table__.c.id).where(
                MatchList.__table__.c.id == v["list_id"]))).first():
            raise InvalidInput("list", _("Match list: no list has ID {id}; see imtui matchlist list.").format(
                id=v["list_id"]))
        same = sa.select(d.c.id).where(sa.func.lower(d.c.name) == v["name"].lower())
        if except_id is not None:
            same = same.where(d.c.id != except_id)
        if (await s.execute(same)).first():
            raise InvalidInput("name", _("Alarm definition: {name!r} exists; choose another name.").format(
                name=v["name"]))

    async def delete_definition(self, actor: Actor, definition_id: int) -> None:
        """Raised alarms stay (they copied the name and priority)."""
        require(actor, Feature.PROPERTIES, Level.MANAGE)
        d = AlarmDefinition.__table__
        async with self._guard(_("Cannot delete the alarm definition. Try again later.")), self.db.write() as s:
            row = (await s.execute(sa.select(d).where(d.c.id == definition_id))).first()
            if row is None:
                raise NotFound(_("Alarm definition: no definition has ID {id}.").format(id=definition_id))
            await s.execute(sa.delete(d).where(d.c.id == definition_id))
            audit.record(s, actor, audit.PROPERTY_DELETED, f"alarm definition {definition_id}", row.name)
            await self._changed(s, Topic.ALARM_DEFINITIONS)

    # -- the alarm manager (operators) ------------------------------------------------------------
    async def alarms(self, actor: Actor, *, states: Sequence[str] = (), limit: int = 200) -> list[AlarmView]:
        """Newest first."""
        require(actor, Feature.INCIDENTS, Level.VIEW)
        a = Alarm.__table__
        stmt = _alarms().order_by(a.c.at.desc(), a.c.id.desc()).limit(max(1, min(limit, 10_000)))
        if states:
            stmt = stmt.where(a.c.state.in_(list(states)))
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            return [_alarm(r) for r in (await s.execute(stmt)).all()]

    async def newer(self, actor: Actor, after_id: int) -> list[AlarmView]:
        """Alarms raised after ``after_id``, oldest first (what an open TUI has not shown yet)."""
        require(actor, Feature.INCIDENTS, Level.VIEW)
        a = Alarm.__table__
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            rows = (await s.execute(_alarms().where(a.c.id > after_id).order_by(a.c.id).limit(100))).all()
        return [_alarm(r) for r in rows]

    async def latest_id(self, actor: Actor) -> int:
        require(actor, Feature.INCIDENTS, Level.VIEW)
        a = Alarm.__table__
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            return int((await s.execute(sa.select(sa.func.coalesce(sa.func.max(a.c.id), 0)))).scalar_one())

    async def get(self, actor: Actor, alarm_id: int) -> tuple[AlarmView, list[LogView]]:
        require(actor, Feature.INCIDENTS, Level.VIEW)
        a, lg = Alarm.__table__, AlarmLog.__table__
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            row = (await s.execute(_alarms().where(a.c.id == alarm_id))).first()
            if row is None:
                raise NotFound(_("Alarm: no alarm has ID {id}.").format(id=alarm_id))
            log = (await s.execute(sa.select(lg).where(lg.c.alarm_id == alarm_id).order_by(lg.c.id))).all()
        return _alarm(row), [LogView(x.at, x.user, x.action, x.details) for x in log]

    @staticmethod
    async def _row(s, alarm_id: int):  # noqa: ANN001, ANN205
        a = Alarm.__table__
        row = (await s.execute(sa.select(a).where(a.c.id == alarm_id))).first()
        if row is None:
            raise NotFound(_("Alarm: no alarm has ID {id}.").format(id=alarm_id))
        return row

    async def set_state(self, actor: Actor, alarm_id: int, state: str) -> AlarmView:
        require(actor, Feature.INCIDENTS, Level.MANAGE)
        if state not in STATES:
            raise InvalidInput("state", _("State: {s!r} is not known; use {known}.").format(
                s=state, known=", ".join(STATES)))
        return await self._change(actor, alarm_id, "state", {"state": state},
                                  lambda row: f"{STATE_NAMES[row.state]} -> {STATE_NAMES[state]}")

    async def assign_to_me(self, actor: Actor, alarm_id: int) -> AlarmView:
        require(actor, Feature.INCIDENTS, Level.MANAGE)
        return await self._change(actor, alarm_id, "assigned", {"assigned_to": actor.name},
                                  lambda row: f"{row.assigned_to or '-'} -> {actor.name}")

    async def comment(self, actor: Actor, alarm_id: int, text: str) -> AlarmView:
        require(actor, Feature.INCIDENTS, Level.MANAGE)
        text = (text or "").strip()
        if not text or len(text) > 2000:
            raise InvalidInput("comment", _("Comment: write 1 to 2,000 characters."))
        return await self._change(actor, alarm_id, "comment", {}, lambda _row: text)

    async def _change(self, actor: Actor, alarm_id: int, action: str, values: dict, details) -> AlarmView:  # noqa: ANN001
        a = Alarm.__table__
        async with self._guard(_("Cannot save the alarm. Try again later.")), self.db.write() as s:
            row = await self._row(s, alarm_id)
            if values:
                await s.execute(sa.update(a).where(a.c.id == alarm_id).values(**values))
            _log(s, alarm_id, actor.name, action, details(row))
            await self._changed(s, Topic.ALARMS)
            return _alarm((await s.execute(_alarms().where(a.c.id == alarm_id))).one())

    async def to_incident(self, actor: Actor, alarm_id: int, type_id: int | None,
                          incidents) -> int:  # noqa: ANN001 - an IncidentService
        """An incident project of the alarm, linked both ways, in one guarded transaction
        (``imtui.engine.alarm_incident``).  ``type_id`` None: the type set for alarm projects
        (TypeNeeded when none is); a second call, or the slower of two operators, gets
        AlreadyLinked naming the project."""
        return await AlarmIncidents(self.db, incidents).make(actor, alarm_id, type_id)

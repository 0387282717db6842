"""Alarms (architecture 002, "View and manage alarms"; manual 004, "Alarms triggered by LPR").

Definitions say what raises an alarm: a match list (a plate matched it) or a camera event (connection
lost / running), from which cameras, with which priority.  The worker raises alarms in the same
transaction as the match or event that caused them (``raise_for_matches`` / ``raise_for_event``).
Operators handle them: New -> In progress / On hold -> Closed, assign to me, comment; every change
is logged per alarm.  One call turns an alarm into an incident project with a sequence from 10 s
before to 10 s after the read on its camera, linked both ways (the alarm keeps the project's ID,
the project's activity log names the alarm).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from imtui.engine import audit
from imtui.engine.base import Service, announce
from imtui.engine.errors import InvalidInput, NotFound
from imtui.engine.permissions import Actor, Feature, Level, require
from imtui.engine.times import utcnow
from imtui.i18n import _
from imtui.storage.models import Activity, Alarm, AlarmDefinition, AlarmLog, MatchList

STATES = ("new", "in_progress", "on_hold", "closed")
STATE_NAMES = {"new": "New", "in_progress": "In progress", "on_hold": "On hold", "closed": "Closed"}
EVENT_TRIGGERS = ("camera_lost", "camera_running", "server_not_responding", "server_responding")
TRIGGERS = ("list", *EVENT_TRIGGERS)
PRIORITIES = {1: "High", 2: "Medium", 3: "Low"}
AROUND = timedelta(seconds=10)  # the project's sequence: this long before and after the read


@dataclass(frozen=True)
class DefinitionView:
    id: int
    name: str
    trigger: str
    list_id: int | None
    cameras: tuple[int, ...]  # empty: all cameras
    priority: int
    enabled: bool


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


@dataclass(frozen=True)
class LogView:
    at: datetime
    user: str
    action: str
    details: str


def _definition(r) -> DefinitionView:  # noqa: ANN001
    return DefinitionView(r.id, r.name, r.trigger, r.list_id, tuple(json.loads(r.cameras or "[]")), r.priority,
                          bool(r.enabled))


def _alarm(r) -> AlarmView:  # noqa: ANN001
    return AlarmView(r.id, r.at, r.name, r.priority, r.state, r.assigned_to, r.object, r.tag, r.type, r.camera_id,
                     r.incident_id, r.message)


def _log(s, alarm_id: int, user: str, action: str, details: str = "") -> None:  # noqa: ANN001
    s.add(AlarmLog(alarm_id=alarm_id, at=utcnow(), user=user, action=action, details=details))


async def _definitions_for(s, trigger: str, camera_id: int | None, list_id: int | None = None) -> list:  # noqa: ANN001
    d = AlarmDefinition.__table__
    stmt = sa.select(d).where(d.c.enabled == sa.true(), d.c.trigger == trigger)
    if list_id is not None:
        stmt = stmt.where(d.c.list_id == list_id)
    return [r for r in (await s.execute(stmt)).all()
            if not json.loads(r.cameras or "[]") or camera_id in json.loads(r.cameras)]


async def raise_for_matches(s, db, matches: Sequence[dict]) -> int:  # noqa: ANN001
    """Alarms for stored list matches (dicts with ``id`` and the plate_match columns); called in
    the transaction that stored them.  Returns how many were raised."""
    raised = 0
    for m in matches:
        for d in await _definitions_for(s, "list", m["camera_id"], m["list_id"]):
            alarm_id = (await s.execute(sa.insert(Alarm.__table__).values(
                at=m["at"], definition_id=d.id, name=d.name, priority=d.priority, state="new", assigned_to="",
                object=m["plate"], tag=m.get("country", ""), type=m["list_name"], camera_id=m["camera_id"],
                match_id=m["id"], event_id=None, incident_id=None,
                message=(_("{plate} matched {list} ({rule}), found after the read.") if m.get("retroactive") else
                         _("{plate} matched {list} ({rule}).")).format(plate=m["plate"], list=m["list_name"],
                                                                       rule=m["rule"]),
            ).returning(Alarm.__table__.c.id))).scalar_one()
            _log(s, alarm_id, "system", "raised", d.name)
            raised += 1
    if raised:
        await announce(s, db, "alarm")  # open TUIs show new alarms within their poll (2 s) or at once (PG)
    return raised


async def raise_for_event(s, db, kind: str, camera_id: int | None, message: str, at: datetime,  # noqa: ANN001
                          event_id: int | None = None) -> int:
    raised = 0
    for d in await _definitions_for(s, kind, camera_id):
        alarm_id = (await s.execute(sa.insert(Alarm.__table__).values(
            at=at, definition_id=d.id, name=d.name, priority=d.priority, state="new", assigned_to="", object="",
            tag="", type=kind, camera_id=camera_id, match_id=None, event_id=event_id, incident_id=None,
            message=message).returning(Alarm.__table__.c.id))).scalar_one()
        _log(s, alarm_id, "system", "raised", d.name)
        raised += 1
    if raised:
        await announce(s, db, "alarm")
    return raised


class AlarmService(Service):
    # -- definitions (administrators) ---------------------------------------------------------------
    async def definitions(self, actor: Actor) -> list[DefinitionView]:
        require(actor, Feature.PROPERTIES, Level.VIEW)
        d = AlarmDefinition.__table__
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            return [_definition(r) for r in (await s.execute(sa.select(d).order_by(d.c.name))).all()]

    async def define(self, actor: Actor, name: str, trigger: str, *, list_id: int | None = None,
                     cameras: Sequence[int] = (), priority: int = 2, enabled: bool = True) -> DefinitionView:
        require(actor, Feature.PROPERTIES, Level.MANAGE)
        name = (name or "").strip()
        if not name or len(name) > 100:
            raise InvalidInput("name", _("Alarm definition: give a name of 1 to 100 characters."))
        if trigger not in TRIGGERS:
            raise InvalidInput("trigger", _("Trigger: {t!r} is not known; use {known}.").format(
                t=trigger, known=", ".join(TRIGGERS)))
        if priority not in PRIORITIES:
            raise InvalidInput("priority", _("Priority: use 1 (high), 2 (medium) or 3 (low)."))
        if (trigger == "list") != (list_id is not None):
            raise InvalidInput("list", _("Trigger: a match-list alarm needs its list, and only it has one."))
        d = AlarmDefinition.__table__
        async with self._guard(_("Cannot save the alarm definition. Try again later.")), self.db.write() as s:
            if list_id is not None and not (await s.execute(sa.select(MatchList.__table__.c.id).where(
                    MatchList.__table__.c.id == list_id))).first():
                raise InvalidInput("list", _("Match list: no list has ID {id}; see imtui matchlist list.").format(id=list_id))
            if (await s.execute(sa.select(d.c.id).where(sa.func.lower(d.c.name) == name.lower()))).first():
                raise InvalidInput("name", _("Alarm definition: {name!r} exists; choose another name.").format(name=name))
            new_id = (await s.execute(sa.insert(d).values(
                name=name, trigger=trigger, list_id=list_id, cameras=json.dumps(sorted(set(cameras))),
                priority=priority, enabled=enabled, changed_at=utcnow()).returning(d.c.id))).scalar_one()
            audit.record(s, actor, audit.PROPERTY_ADDED, f"alarm definition {new_id}", f"{name}: {trigger}")
            await self._changed(s, f"alarmdef {new_id}")
            row = (await s.execute(sa.select(d).where(d.c.id == new_id))).one()
        return _definition(row)

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
            await self._changed(s, f"alarmdef {definition_id}")

    # -- the alarm manager (operators) ------------------------------------------------------------
    async def alarms(self, actor: Actor, *, states: Sequence[str] = (), limit: int = 200) -> list[AlarmView]:
        """Newest first."""
        require(actor, Feature.INCIDENTS, Level.VIEW)
        a = Alarm.__table__
        stmt = sa.select(a).order_by(a.c.at.desc(), a.c.id.desc()).limit(max(1, min(limit, 10_000)))
        if states:
            stmt = stmt.where(a.c.state.in_(list(states)))
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            return [_alarm(r) for r in (await s.execute(stmt)).all()]

    async def newer(self, actor: Actor, after_id: int) -> list[AlarmView]:
        """Alarms raised after ``after_id``, oldest first (what an open TUI has not shown yet)."""
        require(actor, Feature.INCIDENTS, Level.VIEW)
        a = Alarm.__table__
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            rows = (await s.execute(sa.select(a).where(a.c.id > after_id).order_by(a.c.id).limit(100))).all()
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
            row = await self._row(s, alarm_id)
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
            await self._changed(s, f"alarm {alarm_id}")
            return _alarm(await self._row(s, alarm_id))

    async def to_incident(self, actor: Actor, alarm_id: int, type_id: int, incidents) -> int:  # noqa: ANN001
        """An incident project of the alarm: the alarm's plate in the description, a sequence of
        its camera from 10 s before to 10 s after the read; the alarm goes In progress (if New)
        and keeps the project's ID; the project's activity log names the alarm.  A second call
        returns the same project."""
        from imtui.engine.incidents import SequenceInput

        require(actor, Feature.INCIDENTS, Level.MANAGE)
        view, _log_rows = await self.get(actor, alarm_id)
        if view.incident_id is not None:
            return view.incident_id
        description = _("Alarm {id} “{name}”: {message}").format(id=view.id, name=view.name, message=view.message)
        if view.object:
            description += "\n" + _("Plate: {plate}").format(plate=view.object)
        sequences = [SequenceInput(view.camera_id, view.at - AROUND, view.at + AROUND)] if view.camera_id else []
        incident_id = await incidents.create(actor, type_id, description, sequences)
        a = Alarm.__table__
        async with self._guard(_("Cannot save the alarm. Try again later.")), self.db.write() as s:
            await s.execute(sa.update(a).where(a.c.id == alarm_id).values(
                incident_id=incident_id, state=sa.case((a.c.state == "new", "in_progress"), else_=a.c.state)))
            _log(s, alarm_id, actor.name, "project", _("incident project {id} created").format(id=incident_id))
            s.add(Activity(incident_id=incident_id, at=utcnow(), user=actor.name, action="created from alarm",
                           details=_("alarm {id} “{name}”").format(id=alarm_id, name=view.name)))
            await self._changed(s, f"alarm {alarm_id}")
        return incident_id

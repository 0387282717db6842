"""Reads → matches → alarms: the one path from stored recognitions to raised alarms.

The worker calls it with the passages it has just stored (live), and a match list that gains plates
calls it with the day's reads that the new plates match (retroactive, "found after the read").
Each read's hits are stored as ``plate_match`` rows and each match raises one alarm per enabled
definition of its list that covers the camera.  Both steps are idempotent, enforced by unique
indexes: a read matches a list once (``ux_plate_match_once``) and a match raises a definition's
alarm once (``ux_alarm_match``); calling this again for the same reads, from a retry or a second
worker, raises nothing more.

Outputs (webhook, command): an alarm of a definition with outputs is stored ``actions_pending`` and
a worker runs them once (engine/alarm_actions.py claims each alarm).  A retroactive alarm runs no
output (the car has gone: issue 14 measured a gate opening for a car that had left 15 s before)
unless its definition has ``retroactive_outputs``; its message and log say "found after the read".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from imtui.engine.base import announce
from imtui.engine.matchlists.matcher import Hit, entry_fields, match_row
from imtui.engine.times import utcnow
from imtui.i18n import _
from imtui.storage.changes import Topic
from imtui.storage.db import Database
from imtui.storage.models import Alarm, AlarmDefinition, AlarmLog, PlateMatch
from imtui.storage.upsert import insert_or_ignore


@dataclass(frozen=True)
class StoredRead:
    """A stored recognition (one vehicle passage)."""

    id: int
    camera_id: int
    plate: str
    country: str
    at: datetime  # first seen


@dataclass(frozen=True)
class RaisedAlarm:
    id: int
    definition_id: int
    name: str
    read_id: int
    match_id: int
    camera_id: int
    plate: str
    list_name: str
    retroactive: bool  # found after the read
    outputs: bool  # its outputs will run


@dataclass(frozen=True)
class FlowResult:
    matches: int  # plate_match rows stored
    alarms: tuple[RaisedAlarm, ...]


Finder = Callable[[StoredRead], Sequence[Hit]]


async def alarms_for_reads(db: Database, reads: Sequence[StoredRead], find: Finder, *, retroactive: bool = False,
                           session: AsyncSession | None = None) -> FlowResult:
    """Match ``reads`` with ``find`` (the worker's in-memory lists, or a list's new plates), store the
    matches and raise their alarms, in one transaction of its own; returns what was stored and raised.
    ``session``: a list gaining plates makes what they found part of that change (one transaction)."""
    found = [(r, hit) for r in reads for hit in find(r)]
    if not found:
        return FlowResult(0, ())
    if session is not None:
        return await _flow(session, db, found, retroactive)
    async with db.write() as s:
        return await _flow(s, db, found, retroactive)


async def _flow(s: AsyncSession, db: Database, found: list[tuple[StoredRead, Hit]], retroactive: bool) -> FlowResult:
    fields = await entry_fields(s, [hit.entry.id for _r, hit in found if hit.entry is not None])
    m = PlateMatch.__table__
    rows = [match_row(hit, r.id, r.camera_id, r.plate, r.at, fields, retroactive=retroactive) for r, hit in found]
    stored = (await s.execute(insert_or_ignore(m, ("recognition_id", "list_id"), is_sqlite=db.is_sqlite)
                              .returning(m.c.id, m.c.recognition_id, m.c.list_id), rows)).all()
    match_ids = {(x.recognition_id, x.list_id): x.id for x in stored}  # the matches new to the database
    definitions = await _list_definitions(s, sorted({hit.list_id for _r, hit in found}))
    raised: list[RaisedAlarm] = []
    a = Alarm.__table__
    for (read, hit), row in zip(found, rows, strict=True):
        match_id = match_ids.get((read.id, hit.list_id))
        if match_id is None:
            continue  # matched before (a retry, another worker): its alarms were raised then
        for d in definitions.get(hit.list_id, []):
            cameras = json.loads(d.cameras or "[]")
            if cameras and read.camera_id not in cameras:
                continue
            outputs = bool(d.webhook_url or d.command) and (not retroactive or bool(d.retroactive_outputs))
            message = (_("{plate} matched {list} ({rule}), found after the read.") if retroactive else
                       _("{plate} matched {list} ({rule}).")).format(plate=read.plate, list=hit.list_name,
                                                                      rule=hit.rule)
            alarm_id = (await s.execute(insert_or_ignore(a, ("definition_id", "match_id"), is_sqlite=db.is_sqlite)
                                        .values(at=read.at, definition_id=d.id, name=d.name, priority=d.priority,
                                                state="new", assigned_to="", object=read.plate, tag=read.country,
                                                type=hit.list_name, camera_id=read.camera_id, match_id=match_id,
                                                event_id=None, incident_id=None, actions_pending=outputs,
                                                message=message).returning(a.c.id))).scalar()
            if alarm_id is None:
                continue
            s.add(AlarmLog(alarm_id=alarm_id, at=utcnow(), user="system", action="raised", details=d.name))
            if retroactive and (d.webhook_url or d.command):  # why the gate did not open (or did)
                s.add(AlarmLog(alarm_id=alarm_id, at=utcnow(), user="system", action="action", details=(
                    _("outputs run although the alarm was found after the read (the definition allows it)") if outputs
                    else _("outputs not run: the alarm was found after the read, the vehicle has passed"))))
            raised.append(RaisedAlarm(alarm_id, d.id, d.name, read.id, match_id, read.camera_id, read.plate,
                                      hit.list_name, retroactive, outputs))
    if raised:
        await announce(s, db, Topic.ALARMS)  # open TUIs show new alarms at once (PG) or within their poll
    return FlowResult(len(match_ids), tuple(raised))


async def _list_definitions(s: AsyncSession, list_ids: list[int]) -> dict[int, list]:
    d = AlarmDefinition.__table__
    out: dict[int, list] = {}
    for row in (await s.execute(sa.select(d).where(d.c.enabled == sa.true(), d.c.trigger == "list",
                                                   d.c.list_id.in_(list_ids)).order_by(d.c.id))).all():
        out.setdefault(row.list_id, []).append(row)
    return out

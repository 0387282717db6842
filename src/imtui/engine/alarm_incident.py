"""Alarm -> incident project (architecture 002, "View and manage alarms"): the one flow that turns
an alarm into a project, in one transaction.

Why one guarded transaction: two operators may press "project" on the same alarm at the same
moment.  The alarm row is read with ``FOR UPDATE`` (PostgreSQL: the second operator waits for
the first to commit, then sees the project; SQLite's write transactions are serial anyway), and
the link is written with ``UPDATE alarm ... WHERE incident_id IS NULL`` whose row count must be
1: whatever path a second caller takes, it gets :class:`AlreadyLinked` naming the project that
exists, and its transaction - the project it was making included - rolls back, so no second
project, log line or activity entry is stored.

The project: the alarm and its message in the description, the plate on its own line, a
sequence of the alarm's camera from 10 s before to 10 s after the read; the project's activity
log gets the code ``from_alarm`` (translated when shown) naming the alarm, the alarm's log the
project, and a New alarm goes In progress.  Its type is the one the administrator set for alarm
projects (``PropertyService.set_options(alarm_type_id=...)``), or the one the caller passes (the
operator's choice); with neither, :class:`TypeNeeded` asks the caller to let the operator choose.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from imtui.engine import activity as act
from imtui.engine.base import Service
from imtui.engine.errors import NotFound, ServiceError
from imtui.engine.incidents import IncidentService, SequenceInput
from imtui.engine.permissions import Actor, Feature, Level, require
from imtui.engine.properties import read_options
from imtui.engine.times import utcnow
from imtui.i18n import _
from imtui.storage.changes import Topic
from imtui.storage.db import Database
from imtui.storage.models import Activity, Alarm, AlarmLog

AROUND = timedelta(seconds=10)  # the project's sequence: this long before and after the read


class AlreadyLinked(ServiceError):
    """The alarm has its project already (made by another operator, or earlier): nothing was
    stored by this call.  ``incident_id`` is the project that exists."""

    def __init__(self, alarm_id: int, incident_id: int) -> None:
        super().__init__(_("Alarm {alarm} already has incident project {id}; open that one (nothing else was "
                           "created).").format(alarm=alarm_id, id=incident_id))
        self.alarm_id = alarm_id
        self.incident_id = incident_id


class TypeNeeded(ServiceError):
    """No type is set for alarm projects and the caller gave none: the operator chooses one."""

    def __init__(self) -> None:
        super().__init__(_("Type: no incident type is set for projects made of alarms; choose one, or ask an "
                           "administrator to set it in the options."))


class AlarmIncidents(Service):
    def __init__(self, db: Database, incidents: IncidentService) -> None:
        super().__init__(db)
        self.incidents = incidents

    async def make(self, actor: Actor, alarm_id: int, type_id: int | None = None) -> int:
        """The alarm's project (see the module docstring); returns its ID.  ``type_id`` None:
        the type set for alarm projects."""
        require(actor, Feature.INCIDENTS, Level.MANAGE)
        a = Alarm.__table__
        async with self._guard(_("Cannot create incident project. Try again later.")), self.db.write() as s:
            row = (await s.execute(sa.select(a).where(a.c.id == alarm_id).with_for_update())).first()
            if row is None:
                raise NotFound(_("Alarm: no alarm has ID {id}.").format(id=alarm_id))
            if row.incident_id is not None:
                raise AlreadyLinked(alarm_id, row.incident_id)
            if type_id is None:
                type_id = (await read_options(s)).alarm_type_id
                if type_id is None:
                    raise TypeNeeded()
            description = _("Alarm {id} “{name}”: {message}").format(id=row.id, name=row.name, message=row.message)
            if row.object:
                description += "\n" + _("Plate: {plate}").format(plate=row.object)
            sequences = []
            if row.camera_id is not None:
                require(actor, Feature.SEQUENCES, Level.MANAGE)
                sequences = [SequenceInput(row.camera_id, row.at - AROUND, row.at + AROUND)]
            incident_id = await self.incidents.insert(s, actor, type_id, description, sequences)
            linked = await s.execute(sa.update(a).where(a.c.id == alarm_id, a.c.incident_id.is_(None)).values(
                incident_id=incident_id, state=sa.case((a.c.state == "new", "in_progress"), else_=a.c.state)))
            if linked.rowcount != 1:  # linked meanwhile: the exception rolls this project back
                existing = (await s.execute(sa.select(a.c.incident_id).where(a.c.id == alarm_id))).scalar()
                raise AlreadyLinked(alarm_id, existing) if existing else NotFound(
                    _("Alarm: no alarm has ID {id}.").format(id=alarm_id))
            s.add(AlarmLog(alarm_id=alarm_id, at=utcnow(), user=actor.name, action="project",
                           details=_("incident project {id} created").format(id=incident_id)))
            s.add(Activity(incident_id=incident_id, at=utcnow(), user=actor.name, action=act.FROM_ALARM,
                           details=_("alarm {id} “{name}”").format(id=alarm_id, name=row.name)))
            await self._changed(s, Topic.ALARMS)
        return incident_id

"""The draft sequence list (manual 000): each operator collects sequences first, then adds them
all to a new incident project or the selected ones to an existing project.

The list is persisted per user, so it survives a restart or a lost SSH session.  Adding to a
project goes through IncidentService (same checks, same activity entries) and removes the drafts
it used in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from imtui.engine.base import Service
from imtui.engine.errors import InvalidInput, StaleError
from imtui.engine.incidents import IncidentService, SequenceInput
from imtui.engine.permissions import Actor, Feature, Level, require
from imtui.engine.times import utcnow
from imtui.i18n import _
from imtui.storage.models import Camera, DraftSequence


@dataclass(frozen=True)
class DraftView:
    id: int
    camera_id: int
    camera_name: str
    start_time: datetime
    end_time: datetime


class DraftService(Service):
    def __init__(self, db, incidents: IncidentService | None = None) -> None:  # noqa: ANN001
        super().__init__(db)
        self.incidents = incidents or IncidentService(db)

    async def list(self, actor: Actor) -> list[DraftView]:
        require(actor, Feature.SEQUENCES, Level.VIEW)
        d, c = DraftSequence.__table__, Camera.__table__
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            rows = await s.execute(sa.select(d, c.c.name.label("camera_name")).join(c, c.c.id == d.c.camera_id)
                                   .where(d.c.user == actor.name).order_by(d.c.start_time, d.c.id))
            return [DraftView(r.id, r.camera_id, r.camera_name, r.start_time, r.end_time) for r in rows]

    async def add(self, actor: Actor, camera_id: int, start: datetime, end: datetime) -> int:
        require(actor, Feature.SEQUENCES, Level.MANAGE)
        if end < start:
            raise InvalidInput("end", _("End time: it is before the start time; pick an end after the start."))
        async with self._guard(_("Cannot add sequence. Try again later.")), self.db.write() as s:
            c, d = Camera.__table__, DraftSequence.__table__
            if (await s.execute(sa.select(c.c.id).where(c.c.id == camera_id))).first() is None:
                raise InvalidInput("camera", _("Camera: choose one of the listed cameras."))
            return (await s.execute(sa.insert(d).values(user=actor.name, camera_id=camera_id, start_time=start,
                                                         end_time=end, added_at=utcnow()).returning(d.c.id))).scalar_one()

    async def remove(self, actor: Actor, draft_ids: Iterable[int]) -> None:
        require(actor, Feature.SEQUENCES, Level.MANAGE)
        ids = list(draft_ids)
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.write() as s:
            d = DraftSequence.__table__
            await s.execute(sa.delete(d).where(d.c.user == actor.name, d.c.id.in_(ids)))

    async def _take(self, actor: Actor, draft_ids: list[int] | None) -> list[DraftView]:
        drafts = await self.list(actor)
        if draft_ids is not None:
            wanted = set(draft_ids)
            drafts = [x for x in drafts if x.id in wanted]
            if len(drafts) != len(wanted):
                raise StaleError()  # removed meanwhile (another session of the same user)
        if not drafts:
            raise InvalidInput("drafts", _("Draft sequence list: select at least one sequence."))
        return drafts

    async def add_all_to_new(self, actor: Actor, type_id: int, description: str = "", *,
                             token: str | None = None) -> int:
        """"Add all to new incident project": one project with every draft; the list is emptied.
        ``token``: see IncidentService.create (a retry after a lost answer finds the stored project)."""
        drafts = await self._take(actor, None)
        incident_id = await self.incidents.create(
            actor, type_id, description, [SequenceInput(x.camera_id, x.start_time, x.end_time) for x in drafts],
            token=token)
        await self.remove(actor, [x.id for x in drafts])
        return incident_id

    async def add_to_existing(self, actor: Actor, draft_ids: list[int], incident_id: int) -> None:
        """"Add selected to existing incident project"; the added drafts leave the list."""
        drafts = await self._take(actor, draft_ids)
        await self.incidents.add_sequences(
            actor, incident_id, [SequenceInput(x.camera_id, x.start_time, x.end_time) for x in drafts])
        await self.remove(actor, [x.id for x in drafts])

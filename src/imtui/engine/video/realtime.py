"""Real-time incident projects (manual 000, "Create an incident project in real time").

In live mode the operator starts a project; from then on every camera of the view on screen is
collected.  Switching views ends the period of cameras that left and starts one for cameras that
came in (from that moment).  Saving turns what was collected into sequences of a new project,
created in one transaction with its activity entries by IncidentService.

A sequence is "an uninterrupted period of recordings" (manual 000, glossary): a camera that stopped
recording for a while (no motion, stream lost) gives one sequence per recorded period of the time it
was collected, never one that spans the gap, and a camera that recorded nothing gives none.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from imtui.engine.base import Service
from imtui.engine.errors import InvalidInput
from imtui.engine.incidents import IncidentService, SequenceInput
from imtui.engine.permissions import Actor, Feature, Level, require
from imtui.engine.times import utcnow
from imtui.i18n import _
from imtui.storage.models import Recording


@dataclass(frozen=True)
class Recorded:
    """One recorded period of a camera as the index knows it; an open one is still being recorded,
    so it reaches up to now whatever its last indexed segment says."""

    camera_id: int
    start: datetime
    end: datetime
    open: bool


@dataclass(frozen=True)
class RealtimeSaved:
    incident_id: int
    sequences: int


@dataclass
class RealtimeProject:
    started: datetime
    periods: list[list] = field(default_factory=list)  # [camera_id, start, end | None]

    def active(self) -> set[int]:
        return {p[0] for p in self.periods if p[2] is None}

    def show(self, camera_ids: Iterable[int], at: datetime | None = None) -> None:
        """The view on screen now shows ``camera_ids``: collect those, stop collecting the others."""
        at = at or utcnow()
        wanted = set(camera_ids)
        for p in self.periods:
            if p[2] is None and p[0] not in wanted:
                p[2] = at
        for camera_id in sorted(wanted - self.active()):
            self.periods.append([camera_id, at, None])

    def sequences(self, recorded: Sequence[Recorded], at: datetime) -> list[SequenceInput]:
        """What was both collected and recorded: one sequence per collected period and recorded
        period that overlap, oldest first."""
        out: list[SequenceInput] = []
        for camera_id, start, end in self.periods:
            end = end or at
            for r in recorded:
                if r.camera_id != camera_id:
                    continue
                lo, hi = max(start, r.start), min(end, at if r.open else r.end)
                if lo < hi:
                    out.append(SequenceInput(camera_id, lo, hi))
        return sorted(out, key=lambda q: (q.start_time, q.camera_id))

    def elapsed(self, at: datetime | None = None) -> float:
        return ((at or utcnow()) - self.started).total_seconds()


class RealtimeService(Service):
    def __init__(self, db, incidents: IncidentService) -> None:  # noqa: ANN001
        super().__init__(db)
        self.incidents = incidents

    def start(self, actor: Actor, camera_ids: Iterable[int], at: datetime | None = None) -> RealtimeProject:
        """Start collecting the cameras of the view on screen (refused early if saving would be)."""
        require(actor, Feature.INCIDENTS, Level.MANAGE)
        require(actor, Feature.SEQUENCES, Level.MANAGE)
        at = at or utcnow()
        project = RealtimeProject(at)
        project.show(camera_ids, at)
        if not project.periods:
            raise InvalidInput("view", _("View: it has no cameras; choose a view with cameras first."))
        return project

    async def save(self, actor: Actor, project: RealtimeProject, type_id: int, description: str,
                   at: datetime | None = None, *, token: str | None = None) -> RealtimeSaved:
        """Create the project: one sequence per camera, collected period and recorded period,
        ending now.  ``token``: see IncidentService.create."""
        require(actor, Feature.INCIDENTS, Level.MANAGE)
        at = at or utcnow()
        sequences = project.sequences(await self.recorded(project, at), at)
        return RealtimeSaved(await self.incidents.create(actor, type_id, description, sequences, token=token), len(sequences))

    async def recorded(self, project: RealtimeProject, at: datetime) -> list[Recorded]:
        """The recorded periods of the collected cameras that overlap the project's time."""
        cameras = sorted({p[0] for p in project.periods})
        if not cameras:
            return []
        since = min(p[1] for p in project.periods)
        r = Recording.__table__
        async with self._guard(_("Cannot create incident project. Try again later.")), self.db.read() as s:
            rows = (await s.execute(
                sa.select(r.c.camera_id, sa.func.min(r.c.start_time), sa.func.max(r.c.end_time),
                          sa.func.min(sa.cast(r.c.closed, sa.Integer)))
                .where(r.c.camera_id.in_(cameras), r.c.end_time >= since, r.c.start_time <= at)
                .group_by(r.c.camera_id, r.c.period_start))).all()
        return [Recorded(c, a, b, not bool(closed)) for c, a, b, closed in rows]

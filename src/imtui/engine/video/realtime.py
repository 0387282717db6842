"""Real-time incident projects (manual 000, "Create an incident project in real time").

In live mode the operator starts a project; from then on every camera of the view on screen is
collected.  Switching views ends the period of cameras that left and starts one for cameras that
came in (from that moment).  Saving turns each camera's periods into sequences of a new project,
created in one transaction with its activity entries by IncidentService.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from imtui.engine.base import Service
from imtui.engine.errors import InvalidInput
from imtui.engine.incidents import IncidentService, SequenceInput
from imtui.engine.permissions import Actor, Feature, Level, require
from imtui.engine.times import utcnow
from imtui.i18n import _


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

    def sequences(self, at: datetime) -> list[SequenceInput]:
        return [SequenceInput(c, start, end or at) for c, start, end in self.periods]

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
                   at: datetime | None = None, *, token: str | None = None) -> int:
        """Create the project: one sequence per camera and period, ending now.  ``token``: see
        IncidentService.create."""
        return await self.incidents.create(actor, type_id, description, project.sequences(at or utcnow()),
                                           token=token)

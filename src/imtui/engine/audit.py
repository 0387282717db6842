"""The system audit log (separate from a project's activity log).

Manual 003 puts administrators' property and settings changes, project creation and deletion,
and report generation there; logins follow with the users work.  Entries are written inside the
transaction of the change they describe.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from imtui.engine.base import Service
from imtui.engine.permissions import Actor, Feature, Level, require
from imtui.engine.times import utcnow
from imtui.i18n import _
from imtui.storage.models import AuditEntry

PROPERTY_ADDED = "property_added"
PROPERTY_EDITED = "property_edited"
PROPERTY_DELETED = "property_deleted"
OPTIONS_CHANGED = "options_changed"
PROJECT_CREATED = "project_created"
PROJECT_DELETED = "project_deleted"
REPORT_GENERATED = "report_generated"  # manual 003: reports go to both logs
REPORT_PRINTED = "report_printed"


def record(session: AsyncSession, actor: Actor, action: str, target: str = "", details: str = "") -> None:
    session.add(AuditEntry(at=utcnow(), user=actor.name, action=action, target=target, details=details))


@dataclass(frozen=True)
class AuditView:
    id: int
    at: datetime
    user: str
    action: str
    target: str
    details: str


class AuditService(Service):
    """Reading the system audit log: administrators only."""

    async def entries(
        self, actor: Actor, *, since: datetime | None = None, user: str | None = None, limit: int = 1000
    ) -> list[AuditView]:
        """Newest first."""
        require(actor, Feature.PROPERTIES, Level.VIEW)
        t = AuditEntry.__table__
        stmt = sa.select(t).order_by(t.c.id.desc()).limit(limit)
        if since is not None:
            stmt = stmt.where(t.c.at >= since)
        if user:
            stmt = stmt.where(t.c.user == user)
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.query() as conn:
            return [AuditView(r.id, r.at, r.user, r.action, r.target, r.details) for r in await conn.execute(stmt)]

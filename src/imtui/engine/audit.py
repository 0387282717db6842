"""The system audit log (separate from a project's activity log).

Manual 003 puts administrators' property and settings changes, project creation and deletion,
and report generation there; logins follow with the users work.  Entries are written inside the
transaction of the change they describe.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from imtui.engine.permissions import Actor
from imtui.engine.times import utcnow
from imtui.storage.models import AuditEntry

PROPERTY_ADDED = "property_added"
PROPERTY_EDITED = "property_edited"
PROPERTY_DELETED = "property_deleted"
OPTIONS_CHANGED = "options_changed"
PROJECT_CREATED = "project_created"
PROJECT_DELETED = "project_deleted"


def record(session: AsyncSession, actor: Actor, action: str, target: str = "", details: str = "") -> None:
    session.add(AuditEntry(at=utcnow(), user=actor.name, action=action, target=target, details=details))

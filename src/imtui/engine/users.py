"""Users as the services see them: a trusted name becomes an Actor with its roles' grants."""

from __future__ import annotations

from imtui.engine.permissions import Actor
from imtui.engine.security import SecurityService
from imtui.storage.db import Database


async def resolve_actor(db: Database, name: str) -> Actor:
    """The Actor for a user name, or InvalidInput naming the user field."""
    return await SecurityService(db).actor(name)

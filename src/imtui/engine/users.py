"""Users as the services see them."""

from __future__ import annotations

import sqlalchemy as sa

from imtui.engine.errors import InvalidInput
from imtui.engine.permissions import Actor
from imtui.i18n import _
from imtui.storage.db import Database
from imtui.storage.models import User


async def resolve_actor(db: Database, name: str) -> Actor:
    """The Actor for a user name, or InvalidInput naming the user field."""
    t = User.__table__
    async with db.read() as s:
        row = (await s.execute(sa.select(t.c.name, t.c.role).where(t.c.name == name))).first()
    if row is None:
        raise InvalidInput(
            "user", _("User {name!r} does not exist; pass --user with an existing user name.").format(name=name)
        )
    return Actor(name=row.name, role=row.role)

"""Upgrading a database with data in it keeps the data (both backends)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from imtui.engine.security import SecurityService
from imtui.storage.db import Database
from imtui.storage.migrate import alembic_config


async def test_users_keep_their_role_through_0003(db_url: str) -> None:
    db = Database(db_url)
    try:
        async with db.write_engine.connect() as conn:
            await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "0002"))
            await conn.execute(sa.text(
                "INSERT INTO app_user (name, full_name, role, created_at) VALUES "
                "('boss', '', 'Administrator', CURRENT_TIMESTAMP), ('ops', '', 'operator', CURRENT_TIMESTAMP), "
                "('guest', '', 'custom', CURRENT_TIMESTAMP)"))
            await conn.commit()
        await db.upgrade()
        sec = SecurityService(db)
        assert (await sec.actor("boss")).is_admin
        assert (await sec.actor("ops")).roles == ["operator"]
        assert (await sec.actor("guest")).roles == ["custom"]
    finally:
        await db.dispose()

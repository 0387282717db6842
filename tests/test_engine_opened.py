"""Opening a project does not wait for SQLite's writer lock: the project is read at once and the
"opened" activity entry is written once the lock is free, never lost (engine/opened.py)."""

from __future__ import annotations

import asyncio
import sqlite3

from conftest import OPERATOR
from imtui.engine import activity as act
from imtui.engine.incidents import IncidentService
from imtui.engine.seed import seed_defaults
from imtui.engine.times import utcnow
from imtui.storage.db import Database


def _opened_rows(path: str, incident_id: int) -> list[tuple[str, str]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT user, at FROM activity WHERE incident_id = ? AND action = ?",
                            (incident_id, act.OPENED)).fetchall()
    finally:
        conn.close()


async def test_open_returns_while_another_connection_holds_the_write_lock(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    try:
        await db.upgrade()
        await seed_defaults(db)
        svc = IncidentService(db)
        iid = await svc.create(OPERATOR, (await svc.types())[0].id, "held open")
        path = db.sqlite_path
        assert path
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another operator's long write holds the lock
        try:
            before = utcnow()
            detail = await asyncio.wait_for(svc.open(OPERATOR, iid), 5)  # the busy timeout is 10 s
            assert (detail.id, detail.description) == (iid, "held open")
            await asyncio.sleep(0.5)
            assert _opened_rows(path, iid) == [] and svc.opened.pending == 1  # queued, not lost
        finally:
            holder.execute("COMMIT")
            holder.close()
        assert await svc.opened.flush(30)
        rows = _opened_rows(path, iid)
        assert len(rows) == 1 and rows[0][0] == "operator"
        log = await svc.activity(OPERATOR, iid)
        assert log[0].action == act.OPENED and log[0].at >= before  # stamped with the time of the open
    finally:
        await db.dispose()


async def test_an_opened_entry_survives_an_outage_and_is_stored_once(pg_url: str) -> None:
    """The entry's write fails while PostgreSQL refuses connections (a real proxy in front of
    it), is retried with backoff, and lands exactly once when the server is back."""
    from imtui.engine.opened import OpenedEntry, OpenedLog
    from tcp_proxy import proxy_for

    direct = Database(pg_url)
    await direct.upgrade()
    await seed_defaults(direct)
    svc = IncidentService(direct)
    iid = await svc.create(OPERATOR, (await svc.types())[0].id, "opened during an outage")
    with proxy_for(pg_url) as (proxy, url):
        db = Database(url)
        queue = OpenedLog(db)
        try:
            proxy.set_mode("reset")
            proxy.set_mode("refuse")
            queue.add(OpenedEntry(iid, "operator", utcnow()))
            assert not await queue.flush(1.5)  # refused: kept, not dropped
            assert queue.pending == 1
            proxy.set_mode("pass")
            assert await queue.flush(30)
        finally:
            await queue.close(1)
            await db.dispose()
    log = await svc.activity(OPERATOR, iid)
    await direct.dispose()
    assert [e.action for e in log].count(act.OPENED) == 1

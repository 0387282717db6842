"""The change hub on PostgreSQL while LISTEN cannot be established: it says so, polls meanwhile
(delivering when the server wrote something) and switches back to LISTEN with backoff.

The LISTEN connection goes through a real TCP proxy that refuses it, while the rest of the
database stays reachable: the case of a LISTEN that keeps failing on its own."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import create_async_engine

from conftest import OPERATOR
from imtui.engine.changes import ALL_TOPICS, ChangeHub, Topic
from imtui.engine.incidents import IncidentService
from imtui.engine.seed import seed_defaults
from imtui.storage.db import Database, normalise_url
from tcp_proxy import proxy_for


async def _until(predicate, timeout: float) -> None:  # noqa: ANN001
    end = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < end, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_hub_polls_while_listen_is_refused_and_comes_back(pg_url: str) -> None:
    db = Database(pg_url)
    await db.upgrade()
    await seed_defaults(db)
    svc = IncidentService(db)
    type_id = (await svc.types())[0].id
    delivered: list[frozenset[Topic]] = []
    states: list[bool] = []
    with proxy_for(pg_url) as (proxy, url):
        listen_engine = create_async_engine(normalise_url(url))
        hub = ChangeHub(db, delivered.append, states.append, poll_seconds=0.2, max_backoff=1.0)
        hub._listener.engine = listen_engine  # noqa: SLF001 - only LISTEN goes through the proxy
        proxy.set_mode("refuse")
        try:
            await hub.start()
            assert states == [False] and hub.live is False
            await asyncio.sleep(0.6)  # polling (the WAL position is the whole server's: it may move)
            delivered.clear()
            await svc.create(OPERATOR, type_id, "while LISTEN is refused")
            await _until(lambda: ALL_TOPICS in delivered, 5)  # the poll saw the write
            proxy.set_mode("pass")
            await _until(lambda: hub.live is True, 10)
            assert states == [False, True]
            delivered.clear()
            await svc.create(OPERATOR, type_id, "through NOTIFY again")
            await _until(lambda: frozenset({Topic.INCIDENTS}) in delivered, 5)
        finally:
            await hub.stop()
            await listen_engine.dispose()
            await db.dispose()


async def test_hub_notices_a_black_holed_listen_and_reconnects(pg_url: str) -> None:
    """A link that never closes and never answers: the ping finds it, the hub polls, and LISTEN
    comes back once the link does."""
    db = Database(pg_url)
    await db.upgrade()
    await seed_defaults(db)
    svc = IncidentService(db)
    type_id = (await svc.types())[0].id
    delivered: list[frozenset[Topic]] = []
    states: list[bool] = []
    with proxy_for(pg_url) as (proxy, url):
        listen_engine = create_async_engine(normalise_url(url))
        hub = ChangeHub(db, delivered.append, states.append, poll_seconds=0.2, max_backoff=1.0, ping_seconds=0.5)
        hub._listener.engine = listen_engine  # noqa: SLF001 - only LISTEN goes through the proxy
        hub._listener.timeout = 1.0  # noqa: SLF001 - the ping's bound (5 s in the app)
        try:
            await hub.start()
            assert hub.live is True
            proxy.set_mode("blackhole")
            await _until(lambda: states == [False], 10)
            proxy.restart()  # the link is back (the held connection is gone with it)
            await _until(lambda: hub.live is True, 10)
            assert states == [False, True]
            delivered.clear()
            await svc.create(OPERATOR, type_id, "after the black hole")
            await _until(lambda: frozenset({Topic.INCIDENTS}) in delivered, 5)
        finally:
            await hub.stop()
            await listen_engine.dispose()
            await db.dispose()

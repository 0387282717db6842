"""Shared fixtures: real SQLite files and a real, fresh PostgreSQL database per run.

PostgreSQL: ``IMTUI_TEST_POSTGRES_URL`` (default the local test server).  Each run creates its
own database and drops it at the end.  With ``CI=true`` an unreachable server fails the run;
elsewhere the PostgreSQL variants skip with a message saying how to enable them.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
os.environ.setdefault("TZ", "UTC")

from imtui.engine.permissions import Actor  # noqa: E402
from imtui.engine.seed import seed_defaults, seed_incidents  # noqa: E402
from imtui.storage.db import Database  # noqa: E402

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
ADMIN = Actor("admin", "Administrator")
OPERATOR = Actor("operator", "operator")
VIEWER = Actor("viewer", "viewer")


def _pg_admin_url() -> str:
    return os.environ.get("IMTUI_TEST_POSTGRES_URL", DEFAULT_PG)


async def _pg_exec(url: str, *statements: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    conn = await asyncpg.connect(host=u.host, port=u.port or 5432, user=u.username, password=u.password,
                                 database=u.database, timeout=5)
    try:
        for stmt in statements:
            await conn.execute(stmt)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A fresh database on the PostgreSQL test server for this run; yields its URL."""
    from sqlalchemy.engine import make_url

    admin_url = _pg_admin_url()
    name = f"imtui_test_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_pg_exec(admin_url, f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL at {admin_url} is unreachable in CI: {exc}", pytrace=False)
        pytest.skip(
            f"PostgreSQL not reachable ({exc}); start it or set IMTUI_TEST_POSTGRES_URL to run these tests"
        )
    yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    asyncio.run(_pg_exec(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def pg_url(postgres_server: str) -> str:
    """The run's PostgreSQL database, emptied for this test."""
    asyncio.run(_pg_exec(postgres_server, "DROP SCHEMA public CASCADE", "CREATE SCHEMA public"))
    return postgres_server


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # noqa: ANN001
    """An empty database URL on each backend.  PostgreSQL tests share the run's database, so
    each test starts by dropping whatever the previous one left."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'imtui.db'}"
        return
    yield request.getfixturevalue("pg_url")


@pytest.fixture
def sqlite_url(tmp_path) -> str:  # noqa: ANN001
    return f"sqlite+aiosqlite:///{tmp_path / 'imtui.db'}"


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    """An upgraded database with the default properties, users and cameras."""
    database = Database(db_url)
    await database.upgrade()
    await seed_defaults(database, cameras=4)
    yield database
    await database.dispose()


async def seeded(url: str, incidents: int) -> None:
    """Give ``url`` the default world and ``incidents`` synthetic incidents."""
    database = Database(url)
    try:
        await database.upgrade()
        await seed_defaults(database, cameras=4)
        await seed_incidents(database, incidents)
    finally:
        await database.dispose()

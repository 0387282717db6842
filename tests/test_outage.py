"""A database outage (issue 14, findings 6 and 7): PostgreSQL refused, reset and black-holed through
a real TCP proxy, a COMMIT whose answer is lost, and a locked SQLite file.  Every failure gives the
manual's message within the configured bound (here 1 s), its traceback goes to imtui.log, no driver
text reaches the operator, and a retry after the outage never stores a second row."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from conftest import OPERATOR
from imtui.applog import setup_logging
from imtui.engine.errors import OutcomeUnknown, UnavailableError
from imtui.engine.incidents import IncidentService
from imtui.engine.seed import seed_defaults
from imtui.engine.video.media import SegmentInfo
from imtui.engine.video.worker import Worker
from imtui.storage.db import Database, DbTimeouts
from imtui.storage.models import Comment, Recording
from recording import settings_for
from tcp_proxy import TcpProxy, proxy_for

BOUND = 1.0
SLACK = 4.0  # a loaded 2-core CI machine: the bound is what matters, not this margin
FAST = DbTimeouts(connect=BOUND, pool=BOUND, statement=BOUND)
DRIVER_WORDS = ("sqlalchemy", "asyncpg", "Errno", "Error", "sqlite3", "locked", "connection")
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


class AckLossProxy(TcpProxy):
    """Forwards the client's bytes but, while ``mute``, drops the server's answers: a COMMIT that
    the server stores but whose answer never reaches the client."""

    mute = False

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        to_client = writer.get_extra_info("sockname")[1] == self.port
        while data := await reader.read(65536):
            if to_client and self.mute:
                continue
            if writer.is_closing():
                break
            writer.write(data)
            await writer.drain()
        if not writer.is_closing():
            writer.close()


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    """imtui.log as the app and the CLI set it up."""
    handler = setup_logging(tmp_path / "imtui.log", logging.INFO)
    yield tmp_path / "imtui.log"
    logging.getLogger().removeHandler(handler)
    handler.close()


async def _world(url: str) -> int:
    db = Database(url)
    try:
        await db.upgrade()
        await seed_defaults(db, cameras=2)
        svc = IncidentService(db)
        return await svc.create(OPERATOR, (await svc.types())[0].id, "Barrier hit")
    finally:
        await db.dispose()


async def _comments(url: str, text: str) -> int:
    db = Database(url)
    try:
        async with db.read() as s:
            cm = Comment.__table__
            return (await s.execute(sa.select(sa.func.count()).where(cm.c.text == text))).scalar_one()
    finally:
        await db.dispose()


async def _timed(call) -> tuple[BaseException, float]:  # noqa: ANN001
    start = time.monotonic()
    with pytest.raises(UnavailableError) as err:
        await asyncio.wait_for(call, 15)  # without the bounds a black hole waits forever
    return err.value, time.monotonic() - start


@pytest.mark.parametrize("mode", ["refuse", "reset", "blackhole"])
async def test_postgres_outage_gives_the_manuals_message_within_the_bound(pg_url: str, mode: str,
                                                                         log_file: Path) -> None:
    iid = await _world(pg_url)
    with proxy_for(pg_url) as (proxy, url):
        db = Database(url, FAST)
        svc = IncidentService(db)
        try:
            await svc.types()  # a pooled connection, as in a running TUI
            if mode == "refuse":
                proxy.restart()  # the server went down: its connections reset, new ones refused
            proxy.set_mode(mode)
            token = uuid.uuid4().hex
            for call, message in [
                (svc.add_comment(OPERATOR, iid, "Gate 3 closed", token=token), "Cannot save comment. Try again later."),
                (svc.get(OPERATOR, iid), "Cannot perform this action. Try again later."),
                (svc.types(), "Cannot perform this action. Try again later."),
            ]:
                err, seconds = await _timed(call)
                assert err.message == message, err.message
                assert seconds < BOUND + SLACK, (mode, seconds)
            logged = log_file.read_text(encoding="utf-8")
            assert "Traceback" in logged and "Cannot save comment" in logged
            proxy.set_mode("pass")  # the outage ends: the same save (same token) stores one comment
            await svc.add_comment(OPERATOR, iid, "Gate 3 closed", token=token)
            await svc.add_comment(OPERATOR, iid, "Gate 3 closed", token=token)
        finally:
            await db.dispose()
    assert await _comments(pg_url, "Gate 3 closed") == 1


@pytest.fixture
def ack_loss(pg_url: str) -> Iterator[tuple[AckLossProxy, str]]:
    with proxy_for(pg_url, AckLossProxy) as (proxy, url):
        yield proxy, url  # type: ignore[misc] - an AckLossProxy


def _lose_next_commit_answer(db: Database, proxy: AckLossProxy) -> None:
    armed = [True]

    def mute(_conn) -> None:  # noqa: ANN001 - fires as the COMMIT is sent
        if armed[0]:
            armed[0] = False
            proxy.mute = True

    event.listen(db.write_engine.sync_engine, "commit", mute)


async def test_a_lost_commit_answer_is_told_and_the_retry_stores_one_comment(
        pg_url: str, ack_loss: tuple[AckLossProxy, str], log_file: Path) -> None:
    proxy, url = ack_loss
    iid = await _world(pg_url)
    db = Database(url, FAST)
    svc = IncidentService(db)
    try:
        token = uuid.uuid4().hex
        _lose_next_commit_answer(db, proxy)
        err, seconds = await _timed(svc.add_comment(OPERATOR, iid, "Call the police", token=token))
        assert isinstance(err, OutcomeUnknown) and seconds < BOUND + SLACK
        assert "may have been saved" in err.message and "not be stored twice" in err.message
        assert not any(word in err.message for word in DRIVER_WORDS)
        assert await _comments(pg_url, "Call the police") == 1  # the server did store it
        proxy.mute = False
        first = await svc.add_comment(OPERATOR, iid, "Call the police", token=token)  # the operator saves again
        assert await _comments(pg_url, "Call the police") == 1
        assert first == await svc.add_comment(OPERATOR, iid, "Call the police", token=token)
        assert "did not answer the COMMIT" in log_file.read_text(encoding="utf-8")
    finally:
        await db.dispose()


def _segment(path: str, frames: int, closed: bool) -> SegmentInfo:
    return SegmentInfo(camera_id=1, period_start=T0, start_time=T0, end_time=T0 + timedelta(seconds=frames / 4),
                       path=path, frame_count=frames, bytes=frames * 1000, width=64, height=48, closed=closed)


async def _recordings(url: str) -> list[tuple[str, int, bool]]:
    db = Database(url)
    try:
        async with db.read() as s:
            r = Recording.__table__
            return [tuple(row) for row in (await s.execute(sa.select(r.c.path, r.c.frame_count, r.c.closed)
                                                           .order_by(r.c.id))).all()]
    finally:
        await db.dispose()


async def test_a_segment_closed_while_the_commit_answer_was_lost_keeps_one_row(
        pg_url: str, ack_loss: tuple[AckLossProxy, str], tmp_path: Path) -> None:
    proxy, url = ack_loss
    await _world(pg_url)
    db = Database(url, FAST)
    worker = Worker(db, settings_for(db, tmp_path / "media"))
    try:
        worker.outbox.put((1, _segment("1/a.mkv", 8, False)))
        await worker.flush()
        worker.outbox.put((1, _segment("1/a.mkv", 16, True)))
        _lose_next_commit_answer(db, proxy)
        await asyncio.wait_for(worker.flush(), 15)  # fails: the segment is put back for the next flush
        proxy.mute = False
        await worker.flush()
        await worker.flush()
    finally:
        await db.dispose()
    assert await _recordings(pg_url) == [("1/a.mkv", 16, True)]


async def test_a_locked_sqlite_database_gives_the_message_within_the_bound(sqlite_url: str, log_file: Path) -> None:
    iid = await _world(sqlite_url)
    db = Database(sqlite_url, FAST)
    svc = IncidentService(db)
    holder = sqlite3.connect(sqlite_url.split("///", 1)[1], isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        err, seconds = await _timed(svc.add_comment(OPERATOR, iid, "Lights out", token=uuid.uuid4().hex))
        assert err.message == "Cannot save comment. Try again later." and seconds < BOUND + SLACK
        assert "database is locked" in log_file.read_text(encoding="utf-8")  # the cause, for the administrator
        holder.execute("ROLLBACK")
        await svc.add_comment(OPERATOR, iid, "Lights out")
    finally:
        holder.close()
        await db.dispose()
    assert await _comments(sqlite_url, "Lights out") == 1


async def test_a_segment_state_put_back_after_a_newer_one_does_not_win(sqlite_url: str, tmp_path: Path) -> None:
    """A flush that failed puts its states back behind the newer ones queued meanwhile: the row
    ends with the newest state (closed, full frame count), not the stale one."""
    await _world(sqlite_url)
    db = Database(sqlite_url, FAST)
    worker = Worker(db, settings_for(db, tmp_path / "media"))
    holder = sqlite3.connect(sqlite_url.split("///", 1)[1], isolation_level=None)
    try:
        worker.outbox.put((1, _segment("1/b.mkv", 8, False)))
        holder.execute("BEGIN IMMEDIATE")
        flushing = asyncio.ensure_future(worker.flush())
        await asyncio.sleep(0.3)
        worker.outbox.put((1, _segment("1/b.mkv", 20, True)))  # the capture thread goes on meanwhile
        await asyncio.wait_for(flushing, 15)
        holder.execute("ROLLBACK")
        await worker.flush()
    finally:
        holder.close()
        await db.dispose()
    assert await _recordings(sqlite_url) == [("1/b.mkv", 20, True)]


# -- the CLI ----------------------------------------------------------------------------------------

def _cli(tmp_path: Path, url: str, *args: str) -> tuple[subprocess.CompletedProcess, float]:
    config = tmp_path / "config.toml"
    config.write_text("[auth]\ntrust_os_user = true\n[database]\nconnect_timeout = 1\npool_timeout = 1\n"
                      "statement_timeout = 1\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMTUI_")}
    env.update(IMTUI_CONFIG=str(config), IMTUI_DATA_DIR=str(tmp_path / "data"), IMTUI_DATABASE_URL=url)
    start = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "imtui", *args], capture_output=True, text=True, env=env, timeout=60)
    return r, time.monotonic() - start


@pytest.mark.parametrize("mode", ["refuse", "reset", "blackhole"])
def test_cli_says_the_manuals_message_during_an_outage(pg_url: str, mode: str, tmp_path: Path) -> None:
    asyncio.run(_world(pg_url))
    with proxy_for(pg_url) as (proxy, url):
        proxy.set_mode(mode)
        r, seconds = _cli(tmp_path, url, "--user", "admin", "admin", "types", "list")
    assert r.returncode == 2, r
    assert r.stderr.strip() == "Cannot perform this action. Try again later.", r.stderr
    assert r.stdout == ""
    assert seconds < 20  # interpreter start-up included; without the bound a black hole never ends
    logged = (tmp_path / "data" / "imtui.log").read_text(encoding="utf-8")
    assert "Traceback" in logged


def test_config_gives_the_database_timeouts(tmp_path: Path) -> None:
    from imtui.config import ConfigError, load_settings

    path = tmp_path / "c.toml"
    path.write_text("[database]\nconnect_timeout = 2\nstatement_timeout = 0.5\n", encoding="utf-8")
    s = load_settings(path)
    assert (s.db_connect_timeout, s.db_pool_timeout, s.db_statement_timeout) == (2.0, 5.0, 0.5)
    path.write_text("[database]\npool_timeout = -1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="database.pool_timeout"):
        load_settings(path)



async def test_a_row_locked_on_postgres_gives_the_message_within_the_statement_bound(pg_url: str) -> None:
    """A statement waiting on another session's lock is cancelled at the statement bound."""
    import asyncpg
    from sqlalchemy.engine import make_url

    iid = await _world(pg_url)
    u = make_url(pg_url)
    holder = await asyncpg.connect(host=u.host, port=u.port or 5432, user=u.username, database=u.database)
    db = Database(pg_url, FAST)
    try:
        tx = holder.transaction()
        await tx.start()
        await holder.execute("SELECT id FROM incident WHERE id = $1 FOR UPDATE", iid)
        err, seconds = await _timed(IncidentService(db).add_comment(OPERATOR, iid, "Held", token=uuid.uuid4().hex))
        assert err.message == "Cannot save comment. Try again later." and seconds < BOUND + SLACK
        await tx.rollback()
    finally:
        await holder.close()
        await db.dispose()
    assert await _comments(pg_url, "Held") == 0


async def test_the_same_client_token_stores_one_project_comment_and_call(db: Database) -> None:
    from imtui.engine.incidents import CallInput

    svc = IncidentService(db)
    type_id = (await svc.types())[0].id
    token = uuid.uuid4().hex
    iid = await svc.create(OPERATOR, type_id, "Smoke in hall B", token=token)
    assert await svc.create(OPERATOR, type_id, "Smoke in hall B", token=token) == iid
    call = CallInput(at=T0, direction="incoming", party="Guard", number="112")
    first = await svc.add_call(OPERATOR, iid, call, token=token)  # tokens are per table
    assert await svc.add_call(OPERATOR, iid, call, token=token) == first
    comment = await svc.add_comment(OPERATOR, iid, "Fire brigade called", token=token)
    assert await svc.add_comment(OPERATOR, iid, "Fire brigade called", token=token) == comment
    detail = await svc.get(OPERATOR, iid)
    assert len(detail.calls) == 1 and len(detail.comments) == 1
    async with db.read() as s:
        count = (await s.execute(sa.text("SELECT count(*) FROM incident WHERE description = 'Smoke in hall B'")))
        assert count.scalar_one() == 1

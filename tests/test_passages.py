"""The database keeps one row per vehicle passage and one alarm per (definition, match), whoever
stores it and however often (issue 14, finding 1), on SQLite and PostgreSQL; and an alarm found
after the read runs no output unless its definition allows it (finding 2)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from conftest import ADMIN
from imtui.engine.alarm_actions import dispatch_pending
from imtui.engine.alarm_flow import alarms_for_reads
from imtui.engine.alarms import AlarmService
from imtui.engine.matchlists.matcher import Matcher
from imtui.engine.matchlists.service import MatchListService
from imtui.engine.recognition.passages import Passage, store_passages
from imtui.engine.recognition.pipeline import LprPipeline
from imtui.engine.seed import seed_defaults
from imtui.engine.video.media import MediaStore
from imtui.lpr.tracker import Recognition
from imtui.storage.db import Database
from imtui.storage.models import Alarm, PlateMatch, PlateRecognition
from recording import settings_for
from tcp_proxy import proxy_for
from test_alarm_actions import Hook, hook  # noqa: F401 - the fixture
from test_matchlist_service import _lpr_on, _recognition

T0 = datetime(2030, 5, 1, 8, 0, tzinfo=UTC)


async def _watch(db: Database, *plates: str) -> int:
    ml = MatchListService(db)
    watch = await ml.create(ADMIN, "Watch")
    for plate in plates:
        await ml.add_entry(ADMIN, watch.id, plate)
    await AlarmService(db).define(ADMIN, "Gate", "list", list_id=watch.id)
    return watch.id


async def _counts(db: Database) -> tuple[dict[str, int], int, int]:
    r, m, a = PlateRecognition.__table__, PlateMatch.__table__, Alarm.__table__
    async with db.read() as s:
        rows = dict((await s.execute(sa.select(r.c.plate, sa.func.count()).group_by(r.c.plate))).all())
        matches = (await s.execute(sa.select(sa.func.count()).select_from(m))).scalar_one()
        alarms = (await s.execute(sa.select(sa.func.count()).select_from(a))).scalar_one()
    return rows, matches, alarms


async def _worker_store(db: Database, passages: list[Passage]) -> int:
    """What a worker does with passages it has read: store them, then match the new ones."""
    matcher = Matcher(db)
    await matcher.refresh()
    stored = await store_passages(db, passages)
    new = [x.read for x in stored if x.new]
    result = await alarms_for_reads(db, new, lambda r: matcher.match(r.camera_id, r.plate))
    return len(result.alarms)


async def test_two_writers_storing_the_same_passages_at_once_give_one_row_and_one_alarm(db, db_url) -> None:  # noqa: ANN001
    """Two workers (two engines, two connections) store the same passages at the same moment: the
    same passage (the same key), and the same vehicle seen by a second worker's clock 0.7 s later."""
    await _lpr_on(db, 1)
    await _watch(db, *(f"AB{n:03d}CD" for n in range(6)))
    other = Database(db_url)
    try:
        for n in range(6):
            plate, at = f"AB{n:03d}CD", T0 + timedelta(minutes=n)
            mine = Passage(1, plate, "FR", 0.9, at, at + timedelta(seconds=3), 6, source="gate")
            shift = timedelta(seconds=0.7 if n % 2 else 0)  # odd: another worker's clock
            theirs = Passage(1, plate, "FR", 0.9, at + shift, at + shift + timedelta(seconds=3), 5, source="gate-2")
            raised = await asyncio.gather(_worker_store(db, [mine]), _worker_store(other, [theirs]))
            assert sorted(raised) == [0, 1], (n, raised)
    finally:
        await other.dispose()
    rows, matches, alarms = await _counts(db)
    assert rows == {f"AB{n:03d}CD": 1 for n in range(6)}
    assert (matches, alarms) == (6, 6)


async def test_two_writers_matching_the_same_read_at_once_raise_one_alarm(db, db_url) -> None:  # noqa: ANN001
    """The reads -> alarms flow run twice for one stored read (a retry whose first commit did land,
    two workers): the unique indexes keep one match and one alarm, and the database refuses a second
    alarm of the definition for that match whoever writes it."""
    await _lpr_on(db, 1)
    await _watch(db, "AB123CD")
    [stored] = await store_passages(db, [Passage(1, "AB123CD", "FR", 0.9, T0, T0 + timedelta(seconds=2), 4)])
    other = Database(db_url)
    try:
        finders = []
        for database in (db, other):
            matcher = Matcher(database)
            await matcher.refresh()
            finders.append(lambda r, m=matcher: m.match(r.camera_id, r.plate))
        results = await asyncio.gather(alarms_for_reads(db, [stored.read], finders[0]),
                                       alarms_for_reads(other, [stored.read], finders[1]))
    finally:
        await other.dispose()
    assert sorted(len(x.alarms) for x in results) == [0, 1]
    assert (await _counts(db))[1:] == (1, 1)
    a = Alarm.__table__
    async with db.read() as s:
        row = (await s.execute(sa.select(a))).one()
    with pytest.raises(sa.exc.IntegrityError):
        async with db.write() as s:
            await s.execute(sa.insert(a).values(at=row.at, definition_id=row.definition_id, name="copy",
                                                match_id=row.match_id, message=""))


async def test_a_settled_passage_and_its_end_in_one_batch_are_one_row(db, tmp_path: Path) -> None:  # noqa: ANN001
    """The worker announces a waiting vehicle's plate (settle) and then stores the end of its passage;
    under load both come in one drain.  The end used to be inserted as a second recognition (with a
    second alarm) because the first row's id was only known after the commit."""
    await _lpr_on(db, 1)
    await _watch(db, "AB123CD")
    matcher = Matcher(db)
    await matcher.refresh()
    pipeline = LprPipeline(db, MediaStore(tmp_path / "media"), "gate", matcher=matcher)
    crop = np.full((24, 96, 3), 200, np.uint8)
    t = T0.timestamp()
    settled = Recognition("AB123CD", "FR", 0.9, t, t + 1.0, 3, crop, passage=7, open=True)
    end = Recognition("AB123CD", "FR", 0.9, t, t + 9.0, 30, crop, passage=7, announced=True)
    await pipeline._store([(1, settled), (1, end)])  # noqa: SLF001 - the worker's own store step
    await pipeline._store([(1, end)])  # noqa: SLF001 - a retry of a commit whose outcome was unknown
    rows, matches, alarms = await _counts(db)
    assert (rows, matches, alarms) == ({"AB123CD": 1}, 1, 1)
    r = PlateRecognition.__table__
    async with db.read() as s:
        row = (await s.execute(sa.select(r))).one()
    assert (row.at, row.last_seen, row.reads) == (T0, T0 + timedelta(seconds=9), 30)
    assert row.snapshot and len(list((tmp_path / "media").rglob("*.jpg"))) == 1  # no orphan snapshot
    assert (pipeline.recognised, pipeline.alarms) == (1, 1)


async def test_a_retroactive_alarm_runs_no_output_unless_its_definition_allows_it(db, tmp_path, hook) -> None:  # noqa: ANN001, F811
    """The gate opened for a car that had left 15 s before: a list gained the plate after the read.
    Such an alarm is raised, says "found after the read", and runs no output; a definition may
    allow outputs for it (off by default)."""
    alarms, ml = AlarmService(db), MatchListService(db)
    await _lpr_on(db, 1)
    watch = await ml.create(ADMIN, "Watch")
    gate = await alarms.define(ADMIN, "Gate", "list", list_id=watch.id, webhook_url=hook.url + "/gate")
    assert gate.retroactive_outputs is False
    await alarms.define(ADMIN, "Light", "list", list_id=watch.id, webhook_url=hook.url + "/light",
                        retroactive_outputs=True)
    await _recognition(db, 1, "AB123", 15 / 3600)  # read 15 s ago
    await ml.add_entry(ADMIN, watch.id, "AB123")  # the list gains it now
    raised = {a.name: a for a in await alarms.alarms(ADMIN)}
    assert sorted(raised) == ["Gate", "Light"]
    assert all("found after the read" in a.message for a in raised.values())
    assert await dispatch_pending(db, settings_for(db, tmp_path / "media"), source="lpr-1") == 1
    assert [r["path"].rsplit("/", 1)[-1] for r in hook.requests] == ["light"]
    _view, log = await alarms.get(ADMIN, raised["Gate"].id)
    assert [(x.action, x.details) for x in log] == [
        ("raised", "Gate"), ("action", "outputs not run: the alarm was found after the read, the vehicle has passed")]
    # the option is an ordinary field of the definition: shown, edited, audited
    edited = await alarms.update_definition(ADMIN, gate.id, retroactive_outputs=True)
    assert edited.retroactive_outputs is True


def test_cli_define_and_edit_the_retroactive_outputs_option(sqlite_url) -> None:  # noqa: ANN001
    from test_cli import run_in_process as run

    base = ["--db", sqlite_url, "--user", "admin"]
    assert run(*base, "seed", "--incidents", "0").returncode == 0
    assert run(*base, "matchlist", "add", "Stolen").returncode == 0
    r = run(*base, "--json", "alarms", "define", "Gate", "--trigger", "list", "--list", "Stolen",
            "--webhook", "https://gate.example/open")
    assert r.returncode == 0, r.stderr
    made = json.loads(r.stdout)
    assert made["retroactive_outputs"] is False  # off by default
    r = run(*base, "--json", "alarms", "edit", str(made["id"]), "--retroactive-outputs")
    assert r.returncode == 0 and json.loads(r.stdout)["retroactive_outputs"] is True, r.stderr
    listed = run(*base, "alarms", "definitions").stdout
    assert "webhook https://gate.example/open (5 s, 2 retries); also for alarms found after the read" in listed
    r = run(*base, "--json", "alarms", "edit", str(made["id"]), "--no-retroactive-outputs")
    assert json.loads(r.stdout)["retroactive_outputs"] is False
    r = run(*base, "--json", "alarms", "define", "Light", "--trigger", "list", "--list", "Stolen",
            "--command", "light", "--retroactive-outputs")
    assert r.returncode == 0 and json.loads(r.stdout)["retroactive_outputs"] is True, r.stderr


async def test_passages_the_database_refused_are_stored_once_when_it_is_back(pg_url, tmp_path: Path, caplog) -> None:  # noqa: ANN001
    """PostgreSQL goes away while the worker stores a passage: the passage is kept and
    stored by a later drain (after a short wait, not at every frame), once, with its one alarm."""
    db = Database(pg_url)
    await db.upgrade()
    await seed_defaults(db, cameras=1)
    await _lpr_on(db, 1)
    await _watch(db, "AB123CD")
    try:
        with proxy_for(pg_url) as (proxy, url):
            through = Database(url)
            matcher = Matcher(through)
            await matcher.refresh()
            pipeline = LprPipeline(through, MediaStore(tmp_path / "media"), "gate", matcher=matcher)
            t = T0.timestamp()
            proxy.set_mode("reset")  # the pool's connection dies, new ones too
            await pipeline._store([(1, Recognition("AB123CD", "FR", 0.9, t, t + 2, 5, passage=1))])  # noqa: SLF001
            await pipeline.drain()  # at once: too early for another attempt
            assert (await _counts(db))[0] == {} and pipeline.recognised == 0
            assert len([r for r in caplog.records if r.getMessage().startswith("cannot store 1 recognitions")]) == 1
            proxy.set_mode("pass")
            await asyncio.sleep(1.2)
            await pipeline.drain()
            await through.dispose()
        assert await _counts(db) == ({"AB123CD": 1}, 1, 1)
        assert (pipeline.recognised, pipeline.alarms) == (1, 1)
    finally:
        await db.dispose()

"""LPR events (LprEventService, ``imtui lpr events``) on both backends: recognitions stored the way
the worker stores them (its pipeline's store step: rows, the plate crop in the media store, the
match-list matches in the same transaction), searched by plate (a part of it, or the whole plate
with ``?``), camera, list (the Unlisted list too) and time, newest first, with keyset pages that
neither skip nor repeat events of the same instant; each with its matches (list, entry, rule,
retroactive, custom fields); the plate crop; refusals naming the field; the sequences grant."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from conftest import ADMIN, OPERATOR, VIEWER
from imtui.engine.errors import InvalidInput, NotFound, PermissionDenied
from imtui.engine.lpr_events import LprEventService
from imtui.engine.matchlists.matcher import Matcher
from imtui.engine.matchlists.service import MatchListService
from imtui.engine.permissions import Actor, Feature, Level
from imtui.engine.recognition.pipeline import LprPipeline
from imtui.engine.recognition.service import LprService
from imtui.engine.times import utcnow
from imtui.engine.video.media import MediaStore
from imtui.lpr.tracker import Recognition
from imtui.storage.db import Database
from imtui.storage.models import PlateRecognition

PROPS_ONLY = Actor("props-viewer", grants=((Feature.PROPERTIES, Level.VIEW),))  # no sequences grant


async def lpr_on(db: Database, *cameras: int) -> None:
    for c in cameras:
        await LprService(db, MediaStore(Path("/nonexistent"))).configure(ADMIN, c, enabled=True)


async def store_reads(db: Database, store: MediaStore, reads: list[tuple[int, str, datetime]], *,
                      crop: bool = False) -> list[int]:
    """Store (camera, plate, time) passages through the worker's own store step (its matcher
    loaded from the lists as they are now); returns the new recognition ids, in order."""
    matcher = Matcher(db)
    await matcher.refresh()
    pipeline = LprPipeline(db, store, host="test", matcher=matcher)
    r = PlateRecognition.__table__
    async with db.read() as s:
        before = (await s.execute(sa.select(sa.func.max(r.c.id)))).scalar() or 0
    image = np.zeros((24, 96, 3), np.uint8)
    image[:, ::8] = 255  # something to see: stripes
    await pipeline._store([(camera, Recognition(plate, "FR", 0.9, at.timestamp(), at.timestamp() + 1, 3,  # noqa: SLF001
                                                image if crop else None)) for camera, plate, at in reads])
    assert pipeline.recognised == len(reads), "the pipeline logged a failed store"
    async with db.read() as s:
        return list((await s.execute(sa.select(r.c.id).where(r.c.id > before).order_by(r.c.id))).scalars())


def svc(db: Database, tmp_path: Path) -> LprEventService:
    return LprEventService(db, MediaStore(tmp_path / "media"))


async def plates(events: LprEventService, **filters) -> list[str]:  # noqa: ANN003
    return [e.plate for e in (await events.search(OPERATOR, **filters)).events]


async def test_plate_search_by_part_of_the_plate_with_wildcards(db, tmp_path) -> None:  # noqa: ANN001
    store, events = MediaStore(tmp_path / "media"), svc(db, tmp_path)
    now = utcnow()
    ago = [now - timedelta(minutes=n) for n in range(5)]
    await store_reads(db, store, [(1, "AB123CD", ago[4]), (1, "ZAB123CD", ago[3]), (1, "AB124CD", ago[2]),
                                  (2, "XY999", ago[1])])
    assert await plates(events) == ["XY999", "AB124CD", "ZAB123CD", "AB123CD"]  # newest first
    assert await plates(events, plate="123") == ["ZAB123CD", "AB123CD"]  # a part of the plate
    assert await plates(events, plate="ab-123 c") == ["ZAB123CD", "AB123CD"]  # typed separators, lower case
    # ? is one character inside a part of the plate, as in the match-list search
    assert await plates(events, plate="AB???CD") == ["AB124CD", "ZAB123CD", "AB123CD"]
    assert await plates(events, plate="ab 12? cd") == ["AB124CD", "ZAB123CD", "AB123CD"]
    assert await plates(events, plate="?AB123CD") == ["ZAB123CD"]  # one character before AB
    assert await plates(events, plate="B12?C") == ["AB124CD", "ZAB123CD", "AB123CD"]
    assert await plates(events, plate="CD?") == []  # nothing follows CD on these plates
    assert await plates(events, plate="  ") == ["XY999", "AB124CD", "ZAB123CD", "AB123CD"]  # empty: no filter


async def test_camera_list_unlisted_and_time_filters(db, tmp_path) -> None:  # noqa: ANN001
    store, events, ml = MediaStore(tmp_path / "media"), svc(db, tmp_path), MatchListService(db)
    await lpr_on(db, 1, 2)
    stolen = await ml.create(ADMIN, "Stolen", fields=["Case"])
    await ml.add_entry(ADMIN, stolen.id, "AB123CD", {"Case": "2026-117"})
    unlisted = next(v for v in await ml.lists(ADMIN) if v.unlisted)
    t0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)  # the stream's clock: far from now, nothing is retroactive
    await store_reads(db, store, [(1, "AB123CD", t0), (2, "XY999", t0 + timedelta(minutes=10)),
                                  (2, "AB123CD", t0 + timedelta(minutes=20)), (1, "QQ111", t0 + timedelta(minutes=30))])
    assert await plates(events, camera_id=2) == ["AB123CD", "XY999"]
    assert await plates(events, camera_id=3) == []
    assert await plates(events, list_id=stolen.id) == ["AB123CD", "AB123CD"]
    assert await plates(events, list_id=unlisted.id) == ["QQ111", "XY999"]
    assert await plates(events, list_id=stolen.id, camera_id=1) == ["AB123CD"]
    # since and until are inclusive; they combine with the rest
    assert await plates(events, since=t0 + timedelta(minutes=10), until=t0 + timedelta(minutes=20)) == [
        "AB123CD", "XY999"]
    assert await plates(events, since=t0 + timedelta(minutes=10), list_id=stolen.id) == ["AB123CD"]
    assert await plates(events, until=t0 + timedelta(minutes=5)) == ["AB123CD"]
    # a time in another zone means the same instant
    paris = t0.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Paris"))
    assert await plates(events, since=paris, until=paris) == ["AB123CD"]
    found = (await events.search(OPERATOR, list_id=unlisted.id)).events
    assert [(m.list_name, m.entry_plate, m.rule, m.fields) for m in found[0].matches] == [
        ("Unlisted license plates", "", "unlisted", {})]
    assert found[0].camera_name == "Camera 01" and found[1].camera_name == "Camera 02"


async def test_matches_carry_list_entry_rule_retroactive_and_fields(db, tmp_path) -> None:  # noqa: ANN001
    store, events, ml = MediaStore(tmp_path / "media"), svc(db, tmp_path), MatchListService(db)
    await lpr_on(db, 1)
    stolen = await ml.create(ADMIN, "Stolen", fields=["Case", "Officer"])
    watch = await ml.create(ADMIN, "Watch", fields=["Reason"])
    await ml.add_entry(ADMIN, stolen.id, "AB12?CD", {"Case": "2026-117", "Officer": "Dupont"})
    await ml.add_entry(ADMIN, watch.id, "AB123CD", {"Reason": "[bold]VIP[/bold]"})
    now = utcnow()
    [rid] = await store_reads(db, store, [(1, "AB123CD", now - timedelta(minutes=5))])
    late = await ml.create(ADMIN, "Late")
    await ml.add_entry(ADMIN, late.id, "AB123CD")  # the list gains the plate after the read
    [event] = (await events.search(OPERATOR, plate="AB123CD")).events
    assert event.id == rid and event.plate == "AB123CD" and event.country == "FR" and event.reads == 3
    got = sorted((m.list_name, m.entry_plate, m.rule, m.retroactive, m.fields) for m in event.matches)
    assert got == [("Late", "AB123CD", "exact", True, {}),
                   ("Stolen", "AB12?CD", "wildcard", False, {"Case": "2026-117", "Officer": "Dupont"}),
                   ("Watch", "AB123CD", "exact", False, {"Reason": "[bold]VIP[/bold]"})]  # stored exactly
    assert list(next(m for m in event.matches if m.list_name == "Stolen").fields) == ["Case", "Officer"]  # list order
    assert await events.get(OPERATOR, rid) == event
    # the match keeps what the list said when it fired, after the entry changes or the list goes
    await ml.delete(ADMIN, stolen.id)
    [again] = (await events.search(OPERATOR, list_id=stolen.id)).events
    assert any(m.list_name == "Stolen" and m.fields["Case"] == "2026-117" for m in again.matches)
    choices = await events.choices(OPERATOR)
    assert [o.name for o in choices.lists] == ["Late", "Watch", "Unlisted license plates", "Stolen (deleted)"]
    assert [o.name for o in choices.cameras] == ["Camera 01", "Camera 02", "Camera 03", "Camera 04"]


async def test_keyset_pages_neither_skip_nor_repeat_events_of_one_instant(db, tmp_path) -> None:  # noqa: ANN001
    store, events = MediaStore(tmp_path / "media"), svc(db, tmp_path)
    same = datetime(2030, 1, 1, 8, 0, 0, 500_000, tzinfo=UTC)
    reads = [(1, f"SAME{i}", same) for i in range(7)]
    reads += [(1, "OLDER1", same - timedelta(seconds=1)), (2, "NEWER1", same + timedelta(seconds=1))]
    ids = await store_reads(db, store, reads)
    expected = [ids[8]] + sorted(ids[:7], reverse=True) + [ids[7]]  # at desc, then id desc
    seen, before, pages = [], None, 0
    while True:
        page = await events.search(OPERATOR, limit=3, before=before)
        pages += 1
        seen += [e.id for e in page.events]
        if page.next is None:
            assert not page.has_next
            break
        before = page.next
        if pages == 1:  # a passage stored meanwhile (newer) must not shift the next pages
            await store_reads(db, store, [(1, "LATE1", same + timedelta(minutes=5))])
    assert seen == expected and pages == 3
    # paging keeps the filters: the 7 of the same instant, 2 a page
    seen, before = [], None
    while True:
        page = await events.search(OPERATOR, plate="SAME?", limit=2, before=before)
        seen += [e.plate for e in page.events]
        if (before := page.next) is None:
            break
    assert seen == [f"SAME{i}" for i in reversed(range(7))]
    last = await events.search(OPERATOR, limit=100)
    assert not last.has_next and last.next is None and len(last.events) == 10


async def test_bad_input_names_the_field_and_the_fix(db, tmp_path) -> None:  # noqa: ANN001
    events = svc(db, tmp_path)
    for typed, shown in (("AB%1", "'%'"), ("A*B", "'*'"), ("\x1b[31m", "'\\x1b' '['"), ("ÄB1", "'Ä'")):
        with pytest.raises(InvalidInput) as exc:
            await events.search(OPERATOR, plate=typed)
        assert exc.value.field == "plate" and exc.value.message.startswith("Plate: " + shown), exc.value.message
        assert "A-Z" in exc.value.message and "\x1b" not in exc.value.message
    with pytest.raises(InvalidInput, match="17 characters is too long; a plate has at most 16") as exc:
        await events.search(OPERATOR, plate="A" * 17)
    assert exc.value.field == "plate"
    t = utcnow()
    with pytest.raises(InvalidInput, match="Until: the time is earlier than Since; swap them") as exc:
        await events.search(OPERATOR, since=t, until=t - timedelta(minutes=1))
    assert exc.value.field == "until"
    for limit in (0, 1001):
        with pytest.raises(InvalidInput, match=f"Limit: {limit} is not allowed; choose 1 to 1000") as exc:
            await events.search(OPERATOR, limit=limit)
        assert exc.value.field == "limit"


async def test_sequences_grant_is_needed(db, tmp_path) -> None:  # noqa: ANN001
    store, events = MediaStore(tmp_path / "media"), svc(db, tmp_path)
    [rid] = await store_reads(db, store, [(1, "AB123CD", utcnow())])
    for actor in (ADMIN, OPERATOR, VIEWER):  # viewers have sequences: view
        assert [e.id for e in (await events.search(actor)).events] == [rid]
        assert (await events.choices(actor)).cameras
    for call in (lambda: events.search(PROPS_ONLY), lambda: events.choices(PROPS_ONLY),
                 lambda: events.get(PROPS_ONLY, rid), lambda: events.snapshot(PROPS_ONLY, rid)):
        with pytest.raises(PermissionDenied):
            await call()


async def test_snapshot_is_the_crop_in_the_media_store(db, tmp_path) -> None:  # noqa: ANN001
    store, events = MediaStore(tmp_path / "media"), svc(db, tmp_path)
    [with_crop] = await store_reads(db, store, [(1, "AB123CD", utcnow())], crop=True)
    [without] = await store_reads(db, store, [(1, "XY999", utcnow())])
    path = await events.snapshot(OPERATOR, with_crop)
    assert path is not None and path.is_absolute() and path.is_file()
    assert path.resolve().is_relative_to((tmp_path / "media").resolve())
    [event] = [e for e in (await events.search(OPERATOR)).events if e.id == with_crop]
    assert path == store.absolute(event.snapshot)
    image = await events.snapshot_image(OPERATOR, with_crop)
    assert image is not None and image.shape == (24, 96, 3) and image[:, ::8].mean() > 200  # the stripes
    assert await events.snapshot(OPERATOR, without) is None and await events.snapshot_image(OPERATOR, without) is None
    path.unlink()  # purged or deleted by hand: the path is still said, the picture is None
    assert await events.snapshot(OPERATOR, with_crop) == path
    assert await events.snapshot_image(OPERATOR, with_crop) is None
    r = PlateRecognition.__table__
    async with db.write() as s:  # a hand-edited row cannot make it read outside the store
        await s.execute(sa.update(r).where(r.c.id == without).values(snapshot="../../../../etc/passwd"))
    assert await events.snapshot(OPERATOR, without) is None
    with pytest.raises(NotFound, match="is gone"):
        await events.snapshot(OPERATOR, 999_999)


def test_cli_lpr_events(sqlite_url: str, tmp_path: Path) -> None:
    from test_cli import run_in_process as run

    base = ["--db", sqlite_url, "--user", "operator"]
    admin = ["--db", sqlite_url, "--user", "admin"]
    assert run(*admin, "seed", "--incidents", "0").returncode == 0
    assert run(*admin, "lpr", "settings", "1", "--enable").returncode == 0
    assert run(*admin, "matchlist", "add", "Stolen", "--field", "Case").returncode == 0
    r = run(*admin, "matchlist", "plate", "Stolen", "AB12?CD", "--set", "Case=2026-117")
    assert r.returncode == 0, r.stdout + r.stderr
    db = Database(sqlite_url)
    t0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)

    async def world() -> None:
        await store_reads(db, MediaStore(tmp_path / "media"), [
            (1, "AB123CD", t0), (1, "ZZ999", t0 + timedelta(minutes=1)), (2, "AB124CD", t0 + timedelta(minutes=2))])
        await db.dispose()

    asyncio.run(world())
    r = run(*base, "--json", "lpr", "events", "--plate", "ab???cd", "--list", "stolen")
    assert r.returncode == 0, r.stdout + r.stderr
    data = json.loads(r.stdout)
    assert [(e["plate"], e["camera_id"], e["camera"]) for e in data["events"]] == [
        ("AB124CD", 2, "Camera 02"), ("AB123CD", 1, "Camera 01")] and data["more"] is False
    assert data["events"][1]["matches"] == [{"list_id": data["events"][1]["matches"][0]["list_id"], "list": "Stolen",
                                             "entry": "AB12?CD", "rule": "wildcard", "retroactive": False,
                                             "fields": {"Case": "2026-117"}}]
    r = run(*base, "lpr", "events", "--camera", "Camera 01", "--since", "2030-01-01 12:01", "--limit", "5")
    assert r.returncode == 0 and r.stdout.splitlines() == [
        "2030-01-01 12:01:00\t1\tCamera 01\tZZ999\tFR\t0.900\tUnlisted license plates",
        "\tUnlisted license plates\t-\tunlisted"], r.stdout
    r = run(*base, "lpr", "events", "--limit", "1")
    assert r.returncode == 0 and r.stdout.splitlines()[-1].startswith("… more")
    r = run(*base, "lpr", "events", "--plate", "QQ")
    assert r.returncode == 0 and r.stdout.strip() == "No LPR events."
    for args, message in ((("--since", "yesterday"), "--since: type the date and time as YYYY-MM-DD HH:MM"),
                          (("--plate", "A%"), "Plate: '%' cannot be in a plate"),
                          (("--list", "Nope"), "--list: nothing is called 'Nope'; see imtui matchlist list."),
                          (("--since", "2030-01-02 00:00", "--until", "2030-01-01 00:00"),
                           "Until: the time is earlier")):
        r = run(*base, "lpr", "events", *args)
        assert r.returncode == 2 and message in r.stderr, (args, r.stdout, r.stderr)


async def test_latest_and_after_give_what_was_stored_since(db, tmp_path) -> None:  # noqa: ANN001
    """What the screen polls: ``latest`` (the highest id, one MAX on the primary key) and the rows
    stored after it (``search``/``count`` with ``after``), with the filters, newest first by time,
    read along the primary key; an update of a stored row (the end of a passage) is no new id."""
    store, events = MediaStore(tmp_path / "media"), svc(db, tmp_path)
    assert await events.latest(OPERATOR) == 0  # nothing stored yet
    t0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    old = await store_reads(db, store, [(1, "AB123CD", t0), (2, "XY999", t0 + timedelta(minutes=1))])
    mark = await events.latest(OPERATOR)
    assert mark == old[-1]
    assert (await events.search(OPERATOR, after=mark)).events == [] and await events.count(OPERATOR, after=mark) == 0
    # stored later, but one of them started before everything shown (the stream's clock): ``after``
    # is the storage order, the page is still newest first by time
    new = await store_reads(db, store, [(1, "AB124CD", t0 + timedelta(minutes=5)),
                                        (2, "QQ111", t0 - timedelta(minutes=1)),
                                        (1, "AB125CD", t0 + timedelta(minutes=2))])
    assert await events.latest(OPERATOR) == new[-1]
    assert await plates(events, after=mark) == ["AB124CD", "AB125CD", "QQ111"]
    assert await plates(events, after=new[0]) == ["AB125CD", "QQ111"]
    assert await plates(events, after=mark, plate="ab12") == ["AB124CD", "AB125CD"]  # the filters hold
    assert await plates(events, after=mark, camera_id=2) == ["QQ111"]
    assert await plates(events, after=mark, until=t0) == ["QQ111"]
    assert (await events.count(OPERATOR, after=mark), await events.count(OPERATOR, after=mark, plate="AB12"),
            await events.count(OPERATOR, after=mark, camera_id=2), await events.count(OPERATOR)) == (3, 2, 1, 5)
    # keyset pages within what came since
    first = await events.search(OPERATOR, after=mark, limit=2)
    assert [e.plate for e in first.events] == ["AB124CD", "AB125CD"] and first.has_next
    assert await plates(events, after=mark, limit=2, before=first.next) == ["QQ111"]
    # the worker ending a passage updates its row: no new id, shown by the next search
    r = PlateRecognition.__table__
    async with db.write() as s:
        await s.execute(sa.update(r).where(r.c.id == new[0]).values(reads=40, last_seen=t0 + timedelta(minutes=6)))
    assert await events.latest(OPERATOR) == new[-1] and await events.count(OPERATOR, after=new[-1]) == 0
    assert next(e for e in (await events.search(OPERATOR)).events if e.id == new[0]).reads == 40
    # bad filters are refused as by search; the sequences grant is needed
    with pytest.raises(InvalidInput) as exc:
        await events.count(OPERATOR, after=mark, plate="A%")
    assert exc.value.field == "plate"
    for call in (lambda: events.latest(PROPS_ONLY), lambda: events.count(PROPS_ONLY, after=mark)):
        with pytest.raises(PermissionDenied):
            await call()
    assert await events.latest(VIEWER) == new[-1]
    if db.is_sqlite:  # the rows after an id: a range of the primary key, not a walk of the day's time index
        statements: list[tuple[str, tuple]] = []

        def seen(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
            if "FROM recognition" in statement and "recognition.id >" in statement:
                statements.append((statement, tuple(parameters)))

        for engine in (db.read_engine, db.query_engine):
            sa.event.listen(engine.sync_engine, "before_cursor_execute", seen)
        await events.search(OPERATOR, after=mark)
        await events.count(OPERATOR, after=mark)
        for engine in (db.read_engine, db.query_engine):
            sa.event.remove(engine.sync_engine, "before_cursor_execute", seen)
        assert len(statements) == 2
        async with db.query() as conn:
            for statement, parameters in statements:
                plan = " ".join(row[-1] for row in await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement,
                                                                               parameters))
                assert "USING INTEGER PRIMARY KEY (rowid>?)" in plan and "ix_recognition_at" not in plan, plan

"""List queries on both backends: keyset pages, capped counts, text and time filters, migrations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from conftest import OPERATOR
from imtui.engine.incidents import IncidentService, SequenceInput
from imtui.engine.seed import seed_incidents
from imtui.storage.db import Database
from imtui.storage.queries import Cursor, IncidentFilter, count_incidents, fts_match_expression, list_incidents


async def _all_pages(db: Database, flt: IncidentFilter, size: int = 100) -> list[list[int]]:
    pages, cursor = [], None
    while True:
        async with db.query() as s:
            rows = await list_incidents(s, flt, cursor, limit=size)
        if not rows:
            return pages
        pages.append([r.id for r in rows])
        cursor = Cursor.after(rows[-1])


async def test_keyset_pages_newest_first(db: Database) -> None:
    await seed_incidents(db, 250)
    pages = await _all_pages(db, IncidentFilter())
    assert [len(p) for p in pages] == [100, 100, 50]
    flat = [i for p in pages for i in p]
    assert flat == sorted(flat, reverse=True) and len(set(flat)) == 250
    async with db.query() as s:
        assert await count_incidents(s, IncidentFilter()) == 250
        assert await count_incidents(s, IncidentFilter(), cap=101) == 101  # the cap holds


async def test_keyset_never_uses_offset(db: Database) -> None:
    await seed_incidents(db, 5)
    statements: list[tuple[str, object]] = []
    sa.event.listen(db.query_engine.sync_engine, "before_cursor_execute",
                    lambda *a: statements.append((a[2], a[3])))
    async with db.query() as s:
        rows = await list_incidents(s, IncidentFilter(), None, limit=2)
        await list_incidents(s, IncidentFilter(), Cursor(rows[-1].created_at, rows[-1].id), limit=2)
    selects = [(q, p) for q, p in statements if q.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2
    for q, params in selects:
        # SQLite's dialect always renders "LIMIT ? OFFSET ?"; the offset it binds must be 0.
        if "OFFSET" in q.upper():
            assert list(params)[-1] == 0


async def test_text_filter(db: Database) -> None:
    svc = IncidentService(db)
    type_id = (await svc.types())[0].id
    a = await svc.create(OPERATOR, type_id, "Forklift reversed into the gate")
    b = await svc.create(OPERATOR, type_id, "Visitor slipped near the FORKLIFT bay")
    await svc.create(OPERATOR, type_id, "Nothing to see")
    c = await svc.create(OPERATOR, type_id, "100% [odd] text_with_underscore")
    for text, expected in (
        ("forklift", [b, a]),
        ("fork", []),  # whole words ...
        ("fork*", [b, a]),  # ... unless a trailing * asks for a prefix
        ("visitor fork*", [b]),  # every word must appear
        ("visit* FORK*", [b]),
        ("fo*", []),  # a prefix under three letters is a whole word
        ("NEAR", [b]),  # FTS5 operators are inert
        ('"', []),  # punctuation alone matches nothing odd
        ("100%", [c]),
    ):
        async with db.query() as s:
            ids = [r.id for r in await list_incidents(s, IncidentFilter(text=text))]
            n = await count_incidents(s, IncidentFilter(text=text))
        if text == '"' and db.is_sqlite:
            assert ids == [] and n == 0
            continue
        if text == '"':
            continue
        assert ids == expected, text
        assert n == len(expected), text
    # a description edit is searchable at once (the FTS trigger / trigram index follow updates)
    d = await svc.get(OPERATOR, a)
    await svc.update_main(OPERATOR, a, d.version, type_id=type_id, status_id=d.status_id, description="ladder fell")
    async with db.query() as s:
        assert [r.id for r in await list_incidents(s, IncidentFilter(text="ladder"))] == [a]
        assert [r.id for r in await list_incidents(s, IncidentFilter(text="forklift"))] == [b]


async def test_text_filter_pages(db: Database) -> None:
    svc = IncidentService(db)
    type_id = (await svc.types())[0].id
    ids = [await svc.create(OPERATOR, type_id, f"patrol round {i}") for i in range(7)]
    pages = await _all_pages(db, IncidentFilter(text="patrol"), size=3)
    assert pages == [ids[::-1][0:3], ids[::-1][3:6], ids[::-1][6:]]


async def test_id_and_time_filters(db: Database) -> None:
    svc = IncidentService(db)
    type_id = (await svc.types())[0].id
    cam = (await svc.cameras())[0].id
    t = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    h = timedelta(hours=1)
    early = await svc.create(OPERATOR, type_id, "early", [SequenceInput(cam, t, t + h)])
    late = await svc.create(OPERATOR, type_id, "late", [SequenceInput(cam, t + 5 * h, t + 6 * h)])
    span = await svc.create(OPERATOR, type_id, "span",
                            [SequenceInput(cam, t - h, t), SequenceInput(cam, t + 7 * h, t + 8 * h)])
    await svc.create(OPERATOR, type_id, "no video")

    async def ids(**kw) -> list[int]:  # noqa: ANN003
        async with db.query() as s:
            rows = await list_incidents(s, IncidentFilter(**kw))
            assert await count_incidents(s, IncidentFilter(**kw)) == len(rows)
            return [r.id for r in rows]

    assert await ids(incident_id=late) == [late]
    assert await ids(incident_id=999_999) == []
    assert await ids(after=t) == [late, early]  # sequences starting at or after t
    assert await ids(before=t + h) == [early] or await ids(before=t + h) == [early]
    assert await ids(before=t + 6 * h) == [late, early]  # all sequences ended by then
    assert await ids(after=t - h, before=t + 8 * h) == [span, late, early]
    assert await ids(after=t + 4 * h, before=t + 6 * h) == [late]
    assert await ids(after=t, before=t + 6 * h, text="late") == [late]


def test_fts_expression_quotes_every_word() -> None:
    assert fts_match_expression('a OR b" NEAR(cab*)') == '"a" "OR" "b" "NEAR" "cab"*'
    assert fts_match_expression("ab* cab") == '"ab" "cab"'
    assert fts_match_expression("!!!") is None


async def test_upgrade_is_idempotent_and_at_head(db: Database) -> None:
    from imtui.storage.migrate import current_revision, head_revision

    await db.upgrade()
    async with db.write_engine.connect() as conn:
        assert await conn.run_sync(current_revision) == head_revision()


async def test_migration_matches_models(db: Database) -> None:
    """The newest migration and the SQLModel tables describe the same columns."""
    from sqlmodel import SQLModel

    import imtui.storage.models  # noqa: F401

    def columns(conn) -> dict[str, set[str]]:  # noqa: ANN001
        insp = sa.inspect(conn)
        return {t: {c["name"] for c in insp.get_columns(t)} for t in insp.get_table_names()
                if t != "alembic_version" and not t.startswith("incident_fts")}

    async with db.read_engine.connect() as conn:
        actual = await conn.run_sync(columns)
    expected = {name: {c.name for c in table.columns} for name, table in SQLModel.metadata.tables.items()}
    assert actual == expected


async def test_sqlite_pragmas(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    try:
        await db.upgrade()
        async with db.read_engine.connect() as conn:
            values = [
                (await conn.exec_driver_sql(f"PRAGMA {p}")).scalar()
                for p in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
            ]
        assert values == ["wal", 1, 5000, 2]  # busy_timeout: database.statement_timeout, 5 s by default
    finally:
        await db.dispose()


async def test_sqlite_concurrent_writers_never_see_locked(sqlite_url: str) -> None:
    """Two services on two engines writing at once: BEGIN IMMEDIATE waits instead of failing."""
    import asyncio

    from imtui.engine.seed import seed_defaults

    a, b = Database(sqlite_url), Database(sqlite_url)
    try:
        await a.upgrade()
        await seed_defaults(a)
        sa_, sb = IncidentService(a), IncidentService(b)
        iid = await sa_.create(OPERATOR, (await sa_.types())[0].id)

        async def writer(svc: IncidentService) -> None:
            for i in range(40):
                await svc.add_comment(OPERATOR, iid, f"c{i}")

        await asyncio.gather(writer(sa_), writer(sb))
        assert len((await sa_.get(OPERATOR, iid)).comments) == 80
    finally:
        await a.dispose()
        await b.dispose()


async def test_time_filter_pages(db: Database) -> None:
    svc = IncidentService(db)
    type_id = (await svc.types())[0].id
    cam = (await svc.cameras())[0].id
    t = datetime(2026, 6, 1, tzinfo=UTC)
    ids = [await svc.create(OPERATOR, type_id, f"n{i}", [SequenceInput(cam, t + timedelta(minutes=i), t + timedelta(minutes=i + 1))])
           for i in range(7)]
    await svc.create(OPERATOR, type_id, "outside", [SequenceInput(cam, t - timedelta(days=2), t - timedelta(days=2))])
    pages = await _all_pages(db, IncidentFilter(after=t, before=t + timedelta(hours=1)), size=3)
    assert pages == [ids[::-1][0:3], ids[::-1][3:6], ids[::-1][6:]]


async def test_ending_before_lists_latest_ending_first(db: Database) -> None:
    """A "before" bound alone orders by end time (the index serves it); keyset pages hold."""
    svc = IncidentService(db)
    type_id = (await svc.types())[0].id
    cam = (await svc.cameras())[0].id
    t = datetime(2026, 6, 1, tzinfo=UTC)
    ends = [5, 1, 4, 4, 2, 9]  # minutes; created in this order, two share an end time
    ids = [await svc.create(OPERATOR, type_id, "", [SequenceInput(cam, t, t + timedelta(minutes=m))]) for m in ends]
    flt = IncidentFilter(before=t + timedelta(minutes=6))
    pages = await _all_pages(db, flt, size=2)
    expected = [ids[0], ids[3], ids[2], ids[4], ids[1]]  # end 5, 4 (newer id first), 4, 2, 1
    assert [i for p in pages for i in p] == expected
    async with db.query() as s:
        assert await count_incidents(s, flt) == 5


@pytest.mark.parametrize("probe", [2, 2_000], ids=["common-word-plans", "small-set-plans"])
async def test_text_with_other_filters_matches_brute_force(db: Database, probe: int, monkeypatch) -> None:  # noqa: ANN001
    """Every way a word search meets ID and time filters returns exactly what a plain scan would,
    in list order, page after page, whichever plan the match count selects."""
    import random

    from imtui.storage import queries

    monkeypatch.setattr(queries, "FTS_PROBE", probe)
    svc = IncidentService(db)
    type_id = (await svc.types())[0].id
    cam = (await svc.cameras())[0].id
    rng = random.Random(7)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    made = []  # (id, description, start, end)
    for i in range(40):
        words = rng.sample(["patrol", "gate", "ladder", "spill", "visitor"], 2)
        start = t0 + timedelta(hours=rng.randint(0, 100))
        end = start + timedelta(minutes=rng.randint(1, 300))
        seqs = [SequenceInput(cam, start, end)] if i % 5 else []
        iid = await svc.create(OPERATOR, type_id, " ".join(words), seqs)
        made.append((iid, words, start if seqs else None, end if seqs else None))

    def expected(flt: IncidentFilter) -> list[int]:
        rows = [m for m in made
                if (flt.text is None or flt.text in m[1])
                and (flt.incident_id is None or m[0] == flt.incident_id)
                and (flt.after is None or (m[2] is not None and m[2] >= flt.after))
                and (flt.before is None or (m[3] is not None and m[3] <= flt.before))]
        if queries.orders_by_end_time(flt):
            rows.sort(key=lambda m: (m[3], m[0]), reverse=True)
        else:
            rows.sort(key=lambda m: m[0], reverse=True)
        return [m[0] for m in rows]

    t_mid = t0 + timedelta(hours=40)
    for flt in (
        IncidentFilter(text="patrol"),
        IncidentFilter(text="patrol", after=t_mid),
        IncidentFilter(text="patrol", before=t_mid),
        IncidentFilter(text="patrol", after=t0 + timedelta(hours=20), before=t0 + timedelta(hours=70)),
        IncidentFilter(text="patrol", incident_id=made[3][0]),
        IncidentFilter(text="gate", incident_id=made[4][0], before=t_mid),
    ):
        got = [i for p in await _all_pages(db, flt, size=3) for i in p]
        assert got == expected(flt), flt
        async with db.query() as s:
            assert await count_incidents(s, flt) == len(expected(flt)), flt

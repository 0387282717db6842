"""Incident-list query latency: the engine next to raw sqlite3 on the same database file.

Why both: the engine figure is what an operator waits for (SQLAlchemy, aiosqlite's thread hop,
the read transaction, row objects); the raw sqlite3 figure runs the very same SQL text with the
same parameters on the stdlib driver and is the floor the storage layout allows.  Their ratio
separates "the query plan is slow" (both slow) from "the layers above it are slow" (ratio high).

The raw SQL below is written out by hand so a reader sees exactly what runs; every run checks it
against the statement the engine actually sent (captured from SQLAlchemy) and reports a mismatch,
so the two columns cannot silently drift apart when the engine's queries change.

Usage: .venv/bin/python bench/list_queries.py [--incidents N] [--db PATH] [--runs 20]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import re
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from imtui.engine.incidents import IncidentService, Page
from imtui.engine.permissions import Actor
from imtui.storage.bulk import sqlite_time
from imtui.storage.db import Database
from imtui.storage.queries import COUNT_CAP, Cursor, IncidentFilter

from _common import OUT_DIR, default_db, ensure_db, fmt_ms, median, sqlite_url, write_json

TARGET_MS = 10.0  # every list query, through the engine
TARGET_RATIO = 3.0  # engine at most this many times the raw sqlite3 time
PAGE_SIZE = 100  # what the list screen asks for; the engine fetches one more to know has_next
DEEP_PAGE = 5_000
WARMUP = 3
COMMON_WORD = "vehicle"  # one of seed._WORDS: in about one description in eight
RARE_WORD = "wrongway"  # seed._RARE: in about one description in ten thousand
ACTOR = Actor("operator", "operator")

# -- the SQL the engine issues on SQLite (storage/queries.py), written out -----------------------
_COLUMNS = (
    "incident.id, incident.created_at AS created_at, incident.created_by, incident_type.name AS type_name, "
    "incident_status.name AS status_name, incident.description, incident.start_time AS start_time, "
    "incident.end_time AS end_time, incident.version"
)
_FROM = (
    "FROM incident JOIN incident_type ON incident_type.id = incident.type_id "
    "JOIN incident_status ON incident_status.id = incident.status_id"
)
_ORDER = "ORDER BY incident.created_at DESC, incident.id DESC LIMIT ? OFFSET ?"
SQL_FIRST_PAGE = f"SELECT {_COLUMNS} {_FROM} {_ORDER}"
SQL_KEYSET = (
    f"SELECT {_COLUMNS} {_FROM} "
    f"WHERE incident.created_at <= ? AND (incident.created_at < ? OR incident.created_at = ? AND incident.id < ?) "
    f"{_ORDER}"
)
SQL_TEXT = (
    f"SELECT {_COLUMNS} {_FROM} JOIN (SELECT incident_fts.rowid AS rid FROM incident_fts "
    "WHERE incident_fts MATCH ? ORDER BY incident_fts.rowid DESC LIMIT ? OFFSET ?) AS anon_1 "
    "ON incident.id = anon_1.rid ORDER BY incident.id DESC"
)
SQL_TIME = (
    f"SELECT {_COLUMNS} {_FROM} WHERE incident.id IN (SELECT incident.id FROM incident "
    "WHERE incident.start_time >= ? AND incident.end_time <= ? AND incident.start_time <= ? "
    "ORDER BY incident.created_at DESC, incident.id DESC LIMIT ? OFFSET ?) "
    "ORDER BY incident.created_at DESC, incident.id DESC"
)
SQL_COUNT = "SELECT count(*) AS count_1 FROM (SELECT ? AS anon_2 FROM incident LIMIT ? OFFSET ?) AS anon_1"
# Finding a cursor deep in the list needs OFFSET once; the timed query then uses the keyset.
SQL_CURSOR_AT = "SELECT created_at, id FROM incident ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET ?"


@dataclass
class Case:
    """One list query: how the engine is asked, and the same query on raw sqlite3."""

    key: str
    label: str
    engine: Callable[[], Awaitable[Page | tuple[int, bool]]]
    sql: str
    params: tuple[Any, ...]
    is_count: bool = False


@dataclass
class Result:
    key: str
    label: str
    engine_ms: float
    raw_ms: float
    ratio: float
    engine_min_ms: float
    raw_min_ms: float
    rows: int  # rows on the page (or the count), from the engine
    same_result: bool  # engine and raw returned the same ids (or count)
    sql_matches_engine: bool  # the raw SQL and parameters are those the engine sent
    ok: bool
    sql: str
    params: list[Any]
    engine_sql: str
    plan: list[str] = field(default_factory=list)


def _norm(sql: str) -> str:
    return re.sub(r"\s+", " ", sql).strip()


def _text_param(word: str) -> str:
    """The FTS5 expression the engine builds for one word: quoted (syntax-inert), a whole word."""
    return f'"{word}"'


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _connect_raw(path: Path) -> sqlite3.Connection:
    """A stdlib connection set up like the engine's read connections (same cache size), read-only."""
    conn = sqlite3.connect(str(path), isolation_level=None)
    for pragma in ("PRAGMA cache_size=-65536", "PRAGMA busy_timeout=10000", "PRAGMA query_only=ON"):
        conn.execute(pragma)
    return conn


def _cases(svc: IncidentService, raw: sqlite3.Connection, n: int) -> tuple[list[Case], dict[str, Any]]:
    """The measured queries, with the deep-page cursor and the time window chosen from the data."""
    limit = PAGE_SIZE + 1
    # Page 5,000 at a million rows; on a smaller file the page halfway down, so --quick still
    # measures a deep keyset page rather than one past the end.
    page = min(DEEP_PAGE, max(2, n // (2 * PAGE_SIZE)))
    offset = (page - 1) * PAGE_SIZE - 1  # the last row of the previous page
    ts, last_id = raw.execute(SQL_CURSOR_AT, (offset,)).fetchone()
    cursor = Cursor(_parse_time(ts), int(last_id))
    # A one-day window about six months before the newest incident (seeded over the last year),
    # from midnight UTC; relative to the data, not the clock, so a reused file measures the same.
    newest = _parse_time(raw.execute("SELECT max(created_at) FROM incident").fetchone()[0])
    t1 = (newest - timedelta(days=182)).replace(hour=0, minute=0, second=0, microsecond=0)
    t2 = t1 + timedelta(days=1)
    time_flt = IncidentFilter(after=t1, before=t2)
    common, rare = IncidentFilter(text=COMMON_WORD), IncidentFilter(text=RARE_WORD)
    unfiltered = IncidentFilter()
    cases = [
        Case("first_page", "first page", lambda: svc.list_page(ACTOR, unfiltered, None, PAGE_SIZE),
             SQL_FIRST_PAGE, (limit, 0)),
        Case("deep_page", f"page {page:,} (keyset)", lambda: svc.list_page(ACTOR, unfiltered, cursor, PAGE_SIZE),
             SQL_KEYSET, (ts, ts, ts, cursor.id, limit, 0)),
        Case("text_common", f'text "{COMMON_WORD}"', lambda: svc.list_page(ACTOR, common, None, PAGE_SIZE),
             SQL_TEXT, (_text_param(COMMON_WORD), limit, 0)),
        Case("text_rare", f'text "{RARE_WORD}"', lambda: svc.list_page(ACTOR, rare, None, PAGE_SIZE),
             SQL_TEXT, (_text_param(RARE_WORD), limit, 0)),
        Case("time_window", "time filter, 1 day", lambda: svc.list_page(ACTOR, time_flt, None, PAGE_SIZE),
             SQL_TIME, (sqlite_time(t1), sqlite_time(t2), sqlite_time(t2), limit, 0)),
        Case("count_capped", f"count, capped at {COUNT_CAP - 1:,}", lambda: svc.count(ACTOR, unfiltered),
             SQL_COUNT, (1, COUNT_CAP, 0), is_count=True),
    ]
    setup = {
        "deep_page": page,
        "deep_page_cursor": {"offset": offset, "created_at": ts, "id": cursor.id},
        "time_window": {"after": t1.isoformat(), "before": t2.isoformat()},
    }
    return cases, setup


@contextmanager
def _capture(db: Database) -> Iterator[list[tuple[str, tuple[Any, ...]]]]:
    """Statements the engine sends to SQLite (BEGIN excluded), to compare with the raw SQL.

    The hook is removed again before anything is timed, so it costs the engine nothing there.
    """
    seen: list[tuple[str, tuple[Any, ...]]] = []

    def hook(_conn: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any, _many: bool) -> None:
        if not statement.lstrip().upper().startswith("BEGIN"):
            seen.append((statement, tuple(parameters or ())))

    target = db.query_engine.sync_engine
    event.listen(target, "before_cursor_execute", hook)
    try:
        yield seen
    finally:
        event.remove(target, "before_cursor_execute", hook)


async def _time_async(fn: Callable[[], Awaitable[object]], runs: int) -> list[float]:
    for _ in range(WARMUP):
        await fn()
    out: list[float] = []
    for _ in range(runs):
        t0 = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _time_raw(raw: sqlite3.Connection, sql: str, params: Sequence[Any], runs: int) -> list[float]:
    for _ in range(WARMUP):
        raw.execute(sql, params).fetchall()
    out: list[float] = []
    for _ in range(runs):
        t0 = time.perf_counter()
        raw.execute(sql, params).fetchall()
        out.append((time.perf_counter() - t0) * 1000)
    return out


async def _measure_case(case: Case, db: Database, raw: sqlite3.Connection, runs: int) -> Result:
    with _capture(db) as sent:
        answer = await case.engine()
    engine_sql, engine_params = sent[-1] if sent else ("", ())
    matches = _norm(engine_sql) == _norm(case.sql) and engine_params == tuple(case.params)
    raw_rows = raw.execute(case.sql, case.params).fetchall()
    if case.is_count:
        assert isinstance(answer, tuple)
        rows = answer[0]
        same = min(int(raw_rows[0][0]), COUNT_CAP - 1) == answer[0]
    else:
        assert isinstance(answer, Page)
        rows = len(answer.rows)
        same = [r.id for r in answer.rows] == [r[0] for r in raw_rows[:PAGE_SIZE]]
    engine_times = await _time_async(case.engine, runs)
    raw_times = _time_raw(raw, case.sql, case.params, runs)
    engine_ms, raw_ms = median(engine_times), median(raw_times)
    ratio = engine_ms / raw_ms if raw_ms > 0 else float("inf")
    plan = [str(r[3]) for r in raw.execute("EXPLAIN QUERY PLAN " + case.sql, case.params)]
    return Result(
        key=case.key, label=case.label, engine_ms=round(engine_ms, 3), raw_ms=round(raw_ms, 3),
        ratio=round(ratio, 2), engine_min_ms=round(min(engine_times), 3), raw_min_ms=round(min(raw_times), 3),
        rows=rows, same_result=same, sql_matches_engine=matches,
        ok=engine_ms < TARGET_MS and ratio <= TARGET_RATIO,
        sql=case.sql, params=list(case.params), engine_sql=_norm(engine_sql), plan=plan,
    )


async def _floor(db: Database, raw: sqlite3.Connection, runs: int) -> dict[str, float]:
    """The fixed cost of one call on the list's path (``Database.query()``: SQLAlchemy plus the
    aiosqlite worker-thread hand-offs) on ``SELECT 1``: what any list query pays on top of
    SQLite, and why sub-millisecond queries show high ratios."""

    async def one() -> None:
        async with db.query() as conn:
            (await conn.execute(sa.text("SELECT 1"))).all()

    engine = median(await _time_async(one, runs))
    rawm = median(_time_raw(raw, "SELECT 1", (), runs))
    return {"engine_ms": round(engine, 3), "raw_ms": round(rawm, 3)}


async def _measure_all(path: Path, n: int, runs: int) -> tuple[list[Result], dict[str, Any], dict[str, float]]:
    db = Database(sqlite_url(path))
    raw = _connect_raw(path)
    try:
        svc = IncidentService(db)
        cases, setup = _cases(svc, raw, n)
        results = [await _measure_case(c, db, raw, runs) for c in cases]
        floor = await _floor(db, raw, runs)
        return results, setup, floor
    finally:
        raw.close()
        await db.dispose()


def measure(incidents: int, db_path: Path | None = None, runs: int = 20) -> dict[str, Any]:
    """Seed (or reuse) the file, time every query, write ``bench/out/list_queries.json``."""
    seeded = ensure_db(db_path or default_db(incidents), incidents)
    results, setup, floor = asyncio.run(_measure_all(seeded.path, seeded.incidents, runs))
    data: dict[str, Any] = {
        "incidents": seeded.incidents,
        "db": str(seeded.path),
        "seed_seconds": seeded.seed_seconds,
        "runs": runs,
        "warmup": WARMUP,
        "sqlite_version": sqlite3.sqlite_version,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {platform.processor() or platform.system()}",
        "targets": {"engine_ms_below": TARGET_MS, "ratio_at_most": TARGET_RATIO},
        "setup": setup,
        "engine_floor": floor,
        "queries": [asdict(r) for r in results],
    }
    write_json(OUT_DIR / "list_queries.json", data)
    return data


def format_table(data: dict[str, Any]) -> str:
    """The plain-text table; the SQL and plan follow for any query that missed its target."""
    head = ("query", "engine ms", "raw sqlite3 ms", "ratio", "rows", "status")
    rows = [
        (q["label"], fmt_ms(q["engine_ms"]), fmt_ms(q["raw_ms"]), f"{q['ratio']:.1f}x", f"{q['rows']:,}",
         ("ok" if q["ok"] else "MISSED") + ("" if q["sql_matches_engine"] else " (raw SQL differs!)")
         + ("" if q["same_result"] else " (results differ!)"))
        for q in data["queries"]
    ]
    floor = data["engine_floor"]
    rows.append(("(engine floor) SELECT 1", fmt_ms(floor["engine_ms"]), fmt_ms(floor["raw_ms"]), "-", "", "info"))
    widths = [max(len(str(r[i])) for r in (head, *rows)) for i in range(len(head))]

    def line(cells: Sequence[str]) -> str:
        return " | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    out = [
        f"{data['incidents']:,} incidents, median of {data['runs']} warm runs, SQLite {data['sqlite_version']}; "
        f"target: engine < {TARGET_MS:g} ms and <= {TARGET_RATIO:g}x raw sqlite3",
        line(head),
        "-+-".join("-" * w for w in widths),
        *map(line, rows),
    ]
    for q in data["queries"]:
        if not q["ok"] or not q["sql_matches_engine"]:
            out += ["", f"{q['label']}: {q['sql']}", f"  params: {q['params']}"]
            if not q["sql_matches_engine"]:
                out.append(f"  engine sent: {q['engine_sql']}")
            out += [f"  plan: {step}" for step in q["plan"]]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--incidents", type=int, default=1_000_000, help="incidents in the file (default 1,000,000)")
    ap.add_argument("--db", type=Path, help="SQLite file (default bench/out/incidents-N.db; reused when big enough)")
    ap.add_argument("--runs", type=int, default=20, help="timed runs per query after warm-up (default 20)")
    args = ap.parse_args(argv)
    data = measure(args.incidents, args.db, args.runs)
    print(format_table(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Incident list queries: keyset pages, capped counts, description search, time filters.

Measured choices (storage notes): keyset on (created_at DESC, id DESC), never OFFSET; counts capped
at ``COUNT_CAP`` rows; FTS5 (SQLite) or pg_trgm (PostgreSQL) for text; time filters on the stored
incident start/end with the redundant ``start_time <= before`` bound, which turns a 0.7 s scan into
a 2 ms range read at a million incidents.

SQLite search walks the FTS index by rowid, newest first: ids are assigned in creation order, so
that is the list order and a common word still returns its first page in under a millisecond.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from imtui.storage.models import Incident, IncidentStatus, IncidentType

COUNT_CAP = 10_001  # one more than 100 pages of 100: enough to say "of 100+"

incident = Incident.__table__
itype = IncidentType.__table__
istatus = IncidentStatus.__table__
fts = sa.table("incident_fts", sa.column("rowid", sa.Integer))


@dataclass(frozen=True)
class IncidentFilter:
    """What the list is narrowed to; times are aware UTC datetimes."""

    incident_id: int | None = None
    text: str | None = None
    after: datetime | None = None  # its sequences start at or after this
    before: datetime | None = None  # its sequences end at or before this

    @property
    def empty(self) -> bool:
        return self.incident_id is None and not self.text and self.after is None and self.before is None


@dataclass(frozen=True)
class Cursor:
    """The last row of a page: the next page starts strictly after it."""

    created_at: datetime
    id: int
    end_time: datetime | None = None  # the sort key when the list is ordered by end time

    @classmethod
    def after(cls, row: IncidentListRow) -> Cursor:
        return cls(row.created_at, row.id, row.end_time)


def orders_by_end_time(flt: IncidentFilter) -> bool:
    """A "sequences ending before" filter alone lists the latest-ending projects first.

    Newest-created-first would walk half the creation index to find the first page of an
    end-time bound (0.2-0.35 s at a million incidents, 43 ms even with a covering index); the
    end-time index yields the page directly.  The screen says which order it shows.
    """
    return flt.before is not None and flt.after is None and flt.incident_id is None


class IncidentListRow(NamedTuple):
    """One list row.  A NamedTuple: building a hundred frozen dataclasses costs more than the query."""

    id: int
    created_at: datetime
    created_by: str
    type_name: str
    status_name: str
    description: str
    start_time: datetime | None
    end_time: datetime | None
    version: int


_WORD = re.compile(r"\w+", re.UNICODE)


PREFIX_MIN = 3  # "l*" would read a third of the index; shorter prefixes match whole words
_TERM = re.compile(r"(\w+)(\*?)", re.UNICODE)


def search_words(text: str) -> list[tuple[str, bool]]:
    """The words of ``text`` and whether each matches as a prefix.

    Every word must appear in the description as a whole word, case-insensitively; a word typed
    with a trailing ``*`` (at least three letters) also matches longer words ("fork*" finds
    "forklift").  Whole words keep a common term's first page under a millisecond at a million
    incidents, where FTS5 has to materialise every match of a prefix (6 ms for "vehicle*").
    """
    return [(w, star == "*" and len(w) >= PREFIX_MIN) for w, star in _TERM.findall(text)]


def fts_match_expression(text: str) -> str | None:
    """``text`` as an FTS5 query (see :func:`search_words`); None when it holds no word.

    Quoting each token keeps FTS5 syntax (AND/OR/NEAR, column filters, ``*``) inert.
    """
    words = search_words(text)
    if not words:
        return None
    return " ".join(f'"{w}"*' if prefix else f'"{w}"' for w, prefix in words)


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


_TIMES = ("created_at", "start_time", "end_time")


def _columns(dialect: str) -> list:
    def t(name: str):  # noqa: ANN202
        col = incident.c[name]
        # SQLite keeps UTC text; SQLAlchemy's regex-based DateTime parsing costs ~0.5 ms a page,
        # datetime.fromisoformat (C) a tenth of that.  See _row().
        return sa.type_coerce(col, sa.String).label(name) if dialect == "sqlite" else col

    return [
        incident.c.id,
        t("created_at"),
        incident.c.created_by,
        itype.c.name.label("type_name"),
        istatus.c.name.label("status_name"),
        incident.c.description,
        t("start_time"),
        t("end_time"),
        incident.c.version,
    ]


def _time(value: object) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(f"{value}+00:00")  # stored as UTC without an offset


def _row(row: sa.Row) -> IncidentListRow:
    t = _time
    return IncidentListRow(row[0], t(row[1]), row[2], row[3], row[4], row[5], t(row[6]), t(row[7]), row[8])  # type: ignore[arg-type]


def _base_from():
    return incident.join(itype, itype.c.id == incident.c.type_id).join(istatus, istatus.c.id == incident.c.status_id)


def _time_conds(flt: IncidentFilter) -> list:
    conds: list = []
    if flt.incident_id is not None:
        conds.append(incident.c.id == flt.incident_id)
    if flt.after is not None:
        conds.append(incident.c.start_time >= flt.after)
    if flt.before is not None:
        conds.append(incident.c.end_time <= flt.before)
        conds.append(incident.c.start_time <= flt.before)  # redundant (start <= end) but indexable
    return conds


def _text_condition(text: str, dialect: str):
    """Every word of ``text`` must appear in the description (see :func:`search_words`).

    PostgreSQL gets the same meaning from case-insensitive regexes anchored at word boundaries
    (``\\m``, ``\\M``), which the pg_trgm GIN index serves.  Text without any word falls back to
    a substring match (both backends).
    """
    words = search_words(text)
    if dialect == "postgresql" and words:
        return sa.and_(*[incident.c.description.op("~*")("\\m" + w + ("" if prefix else "\\M")) for w, prefix in words])
    return incident.c.description.ilike(_like_pattern(text), escape="\\")


# -- SQLite full-text search ---------------------------------------------------------------------
# FTS5 streams matches by rowid (= creation order) cheaply, but turning them into a set (IN) costs
# ~0.6 us a match: 0.2 s for a word in a third of a million descriptions.  So how a word search
# meets the other filters depends on how common the words are, measured by a capped probe.
FTS_PROBE = 2_000


def _match(expression: str):
    return sa.text("incident_fts MATCH :fts_q").bindparams(fts_q=expression)


def _fts_ids(expression: str):
    return sa.select(fts.c.rowid).where(_match(expression))


async def _fts_hits(conn: AsyncConnection, expression: str, cap: int) -> int:
    inner = sa.select(sa.literal(1)).select_from(fts).where(_match(expression)).limit(cap)
    return int((await conn.execute(sa.select(sa.func.count()).select_from(inner.subquery()))).scalar_one())


def _fts_walk(flt: IncidentFilter) -> bool:
    """Walk the matches newest first and test the other filters row by row: right when every
    newest row passes them, i.e. text alone or with "starting after" (new rows start late)."""
    return flt.before is None and flt.incident_id is None


async def _sqlite_text_condition(conn: AsyncConnection, flt: IncidentFilter, expression: str):
    """The word search as a condition on ``incident`` next to ID or time filters."""
    per_row = sa.exists(sa.select(sa.literal(1)).select_from(fts).where(_match(expression), fts.c.rowid == incident.c.id))
    if flt.incident_id is not None:
        return per_row  # one row to test
    if await _fts_hits(conn, expression, FTS_PROBE) < FTS_PROBE:
        return incident.c.id.in_(_fts_ids(expression))  # a small set: materialise it
    if flt.after is not None and flt.before is not None:
        # A time window holds a few thousand rows with neighbouring ids (ids follow creation):
        # only the matches inside that id range need to become a set.
        lo, hi = (await conn.execute(sa.select(sa.func.min(incident.c.id), sa.func.max(incident.c.id))
                                     .where(*_time_conds(flt)))).one()
        if lo is None:
            return sa.false()
        return incident.c.id.in_(_fts_ids(expression).where(fts.c.rowid.between(lo, hi)))
    # "ending before" walks the end-time index; a common word matches within a few hundred rows.
    return per_row


async def _conditions(conn: AsyncConnection, flt: IncidentFilter) -> list:
    conds = _time_conds(flt)
    if flt.text:
        dialect = conn.dialect.name
        expression = fts_match_expression(flt.text) if dialect == "sqlite" else None
        if expression is not None:
            conds.append(await _sqlite_text_condition(conn, flt, expression))
        else:
            conds.append(_text_condition(flt.text, dialect))
    return conds


def _keyset(key, mark: datetime | None, cursor: Cursor) -> list:  # noqa: ANN001
    # The first bound is implied by the second; it lets the planner start the index walk at the
    # cursor instead of at the newest row (page 5,000: 75 ms -> 0.2 ms).
    return [key <= mark, sa.or_(key < mark, sa.and_(key == mark, incident.c.id < cursor.id))]


async def list_incidents(
    conn: AsyncConnection, flt: IncidentFilter, cursor: Cursor | None = None, limit: int = 100
) -> list[IncidentListRow]:
    """One page of incidents, newest first (latest-ending first under an end bound alone),
    starting after ``cursor``."""
    dialect = conn.dialect.name
    expression = fts_match_expression(flt.text) if flt.text and dialect == "sqlite" else None
    if expression is not None and _fts_walk(flt):
        walk = sa.select(*_columns(dialect)).select_from(
            fts.join(incident, incident.c.id == fts.c.rowid)
            .join(itype, itype.c.id == incident.c.type_id)
            .join(istatus, istatus.c.id == incident.c.status_id)
        ).where(_match(expression), *_time_conds(flt))
        if cursor is not None:
            walk = walk.where(fts.c.rowid < cursor.id)
        stmt = walk.order_by(fts.c.rowid.desc()).limit(limit)
    else:
        conds = await _conditions(conn, flt)
        key = incident.c.end_time if orders_by_end_time(flt) else incident.c.created_at
        if cursor is not None:
            conds += _keyset(key, cursor.end_time if key is incident.c.end_time else cursor.created_at, cursor)
        order = (key.desc(), incident.c.id.desc())
        if flt.after is not None:
            # A time window reads a few thousand rows from ix_incident_start and sorts them.
            # Sorting only the ids (the index covers every column the filter and the order
            # need) and fetching the hundred rows afterwards is 4-7x faster than sorting
            # whole rows with their descriptions.
            ids = sa.select(incident.c.id).where(*conds).order_by(*order).limit(limit)
            stmt = sa.select(*_columns(dialect)).select_from(_base_from()).where(incident.c.id.in_(ids))
            stmt = stmt.order_by(*order)
        else:
            stmt = sa.select(*_columns(dialect)).select_from(_base_from()).where(*conds).order_by(*order).limit(limit)
    result = await conn.execute(stmt)
    return [_row(row) for row in result]


async def count_incidents(conn: AsyncConnection, flt: IncidentFilter, cap: int = COUNT_CAP) -> int:
    """How many incidents match, counting at most ``cap`` (the pager says "100+" past it)."""
    dialect = conn.dialect.name
    expression = fts_match_expression(flt.text) if flt.text and dialect == "sqlite" else None
    if expression is not None and _fts_walk(flt):
        source = fts if flt.after is None else fts.join(incident, incident.c.id == fts.c.rowid)
        inner = sa.select(sa.literal(1)).select_from(source).where(_match(expression), *_time_conds(flt)).limit(cap)
    else:
        inner = sa.select(sa.literal(1)).select_from(incident).where(*await _conditions(conn, flt)).limit(cap)
    stmt = sa.select(sa.func.count()).select_from(inner.subquery())
    return int((await conn.execute(stmt)).scalar_one())

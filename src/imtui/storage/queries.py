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


def _where(flt: IncidentFilter, dialect: str, *, use_fts_order: bool) -> list:
    conds: list = []
    if flt.incident_id is not None:
        conds.append(incident.c.id == flt.incident_id)
    if flt.after is not None:
        conds.append(incident.c.start_time >= flt.after)
    if flt.before is not None:
        conds.append(incident.c.end_time <= flt.before)
        conds.append(incident.c.start_time <= flt.before)  # redundant (start <= end) but indexable
    if flt.text and not use_fts_order:
        conds.append(_text_condition(flt.text, dialect))
    return conds


def _text_condition(text: str, dialect: str):
    """Every word of ``text`` must appear in the description (see :func:`search_words`).

    PostgreSQL gets the same meaning from case-insensitive regexes anchored at word boundaries
    (``\\m``, ``\\M``), which the pg_trgm GIN index serves.  Text without any word falls back to
    a substring match.
    """
    words = search_words(text)
    if dialect == "sqlite" and words:
        sub = sa.select(fts.c.rowid).where(sa.text("incident_fts MATCH :fts_q").bindparams(fts_q=fts_match_expression(text)))
        return incident.c.id.in_(sub)
    if dialect == "postgresql" and words:
        return sa.and_(*[incident.c.description.op("~*")("\\m" + w + ("" if prefix else "\\M")) for w, prefix in words])
    return incident.c.description.ilike(_like_pattern(text), escape="\\")


def _fts_only(flt: IncidentFilter, dialect: str) -> str | None:
    """The FTS expression when the rowid-ordered fast path applies (SQLite, text without times)."""
    if dialect != "sqlite" or not flt.text:
        return None
    if flt.after is not None or flt.before is not None or flt.incident_id is not None:
        return None
    return fts_match_expression(flt.text)


async def list_incidents(
    conn: AsyncConnection, flt: IncidentFilter, cursor: Cursor | None = None, limit: int = 100
) -> list[IncidentListRow]:
    """One page of incidents, newest first, starting after ``cursor``."""
    dialect = conn.dialect.name
    match = _fts_only(flt, dialect)
    if match is not None:
        sub = sa.select(fts.c.rowid.label("rid")).where(sa.text("incident_fts MATCH :fts_q").bindparams(fts_q=match))
        if cursor is not None:
            sub = sub.where(fts.c.rowid < cursor.id)
        sub = sub.order_by(fts.c.rowid.desc()).limit(limit).subquery()
        stmt = sa.select(*_columns(dialect)).select_from(_base_from().join(sub, sub.c.rid == incident.c.id))
        stmt = stmt.where(*_where(flt, dialect, use_fts_order=True)).order_by(incident.c.id.desc())
    else:
        conds = _where(flt, dialect, use_fts_order=False)
        if cursor is not None:
            # The first bound is implied by the second; it lets the planner start the index walk
            # at the cursor instead of at the newest row (page 5,000: 75 ms -> 0.2 ms).
            conds += [
                incident.c.created_at <= cursor.created_at,
                sa.or_(
                    incident.c.created_at < cursor.created_at,
                    sa.and_(incident.c.created_at == cursor.created_at, incident.c.id < cursor.id),
                ),
            ]
        order = (incident.c.created_at.desc(), incident.c.id.desc())
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
    match = _fts_only(flt, dialect)
    if match is not None:
        inner = (
            sa.select(sa.literal(1))
            .select_from(fts)
            .where(sa.text("incident_fts MATCH :fts_q").bindparams(fts_q=match))
            .limit(cap)
        )
    else:
        inner = sa.select(sa.literal(1)).select_from(incident).where(*_where(flt, dialect, use_fts_order=False)).limit(cap)
    stmt = sa.select(sa.func.count()).select_from(inner.subquery())
    return int((await conn.execute(stmt)).scalar_one())

"""LPR events for operators (manual 004, "License plate match lists (explained)"; the Smart
Client's LPR tab): the recognitions the workers stored, each with the list matches it raised
(list, entry, rule, retroactive, the entry's custom fields as they were at match time), searched
by plate, camera, list and time, newest first, and the plate crop of one of them.

Plate search: what operators type is uppercased and the separators they type between groups
(spaces, hyphens, dots, ``_``) are dropped.  The text is a *part* of the plate (``12`` finds
``AB123CD``: operators type what they remember) and ``?`` is exactly one character (``B1?3``
finds ``AB123CD``): the rule of the match-list search (``imtui.lpr.matching.like_pattern``), so
one search box behaves like the other.  Anything that can never be on a plate is refused with a message naming the field.

Paging is keyset on (``at``, ``id``), never OFFSET: a page costs the same at the start of the day
as at its end, and a recognition arriving meanwhile does not shift the next page.

Following new recognitions (the screen's poll): ``latest`` is the highest recognition id, one
MAX on the primary key, 0 when there is none; ``search(..., after=that)`` / ``count(..., after=that)``
give the recognitions stored since, with the same filters, read along the primary key (never the
whole day's time index).  Ids grow with every insert, ``at`` is the stream's clock: a passage
stored later may have started earlier, so the rows after an id are not always the newest by time.
Updates of a stored row (the worker's last-seen time and read count when a passage ends, a match
added retroactively) do not change ``latest``: they are seen on the next ``search``.  On
PostgreSQL two workers' inserts can commit out of id order; a row committed after a higher id was
read is found by the next plain ``search``, not by ``after``.

Events are kept ``events.keep_hours`` (24 h by default, purged by ``imtui.engine.events.purge``).
Permission: sequences / view, like the recognitions and the camera events.  No Textual here.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from imtui.engine.base import Service
from imtui.engine.errors import InvalidInput, NotFound
from imtui.engine.incidents import Option
from imtui.engine.permissions import Actor, Feature, Level, require
from imtui.engine.video.media import MediaStore
from imtui.i18n import _
from imtui.lpr.matching import MAX_LENGTH, WILDCARD, like_pattern
from imtui.storage.db import Database
from imtui.storage.models import Camera, MatchList, PlateMatch, PlateRecognition

UNLISTED = "unlisted"
MAX_LIMIT = 1000
_TYPED_SEPARATORS = re.compile(r"[\s\-.·_]")  # what people type between a plate's groups


@dataclass(frozen=True)
class Crop:
    """An event's plate crop in the media store."""

    path: Path
    exists: bool
    image: object | None  # numpy BGR array when decoded and readable


@dataclass(frozen=True)
class EventMatch:
    """One list a recognition matched, as the list said when the match fired."""

    list_id: int
    list_name: str
    entry_plate: str  # as on the list (wildcards kept); "" for the Unlisted list
    rule: str  # exact, wildcard, ocr-equivalence, one-difference, unlisted
    retroactive: bool  # found when the list gained the plate, after the read
    fields: dict[str, str] = field(default_factory=dict)  # custom field name -> value, in the list's order
    at: datetime | None = None  # when the plate was read (the recognition's time)


@dataclass(frozen=True)
class LprEvent:
    """One recognition (vehicle passage) with its list matches."""

    id: int
    at: datetime  # first seen, the stream's clock (UTC)
    last_seen: datetime
    camera_id: int
    camera_name: str  # "" when the camera was deleted since
    plate: str
    country: str
    confidence: float
    reads: int
    snapshot: str  # media-store relative path of the plate crop; "" when none was kept
    matches: tuple[EventMatch, ...] = ()

    @property
    def cursor(self) -> EventCursor:
        return EventCursor(self.at, self.id)


@dataclass(frozen=True)
class EventCursor:
    """The last event of a page: the next (older) page starts strictly after it."""

    at: datetime
    id: int


@dataclass(frozen=True)
class EventPage:
    events: list[LprEvent]
    has_next: bool  # an older page follows

    @property
    def next(self) -> EventCursor | None:
        """Pass as ``before`` for the next (older) page; None on the last page."""
        return self.events[-1].cursor if self.has_next and self.events else None


@dataclass(frozen=True)
class EventChoices:
    """What the filters offer: cameras, and match lists (the Unlisted list last; lists deleted
    since, still named by their events, after it)."""

    cameras: list[Option]
    lists: list[Option]


def plate_condition(text: str, column: sa.ColumnElement) -> sa.ColumnElement | None:  # type: ignore[type-arg]
    """The WHERE condition for a typed plate search (see the module docstring); None for an empty
    search.  Raises InvalidInput naming the field and the fix."""
    typed = _TYPED_SEPARATORS.sub("", text or "")
    if not typed:
        return None
    bad = sorted({ch for ch in typed if not (ch.isascii() and (ch.isalnum() or ch == WILDCARD))})
    if bad:
        shown = " ".join(repr(ch) for ch in bad[:5])
        raise InvalidInput("plate", _("Plate: {chars} cannot be in a plate; type letters A-Z, digits 0-9 and ? for any "
                                      "one character.").format(chars=shown))
    plate = typed.upper()
    if len(plate) > MAX_LENGTH:
        raise InvalidInput("plate", _("Plate: {n} characters is too long; a plate has at most {max}.").format(
            n=len(plate), max=MAX_LENGTH))
    return column.like(like_pattern(plate), escape="\\")  # escapes LIKE's own characters


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _conditions(*, plate: str, camera_id: int | None, list_id: int | None, since: datetime | None,
                until: datetime | None, after: int | None) -> list[sa.ColumnElement]:  # type: ignore[type-arg]
    """The WHERE conditions of the filters (see ``LprEventService.search``); InvalidInput names a
    bad one."""
    since, until = _utc(since), _utc(until)
    if since is not None and until is not None and until < since:
        raise InvalidInput("until", _("Until: the time is earlier than Since; swap them or clear one."))
    r, m = PlateRecognition.__table__, PlateMatch.__table__
    where = []
    condition = plate_condition(plate, r.c.plate)
    if condition is not None:
        where.append(condition)
    if camera_id is not None:
        where.append(r.c.camera_id == camera_id)
    if list_id is not None:
        where.append(sa.exists().where(m.c.recognition_id == r.c.id, m.c.list_id == list_id))
    if since is not None:
        where.append(r.c.at >= since)
    if until is not None:
        where.append(r.c.at <= until)
    if after is not None:
        where.append(r.c.id > after)
    return where


class LprEventService(Service):
    def __init__(self, db: Database, store: MediaStore) -> None:
        super().__init__(db)
        self.store = store

    async def search(self, actor: Actor, *, plate: str = "", camera_id: int | None = None,
                     list_id: int | None = None, since: datetime | None = None, until: datetime | None = None,
                     limit: int = 100, before: EventCursor | None = None, after: int | None = None) -> EventPage:
        """Recognitions newest first (``at``, then ``id``), each with its matches.

        ``plate``: see the module docstring.  ``list_id``: only recognitions that matched that list
        (the Unlisted list too).  ``since`` / ``until``: ``since <= at <= until``.  ``before``: the
        previous page's ``next``.  ``after``: only recognitions stored after the one with that id
        (what ``latest`` returned earlier).  ``limit``: 1 to 1000 events a page."""
        require(actor, Feature.SEQUENCES, Level.VIEW)
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput("limit", _("Limit: {n} is not allowed; choose 1 to {max} events a page.").format(
                n=limit, max=MAX_LIMIT))
        r, m, c = PlateRecognition.__table__, PlateMatch.__table__, Camera.__table__
        where = _conditions(plate=plate, camera_id=camera_id, list_id=list_id, since=since, until=until,
                            after=after)
        if before is not None:
            mark = _utc(before.at)
            # ``at <= mark`` alone lets the index range start at the cursor; the OR settles ties
            where += [r.c.at <= mark, sa.or_(r.c.at < mark, sa.and_(r.c.at == mark, r.c.id < before.id))]
        at = r.c.at
        if after is not None:
            # the few rows past ``after`` are found on the primary key and sorted; walking the time
            # index newest first would read the whole day when fewer than ``limit`` came (SQLite
            # would choose that walk to spare the sort: ``+`` keeps it off the index)
            at = sa.literal_column("+recognition.at") if self.db.is_sqlite else r.c.at
        stmt = (sa.select(r, c.c.name.label("camera_name"))
                .select_from(r.outerjoin(c, c.c.id == r.c.camera_id))
                .where(*where).order_by(at.desc(), r.c.id.desc()).limit(limit + 1))
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            rows = (await s.execute(stmt)).all()
            page = rows[:limit]
            matches: dict[int, list[EventMatch]] = {}
            if page:
                found = await s.execute(sa.select(m).where(m.c.recognition_id.in_([x.id for x in page]))
                                        .order_by(m.c.recognition_id, m.c.id))
                for x in found:
                    matches.setdefault(x.recognition_id, []).append(match_view(x))
        events = [LprEvent(x.id, x.at, x.last_seen, x.camera_id, x.camera_name or "", x.plate, x.country,
                           float(x.confidence), x.reads, x.snapshot or "", tuple(matches.get(x.id, ())))
                  for x in page]
        return EventPage(events, len(rows) > limit)

    async def latest(self, actor: Actor) -> int:
        """The highest recognition id (0 when there is none): one MAX on the primary key, what a
        screen asks every few seconds to know whether anything new was stored."""
        require(actor, Feature.SEQUENCES, Level.VIEW)
        r = PlateRecognition.__table__
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.query() as conn:
            return int((await conn.execute(sa.select(sa.func.max(r.c.id)))).scalar() or 0)

    async def count(self, actor: Actor, *, plate: str = "", camera_id: int | None = None,
                    list_id: int | None = None, since: datetime | None = None, until: datetime | None = None,
                    after: int | None = None) -> int:
        """How many recognitions match the filters of ``search`` (with ``after``: how many were
        stored since ``latest`` said that id; counted along the primary key)."""
        require(actor, Feature.SEQUENCES, Level.VIEW)
        r = PlateRecognition.__table__
        where = _conditions(plate=plate, camera_id=camera_id, list_id=list_id, since=since, until=until,
                            after=after)
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.query() as conn:
            return int((await conn.execute(sa.select(sa.func.count()).select_from(r).where(*where))).scalar() or 0)

    async def get(self, actor: Actor, recognition_id: int) -> LprEvent:
        """One event with its matches; NotFound when it was purged meanwhile."""
        require(actor, Feature.SEQUENCES, Level.VIEW)
        r, m, c = PlateRecognition.__table__, PlateMatch.__table__, Camera.__table__
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            x = (await s.execute(sa.select(r, c.c.name.label("camera_name"))
                                 .select_from(r.outerjoin(c, c.c.id == r.c.camera_id))
                                 .where(r.c.id == recognition_id))).first()
            if x is None:
                raise NotFound(_("LPR event {id} is gone (events are kept for a limited time); refresh the list.")
                               .format(id=recognition_id))
            found = [match_view(y) for y in await s.execute(sa.select(m).where(m.c.recognition_id == recognition_id)
                                                        .order_by(m.c.id))]
        return LprEvent(x.id, x.at, x.last_seen, x.camera_id, x.camera_name or "", x.plate, x.country,
                        float(x.confidence), x.reads, x.snapshot or "", tuple(found))

    async def choices(self, actor: Actor) -> EventChoices:
        """Cameras and match lists for the filters (operators may not see the lists' admin
        screens, so this needs sequences / view only and gives names, nothing else)."""
        require(actor, Feature.SEQUENCES, Level.VIEW)
        c, t, m = Camera.__table__, MatchList.__table__, PlateMatch.__table__
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            cameras = [Option(x.id, x.name) for x in await s.execute(sa.select(c.c.id, c.c.name)
                                                                     .order_by(c.c.name, c.c.id))]
            lists = (await s.execute(sa.select(t.c.id, t.c.name).order_by(
                sa.case((t.c.kind == UNLISTED, 1), else_=0), t.c.name))).all()
            known = {x.id for x in lists}
            gone = (await s.execute(sa.select(m.c.list_id, sa.func.max(m.c.list_name).label("name"))
                                    .group_by(m.c.list_id).order_by(m.c.list_id))).all()
        deleted = [Option(x.list_id, _("{name} (deleted)").format(name=x.name)) for x in gone if x.list_id not in known]
        return EventChoices(cameras, [Option(x.id, x.name) for x in lists] + deleted)

    async def crop(self, actor: Actor, recognition_id: int, *, decode: bool = False) -> Crop | None:
        """The event's plate crop: its absolute path in the media store, whether the file is still
        there (purged or deleted by hand: not), and with ``decode`` the picture (BGR) — one
        database read, and every file-system call in a thread (the store may be a network share).
        None when the worker kept no crop, or the stored path would leave the store."""
        require(actor, Feature.SEQUENCES, Level.VIEW)
        r = PlateRecognition.__table__
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            row = (await s.execute(sa.select(r.c.snapshot).where(r.c.id == recognition_id))).first()
        if row is None:
            raise NotFound(_("LPR event {id} is gone (events are kept for a limited time); refresh the list.")
                           .format(id=recognition_id))
        return await load_crop(self.store, row.snapshot, decode=decode)

    async def snapshot(self, actor: Actor, recognition_id: int) -> Path | None:
        """The crop's path (see ``crop``)."""
        found = await self.crop(actor, recognition_id)
        return found.path if found is not None else None

    async def snapshot_image(self, actor: Actor, recognition_id: int):  # noqa: ANN201 - numpy BGR array or None
        """The crop decoded, or None when there is none or it cannot be read (see ``crop``)."""
        found = await self.crop(actor, recognition_id, decode=True)
        return found.image if found is not None else None


def match_view(row) -> EventMatch:  # noqa: ANN001 - a plate_match row
    """A stored match as the list said when it fired (the alarm detail shows it too)."""
    try:
        values = json.loads(row.fields or "{}")
    except ValueError:
        values = {}
    fields = {str(k): "" if v is None else str(v) for k, v in values.items()} if isinstance(values, dict) else {}
    return EventMatch(row.list_id, row.list_name, row.entry_plate or "", row.rule, bool(row.retroactive), fields,
                      row.at)


async def load_crop(store: MediaStore, snapshot: str, *, decode: bool = False) -> Crop | None:
    """A plate crop stored at ``snapshot`` (media-store relative): its path, whether the file is
    still there, and with ``decode`` the picture; every file-system call in a thread (the store
    may be a network share).  None when no crop was kept, or the path would leave the store (a
    hand-edited row must not make us read files outside it).  The alarm detail uses it too."""
    if not snapshot:
        return None
    path = store.absolute(snapshot)

    def look() -> Crop | None:
        root, resolved = store.root.resolve(), path.resolve()
        if resolved != root and root not in resolved.parents:
            return None
        if not path.is_file():
            return Crop(path, False, None)
        if not decode:
            return Crop(path, True, None)
        import cv2

        return Crop(path, True, cv2.imread(str(path)))

    return await asyncio.to_thread(look)

"""Licence-plate match lists for administrators and operators (manual 004, "Working with license
plate match lists"): lists with their matching tolerances, ordered custom fields, entries, search
with ``?``, import and export, and which lists each LPR camera matches against.

Every change is one transaction with its audit entry.  Plates are normalised by the one rule set
of ``imtui.lpr.matching`` (what the screen, the CLI and the import accept is the same); a changed
spelling comes back as a note for the caller to show.  The special "Unlisted license plates" list
holds no entries and cannot be deleted or renamed away.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from imtui.engine import audit
from imtui.engine.base import Service
from imtui.engine.errors import InvalidInput, NotFound
from imtui.engine.matchlists.columns import export_csv
from imtui.engine.matchlists.files import ImportFileError, parse_import
from imtui.engine.permissions import Actor, Feature, Level, require
from imtui.engine.times import utcnow
from imtui.i18n import _
from imtui.lpr.matching import Entry, ListIndex, PlateRuleError, build, like_pattern, normalise_plate
from imtui.storage.changes import Topic
from imtui.storage.models import LprCamera, MatchList, MatchListEntry, MatchListField

UNLISTED = "unlisted"
ROWS_PER_PAGE = (50, 1000)  # manual 004: 50 to 1000 rows per page
MAX_FIELD_CHARS = 500
IMPORT_CHUNK = 5000
RETRO_HOURS = 24  # issue 7: reads of the last 24 h are checked again when a list gains a plate


@dataclass(frozen=True)
class FieldView:
    id: int
    name: str


@dataclass(frozen=True)
class ListView:
    id: int
    name: str
    kind: str  # "list" or "unlisted"
    ocr_equivalence: int
    differences: int
    fields: tuple[FieldView, ...]
    entries: int

    @property
    def unlisted(self) -> bool:
        return self.kind == UNLISTED


@dataclass(frozen=True)
class EntryView:
    id: int
    plate: str
    values: tuple[str, ...]  # in the list's field order
    added_at: datetime


@dataclass(frozen=True)
class EntryPage:
    rows: list[EntryView]
    total: int  # entries matching the search


@dataclass(frozen=True)
class MatchView:
    id: int
    at: datetime  # when the plate was read
    recognition_id: int
    camera_id: int
    plate: str  # as read
    list_id: int
    list_name: str
    entry_plate: str  # as on the list ("" for Unlisted)
    fields: dict[str, str]
    rule: str
    retroactive: bool


@dataclass(frozen=True)
class ImportReport:
    added: int
    updated: int
    removed: int  # replace mode: entries that were on the list before and are not in the file
    notes: list[str]


def _check_name(name: str, what: str) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidInput("name", _("{what}: the name is empty; type a name.").format(what=what))
    if len(name) > 100:
        raise InvalidInput("name", _("{what}: the name has {n} characters; use at most 100.").format(what=what, n=len(name)))
    if any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in name):
        raise InvalidInput("name", _("{what}: the name holds control characters; type plain text.").format(what=what))
    return name


def _check_tolerances(ocr_equivalence: int | None, differences: int | None) -> None:
    if ocr_equivalence is not None and ocr_equivalence not in (0, 1, 2):
        raise InvalidInput("ocr_equivalence", _("OCR equivalence: {v} is not allowed; use 0 (off), 1 (O/0, I/1) or 2 "
                                                "(also B/8, S/5, Z/2, G/6).").format(v=ocr_equivalence))
    if differences is not None and differences not in (0, 1):
        raise InvalidInput("differences", _("Differences allowed: {v} is not allowed; use 0 or 1.").format(v=differences))


def _check_value(name: str, value: str) -> str:
    value = (value or "").strip()
    if len(value) > MAX_FIELD_CHARS:
        raise InvalidInput(name, _("{field}: {n} characters is too long; use at most {max}.").format(
            field=name, n=len(value), max=MAX_FIELD_CHARS))
    if any((ord(ch) < 32 and ch != "\t") or 127 <= ord(ch) < 160 for ch in value):
        raise InvalidInput(name, _("{field}: control characters cannot be stored; type plain text.").format(field=name))
    return value


def _plate(text: str) -> tuple[str, str | None]:
    try:
        plate, changed = normalise_plate(text)
    except PlateRuleError as exc:
        raise InvalidInput("plate", _("Plate: {rule}.").format(rule=exc)) from None
    note = _("Plate {typed!r} stored as {plate}.").format(typed=text.strip(), plate=plate) if changed else None
    return plate, note


def _plan_import(rows: list, field_ids: list[str], existing: dict[str, int], list_id: int, now: datetime,
                 replace: bool) -> tuple[list[tuple], list[dict], int, int, int]:
    """The rows to insert and to update, and the counts (added, updated, removed) of an import."""
    new, changed = [], []
    for row in rows:
        fields = json.dumps({k: v for k, v in zip(field_ids, row.fields, strict=False) if v}, ensure_ascii=False)
        if row.plate in existing and not replace:
            changed.append({"entry_id": existing[row.plate], "fields": fields})
        else:
            new.append((list_id, row.plate, fields, now))
    in_file = {row.plate for row in rows}
    removed = len(existing.keys() - in_file) if replace else 0
    return new, changed, len(in_file - existing.keys()), len(in_file & existing.keys()), removed


class MatchListService(Service):
    # ------------------------------------------------------------------------------------------- lists

    async def lists(self, actor: Actor) -> list[ListView]:
        require(actor, Feature.PROPERTIES, Level.VIEW)
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            return await self._lists(s)

    async def _lists(self, s, list_id: int | None = None) -> list[ListView]:  # noqa: ANN001
        t, f, e = MatchList.__table__, MatchListField.__table__, MatchListEntry.__table__
        stmt = sa.select(t).order_by(sa.case((t.c.kind == UNLISTED, 1), else_=0), t.c.name)  # the special list last
        if list_id is not None:
            stmt = stmt.where(t.c.id == list_id)
        rows = (await s.execute(stmt)).all()
        ids = [r.id for r in rows]
        fields: dict[int, list[FieldView]] = {i: [] for i in ids}
        counts: dict[int, int] = {}
        if ids:
            for r in (await s.execute(sa.select(f).where(f.c.list_id.in_(ids)).order_by(f.c.position, f.c.id))).all():
                fields[r.list_id].append(FieldView(r.id, r.name))
            counts = dict((await s.execute(sa.select(e.c.list_id, sa.func.count()).where(e.c.list_id.in_(ids))
                                           .group_by(e.c.list_id))).all())
        return [ListView(r.id, r.name, r.kind, r.ocr_equivalence, r.differences, tuple(fields[r.id]),
                         counts.get(r.id, 0)) for r in rows]

    async def get(self, actor: Actor, list_id: int) -> ListView:
        require(actor, Feature.PROPERTIES, Level.VIEW)
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            return await self._one(s, list_id)

    async def _one(self, s, list_id: int) -> ListView:  # noqa: ANN001
        found = await self._lists(s, list_id)
        if not found:
            raise NotFound(_("Match list: no list has ID {id}; see imtui matchlist list.").format(id=list_id))
        return found[0]

    async def find(self, actor: Actor, name_or_id: str) -> ListView:
        """A list by its ID or its exact name (the CLI takes either)."""
        require(actor, Feature.PROPERTIES, Level.VIEW)
        for view in await self.lists(actor):
            if str(view.id) == name_or_id.strip() or view.name.casefold() == name_or_id.strip().casefold():
                return view
        raise NotFound(_("Match list: no list is called {name!r}; see imtui matchlist list.").format(name=name_or_id))

    async def create(self, actor: Actor, name: str, *, ocr_equivalence: int = 0, differences: int = 0,
                     fields: Sequence[str] = ()) -> ListView:
        require(actor, Feature.PROPERTIES, Level.MANAGE)
        name = _check_name(name, _("Match list"))
        _check_tolerances(ocr_equivalence, differences)
        names = [_check_name(n, _("Custom field")) for n in fields]
        t = MatchList.__table__
        async with self._guard(_("Cannot save the list. Try again later.")), self.db.write() as s:
            await self._name_free(s, name)
            list_id = (await s.execute(sa.insert(t).values(name=name, kind="list", ocr_equivalence=ocr_equivalence,
                                                           differences=differences, changed_at=utcnow())
                                       .returning(t.c.id))).scalar_one()
            for i, n in enumerate(names):
                await s.execute(sa.insert(MatchListField.__table__).values(list_id=list_id, position=i, name=n))
            audit.record(s, actor, audit.PROPERTY_ADDED, f"match list {list_id}", name)
            await self._changed(s, Topic.MATCHLISTS)
            return await self._one(s, list_id)

    async def _name_free(self, s, name: str, except_id: int | None = None) -> None:  # noqa: ANN001
        t = MatchList.__table__
        stmt = sa.select(t.c.id).where(sa.func.lower(t.c.name) == name.lower())
        if except_id is not None:
            stmt = stmt.where(t.c.id != except_id)
        if (await s.execute(stmt)).first():
            raise InvalidInput("name", _("Match list: a list called {name!r} exists; choose another name.").format(name=name))

    async def edit(self, actor: Actor, list_id: int, *, name: str | None = None, ocr_equivalence: int | None = None,
                   differences: int | None = None) -> ListView:
        require(actor, Feature.PROPERTIES, Level.MANAGE)
        _check_tolerances(ocr_equivalence, differences)
        values: dict[str, object] = {"changed_at": utcnow()}
        if name is not None:
            values["name"] = _check_name(name, _("Match list"))
        if ocr_equivalence is not None:
            values["ocr_equivalence"] = ocr_equivalence
        if differences is not None:
            values["differences"] = differences
        async with self._guard(_("Cannot save the list. Try again later.")), self.db.write() as s:
            before = await self._one(s, list_id)
            if "name" in values:
                await self._name_free(s, str(values["name"]), list_id)
            t = MatchList.__table__
            await s.execute(sa.update(t).where(t.c.id == list_id).values(**values))
            changes = ", ".join(f"{k} {getattr(before, k)!r} -> {v!r}" for k, v in values.items() if k != "changed_at")
            audit.record(s, actor, audit.PROPERTY_EDITED, f"match list {list_id}", changes or before.name)
            await self._changed(s, Topic.MATCHLISTS)
            return await self._one(s, list_id)

    async def delete(self, actor: Actor, list_id: int) -> None:
        require(actor, Feature.PROPERTIES, Level.MANAGE)
        async with self._guard(_("Cannot delete the list. Try again later.")), self.db.write() as s:
            view = await self._one(s, list_id)
            if view.unlisted:
                raise InvalidInput("list", _("Match list: {name!r} is built in and cannot be deleted; turn it off per "
                                             "camera instead.").format(name=view.name))
            await s.execute(sa.delete(MatchListEntry.__table__).where(MatchListEntry.__table__.c.list_id == list_id))
            await s.execute(sa.delete(MatchListField.__table__).where(MatchListField.__table__.c.list_id == list_id))
            await s.execute(sa.delete(MatchList.__table__).where(MatchList.__table__.c.id == list_id))
            audit.record(s, actor, audit.PROPERTY_DELETED, f"match list {list_id}", f"{view.name} ({view.entries} plates)")
            await self._changed(s, Topic.MATCHLISTS)

    # ------------------------------------------------------------------------------------------- fields

    async def add_field(self, actor: Actor, list_id: int, name: str) -> ListView:
        require(actor, Feature.PROPERTIES, Level.MANAGE)
        name = _check_name(name, _("Custom field"))
        async with self._guard(_("Cannot save the list. Try again later.")), self.db.write() as s:
            view = await self._writable(s, list_id)
            self._name_unused(view, name)
            await s.execute(sa.insert(MatchListField.__table__).values(list_id=list_id, position=len(view.fields),
                                                                       name=name))
            audit.record(s, actor, audit.PROPERTY_EDITED, f"match list {list_id}", f"field added: {name}")
            await self._changed(s, Topic.MATCHLISTS)
            return await self._one(s, list_id)

    async def rename_field(self, actor: Actor, list_id: int, field_id: int, name: str) -> ListView:
        require(actor, Feature.PROPERTIES, Level.MANAGE)
        name = _check_name(name, _("Custom field"))
        async with self._guard(_("Cannot save the list. Try again later.")), self.db.write() as s:
            view = await self._writable(s, list_id)
            old = self._field(view, field_id)
            self._name_unused(view, name, field_id)
            f = MatchListField.__table__
            await s.execute(sa.update(f).where(f.c.id == field_id).values(name=name))
            audit.record(s, actor, audit.PROPERTY_EDITED, f"match list {list_id}", f"field renamed: {old.name} -> {name}")
            await self._changed(s, Topic.MATCHLISTS)
            return await self._one(s, list_id)

    async def delete_field(self, actor: Actor, list_id: int, field_id: int) -> ListView:
        """The column goes; entries keep nothing of it (their values are dropped on the next
        edit and never shown or exported again)."""
        require(actor, Feature.PROPERTIES, Level.MANAGE)
        async with self._guard(_("Cannot save the list. Try again later.")), self.db.write() as s:
            view = await self._writable(s, list_id)
            old = self._field(view, field_id)
            f = MatchListField.__table__
            await s.execute(sa.delete(f).where(f.c.id == field_id))
            for i, kept in enumerate(x for x in view.fields if x.id != field_id):
                await s.execute(sa.update(f).where(f.c.id == kept.id).values(position=i))
            audit.record(s, actor, audit.PROPERTY_EDITED, f"match list {list_id}", f"field deleted: {old.name}")
            await self._changed(s, Topic.MATCHLISTS)
            return await self._one(s, list_id)

    async def move_field(self, actor: Actor, list_id: int, field_id: int, step: int) -> ListView:
        """Up (``step`` -1) or down (+1); at either end nothing moves."""
        require(actor, Feature.PROPERTIES, Level.MANAGE)
        async with self._guard(_("Cannot save the list. Try again later.")), self.db.write() as s:
            view = await self._writable(s, list_id)
            self._field(view, field_id)
            order = [x.id for x in view.fields]
            i = order.index(field_id)
            j = i + (1 if step > 0 else -1)
            if 0 <= j < len(order):
                order[i], order[j] = order[j], order[i]
                f = MatchListField.__table__
                for pos, fid in enumerate(order):
                    await s.execute(sa.update(f).where(f.c.id == fid).values(position=pos))
                audit.record(s, actor, audit.PROPERTY_EDITED, f"match list {list_id}",
                             f"field moved {'down' if step > 0 else 'up'}: {view.fields[i].name}")
                await self._changed(s, Topic.MATCHLISTS)
            return await self._one(s, list_id)

    @staticmethod
    def _name_unused(view: ListView, name: str, except_id: int | None = None) -> None:
        for f in view.fields:
            if f.name.casefold() == name.casefold() and f.id != except_id:
                raise InvalidInput("name", _("Custom field: the list has a field called {name!r}; choose another "
                                             "name.").format(name=f.name))

    @staticmethod
    def _field(view: ListView, field_id: int) -> FieldView:
        for f in view.fields:
            if f.id == field_id:
                return f
        raise NotFound(_("Custom field: the list {name!r} has no field with ID {id}.").format(name=view.name, id=field_id))

    async def _writable(self, s, list_id: int) -> ListView:  # noqa: ANN001
        view = await self._one(s, list_id)
        if view.unlisted:
            raise InvalidInput("list", _("Match list: {name!r} matches the plates on no other list; it holds no plates "
                                         "or fields.").format(name=view.name))
        return view

    # ------------------------------------------------------------------------------------------- entries

    async def entries(self, actor: Actor, list_id: int, *, search: str = "", offset: int = 0,
                      limit: int = 50) -> EntryPage:
        """One page of entries in plate order; ``search`` is a substring with ``?`` for one character."""
        require(actor, Feature.PROPERTIES, Level.VIEW)
        if not ROWS_PER_PAGE[0] <= limit <= ROWS_PER_PAGE[1]:
            raise InvalidInput("rows", _("Rows per page: {n} is not allowed; choose 50 to 1000.").format(n=limit))
        e = MatchListEntry.__table__
        where = [e.c.list_id == list_id]
        if search.strip():
            where.append(e.c.plate.like(like_pattern(search), escape="\\"))
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            view = await self._one(s, list_id)
            total = (await s.execute(sa.select(sa.func.count()).select_from(e).where(*where))).scalar_one()
            rows = (await s.execute(sa.select(e).where(*where).order_by(e.c.plate).offset(max(0, offset))
                                    .limit(limit))).all()
        return EntryPage([self._entry(view, r) for r in rows], total)

    @staticmethod
    def _entry(view: ListView, row) -> EntryView:  # noqa: ANN001
        values = json.loads(row.fields or "{}")
        return EntryView(row.id, row.plate, tuple(values.get(str(f.id), "") for f in view.fields), row.added_at)

    @staticmethod
    def _values(view: ListView, values: dict[str, str], base: dict[str, str] | None = None) -> str:
        by_name = {f.name.casefold(): f for f in view.fields}
        out = {k: v for k, v in (base or {}).items() if any(str(f.id) == k for f in view.fields)}
        for name, value in values.items():
            f = by_name.get(name.casefold())
            if f is None:
                known = ", ".join(x.name for x in view.fields) or _("none")
                raise InvalidInput("field", _("Custom field: the list has no field {name!r} (fields: {known}); add it "
                                              "first.").format(name=name, known=known))
            out[str(f.id)] = _check_value(f.name, value)
        return json.dumps(out, ensure_ascii=False)

    async def add_entry(self, actor: Actor, list_id: int, plate: str,
                        values: dict[str, str] | None = None) -> tuple[EntryView, str | None]:
        """Add a plate; the second value is a note when the typed plate was normalised."""
        require(actor, Feature.PROPERTIES, Level.MANAGE)
        stored, note = _plate(plate)
        e = MatchListEntry.__table__
        async with self._guard(_("Cannot save the list. Try again later.")), self.db.write() as s:
            view = await self._writable(s, list_id)
            fields = self._values(view, values or {})
            if (await s.execute(sa.select(e.c.id).where(e.c.list_id == list_id, e.c.plate == stored))).first():
                raise InvalidInput("plate", _("Plate: {plate} is already on the list {name!r}; edit that row "
                                              "instead.").format(plate=stored, name=view.name))
            entry_id = (await s.execute(sa.insert(e).values(list_id=list_id, plate=stored, fields=fields,
                                                            added_at=utcnow()).returning(e.c.id))).scalar_one()
            audit.record(s, actor, audit.PROPERTY_EDITED, f"match list {list_id}", f"plate added: {stored}")
            await self._touch(s, list_id)
            await self._retroactive(s, view, [Entry(entry_id, stored)])
            await self._changed(s, Topic.MATCHLISTS)
            row = (await s.execute(sa.select(e).where(e.c.id == entry_id))).one()
            return self._entry(view, row), note

    async def edit_entries(self, actor: Actor, list_id: int, entry_ids: Sequence[int], *, plate: str | None = None,
                           values: dict[str, str] | None = None) -> tuple[int, str | None]:
        """Set field values on several rows at once (manual 004: "select multiple rows for
        editing"); a new plate only for one row.  Returns the rows changed and a plate note."""
        require(actor, Feature.PROPERTIES, Level.MANAGE)
        ids = sorted(set(entry_ids))
        if not ids:
            raise InvalidInput("rows", _("Select at least one plate to edit."))
        if plate is not None and len(ids) != 1:
            raise InvalidInput("plate", _("Plate: change the plate of one row at a time; {n} are selected.").format(n=len(ids)))
        stored, note = _plate(plate) if plate is not None else (None, None)
        e = MatchListEntry.__table__
        async with self._guard(_("Cannot save the list. Try again later.")), self.db.write() as s:
            view = await self._writable(s, list_id)
            rows = (await s.execute(sa.select(e).where(e.c.list_id == list_id, e.c.id.in_(ids)))).all()
            if len(rows) != len(ids):
                raise NotFound(_("Some selected plates were deleted meanwhile; refresh the list."))
            if stored is not None and (await s.execute(sa.select(e.c.id).where(
                    e.c.list_id == list_id, e.c.plate == stored, e.c.id != ids[0]))).first():
                raise InvalidInput("plate", _("Plate: {plate} is already on the list {name!r}; edit that row "
                                              "instead.").format(plate=stored, name=view.name))
            for r in rows:
                update: dict[str, str] = {"fields": self._values(view, values or {}, json.loads(r.fields or "{}"))}
                if stored is not None:
                    update["plate"] = stored
                await s.execute(sa.update(e).where(e.c.id == r.id).values(**update))
            await self._touch(s, list_id)
            if stored is not None and stored != rows[0].plate:
                await self._retroactive(s, view, [Entry(rows[0].id, stored)])
            what = ", ".join(sorted((values or {}).keys()))
            audit.record(s, actor, audit.PROPERTY_EDITED, f"match list {list_id}",
                         f"{len(rows)} plates edited" + (f" ({what})" if what else "") +
                         (f": {rows[0].plate} -> {stored}" if stored else ""))
            await self._changed(s, Topic.MATCHLISTS)
        return len(rows), note

    async def delete_entries(self, actor: Actor, list_id: int, entry_ids: Sequence[int]) -> int:
        require(actor, Feature.PROPERTIES, Level.MANAGE)
        e = MatchListEntry.__table__
        async with self._guard(_("Cannot save the list. Try again later.")), self.db.write() as s:
            await self._writable(s, list_id)
            gone = (await s.execute(sa.delete(e).where(e.c.list_id == list_id, e.c.id.in_(list(entry_ids))))).rowcount
            await self._touch(s, list_id)
            audit.record(s, actor, audit.PROPERTY_EDITED, f"match list {list_id}", f"{gone} plates deleted")
            await self._changed(s, Topic.MATCHLISTS)
        return gone

    @staticmethod
    async def _touch(s, list_id: int) -> None:  # noqa: ANN001
        """Every change of a list or its entries moves its ``changed_at``: the workers reload on it."""
        t = MatchList.__table__
        await s.execute(sa.update(t).where(t.c.id == list_id).values(changed_at=utcnow()))

    async def _retroactive(self, s, view: ListView, entries: list[Entry]) -> int:  # noqa: ANN001
        """A list gained plates: the reads of the last RETRO_HOURS from cameras that match against
        this list are checked against the new plates, and matches are stored marked retroactive
        (manual 004's lists are meant for plates seen *now*; an operator adding a stolen car's plate
        wants to know it passed an hour ago).  Only the new entries are checked, so an import of a
        million plates costs one index build and one pass over the day's reads."""
        from imtui.engine.alarm_flow import StoredRead, alarms_for_reads
        from imtui.engine.matchlists.matcher import Hit, camera_selection, uses
        from imtui.storage.models import PlateMatch, PlateRecognition

        if not entries:
            return 0
        c, r, m = LprCamera.__table__, PlateRecognition.__table__, PlateMatch.__table__
        selections = {row.camera_id: camera_selection(row) for row in
                      (await s.execute(sa.select(c.c.camera_id, c.c.match_all, c.c.match_lists))).all()}
        since = utcnow() - timedelta(hours=RETRO_HOURS)
        reads = [x for x in (await s.execute(sa.select(r.c.id, r.c.camera_id, r.c.plate, r.c.country, r.c.at)
                                             .where(r.c.at >= since))).all()
                 if uses(selections.get(x.camera_id, (True, ())), view.id)]
        if not reads:
            return 0
        done = set((await s.execute(sa.select(m.c.recognition_id).where(
            m.c.list_id == view.id, m.c.at >= since))).scalars())

        def check() -> list:  # a million new plates take seconds to index: not on the event loop
            index = build(view.id, entries, ocr_equivalence=view.ocr_equivalence, differences=view.differences)
            return [(x, hit) for x in reads if x.id not in done and (hit := index.match(x.plate)) is not None]

        found = await asyncio.to_thread(check)
        if not found:
            return 0
        e = MatchListEntry.__table__
        ids = dict((await s.execute(sa.select(e.c.plate, e.c.id).where(
            e.c.list_id == view.id, e.c.plate.in_(sorted({hit.entry.plate for _x, hit in found}))))).all())
        hits = {x.id: Hit(view.id, view.name, Entry(ids.get(hit.entry.plate, hit.entry.id), hit.entry.plate), hit.rule)
                for x, hit in found}
        matched = [StoredRead(x.id, x.camera_id, x.plate, x.country, x.at) for x, _hit in found]
        # the worker's path for live reads, here in this change's transaction (the plates and what they found)
        result = await alarms_for_reads(self.db, matched, lambda read: [hits[read.id]], retroactive=True, session=s)
        return result.matches

    # ------------------------------------------------------------------------------------------- files

    async def import_file(self, actor: Actor, list_id: int, data: bytes, *, replace: bool = False,
                          progress: Callable[[float], None] | None = None) -> ImportReport:
        """Add the file's plates to the list (a plate already there gets the file's field values)
        or replace the list with them.  All or nothing: a bad line is reported with its number and
        reason, and the list is unchanged; the write is one transaction with its audit entry."""
        require(actor, Feature.PROPERTIES, Level.MANAGE)
        async with self._guard(_("Cannot import the list. Try again later.")):
            async with self.db.read() as s:
                view = await self._writable(s, list_id)
            try:
                parsed = await asyncio.to_thread(parse_import, data, [f.name for f in view.fields])
            except ImportFileError as exc:
                raise InvalidInput("file", _("Import: {error}; nothing was imported.").format(error=exc)) from None
            e = MatchListEntry.__table__
            now = utcnow()
            async with self.db.write() as s:
                view = await self._writable(s, list_id)  # fields may have changed meanwhile
                existing: dict[str, int] = dict((await s.execute(
                    sa.select(e.c.plate, e.c.id).where(e.c.list_id == list_id))).all())
                # a million rows of JSON and set arithmetic take seconds: off the event loop
                new, changed, added, updated, removed = await asyncio.to_thread(
                    _plan_import, parsed.rows, [str(f.id) for f in view.fields], existing, list_id, now, replace)
                if replace:
                    await s.execute(sa.delete(e).where(e.c.list_id == list_id))
                conn = await s.connection()
                stmt = sa.update(e).where(e.c.id == sa.bindparam("entry_id")).values(fields=sa.bindparam("fields"))
                batches = [(new[i:i + IMPORT_CHUNK], lambda chunk: self._insert_entries(conn, chunk))
                           for i in range(0, len(new), IMPORT_CHUNK)]
                batches += [(changed[i:i + IMPORT_CHUNK], lambda chunk: s.execute(stmt, chunk))
                            for i in range(0, len(changed), IMPORT_CHUNK)]
                done, total = 0, max(1, len(new) + len(changed))
                for chunk, write in batches:
                    await write(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done / total)
                await self._touch(s, list_id)
                await self._retroactive(s, view, [Entry(0, row.plate) for row in parsed.rows
                                                  if replace or row.plate not in existing])
                audit.record(s, actor, audit.PROPERTY_EDITED, f"match list {list_id}",
                             f"import ({'replace' if replace else 'add'}): {added} added, {updated} updated"
                             + (f", {removed} removed" if replace else ""))
                await self._changed(s, Topic.MATCHLISTS)
        return ImportReport(added, updated, removed, parsed.notes)

    async def _insert_entries(self, conn, rows: list[tuple]) -> None:  # noqa: ANN001
        """Many entries at driver level: SQLAlchemy's per-row parameter processing made a
        1,000,000-plate import take 18 s on SQLite (the target is under 20 s with the parse).
        PostgreSQL gets COPY on the session's own connection, inside its transaction."""
        if self.db.is_sqlite:
            from imtui.storage.bulk import sqlite_time

            await conn.exec_driver_sql(
                "INSERT INTO match_list_entry (list_id, plate, fields, added_at) VALUES (?, ?, ?, ?)",
                [(a, b, c, sqlite_time(d)) for a, b, c, d in rows])
        else:
            raw = await conn.get_raw_connection()
            await raw.driver_connection.copy_records_to_table(
                "match_list_entry", records=rows, columns=["list_id", "plate", "fields", "added_at"])

    async def export_lines(self, actor: Actor, list_id: int) -> Iterator[str]:
        """The whole list as CSV lines (RFC 4180, formulas neutralised), in plate order."""
        require(actor, Feature.PROPERTIES, Level.VIEW)
        e = MatchListEntry.__table__
        async with self._guard(_("Cannot export the list. Try again later.")), self.db.read() as s:
            view = await self._one(s, list_id)
            rows = (await s.execute(sa.select(e.c.id, e.c.plate, e.c.fields, e.c.added_at)
                                    .where(e.c.list_id == list_id).order_by(e.c.plate))).all()
        return export_csv([f.name for f in view.fields], ((r.plate, self._entry(view, r).values) for r in rows))

    # ------------------------------------------------------------------------------------------- matching

    async def matches(self, actor: Actor, *, list_id: int | None = None, plate: str = "",
                      limit: int = 100) -> list[MatchView]:
        """Recognitions that matched a list, newest read first; ``plate`` with ``?`` wildcards."""
        from imtui.storage.models import PlateMatch

        require(actor, Feature.SEQUENCES, Level.VIEW)  # like the camera events: what operators watch
        m = PlateMatch.__table__
        stmt = sa.select(m).order_by(m.c.at.desc(), m.c.id.desc()).limit(max(1, min(limit, 10_000)))
        if list_id is not None:
            stmt = stmt.where(m.c.list_id == list_id)
        if plate.strip():
            stmt = stmt.where(m.c.plate.like(like_pattern(plate), escape="\\"))
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            rows = (await s.execute(stmt)).all()
        return [MatchView(r.id, r.at, r.recognition_id, r.camera_id, r.plate, r.list_id, r.list_name, r.entry_plate,
                          json.loads(r.fields or "{}"), r.rule, bool(r.retroactive)) for r in rows]

    async def indexes(self) -> dict[int, ListIndex]:
        """Every list's entries keyed for matching (the worker builds these and rebuilds them
        when a list changes).  Internal: the worker is not a user."""
        t, e = MatchList.__table__, MatchListEntry.__table__
        async with self.db.read() as s:
            lists = (await s.execute(sa.select(t))).all()
            out = {r.id: ListIndex(r.id, r.ocr_equivalence, r.differences) for r in lists if r.kind != UNLISTED}
            conn = await s.connection()
            rows = (await conn.exec_driver_sql("SELECT id, list_id, plate FROM match_list_entry")).all()
        def fill() -> None:  # ~1 s for a million entries: in a thread, the worker's heartbeats go on
            for entry_id, list_id, plate in rows:  # driver rows: 1,000,000 in ~1 s instead of ~16 s through the ORM
                index = out.get(list_id)
                if index is not None:
                    index.add(Entry(entry_id, plate))

        await asyncio.to_thread(fill)
        return out

    async def camera_lists(self, actor: Actor, camera_id: int) -> tuple[bool, list[int]]:
        """Manual 004's Match lists tab: (All, the selected list IDs)."""
        require(actor, Feature.PROPERTIES, Level.VIEW)
        t = LprCamera.__table__
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            row = (await s.execute(sa.select(t.c.match_all, t.c.match_lists).where(t.c.camera_id == camera_id))).first()
        if row is None:
            return True, []
        return bool(row.match_all), [int(x) for x in json.loads(row.match_lists or "[]")]

    async def set_camera_lists(self, actor: Actor, camera_id: int, *, all_lists: bool,
                               list_ids: Sequence[int] = ()) -> None:
        require(actor, Feature.PROPERTIES, Level.MANAGE)
        t = LprCamera.__table__
        async with self._guard(_("Cannot save settings. Try again later.")), self.db.write() as s:
            known = {v.id for v in await self._lists(s)}
            unknown = sorted(set(list_ids) - known)
            if unknown:
                raise InvalidInput("lists", _("Match lists: no list has ID {ids}; see imtui matchlist list.").format(
                    ids=", ".join(map(str, unknown))))
            if not all_lists and not list_ids:
                raise InvalidInput("lists", _("Match lists: select at least one list, or All."))
            row = (await s.execute(sa.select(t.c.camera_id).where(t.c.camera_id == camera_id))).first()
            if row is None:
                raise InvalidInput("camera", _("Camera: recognition was never set up on camera {id}; run imtui lpr "
                                               "settings {id} --enable first.").format(id=camera_id))
            await s.execute(sa.update(t).where(t.c.camera_id == camera_id).values(
                match_all=all_lists, match_lists=json.dumps(sorted(set(list_ids)))))
            audit.record(s, actor, audit.PROPERTY_EDITED, f"LPR camera {camera_id}",
                         "match lists: all" if all_lists else f"match lists: {sorted(set(list_ids))}")
            await self._changed(s, Topic.RECOGNITION)

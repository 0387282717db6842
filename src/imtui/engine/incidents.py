"""Incident projects: create, open, edit, comments, calls, sequences, delete.

Every method takes the acting user, checks the permission here (never in a screen), and writes
its change together with the activity-log entry in one transaction.  ID, created by, created at
and the start/end times (derived from the sequences) are never written by an edit.

Concurrency is optimistic: main details carry a version; an UPDATE that matches no row because
the project was deleted or changed meanwhile raises :class:`StaleError`, whose message is the
manual's "Cannot perform this action. Please refresh the list."  Comments and calls have their own
versions, so adding a comment never conflicts with a colleague's status change.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from imtui.engine import activity as act
from imtui.engine import datafields
from imtui.engine import audit
from imtui.engine.base import Service
from imtui.engine.errors import InvalidInput, StaleError
from imtui.engine.opened import OpenedEntry, OpenedLog
from imtui.engine.properties import DATA_KINDS
from imtui.engine.permissions import Actor, Capabilities, Feature, Level, allowed, capabilities, require
from imtui.engine.times import INPUT_FORMAT, parse_site_time, utcnow
from imtui.i18n import _
from imtui.storage.changes import Topic
from imtui.storage.db import Database
from imtui.storage.models import (
    Category,
    CategoryValue,
    DataField,
    IncidentCategory,
    IncidentData,
    Activity,
    Call,
    Camera,
    Comment,
    Incident,
    IncidentStatus,
    IncidentType,
    Sequence,
)
from imtui.storage.queries import (  # noqa: F401 - Cursor, IncidentFilter, orders_by_end_time: for screens
    COUNT_CAP,
    Cursor,
    IncidentFilter,
    IncidentListRow,
    count_incidents,
    list_incidents,
    orders_by_end_time,
)

MAX_DESCRIPTION = 10_000
MAX_COMMENT = 10_000
CALL_DIRECTIONS = ("incoming", "outgoing")


@dataclass(frozen=True)
class Option:
    id: int
    name: str


@dataclass(frozen=True)
class SequenceInput:
    camera_id: int
    start_time: datetime
    end_time: datetime


@dataclass(frozen=True)
class SequenceView:
    id: int
    camera_id: int
    camera_name: str
    start_time: datetime
    end_time: datetime
    added_by: str


@dataclass(frozen=True)
class CommentView:
    id: int
    created_at: datetime
    author: str
    text: str
    version: int


@dataclass(frozen=True)
class CallInput:
    at: datetime
    direction: str
    party: str = ""
    number: str = ""
    notes: str = ""


@dataclass(frozen=True)
class CallView:
    id: int
    at: datetime
    direction: str
    party: str
    number: str
    notes: str
    author: str
    version: int


@dataclass(frozen=True)
class ActivityView:
    id: int
    at: datetime
    user: str
    action: str
    details: str

    @property
    def label(self) -> str:
        return act.label(self.action)


@dataclass(frozen=True)
class IncidentDetail:
    id: int
    created_at: datetime
    created_by: str
    type_id: int
    type_name: str
    status_id: int
    status_name: str
    description: str
    start_time: datetime | None
    end_time: datetime | None
    version: int
    sequences: list[SequenceView] = field(default_factory=list)
    comments: list[CommentView] = field(default_factory=list)
    calls: list[CallView] = field(default_factory=list)
    hidden: frozenset[str] = frozenset()  # "comments", "calls", "sequences" the user may not view
    categories: dict[int, int] = field(default_factory=dict)  # slot -> category value id
    data: dict[int, str] = field(default_factory=dict)  # data field id -> stored value


@dataclass(frozen=True)
class CategoryDefinition:
    slot: int
    name: str
    description: str
    values: list[Option]


@dataclass(frozen=True)
class FieldDefinition:
    id: int
    kind: str
    name: str
    description: str


@dataclass(frozen=True)
class Definitions:
    """The enabled categories and data fields, as operators see them on the Categories tab."""

    categories: list[CategoryDefinition]
    fields: list[FieldDefinition]


@dataclass(frozen=True)
class Page:
    rows: list[IncidentListRow]
    has_next: bool


def parse_time_field(label: str, value: str, tz: tzinfo) -> datetime:
    """Parse a typed date-time or raise InvalidInput naming the field and the format."""
    try:
        return parse_site_time(value, tz)
    except ValueError:
        raise InvalidInput(
            label, _("{field}: type the date and time as YYYY-MM-DD HH:MM, e.g. 2026-03-01 14:30.").format(field=label)
        ) from None


class IncidentService(Service):
    """The operator's incident projects."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.opened = OpenedLog(db)

    # -- plumbing ---------------------------------------------------------------------------------
    @staticmethod
    def _log(session: AsyncSession, incident_id: int, actor: Actor, action: str, details: str = "") -> None:
        session.add(Activity(incident_id=incident_id, at=utcnow(), user=actor.name, action=action, details=details))

    @staticmethod
    async def _exists(session: AsyncSession, incident_id: int) -> bool:
        t = Incident.__table__
        return (await session.execute(sa.select(t.c.id).where(t.c.id == incident_id))).first() is not None

    async def _require_incident(self, session: AsyncSession, incident_id: int) -> None:
        if not await self._exists(session, incident_id):
            raise StaleError()

    async def _touch(self, session: AsyncSession, incident_id: int) -> None:
        t = Incident.__table__
        await session.execute(sa.update(t).where(t.c.id == incident_id).values(updated_at=utcnow()))

    async def _child_changed(
        self, session: AsyncSession, incident_id: int, actor: Actor, action: str, details: str
    ) -> None:
        """After a comment or call changed: log it, touch the project, tell the other operators
        (a topic of its own: the incident list shows neither, and must not reload for them)."""
        self._log(session, incident_id, actor, action, details)
        await self._touch(session, incident_id)
        await self._changed(session, Topic.INCIDENT_DETAILS)

    @staticmethod
    async def _owner(session: AsyncSession, table: sa.Table, item_id: int) -> int:
        """The project a comment or call belongs to; StaleError when it is gone."""
        incident_id = (await session.execute(sa.select(table.c.incident_id).where(table.c.id == item_id))).scalar()
        if incident_id is None:
            raise StaleError()
        return incident_id

    async def _recompute_span(self, session: AsyncSession, incident_id: int) -> None:
        """Store the earliest sequence start and latest end on the incident (NULL without sequences)."""
        s = Sequence.__table__
        t = Incident.__table__
        row = (
            await session.execute(
                sa.select(sa.func.min(s.c.start_time), sa.func.max(s.c.end_time)).where(s.c.incident_id == incident_id)
            )
        ).one()
        await session.execute(
            sa.update(t).where(t.c.id == incident_id).values(start_time=row[0], end_time=row[1], updated_at=utcnow())
        )

    # -- reference data ---------------------------------------------------------------------------
    async def types(self) -> list[Option]:
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.query() as s:
            t = IncidentType.__table__
            rows = await s.execute(sa.select(t.c.id, t.c.name).order_by(t.c.position, t.c.id))
            return [Option(r.id, r.name) for r in rows]

    async def statuses(self) -> list[Option]:
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.query() as s:
            t = IncidentStatus.__table__
            rows = await s.execute(sa.select(t.c.id, t.c.name).order_by(t.c.position, t.c.id))
            return [Option(r.id, r.name) for r in rows]

    async def cameras(self) -> list[Option]:
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.query() as s:
            t = Camera.__table__
            rows = await s.execute(sa.select(t.c.id, t.c.name).order_by(t.c.name, t.c.id))
            return [Option(r.id, r.name) for r in rows]

    @staticmethod
    def capabilities(actor: Actor) -> Capabilities:
        """What ``actor`` may do here, for screens that hide or disable the rest."""
        return capabilities(actor)

    async def definitions(self) -> Definitions:
        """Enabled categories (with their values) and data fields; reloaded on every editor open."""
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            c, v, d = Category.__table__, CategoryValue.__table__, DataField.__table__
            values: dict[int, list[Option]] = {}
            for r in await s.execute(sa.select(v).order_by(v.c.position, v.c.id)):
                values.setdefault(r.category_slot, []).append(Option(r.id, r.name))
            cats = [
                CategoryDefinition(r.slot, r.name, r.description, values.get(r.slot, []))
                for r in await s.execute(sa.select(c).where(c.c.enabled).order_by(c.c.slot))
            ]
            fields = [
                FieldDefinition(r.id, r.kind, r.name, r.description)
                for r in await s.execute(sa.select(d).where(d.c.enabled))
            ]
        fields.sort(key=lambda f: (DATA_KINDS.index(f.kind) if f.kind in DATA_KINDS else 9, f.id))
        return Definitions(cats, fields)

    # -- the list ---------------------------------------------------------------------------------
    async def list_page(
        self, actor: Actor, flt: IncidentFilter, cursor: Cursor | None = None, size: int = 100
    ) -> Page:
        """One page, newest first, after ``cursor``; ``has_next`` says whether another follows."""
        require(actor, Feature.INCIDENTS, Level.VIEW)
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.query() as conn:
            rows = await list_incidents(conn, flt, cursor, limit=size + 1)
        return Page(rows=rows[:size], has_next=len(rows) > size)

    async def count(self, actor: Actor, flt: IncidentFilter) -> tuple[int, bool]:
        """(count, capped): capped is True when more than the cap match."""
        require(actor, Feature.INCIDENTS, Level.VIEW)
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.query() as conn:
            n = await count_incidents(conn, flt)
        return (min(n, COUNT_CAP - 1), n >= COUNT_CAP)

    # -- create / open / edit ---------------------------------------------------------------------
    def _check_description(self, description: str) -> str:
        if len(description) > MAX_DESCRIPTION:
            raise InvalidInput(
                "description",
                _("Description: {n} characters is too long; shorten it to {max} or fewer.").format(
                    n=len(description), max=MAX_DESCRIPTION
                ),
            )
        return description

    @staticmethod
    def _check_sequences(sequences: Iterable[SequenceInput]) -> list[SequenceInput]:
        out = list(sequences)
        for seq in out:
            if seq.end_time < seq.start_time:
                raise InvalidInput(
                    "sequence", _("Sequence: the end time is before the start time; pick an end after the start.")
                )
        return out

    async def _check_property(self, s: AsyncSession, model: type, value_id: int, label: str) -> str:
        t = model.__table__
        name = (await s.execute(sa.select(t.c.name).where(t.c.id == value_id))).scalar()
        if name is None:
            raise InvalidInput(label.lower(), _("{field}: choose one of the listed values.").format(field=label))
        return name

    async def create(
        self,
        actor: Actor,
        type_id: int,
        description: str = "",
        sequences: Iterable[SequenceInput] = (),
        status_id: int | None = None,
        *,
        token: str | None = None,
    ) -> int:
        """Create a project (empty, or with sequences); its id follows creation order.  With the
        same ``token`` again (a retry after a lost answer) it returns the stored project's id."""
        require(actor, Feature.INCIDENTS, Level.MANAGE)
        description = self._check_description(description)
        seqs = self._check_sequences(sequences)
        if seqs:
            require(actor, Feature.SEQUENCES, Level.MANAGE)
        async with (self._guard(_("Cannot create incident project. Try again later."), retry_safe=bool(token)),
                    self.db.write() as s):
            if (stored := await _by_token(s, Incident, token)) is not None:
                return stored
            return await self.insert(s, actor, type_id, description, seqs, status_id, token=token)

    async def insert(self, s: AsyncSession, actor: Actor, type_id: int, description: str,
                     seqs: list[SequenceInput], status_id: int | None = None, *, token: str | None = None) -> int:
        """The project of :meth:`create`, in the caller's write transaction (a flow that makes a
        project together with another change, the alarm -> incident one, commits both or
        neither).  The caller checks the permissions (as :meth:`create` does)."""
        description = self._check_description(description)
        seqs = self._check_sequences(seqs)
        type_name = await self._check_property(s, IncidentType, type_id, _("Type"))
        if status_id is None:
            st = IncidentStatus.__table__
            status_id = (
                await s.execute(sa.select(st.c.id).order_by(st.c.position, st.c.id).limit(1))
            ).scalar()
            if status_id is None:
                raise InvalidInput("status", _("Status: no statuses are defined; ask an administrator to add one."))
        now = utcnow()
        inc = Incident(
            created_at=now,
            created_by=actor.name,
            type_id=type_id,
            status_id=status_id,
            description=description,
            start_time=min((q.start_time for q in seqs), default=None),
            end_time=max((q.end_time for q in seqs), default=None),
            updated_at=now,
            client_token=token,
        )
        s.add(inc)
        await s.flush()
        assert inc.id is not None
        self._log(s, inc.id, actor, act.CREATED, _("Type: {type}").format(type=type_name))
        audit.record(s, actor, audit.PROJECT_CREATED, f"incident {inc.id}", type_name)
        for q in seqs:
            s.add(Sequence(incident_id=inc.id, camera_id=q.camera_id, start_time=q.start_time, end_time=q.end_time,
                           added_at=now, added_by=actor.name))
            self._log(s, inc.id, actor, act.SEQUENCE_ADDED, _sequence_details(q.start_time, q.end_time))
        await self._changed(s, Topic.INCIDENTS)
        return inc.id

    async def _detail(self, s: AsyncSession, incident_id: int) -> IncidentDetail:
        core = await load_core(s, incident_id)
        return dataclasses.replace(
            core, sequences=await load_sequences(s, incident_id), comments=await load_comments(s, incident_id),
            calls=await load_calls(s, incident_id), categories=await load_categories(s, incident_id),
            data=await load_data(s, incident_id))

    async def open(self, actor: Actor, incident_id: int) -> IncidentDetail:
        """Load a project for the editor and log that ``actor`` opened it: a read, with the log
        entry written in the background (engine/opened.py), so an open never waits for SQLite's
        writer lock."""
        require(actor, Feature.INCIDENTS, Level.VIEW)
        at = utcnow()
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            detail = await self._detail(s, incident_id)
        self.opened.add(OpenedEntry(incident_id, actor.name, at))
        return _visible(actor, detail)

    async def get(self, actor: Actor, incident_id: int) -> IncidentDetail:
        """Reload a project (after a save) without logging an open."""
        require(actor, Feature.INCIDENTS, Level.VIEW)
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            return _visible(actor, await self._detail(s, incident_id))

    async def update_main(
        self, actor: Actor, incident_id: int, version: int, *, type_id: int, status_id: int, description: str,
        categories: dict[int, int | None] | None = None, data: dict[int, str] | None = None, tz: tzinfo = UTC,
    ) -> int:
        """Save main details, categories and data fields if nobody changed the project meanwhile.

        ``categories`` maps a slot to a value id (None clears it); ``data`` maps a data field id to
        what was typed, validated by the field's kind (``tz`` reads date-times).  Any bad value
        raises InvalidInput naming the field, and nothing is saved.  Returns the new version.
        """
        require(actor, Feature.INCIDENTS, Level.MANAGE)
        description = self._check_description(description)
        async with self._guard(_("Cannot save incident project. Try again later.")), self.db.write() as s:
            t = Incident.__table__
            ty, st = IncidentType.__table__, IncidentStatus.__table__
            old = (
                await s.execute(
                    sa.select(t.c.type_id, t.c.status_id, t.c.description, t.c.version,
                              ty.c.name.label("type_name"), st.c.name.label("status_name"))
                    .join(ty, ty.c.id == t.c.type_id).join(st, st.c.id == t.c.status_id)
                    .where(t.c.id == incident_id)
                )
            ).first()
            if old is None or old.version != version:
                raise StaleError()
            new_type = await self._check_property(s, IncidentType, type_id, _("Type"))
            new_status = await self._check_property(s, IncidentStatus, status_id, _("Status"))
            cat_changes = await self._category_changes(s, incident_id, categories or {})
            data_changes = await self._data_changes(s, incident_id, data or {}, tz)
            main_same = (old.type_id, old.status_id, old.description) == (type_id, status_id, description)
            if main_same and not cat_changes and not data_changes:
                return version
            result = await s.execute(
                sa.update(t)
                .where(t.c.id == incident_id, t.c.version == version)
                .values(type_id=type_id, status_id=status_id, description=description, version=version + 1,
                        updated_at=utcnow())
            )
            if result.rowcount != 1:
                raise StaleError()
            if old.type_id != type_id:
                self._log(s, incident_id, actor, act.TYPE_CHANGED, f"{old.type_name} → {new_type}")
            if old.status_id != status_id:
                self._log(s, incident_id, actor, act.STATUS_CHANGED, f"{old.status_name} → {new_status}")
            if old.description != description:
                self._log(s, incident_id, actor, act.DESCRIPTION_CHANGED, _excerpt(description))
            ic, idata = IncidentCategory.__table__, IncidentData.__table__
            for slot, (value_id, details) in cat_changes.items():
                await s.execute(sa.delete(ic).where(ic.c.incident_id == incident_id, ic.c.slot == slot))
                if value_id is not None:
                    await s.execute(sa.insert(ic).values(incident_id=incident_id, slot=slot, value_id=value_id))
                self._log(s, incident_id, actor, act.CATEGORY_CHANGED, details)
            for field_id, (value, details) in data_changes.items():
                await s.execute(sa.delete(idata).where(idata.c.incident_id == incident_id, idata.c.field_id == field_id))
                if value not in ("", "false"):
                    await s.execute(sa.insert(idata).values(incident_id=incident_id, field_id=field_id, value=value))
                self._log(s, incident_id, actor, act.DATA_CHANGED, details)
            await self._changed(s, Topic.INCIDENTS)
            return version + 1

    async def _category_changes(
        self, s: AsyncSession, incident_id: int, wanted: dict[int, int | None]
    ) -> dict[int, tuple[int | None, str]]:
        """Validated category changes: slot -> (new value id or None, activity details)."""
        if not wanted:
            return {}
        c, v, ic = Category.__table__, CategoryValue.__table__, IncidentCategory.__table__
        cats = {r.slot: r.name for r in await s.execute(sa.select(c.c.slot, c.c.name).where(c.c.enabled))}
        names = {r.id: (r.category_slot, r.name) for r in await s.execute(sa.select(v.c.id, v.c.category_slot, v.c.name))}
        current = {r.slot: r.value_id for r in await s.execute(sa.select(ic).where(ic.c.incident_id == incident_id))}
        changes: dict[int, tuple[int | None, str]] = {}
        for slot, value_id in wanted.items():
            if slot not in cats:
                raise InvalidInput(f"category-{slot}", _("Category {slot}: it is not enabled; refresh the project.").format(slot=slot))
            if value_id is not None and names.get(value_id, (None,))[0] != slot:
                raise InvalidInput(f"category-{slot}", _("{name}: choose one of the listed values.").format(name=cats[slot]))
            if current.get(slot) != value_id:
                before = names.get(current.get(slot), (None, "—"))[1] if current.get(slot) else "—"
                after = names[value_id][1] if value_id is not None else "—"
                changes[slot] = (value_id, f"{cats[slot]}: {before} → {after}")
        return changes

    async def _data_changes(
        self, s: AsyncSession, incident_id: int, wanted: dict[int, str], tz: tzinfo
    ) -> dict[int, tuple[str, str]]:
        """Validated data field changes: field id -> (stored value, activity details)."""
        if not wanted:
            return {}
        d, idata = DataField.__table__, IncidentData.__table__
        fields = {r.id: (r.kind, r.name) for r in await s.execute(sa.select(d.c.id, d.c.kind, d.c.name).where(d.c.enabled))}
        current = {r.field_id: r.value for r in await s.execute(sa.select(idata).where(idata.c.incident_id == incident_id))}
        changes: dict[int, tuple[str, str]] = {}
        for field_id, raw in wanted.items():
            if field_id not in fields:
                raise InvalidInput(f"field-{field_id}", _("Data field {id}: it is not enabled; refresh the project.").format(id=field_id))
            kind, name = fields[field_id]
            value = datafields.parse_value(kind, name, raw, tz, f"field-{field_id}")
            old = current.get(field_id, "false" if kind == "checkbox" else "")
            if value != old:
                changes[field_id] = (value, f"{name}: {datafields.describe(kind, old, tz)} → {datafields.describe(kind, value, tz)}")
        return changes

    # -- comments ---------------------------------------------------------------------------------
    @staticmethod
    def _check_comment(text: str) -> str:
        if not text.strip():
            raise InvalidInput("comment", _("Comment: type some text before adding it."))
        if len(text) > MAX_COMMENT:
            raise InvalidInput(
                "comment",
                _("Comment: {n} characters is too long; shorten it to {max} or fewer.").format(n=len(text), max=MAX_COMMENT),
            )
        return text

    async def add_comment(self, actor: Actor, incident_id: int, text: str, *, token: str | None = None) -> int:
        """Add a comment; the same ``token`` again returns the stored comment's id (see create)."""
        require(actor, Feature.COMMENTS, Level.MANAGE)
        text = self._check_comment(text)
        async with (self._guard(_("Cannot save comment. Try again later."), retry_safe=bool(token)),
                    self.db.write() as s):
            if (stored := await _by_token(s, Comment, token)) is not None:
                return stored
            await self._require_incident(s, incident_id)
            now = utcnow()
            c = Comment(incident_id=incident_id, created_at=now, author=actor.name, text=text, updated_at=now,
                        client_token=token)
            s.add(c)
            await s.flush()
            await self._child_changed(s, incident_id, actor, act.COMMENT_ADDED, _excerpt(text))
            assert c.id is not None
            return c.id

    async def edit_comment(self, actor: Actor, comment_id: int, version: int, text: str) -> None:
        require(actor, Feature.COMMENTS, Level.MANAGE)
        text = self._check_comment(text)
        async with self._guard(_("Cannot save comment. Try again later.")), self.db.write() as s:
            cm = Comment.__table__
            incident_id = await self._owner(s, cm, comment_id)
            result = await s.execute(
                sa.update(cm).where(cm.c.id == comment_id, cm.c.version == version)
                .values(text=text, version=version + 1, updated_at=utcnow())
            )
            if result.rowcount != 1:
                raise StaleError()
            await self._child_changed(s, incident_id, actor, act.COMMENT_EDITED, _excerpt(text))

    async def delete_comment(self, actor: Actor, comment_id: int) -> None:
        require(actor, Feature.COMMENTS, Level.MANAGE)
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.write() as s:
            cm = Comment.__table__
            row = (await s.execute(sa.select(cm.c.incident_id, cm.c.text).where(cm.c.id == comment_id))).first()
            if row is None:
                raise StaleError()
            await s.execute(sa.delete(cm).where(cm.c.id == comment_id))
            await self._child_changed(s, row.incident_id, actor, act.COMMENT_DELETED, _excerpt(row.text))

    # -- calls ------------------------------------------------------------------------------------
    @staticmethod
    def _check_call(call: CallInput) -> CallInput:
        if call.direction not in CALL_DIRECTIONS:
            raise InvalidInput("direction", _("Direction: choose Incoming or Outgoing."))
        if call.at.tzinfo is None:
            raise InvalidInput("time", _("Time: type the date and time as YYYY-MM-DD HH:MM, e.g. 2026-03-01 14:30."))
        if not (call.party.strip() or call.number.strip()):
            raise InvalidInput("party", _("Caller/callee: give a name or a number for the call."))
        return call

    async def add_call(self, actor: Actor, incident_id: int, call: CallInput, *, token: str | None = None) -> int:
        """Add a call; the same ``token`` again returns the stored call's id (see create)."""
        require(actor, Feature.CALLS, Level.MANAGE)
        call = self._check_call(call)
        async with (self._guard(_("Cannot save call. Try again later."), retry_safe=bool(token)),
                    self.db.write() as s):
            if (stored := await _by_token(s, Call, token)) is not None:
                return stored
            await self._require_incident(s, incident_id)
            row = Call(incident_id=incident_id, at=call.at, direction=call.direction, party=call.party,
                       number=call.number, notes=call.notes, author=actor.name, client_token=token)
            s.add(row)
            await s.flush()
            await self._child_changed(s, incident_id, actor, act.CALL_ADDED, _call_details(call))
            assert row.id is not None
            return row.id

    async def edit_call(self, actor: Actor, call_id: int, version: int, call: CallInput) -> None:
        require(actor, Feature.CALLS, Level.MANAGE)
        call = self._check_call(call)
        async with self._guard(_("Cannot save call. Try again later.")), self.db.write() as s:
            cl = Call.__table__
            incident_id = await self._owner(s, cl, call_id)
            result = await s.execute(
                sa.update(cl).where(cl.c.id == call_id, cl.c.version == version).values(
                    at=call.at, direction=call.direction, party=call.party, number=call.number, notes=call.notes,
                    version=version + 1,
                )
            )
            if result.rowcount != 1:
                raise StaleError()
            await self._child_changed(s, incident_id, actor, act.CALL_EDITED, _call_details(call))

    async def delete_call(self, actor: Actor, call_id: int) -> None:
        require(actor, Feature.CALLS, Level.MANAGE)
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.write() as s:
            cl = Call.__table__
            row = (await s.execute(sa.select(cl).where(cl.c.id == call_id))).first()
            if row is None:
                raise StaleError()
            await s.execute(sa.delete(cl).where(cl.c.id == call_id))
            details = _call_details(CallInput(row.at, row.direction, row.party, row.number, row.notes))
            await self._child_changed(s, row.incident_id, actor, act.CALL_DELETED, details)

    # -- sequences --------------------------------------------------------------------------------
    async def add_sequences(self, actor: Actor, incident_id: int, sequences: Iterable[SequenceInput]) -> None:
        require(actor, Feature.SEQUENCES, Level.MANAGE)
        seqs = self._check_sequences(sequences)
        async with self._guard(_("Cannot add sequence. Try again later.")), self.db.write() as s:
            await self._require_incident(s, incident_id)
            now = utcnow()
            for q in seqs:
                s.add(Sequence(incident_id=incident_id, camera_id=q.camera_id, start_time=q.start_time,
                               end_time=q.end_time, added_at=now, added_by=actor.name))
                self._log(s, incident_id, actor, act.SEQUENCE_ADDED, _sequence_details(q.start_time, q.end_time))
            await s.flush()
            await self._recompute_span(s, incident_id)
            await self._changed(s, Topic.INCIDENTS)

    async def remove_sequence(self, actor: Actor, sequence_id: int) -> None:
        require(actor, Feature.SEQUENCES, Level.MANAGE)
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.write() as s:
            sq, cam = Sequence.__table__, Camera.__table__
            row = (
                await s.execute(
                    sa.select(sq.c.incident_id, sq.c.start_time, sq.c.end_time, cam.c.name.label("camera"))
                    .join(cam, cam.c.id == sq.c.camera_id).where(sq.c.id == sequence_id)
                )
            ).first()
            if row is None:
                raise StaleError()
            await s.execute(sa.delete(sq).where(sq.c.id == sequence_id))
            self._log(s, row.incident_id, actor, act.SEQUENCE_REMOVED,
                      f"{row.camera}: " + _sequence_details(row.start_time, row.end_time))
            await self._recompute_span(s, row.incident_id)
            await self._changed(s, Topic.INCIDENTS)

    # -- delete -----------------------------------------------------------------------------------
    async def delete(self, actor: Actor, incident_id: int, version: int | None = None) -> None:
        """Delete a project with its sequences, comments and calls; its activity log stays."""
        require(actor, Feature.DELETE, Level.MANAGE)
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.write() as s:
            t = Incident.__table__
            stmt = sa.delete(t).where(t.c.id == incident_id)
            if version is not None:
                stmt = stmt.where(t.c.version == version)
            result = await s.execute(stmt)
            if result.rowcount != 1:
                raise StaleError()
            self._log(s, incident_id, actor, act.DELETED)
            audit.record(s, actor, audit.PROJECT_DELETED, f"incident {incident_id}")
            await self._changed(s, Topic.INCIDENTS)

    # -- activity ---------------------------------------------------------------------------------
    async def activity(self, actor: Actor, incident_id: int, limit: int = 1000) -> list[ActivityView]:
        """The project's activity log, newest first."""
        require(actor, Feature.INCIDENTS, Level.VIEW)
        await self.opened.flush(2.0)  # this process's own opens first (written in the background)
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.query() as s:
            a = Activity.__table__
            rows = await s.execute(  # by time: an "opened" entry is stored a moment after its time
                sa.select(a).where(a.c.incident_id == incident_id).order_by(a.c.at.desc(), a.c.id.desc()).limit(limit)
            )
            return [ActivityView(r.id, r.at, r.user, r.action, r.details) for r in rows]


# -- the parts of a project, one query each (the editor reads them in one session; the report reads
# them one by one so a failure part-way still leaves the parts already read) ----------------------
async def _by_token(s: AsyncSession, model: type[Incident | Comment | Call], token: str | None) -> int | None:
    """The row a previous try with this client token stored (its COMMIT answer was lost), if any."""
    if not token:
        return None
    table = model.__table__  # type: ignore[attr-defined]
    return (await s.execute(sa.select(table.c.id).where(table.c.client_token == token))).scalar()


async def load_core(s: AsyncSession, incident_id: int) -> IncidentDetail:
    """ID, type, status, description, times and version; StaleError when the project is gone."""
    t, ty, st = Incident.__table__, IncidentType.__table__, IncidentStatus.__table__
    row = (
        await s.execute(
            sa.select(t, ty.c.name.label("type_name"), st.c.name.label("status_name"))
            .join(ty, ty.c.id == t.c.type_id)
            .join(st, st.c.id == t.c.status_id)
            .where(t.c.id == incident_id)
        )
    ).first()
    if row is None:
        raise StaleError()
    m = row._mapping
    return IncidentDetail(
        id=m["id"], created_at=m["created_at"], created_by=m["created_by"], type_id=m["type_id"],
        type_name=m["type_name"], status_id=m["status_id"], status_name=m["status_name"],
        description=m["description"], start_time=m["start_time"], end_time=m["end_time"], version=m["version"],
    )


async def load_sequences(s: AsyncSession, incident_id: int) -> list[SequenceView]:
    sq, cam = Sequence.__table__, Camera.__table__
    return [
        SequenceView(r.id, r.camera_id, r.camera_name, r.start_time, r.end_time, r.added_by)
        for r in await s.execute(
            sa.select(sq, cam.c.name.label("camera_name"))
            .join(cam, cam.c.id == sq.c.camera_id)
            .where(sq.c.incident_id == incident_id)
            .order_by(sq.c.start_time, sq.c.id)
        )
    ]


async def load_comments(s: AsyncSession, incident_id: int) -> list[CommentView]:
    cm = Comment.__table__
    return [
        CommentView(r.id, r.created_at, r.author, r.text, r.version)
        for r in await s.execute(sa.select(cm).where(cm.c.incident_id == incident_id).order_by(cm.c.id))
    ]


async def load_calls(s: AsyncSession, incident_id: int) -> list[CallView]:
    cl = Call.__table__
    return [
        CallView(r.id, r.at, r.direction, r.party, r.number, r.notes, r.author, r.version)
        for r in await s.execute(sa.select(cl).where(cl.c.incident_id == incident_id).order_by(cl.c.at, cl.c.id))
    ]


async def load_categories(s: AsyncSession, incident_id: int) -> dict[int, int]:
    """Slot → chosen category value id."""
    ic = IncidentCategory.__table__
    return {r.slot: r.value_id for r in await s.execute(sa.select(ic).where(ic.c.incident_id == incident_id))}


async def load_data(s: AsyncSession, incident_id: int) -> dict[int, str]:
    """Data field id → stored value."""
    idata = IncidentData.__table__
    return {r.field_id: r.value for r in await s.execute(sa.select(idata).where(idata.c.incident_id == incident_id))}


def _visible(actor: Actor, detail: IncidentDetail) -> IncidentDetail:
    """Leave out the parts ``actor`` may not view (the editor says "not available to you")."""
    hidden = {name for name, feature in (("comments", Feature.COMMENTS), ("calls", Feature.CALLS),
                                          ("sequences", Feature.SEQUENCES)) if not allowed(actor, feature, Level.VIEW)}
    if not hidden:
        return detail
    return dataclasses.replace(
        detail, hidden=frozenset(hidden),
        comments=[] if "comments" in hidden else detail.comments,
        calls=[] if "calls" in hidden else detail.calls,
        sequences=[] if "sequences" in hidden else detail.sequences,
    )


def _excerpt(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _sequence_details(start: datetime, end: datetime) -> str:
    return f"{start.strftime('%Y-%m-%d %H:%M:%S')} – {end.strftime('%Y-%m-%d %H:%M:%S')} UTC"


def _call_details(call: CallInput) -> str:
    who = " ".join(x for x in (call.party, call.number) if x)
    return f"{call.direction} {call.at.strftime(INPUT_FORMAT)} UTC {who}".strip()

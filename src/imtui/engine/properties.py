"""Incident properties an administrator defines (manual 003): types, statuses, the five
categories and their values, the incident data fields, and the options (report title,
retention time, the type of projects made of alarms).

A type, status or category value that any incident project uses can be neither edited nor
deleted; the refusal says how many projects use it.  Names need not be unique.  Every change is
written to the system audit log in the same transaction and bumps the change feed, so operators'
screens reload the definitions without a restart.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from imtui.engine import audit
from imtui.engine.base import Service
from imtui.engine.errors import InvalidInput, ServiceError, StaleError
from imtui.engine.permissions import Actor, Feature, Level, require
from imtui.i18n import _, ngettext
from imtui.storage.changes import Topic
from imtui.storage.models import (
    Category,
    CategoryValue,
    DataField,
    Incident,
    IncidentCategory,
    IncidentStatus,
    IncidentType,
    Setting,
)

MAX_NAME = 200
MAX_DESCRIPTION = 1000
RETENTION_MIN, RETENTION_MAX, RETENTION_DEFAULT = 1, 365_000, 7
DATA_KINDS = ("integer", "decimal", "text", "checkbox", "datetime")
SLOTS_PER_KIND = 3
CATEGORY_SLOTS = 5
ALARM_TYPE = "alarm_incident_type"  # setting key: the type id of projects made of alarms


class InUse(ServiceError):
    """A property that incident projects use cannot be edited or deleted."""


@dataclass(frozen=True)
class PropertyView:
    id: int
    name: str
    description: str
    in_use: int  # incident projects using it


@dataclass(frozen=True)
class CategoryView:
    slot: int
    name: str
    description: str
    enabled: bool
    values: list[PropertyView]


@dataclass(frozen=True)
class DataFieldView:
    id: int
    kind: str
    slot: int
    name: str
    description: str
    enabled: bool


@dataclass(frozen=True)
class Options:
    report_title: str
    retention_days: int
    alarm_type_id: int | None = None  # the type of projects made of alarms; None: the operator chooses
    alarm_type_name: str = ""


def kind_label(kind: str) -> str:
    return {
        "type": _("Type"),
        "status": _("Status"),
        "value": _("Category value"),
    }[kind]


def parse_retention_days(value: object) -> int:
    """1..365000 whole days, or InvalidInput naming the field and the range."""
    text = str(value).strip()
    if not text.isdigit() or not RETENTION_MIN <= int(text) <= RETENTION_MAX:
        raise InvalidInput(
            "retention_days",
            _("Retention time: type a whole number of days from {min} to {max}.").format(
                min=RETENTION_MIN, max=f"{RETENTION_MAX:,}"
            ),
        )
    return int(text)


def _check_name(label: str, name: str) -> str:
    name = name.strip()
    if not name:
        raise InvalidInput("name", _("{what} name: type a name.").format(what=label))
    if len(name) > MAX_NAME:
        raise InvalidInput("name", _("{what} name: shorten it to {max} characters or fewer.").format(what=label, max=MAX_NAME))
    return name


def _check_description(label: str, description: str) -> str:
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(
            "description",
            _("{what} description: shorten it to {max} characters or fewer.").format(what=label, max=MAX_DESCRIPTION),
        )
    return description


def _switchable(label: str, row, enabled: bool | None, name: str | None, description: str | None) -> dict:  # noqa: ANN001
    """New values for a category or data field: unchanged where None; an enabled one needs a name."""
    values = {
        "enabled": row.enabled if enabled is None else enabled,
        "name": row.name if name is None else name.strip(),
        "description": row.description if description is None else _check_description(label, description),
    }
    if values["enabled"]:
        values["name"] = _check_name(label, values["name"])
    return values


_TABLES = {"type": IncidentType.__table__, "status": IncidentStatus.__table__, "value": CategoryValue.__table__}


class PropertyService(Service):
    """Administration of incident properties; every call needs the properties grant."""

    # -- usage ------------------------------------------------------------------------------------
    @staticmethod
    async def _usage(s: AsyncSession, kind: str, ids: list[int] | None = None) -> dict[int, int]:
        if kind == "value":
            col = IncidentCategory.__table__.c.value_id
        else:
            col = Incident.__table__.c.type_id if kind == "type" else Incident.__table__.c.status_id
        stmt = sa.select(col, sa.func.count()).group_by(col)
        if ids is not None:
            stmt = stmt.where(col.in_(ids))
        return {row[0]: row[1] for row in await s.execute(stmt)}

    async def _refuse_if_used(self, s: AsyncSession, kind: str, item_id: int, name: str, verb: str) -> None:
        n = (await self._usage(s, kind, [item_id])).get(item_id, 0)
        if n:
            raise InUse(
                ngettext(
                    "Cannot {verb} {what} \u201c{name}\u201d: {n} incident project uses it.",
                    "Cannot {verb} {what} \u201c{name}\u201d: {n} incident projects use it.",
                    n,
                ).format(verb=verb, what=kind_label(kind).lower(), name=name, n=n)
            )

    # -- types, statuses, category values (one code path) -----------------------------------------
    async def list_items(self, actor: Actor, kind: str, slot: int | None = None) -> list[PropertyView]:
        require(actor, Feature.PROPERTIES, Level.VIEW)
        t = _TABLES[kind]
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            stmt = sa.select(t.c.id, t.c.name, t.c.description).order_by(t.c.position, t.c.id)
            if kind == "value":
                stmt = stmt.where(t.c.category_slot == slot)
            rows = (await s.execute(stmt)).all()
            used = await self._usage(s, kind, [r.id for r in rows])
        return [PropertyView(r.id, r.name, r.description, used.get(r.id, 0)) for r in rows]

    async def add_item(self, actor: Actor, kind: str, name: str, description: str = "", slot: int | None = None) -> int:
        require(actor, Feature.PROPERTIES, Level.MANAGE)
        label = kind_label(kind)
        name, description = _check_name(label, name), _check_description(label, description)
        t = _TABLES[kind]
        async with self._guard(_("Cannot save {what}. Try again later.").format(what=label.lower())), self.db.write() as s:
            values: dict = {"name": name, "description": description}
            where = []
            if kind == "value":
                await self._require_category(s, slot)
                values["category_slot"] = slot
                where.append(t.c.category_slot == slot)
            position = (await s.execute(sa.select(sa.func.coalesce(sa.func.max(t.c.position), -1)).where(*where))).scalar_one()
            values["position"] = position + 1
            new_id = (await s.execute(sa.insert(t).values(**values).returning(t.c.id))).scalar_one()
            target = f"{kind} {new_id}" + (f" (category {slot})" if slot else "")
            audit.record(s, actor, audit.PROPERTY_ADDED, target, name)
            await self._changed(s, Topic.PROPERTIES)
            return new_id

    async def edit_item(
        self, actor: Actor, kind: str, item_id: int, *, name: str | None = None, description: str | None = None
    ) -> None:
        require(actor, Feature.PROPERTIES, Level.MANAGE)
        label = kind_label(kind)
        t = _TABLES[kind]
        async with self._guard(_("Cannot save {what}. Try again later.").format(what=label.lower())), self.db.write() as s:
            row = (await s.execute(sa.select(t.c.name, t.c.description).where(t.c.id == item_id))).first()
            if row is None:
                raise StaleError()
            await self._refuse_if_used(s, kind, item_id, row.name, _("edit"))
            new_name = _check_name(label, name) if name is not None else row.name
            new_desc = _check_description(label, description) if description is not None else row.description
            await s.execute(sa.update(t).where(t.c.id == item_id).values(name=new_name, description=new_desc))
            audit.record(s, actor, audit.PROPERTY_EDITED, f"{kind} {item_id}", f"{row.name} → {new_name}")
            await self._changed(s, Topic.PROPERTIES)

    async def delete_item(self, actor: Actor, kind: str, item_id: int) -> None:
        require(actor, Feature.PROPERTIES, Level.MANAGE)
        t = _TABLES[kind]
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.write() as s:
            row = (await s.execute(sa.select(t.c.name).where(t.c.id == item_id))).first()
            if row is None:
                raise StaleError()
            await self._refuse_if_used(s, kind, item_id, row.name, _("delete"))
            await s.execute(sa.delete(t).where(t.c.id == item_id))
            audit.record(s, actor, audit.PROPERTY_DELETED, f"{kind} {item_id}", row.name)
            await self._changed(s, Topic.PROPERTIES)

    # -- categories -------------------------------------------------------------------------------
    @staticmethod
    async def _require_category(s: AsyncSession, slot: int | None) -> None:
        if slot is None or not 1 <= slot <= CATEGORY_SLOTS:
            raise InvalidInput("category", _("Category: choose a number from 1 to {max}.").format(max=CATEGORY_SLOTS))

    async def categories(self, actor: Actor) -> list[CategoryView]:
        require(actor, Feature.PROPERTIES, Level.VIEW)
        c, v = Category.__table__, CategoryValue.__table__
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            rows = (await s.execute(sa.select(c).order_by(c.c.slot))).all()
            values = (await s.execute(sa.select(v).order_by(v.c.position, v.c.id))).all()
            used = await self._usage(s, "value")
        by_slot: dict[int, list[PropertyView]] = {}
        for x in values:
            by_slot.setdefault(x.category_slot, []).append(PropertyView(x.id, x.name, x.description, used.get(x.id, 0)))
        return [CategoryView(r.slot, r.name, r.description, r.enabled, by_slot.get(r.slot, [])) for r in rows]

    async def set_category(
        self, actor: Actor, slot: int, *, enabled: bool | None = None, name: str | None = None,
        description: str | None = None,
    ) -> None:
        """Enable or disable a category slot and set its name and description (label and tooltip)."""
        require(actor, Feature.PROPERTIES, Level.MANAGE)
        label = _("Category")
        async with self._guard(_("Cannot save category. Try again later.")), self.db.write() as s:
            await self._require_category(s, slot)
            c = Category.__table__
            row = (await s.execute(sa.select(c).where(c.c.slot == slot))).first()
            if row is None:
                raise StaleError()
            values = _switchable(label, row, enabled, name, description)
            await s.execute(sa.update(c).where(c.c.slot == slot).values(**values))
            state = _("enabled") if values["enabled"] else _("disabled")
            audit.record(s, actor, audit.PROPERTY_EDITED, f"category {slot}", f"{values['name']} ({state})")
            await self._changed(s, Topic.PROPERTIES)

    # -- data fields ------------------------------------------------------------------------------
    async def data_fields(self, actor: Actor) -> list[DataFieldView]:
        require(actor, Feature.PROPERTIES, Level.VIEW)
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            d = DataField.__table__
            rows = await s.execute(sa.select(d))
            views = [DataFieldView(r.id, r.kind, r.slot, r.name, r.description, r.enabled) for r in rows]
        return sorted(views, key=lambda f: (DATA_KINDS.index(f.kind) if f.kind in DATA_KINDS else 99, f.slot))

    async def set_data_field(
        self, actor: Actor, field_id: int, *, enabled: bool | None = None, name: str | None = None,
        description: str | None = None,
    ) -> None:
        """Enable or disable a data field and set its name and description (label and tooltip)."""
        require(actor, Feature.PROPERTIES, Level.MANAGE)
        label = _("Data field")
        async with self._guard(_("Cannot save data field. Try again later.")), self.db.write() as s:
            d = DataField.__table__
            row = (await s.execute(sa.select(d).where(d.c.id == field_id))).first()
            if row is None:
                raise StaleError()
            values = _switchable(label, row, enabled, name, description)
            await s.execute(sa.update(d).where(d.c.id == field_id).values(**values))
            state = _("enabled") if values["enabled"] else _("disabled")
            audit.record(s, actor, audit.PROPERTY_EDITED, f"data field {row.kind} {row.slot}",
                         f"{values['name']} ({state})")
            await self._changed(s, Topic.PROPERTIES)

    # -- options ----------------------------------------------------------------------------------
    async def options(self, actor: Actor) -> Options:
        require(actor, Feature.PROPERTIES, Level.VIEW)
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            return await read_options(s)

    async def set_options(
        self, actor: Actor, *, report_title: str | None = None, retention_days: object | None = None,
        alarm_type_id: int | None = None,
    ) -> Options:
        """Change the options given (None leaves one as it is).  ``alarm_type_id``: the incident
        type of projects made of alarms, 0 to clear it (operators then choose the type each time)."""
        require(actor, Feature.PROPERTIES, Level.MANAGE)
        days = parse_retention_days(retention_days) if retention_days is not None else None
        if report_title is not None:
            report_title = _check_name(_("Report title"), report_title)
        async with self._guard(_("Cannot save options. Try again later.")), self.db.write() as s:
            before = await read_options(s)
            changes: dict[str, tuple[str, str, str]] = {}  # key -> (stored value, shown before, shown after)
            if report_title is not None and report_title != before.report_title:
                changes["report_title"] = (report_title, before.report_title, report_title)
            if days is not None and days != before.retention_days:
                changes["retention_days"] = (str(days), str(before.retention_days), str(days))
            if alarm_type_id is not None and (alarm_type_id or None) != before.alarm_type_id:
                name = await _alarm_type_name(s, alarm_type_id) if alarm_type_id else "-"
                changes[ALARM_TYPE] = (str(alarm_type_id or ""), before.alarm_type_name or "-", name)
            st = Setting.__table__
            for key, (value, old, new) in changes.items():
                updated = await s.execute(sa.update(st).where(st.c.key == key).values(value=value))
                if updated.rowcount == 0:
                    await s.execute(sa.insert(st).values(key=key, value=value))
                audit.record(s, actor, audit.OPTIONS_CHANGED, key, f"{old} → {new}")
            if changes:
                await self._changed(s, Topic.PROPERTIES)
            return await read_options(s)


async def _alarm_type_name(s: AsyncSession, type_id: int) -> str:
    t = IncidentType.__table__
    name = (await s.execute(sa.select(t.c.name).where(t.c.id == type_id))).scalar()
    if name is None:
        raise InvalidInput("alarm_type", _("Type for alarm projects: no incident type has ID {id}; choose one of "
                                           "the listed types.").format(id=type_id))
    return name


async def read_options(s: AsyncSession) -> Options:
    """The options as stored; an alarm-project type deleted since counts as none set."""
    st, t = Setting.__table__, IncidentType.__table__
    values = {r.key: r.value for r in await s.execute(sa.select(st.c.key, st.c.value))}
    try:
        days = int(values.get("retention_days", RETENTION_DEFAULT))
    except ValueError:
        days = RETENTION_DEFAULT
    alarm_type: tuple[int | None, str] = (None, "")
    if (raw := values.get(ALARM_TYPE, "")).isdigit():
        name = (await s.execute(sa.select(t.c.name).where(t.c.id == int(raw)))).scalar()
        if name is not None:
            alarm_type = (int(raw), name)
    return Options(report_title=values.get("report_title", "Incident report"), retention_days=days,
                   alarm_type_id=alarm_type[0], alarm_type_name=alarm_type[1])

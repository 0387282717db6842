"""Incident properties administration on both backends: rules, refusals, audit entries."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from conftest import ADMIN, OPERATOR, VIEWER
from imtui.engine.errors import InvalidInput, PermissionDenied, StaleError
from imtui.engine.incidents import IncidentService
from imtui.engine.properties import InUse, PropertyService, parse_retention_days
from imtui.storage.db import Database


async def _audit(db: Database) -> list[tuple[str, str, str]]:
    async with db.read() as s:
        rows = await s.execute(sa.text('SELECT "user", action, target FROM audit ORDER BY id'))
        return [tuple(r) for r in rows]


async def test_types_and_statuses_add_edit_delete(db: Database) -> None:
    props = PropertyService(db)
    before = await props.list_items(ADMIN, "type")
    new = await props.add_item(ADMIN, "type", "  Slipped on ice ", "outdoor falls")
    dup = await props.add_item(ADMIN, "type", "Slipped on ice")  # names need not be unique
    items = await props.list_items(ADMIN, "type")
    assert [i.name for i in items][-2:] == ["Slipped on ice", "Slipped on ice"]
    assert len(items) == len(before) + 2 and items[-2].description == "outdoor falls"
    await props.edit_item(ADMIN, "type", new, name="Slipped on ice or snow")
    await props.delete_item(ADMIN, "type", dup)
    assert [i.name for i in await props.list_items(ADMIN, "type")][-1] == "Slipped on ice or snow"
    status = await props.add_item(ADMIN, "status", "Waiting for police")
    assert (await props.list_items(ADMIN, "status"))[-1].id == status
    assert [a[1] for a in await _audit(db)][-4:] == ["property_added", "property_edited", "property_deleted",
                                                     "property_added"]
    with pytest.raises(StaleError):
        await props.delete_item(ADMIN, "type", dup)


async def test_a_property_in_use_cannot_be_edited_or_deleted(db: Database) -> None:
    props, svc = PropertyService(db), IncidentService(db)
    type_id = (await props.list_items(ADMIN, "type"))[0].id
    for _ in range(3):
        await svc.create(OPERATOR, type_id, "x")
    used = (await props.list_items(ADMIN, "type"))[0]
    assert used.in_use == 3
    for attempt in (props.edit_item(ADMIN, "type", type_id, name="renamed"), props.delete_item(ADMIN, "type", type_id)):
        with pytest.raises(InUse) as err:
            await attempt
        assert used.name in err.value.message and "3 incident projects use it" in err.value.message
    status_id = (await props.list_items(ADMIN, "status"))[0].id  # new projects get the first status
    with pytest.raises(InUse):
        await props.delete_item(ADMIN, "status", status_id)
    assert (await props.list_items(ADMIN, "type"))[0].name == used.name


async def test_categories_values_and_data_fields(db: Database) -> None:
    props = PropertyService(db)
    cats = await props.categories(ADMIN)
    assert [(c.slot, c.name, c.enabled) for c in cats][:3] == [(1, "Reason", True), (2, "Location", True), (3, "", False)]
    assert len(cats[0].values) == 5
    await props.set_category(ADMIN, 3, enabled=True, name="Authorities called", description="Who came?")
    value = await props.add_item(ADMIN, "value", "Police", slot=3)
    with pytest.raises(InvalidInput) as err:
        await props.set_category(ADMIN, 4, enabled=True, name=" ")
    assert err.value.field == "name"
    with pytest.raises(InvalidInput):
        await props.add_item(ADMIN, "value", "x", slot=6)
    cats = await props.categories(ADMIN)
    assert (cats[2].name, cats[2].enabled, [v.id for v in cats[2].values]) == ("Authorities called", True, [value])
    fields = await props.data_fields(ADMIN)
    assert len(fields) == 15 and sum(f.enabled for f in fields) == 4
    text1 = next(f for f in fields if (f.kind, f.slot) == ("text", 1))
    await props.set_data_field(ADMIN, text1.id, enabled=True, name="Witness", description="Name of a witness")
    again = next(f for f in await props.data_fields(ADMIN) if f.id == text1.id)
    assert (again.enabled, again.name, again.description) == (True, "Witness", "Name of a witness")


async def test_options_and_the_retention_range(db: Database) -> None:
    props = PropertyService(db)
    assert (await props.options(ADMIN)).retention_days == 7
    opts = await props.set_options(ADMIN, report_title="Site 4 incidents", retention_days="30")
    assert (opts.report_title, opts.retention_days) == ("Site 4 incidents", 30)
    for bad in ("0", "365001", "-3", "7.5", "seven", ""):
        with pytest.raises(InvalidInput) as err:
            await props.set_options(ADMIN, retention_days=bad)
        assert err.value.message == "Retention time: type a whole number of days from 1 to 365,000."
    assert (await props.options(ADMIN)).retention_days == 30  # nothing stored was lost
    assert parse_retention_days("365000") == 365000 and parse_retention_days(1) == 1
    assert ("admin", "options_changed", "retention_days") in await _audit(db)


async def test_only_administrators_manage_properties(db: Database) -> None:
    props = PropertyService(db)
    for actor in (OPERATOR, VIEWER):
        for call in (props.list_items(actor, "type"), props.add_item(actor, "type", "x"), props.options(actor),
                     props.set_options(actor, retention_days=9), props.categories(actor)):
            with pytest.raises(PermissionDenied):
                await call


async def test_project_create_and_delete_reach_the_audit_log(db: Database) -> None:
    svc = IncidentService(db)
    iid = await svc.create(OPERATOR, (await svc.types())[0].id)
    await svc.delete(OPERATOR, iid)
    assert [a for a in await _audit(db) if a[1].startswith("project_")] == [
        ("operator", "project_created", f"incident {iid}"), ("operator", "project_deleted", f"incident {iid}")]

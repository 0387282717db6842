"""Categories and data fields on a project: validated by kind, saved with the main details, logged."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from conftest import ADMIN, OPERATOR
from imtui.engine.errors import InvalidInput, StaleError
from imtui.engine.incidents import IncidentService
from imtui.engine.properties import InUse, PropertyService
from imtui.storage.db import Database

PARIS = ZoneInfo("Europe/Paris")


async def _setup(db: Database):  # noqa: ANN202
    svc = IncidentService(db)
    defs = await svc.definitions()
    iid = await svc.create(OPERATOR, (await svc.types())[0].id, "x")
    return svc, defs, iid


def _field(defs, kind: str):  # noqa: ANN001, ANN202
    return next(f for f in defs.fields if f.kind == kind)


async def test_definitions_follow_the_administrator(db: Database) -> None:
    svc = IncidentService(db)
    defs = await svc.definitions()
    assert [(c.slot, c.name, len(c.values)) for c in defs.categories] == [(1, "Reason", 5), (2, "Location", 6)]
    assert [(f.kind, f.name) for f in defs.fields] == [
        ("integer", "Number of injured persons"), ("decimal", "Approximate value of property (USD)"),
        ("checkbox", "Emergency contact notified?"), ("checkbox", "Property damaged?")]
    await PropertyService(db).set_category(ADMIN, 2, enabled=False)
    assert [c.slot for c in (await svc.definitions()).categories] == [1]


async def test_save_categories_and_data(db: Database) -> None:
    svc, defs, iid = await _setup(db)
    d = await svc.get(OPERATOR, iid)
    reason = defs.categories[0]
    integer, decimal, box = _field(defs, "integer"), _field(defs, "decimal"), _field(defs, "checkbox")
    v = await svc.update_main(
        OPERATOR, iid, d.version, type_id=d.type_id, status_id=d.status_id, description=d.description,
        categories={1: reason.values[1].id}, data={integer.id: " 2 ", decimal.id: "1 250,5", box.id: "true"},
    )
    d = await svc.get(OPERATOR, iid)
    assert d.version == v and d.categories == {1: reason.values[1].id}
    assert d.data == {integer.id: "2", decimal.id: "1250.5", box.id: "true"}
    log = await svc.activity(OPERATOR, iid)
    assert {e.details for e in log if e.action in ("category_changed", "data_changed")} == {
        f"Reason: — → {reason.values[1].name}", "Number of injured persons: — → 2",
        "Approximate value of property (USD): — → 1250.5", "Emergency contact notified?: no → yes"}
    # clearing: None for a category, "" for a field
    await svc.update_main(OPERATOR, iid, v, type_id=d.type_id, status_id=d.status_id, description=d.description,
                          categories={1: None}, data={integer.id: ""})
    d = await svc.get(OPERATOR, iid)
    assert d.categories == {} and integer.id not in d.data
    # a value in use now cannot be deleted by the administrator
    await svc.update_main(OPERATOR, iid, d.version, type_id=d.type_id, status_id=d.status_id,
                          description=d.description, categories={2: defs.categories[1].values[0].id})
    with pytest.raises(InUse):
        await PropertyService(db).delete_item(ADMIN, "value", defs.categories[1].values[0].id)


@pytest.mark.parametrize(("kind", "raw", "message"), [
    ("integer", "two", "Number of injured persons: type a whole number, e.g. 3."),
    ("integer", "2.5", "Number of injured persons: type a whole number, e.g. 3."),
    ("decimal", "12,3,4", "Approximate value of property (USD): type a number, e.g. 1250.50."),
    ("decimal", "NaN", "Approximate value of property (USD): type a number, e.g. 1250.50."),
])
async def test_a_wrong_value_names_the_field_and_saves_nothing(db: Database, kind: str, raw: str, message: str) -> None:
    svc, defs, iid = await _setup(db)
    d = await svc.get(OPERATOR, iid)
    good = _field(defs, "checkbox")
    with pytest.raises(InvalidInput) as err:
        await svc.update_main(OPERATOR, iid, d.version, type_id=d.type_id, status_id=(await svc.statuses())[1].id,
                              description="changed", data={good.id: "true", _field(defs, kind).id: raw})
    assert err.value.message == message and err.value.field == f"field-{_field(defs, kind).id}"
    after = await svc.get(OPERATOR, iid)
    assert (after.version, after.description, after.data, after.status_id) == (d.version, "x", {}, d.status_id)


async def test_datetime_and_text_fields(db: Database) -> None:
    props, svc = PropertyService(db), IncidentService(db)
    fields = {(f.kind, f.slot): f for f in await props.data_fields(ADMIN)}
    await props.set_data_field(ADMIN, fields[("datetime", 1)].id, enabled=True, name="Ambulance arrived")
    await props.set_data_field(ADMIN, fields[("text", 1)].id, enabled=True, name="Witness")
    iid = await svc.create(OPERATOR, (await svc.types())[0].id)
    d = await svc.get(OPERATOR, iid)
    dt_id, text_id = fields[("datetime", 1)].id, fields[("text", 1)].id
    with pytest.raises(InvalidInput) as err:
        await svc.update_main(OPERATOR, iid, d.version, type_id=d.type_id, status_id=d.status_id, description="",
                              data={dt_id: "tomorrow"}, tz=PARIS)
    assert err.value.message == "Ambulance arrived: type the date and time as YYYY-MM-DD HH:MM, e.g. 2026-03-01 14:30."
    await svc.update_main(OPERATOR, iid, d.version, type_id=d.type_id, status_id=d.status_id, description="",
                          data={dt_id: "2026-07-14 10:30", text_id: "[b]Ann[/b]"}, tz=PARIS)
    d = await svc.get(OPERATOR, iid)
    assert datetime.fromisoformat(d.data[dt_id]) == datetime(2026, 7, 14, 8, 30, tzinfo=UTC)  # stored in UTC
    assert d.data[text_id] == "[b]Ann[/b]"


async def test_category_value_from_another_slot_is_refused(db: Database) -> None:
    svc, defs, iid = await _setup(db)
    d = await svc.get(OPERATOR, iid)
    with pytest.raises(InvalidInput) as err:
        await svc.update_main(OPERATOR, iid, d.version, type_id=d.type_id, status_id=d.status_id,
                              description=d.description, categories={1: defs.categories[1].values[0].id})
    assert err.value.field == "category-1"
    with pytest.raises(StaleError):
        await svc.update_main(OPERATOR, iid, d.version + 5, type_id=d.type_id, status_id=d.status_id,
                              description=d.description, categories={1: None})

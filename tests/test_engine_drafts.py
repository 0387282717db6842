"""The draft sequence list on both backends: per user, persisted, both "add" paths."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from conftest import OPERATOR, VIEWER
from imtui.engine.drafts import DraftService
from imtui.engine.errors import InvalidInput, PermissionDenied, StaleError
from imtui.engine.incidents import IncidentService
from imtui.engine.permissions import Actor

T0 = datetime(2026, 5, 2, 9, 0, tzinfo=UTC)
OTHER = Actor("admin", "Administrator")


async def test_add_all_to_a_new_project(db) -> None:  # noqa: ANN001
    drafts, svc = DraftService(db), IncidentService(db)
    cams = [c.id for c in await svc.cameras()]
    await drafts.add(OPERATOR, cams[1], T0 + timedelta(minutes=5), T0 + timedelta(minutes=9))
    await drafts.add(OPERATOR, cams[0], T0, T0 + timedelta(minutes=2))
    await drafts.add(OTHER, cams[0], T0, T0)  # someone else's list is separate
    listed = await drafts.list(OPERATOR)
    assert [(x.camera_id, x.start_time) for x in listed] == [(cams[0], T0), (cams[1], T0 + timedelta(minutes=5))]
    iid = await drafts.add_all_to_new(OPERATOR, (await svc.types())[0].id, "from drafts")
    d = await svc.get(OPERATOR, iid)
    assert (d.start_time, d.end_time, len(d.sequences)) == (T0, T0 + timedelta(minutes=9), 2)
    assert await drafts.list(OPERATOR) == [] and len(await drafts.list(OTHER)) == 1
    with pytest.raises(InvalidInput):
        await drafts.add_all_to_new(OPERATOR, (await svc.types())[0].id)


async def test_add_selected_to_an_existing_project(db) -> None:  # noqa: ANN001
    drafts, svc = DraftService(db), IncidentService(db)
    cam = (await svc.cameras())[0].id
    iid = await svc.create(OPERATOR, (await svc.types())[0].id, "existing")
    a = await drafts.add(OPERATOR, cam, T0, T0 + timedelta(seconds=30))
    b = await drafts.add(OPERATOR, cam, T0 + timedelta(hours=1), T0 + timedelta(hours=2))
    await drafts.add_to_existing(OPERATOR, [b], iid)
    d = await svc.get(OPERATOR, iid)
    assert [(q.start_time, q.end_time) for q in d.sequences] == [(T0 + timedelta(hours=1), T0 + timedelta(hours=2))]
    assert [x.id for x in await drafts.list(OPERATOR)] == [a]
    with pytest.raises(StaleError):
        await drafts.add_to_existing(OPERATOR, [b], iid)  # gone already
    with pytest.raises(InvalidInput) as err:
        await drafts.add(OPERATOR, cam, T0, T0 - timedelta(seconds=1))
    assert err.value.field == "end"
    with pytest.raises(PermissionDenied):
        await drafts.add(VIEWER, cam, T0, T0)

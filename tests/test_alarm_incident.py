"""Alarm -> incident project on both backends: one guarded transaction (two operators at once get
one project; the slower one is told which, and nothing extra is stored), the project's activity
entry is the code ``from_alarm`` (shown translated), and the type comes from the administrator's
option for alarm projects, or from the caller when none is set (TypeNeeded otherwise)."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from conftest import ADMIN, OPERATOR
from imtui.engine import activity as act
from imtui.engine.alarm_incident import AlreadyLinked, TypeNeeded
from imtui.engine.alarms import AlarmService
from imtui.engine.errors import InvalidInput, PermissionDenied
from imtui.engine.incidents import IncidentService
from imtui.engine.properties import PropertyService
from imtui.engine.seed import seed_defaults
from imtui.engine.video.worker import Worker
from imtui.storage.db import Database
from imtui.storage.models import Activity, AlarmLog, Incident, Sequence
from recording import settings_for


async def _camera_alarm(db: Database, tmp_path) -> int:  # noqa: ANN001
    """A "camera lost" alarm of camera 1, raised as the worker raises it."""
    alarms = AlarmService(db)
    await alarms.define(ADMIN, "Gate camera down", "camera_lost", cameras=[1], priority=1)
    await Worker(db, settings_for(db, tmp_path / "media")).event("camera_lost", 1, "Camera 01: connection lost.")
    [alarm] = await alarms.alarms(ADMIN)
    return alarm.id


async def _count(db: Database, table, **where) -> int:  # noqa: ANN001, ANN003
    t = table.__table__
    stmt = sa.select(sa.func.count()).select_from(t).where(*(t.c[k] == v for k, v in where.items()))
    async with db.read() as s:
        return int((await s.execute(stmt)).scalar_one())


async def test_two_operators_at_once_get_one_project(db_url: str, tmp_path) -> None:  # noqa: ANN001
    """Two TUIs (their own engines and sessions) press "project" on one alarm at the same moment:
    exactly one project; the other is refused naming it, and stores nothing."""
    first, second = Database(db_url), Database(db_url)
    try:
        await first.upgrade()
        await seed_defaults(first, cameras=2)
        alarm_id = await _camera_alarm(first, tmp_path)
        type_id = (await IncidentService(first).types())[0].id
        for _round in range(3):  # the same race three times over: a lucky order must not pass it
            outcomes = await asyncio.gather(
                *(AlarmService(d).to_incident(OPERATOR, alarm_id, type_id, IncidentService(d))
                  for d in (first, second)), return_exceptions=True)
            made = [x for x in outcomes if isinstance(x, int)]
            refused = [x for x in outcomes if isinstance(x, AlreadyLinked)]
            assert len(made) <= 1 and len(made) + len(refused) == 2, outcomes
            project = made[0] if made else refused[0].incident_id
            assert all(x.incident_id == project and f"incident project {project}" in x.message for x in refused)
        assert await _count(first, Incident) == 1
        assert await _count(first, Sequence) == 1
        assert await _count(first, AlarmLog, alarm_id=alarm_id, action="project") == 1
        assert await _count(first, Activity, action=act.FROM_ALARM) == 1
        view, _log = await AlarmService(first).get(OPERATOR, alarm_id)
        assert view.incident_id == project and view.state == "in_progress"
    finally:
        await first.dispose()
        await second.dispose()


async def test_the_project_is_logged_with_a_code_and_typed_by_the_option(db, tmp_path) -> None:  # noqa: ANN001
    alarms, incidents, properties = AlarmService(db), IncidentService(db), PropertyService(db)
    alarm_id = await _camera_alarm(db, tmp_path)
    types = await incidents.types()
    assert (await properties.options(ADMIN)).alarm_type_id is None
    with pytest.raises(TypeNeeded, match="no incident type is set for projects made of alarms"):
        await alarms.to_incident(OPERATOR, alarm_id, None, incidents)
    assert await _count(db, Incident) == 0  # nothing stored by the refusal

    with pytest.raises(InvalidInput, match="no incident type has ID 999"):
        await properties.set_options(ADMIN, alarm_type_id=999)
    with pytest.raises(PermissionDenied):
        await properties.set_options(OPERATOR, alarm_type_id=types[2].id)
    options = await properties.set_options(ADMIN, alarm_type_id=types[2].id)
    assert (options.alarm_type_id, options.alarm_type_name) == (types[2].id, types[2].name)
    assert (await properties.options(ADMIN)).report_title == "Incident report"  # the others stay

    project = await alarms.to_incident(OPERATOR, alarm_id, None, incidents)
    detail = await incidents.get(OPERATOR, project)
    assert detail.type_id == types[2].id  # the option, not whichever type comes first
    entries = [x for x in await incidents.activity(OPERATOR, project) if x.action == act.FROM_ALARM]
    assert [(x.label, x.details) for x in entries] == [("Created from alarm", f"alarm {alarm_id} “Gate camera down”")]
    with pytest.raises(AlreadyLinked, match=f"Alarm {alarm_id} already has incident project {project}"):
        await alarms.to_incident(OPERATOR, alarm_id, types[0].id, incidents)
    assert await _count(db, Incident) == 1

    # cleared: the operator chooses again; a deleted type counts as none set
    assert (await properties.set_options(ADMIN, alarm_type_id=0)).alarm_type_id is None
    spare = await properties.add_item(ADMIN, "type", "Vehicle alarm", "")
    assert (await properties.set_options(ADMIN, alarm_type_id=spare)).alarm_type_name == "Vehicle alarm"
    await properties.delete_item(ADMIN, "type", spare)  # used by no project
    assert (await properties.options(ADMIN)).alarm_type_id is None


async def test_a_viewer_cannot_make_a_project(db, tmp_path) -> None:  # noqa: ANN001
    from conftest import VIEWER

    alarm_id = await _camera_alarm(db, tmp_path)
    with pytest.raises(PermissionDenied):
        await AlarmService(db).to_incident(VIEWER, alarm_id, None, IncidentService(db))
    assert await _count(db, Incident) == 0


async def test_old_from_alarm_entries_get_the_code_through_0014(db_url: str) -> None:
    """Entries stored as English words by earlier versions are translated after the upgrade."""
    from alembic import command

    from imtui.storage.migrate import alembic_config

    db = Database(db_url)
    try:
        async with db.write_engine.connect() as conn:
            await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "0012"))
            await conn.execute(sa.text(
                "INSERT INTO activity (incident_id, at, \"user\", action, details) VALUES "
                "(1, CURRENT_TIMESTAMP, 'ops', 'created from alarm', 'alarm 3 “Gate”'), "
                "(1, CURRENT_TIMESTAMP, 'ops', 'created', '')"))
            await conn.commit()
        await db.upgrade()
        async with db.read() as s:
            rows = (await s.execute(sa.select(Activity.__table__.c.action, Activity.__table__.c.details)
                                    .order_by(Activity.__table__.c.id))).all()
        assert [tuple(r) for r in rows] == [(act.FROM_ALARM, "alarm 3 “Gate”"), (act.CREATED, "")]
        assert act.label(rows[0].action) == "Created from alarm"
    finally:
        await db.dispose()

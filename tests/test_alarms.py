"""Alarms on both backends: definitions and their refusals, alarms raised by list matches (also
retroactive ones) and by camera events in the same transaction, the state flow with assignment and
comments all logged, permissions, and an alarm turned into an incident project linked both ways."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from conftest import ADMIN, OPERATOR, VIEWER
from imtui.engine.alarm_incident import AlreadyLinked
from imtui.engine.alarms import AlarmService
from imtui.engine.errors import InvalidInput, PermissionDenied
from imtui.engine.incidents import IncidentService
from imtui.engine.matchlists.service import MatchListService
from imtui.storage.models import Activity, Sequence
from test_matchlist_service import _lpr_on, _recognition


async def test_definitions_are_checked(db) -> None:  # noqa: ANN001
    alarms, ml = AlarmService(db), MatchListService(db)
    stolen = await ml.create(ADMIN, "Stolen")
    d = await alarms.define(ADMIN, "Stolen car", "list", list_id=stolen.id, cameras=[1], priority=1)
    assert (d.trigger, d.list_id, d.cameras, d.priority, d.enabled) == ("list", stolen.id, (1,), 1, True)
    for kwargs, message in (
        (dict(name="X", trigger="smoke"), "Trigger: 'smoke' is not known"),
        (dict(name="X", trigger="list"), "needs its list"),
        (dict(name="X", trigger="camera_lost", list_id=stolen.id), "needs its list"),
        (dict(name="X", trigger="list", list_id=999), "no list has ID 999"),
        (dict(name="stolen CAR", trigger="camera_lost"), "exists; choose another name"),
        (dict(name="X", trigger="camera_lost", priority=7), "Priority"),
    ):
        with pytest.raises(InvalidInput, match=message):
            await alarms.define(ADMIN, **kwargs)
    with pytest.raises(PermissionDenied):
        await alarms.define(OPERATOR, "Mine", "camera_lost")
    assert [x.name for x in await alarms.definitions(ADMIN)] == ["Stolen car"]


async def test_a_retroactive_match_raises_an_alarm_that_becomes_a_project(db) -> None:  # noqa: ANN001
    alarms, ml, incidents = AlarmService(db), MatchListService(db), IncidentService(db)
    await _lpr_on(db, 1, 2)
    stolen = await ml.create(ADMIN, "Stolen")
    await alarms.define(ADMIN, "Stolen car", "list", list_id=stolen.id, cameras=[1], priority=1)
    read = await _recognition(db, 1, "AB123", 0.5)
    await _recognition(db, 2, "AB123", 0.5)  # camera 2 is not a source of the definition
    await ml.add_entry(ADMIN, stolen.id, "AB123")
    [alarm] = await alarms.alarms(OPERATOR)
    assert (alarm.name, alarm.priority, alarm.state, alarm.object, alarm.tag, alarm.type, alarm.camera_id) == (
        "Stolen car", 1, "new", "AB123", "FR", "Stolen", 1)
    assert "found after the read" in alarm.message

    # the operator's flow: assign, comment, on hold, in progress, close; every step logged
    await alarms.assign_to_me(OPERATOR, alarm.id)
    await alarms.comment(OPERATOR, alarm.id, "Police informed")
    await alarms.set_state(OPERATOR, alarm.id, "on_hold")
    with pytest.raises(InvalidInput, match="State: 'done' is not known"):
        await alarms.set_state(OPERATOR, alarm.id, "done")
    with pytest.raises(PermissionDenied):
        await alarms.set_state(VIEWER, alarm.id, "closed")
    assert [a.id for a in await alarms.alarms(VIEWER, states=["on_hold"])] == [alarm.id]

    types = await incidents.types()
    project = await alarms.to_incident(OPERATOR, alarm.id, types[0].id, incidents)
    with pytest.raises(AlreadyLinked) as linked:  # linked, not twice
        await alarms.to_incident(OPERATOR, alarm.id, types[0].id, incidents)
    assert linked.value.incident_id == project
    view, log = await alarms.get(OPERATOR, alarm.id)
    assert view.incident_id == project and view.state == "on_hold"  # only New moves to In progress
    await alarms.set_state(OPERATOR, alarm.id, "closed")
    view, log = await alarms.get(OPERATOR, alarm.id)
    assert view.assigned_to == "operator" and view.state == "closed"
    assert [(x.user, x.action, x.details) for x in log] == [
        ("system", "raised", "Stolen car"), ("operator", "assigned", "- -> operator"),
        ("operator", "comment", "Police informed"), ("operator", "state", "New -> On hold"),
        ("operator", "project", f"incident project {project} created"), ("operator", "state", "On hold -> Closed")]

    # the project: the plate in the description, 10 s either side of the read on its camera
    detail = await incidents.get(OPERATOR, project)
    assert "AB123" in detail.description and f"Alarm {alarm.id}" in detail.description
    async with db.read() as s:
        seq = (await s.execute(sa.select(Sequence.__table__).where(Sequence.__table__.c.incident_id == project))).one()
        activity = (await s.execute(sa.select(Activity.__table__.c.action, Activity.__table__.c.details).where(
            Activity.__table__.c.incident_id == project))).all()
    assert seq.camera_id == 1 and seq.end_time - seq.start_time == timedelta(seconds=20)
    assert abs((seq.start_time + timedelta(seconds=10)) - alarm.at) < timedelta(seconds=1)
    assert ("from_alarm", f"alarm {alarm.id} “Stolen car”") in [tuple(a) for a in activity]
    assert read


async def test_camera_events_raise_alarms_for_their_cameras(db, tmp_path) -> None:  # noqa: ANN001
    from imtui.engine.video.worker import Worker
    from recording import settings_for

    alarms = AlarmService(db)
    await alarms.define(ADMIN, "Gate camera down", "camera_lost", cameras=[1], priority=1)
    await alarms.define(ADMIN, "Any camera back", "camera_running")
    worker = Worker(db, settings_for(db, tmp_path / "media"))
    await worker.event("camera_lost", 2, "Camera 02: connection lost.")  # not a source of the definition
    await worker.event("camera_lost", 1, "Camera 01: connection lost.")
    await worker.event("camera_running", 2, "Camera 02: running.")
    found = await alarms.alarms(ADMIN)
    assert [(a.name, a.type, a.camera_id, a.message) for a in found] == [
        ("Any camera back", "camera_running", 2, "Camera 02: running."),
        ("Gate camera down", "camera_lost", 1, "Camera 01: connection lost.")]


def test_cli_alarm_flow(sqlite_url) -> None:  # noqa: ANN001
    import asyncio
    import json

    from imtui.storage.db import Database
    from test_cli import run_in_process as run

    base = ["--db", sqlite_url, "--user", "admin"]
    assert run(*base, "seed", "--incidents", "0").returncode == 0
    assert run(*base, "lpr", "settings", "1", "--enable").returncode == 0
    assert run(*base, "matchlist", "add", "Stolen").returncode == 0
    r = run(*base, "alarms", "define", "Stolen car", "--trigger", "list", "--list", "Stolen", "--priority", "1")
    assert r.returncode == 0, r.stderr
    r = run(*base, "alarms", "define", "Bad", "--trigger", "smoke")
    assert r.returncode == 2 and "Trigger: 'smoke' is not known" in r.stderr

    async def read() -> None:
        db = Database(sqlite_url)
        await _recognition(db, 1, "EF789", 0.2)
        await db.dispose()

    asyncio.run(read())
    assert run(*base, "matchlist", "plate", "Stolen", "EF789").returncode == 0
    data = json.loads(run(*base, "--json", "alarms", "list", "--state", "new").stdout)
    [alarm] = data["alarms"]
    assert (alarm["object"], alarm["type"], alarm["priority"], alarm["state"]) == ("EF789", "Stolen", 1, "new")
    assert run(*base, "alarms", "assign", str(alarm["id"])).returncode == 0
    assert run(*base, "alarms", "comment", str(alarm["id"]), "checked").returncode == 0
    r = run(*base, "alarms", "incident", str(alarm["id"]))  # no type set for alarm projects, none given
    assert r.returncode == 2 and "give --type NAME, or set one with imtui admin options --alarm-type" in r.stderr
    r = run(*base, "alarms", "incident", str(alarm["id"]), "--type", "workplace injury - visitor")
    assert r.returncode == 0 and "incident project" in r.stdout
    r = run(*base, "alarms", "state", str(alarm["id"]), "closed")
    assert r.returncode == 0 and "Closed" in r.stdout
    shown = json.loads(run(*base, "--json", "alarms", "show", str(alarm["id"])).stdout)
    assert [x["action"] for x in shown["log"]] == ["raised", "assigned", "comment", "project", "state"]
    assert shown["incident_id"] and shown["assigned_to"] == "admin"


async def test_a_server_event_definition_takes_no_cameras(db) -> None:  # noqa: ANN001
    """A server event names no camera: a definition limited to cameras would never fire."""
    alarms = AlarmService(db)
    with pytest.raises(InvalidInput, match="comes from a server, not a camera") as caught:
        await alarms.define(ADMIN, "Down", "server_not_responding", cameras=[1])
    assert caught.value.field == "cameras"
    gate = await alarms.define(ADMIN, "Gate", "camera_lost", cameras=[1])
    with pytest.raises(InvalidInput, match="comes from a server"):
        await alarms.update_definition(ADMIN, gate.id, trigger="server_responding")
    assert (await alarms.update_definition(ADMIN, gate.id, trigger="server_responding", cameras=[])).cameras == ()

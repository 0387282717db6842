"""Incident services against real SQLite and PostgreSQL: rules, permissions, activity log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from conftest import ADMIN, OPERATOR, VIEWER
from imtui.engine import activity as act
from imtui.engine.errors import InvalidInput, PermissionDenied, StaleError, UnavailableError
from imtui.engine.incidents import CallInput, IncidentService, SequenceInput
from imtui.storage.db import Database

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def _ids(svc: IncidentService):
    return (await svc.types())[0].id, (await svc.statuses()), (await svc.cameras())[0].id


async def test_create_empty_and_with_sequences(db: Database) -> None:
    svc = IncidentService(db)
    type_id, statuses, cam = await _ids(svc)
    empty = await svc.create(OPERATOR, type_id, "Nothing recorded")
    with_video = await svc.create(
        OPERATOR, type_id, "Forklift",
        [SequenceInput(cam, T0, T0 + timedelta(minutes=5)), SequenceInput(cam, T0 - timedelta(hours=1), T0)],
    )
    assert with_video > empty  # ids follow creation order
    d = await svc.get(OPERATOR, empty)
    assert (d.start_time, d.end_time, d.sequences) == (None, None, [])
    assert d.status_id == statuses[0].id and d.created_by == "operator"
    d = await svc.get(OPERATOR, with_video)
    assert d.start_time == T0 - timedelta(hours=1) and d.end_time == T0 + timedelta(minutes=5)
    assert [a.action for a in await svc.activity(OPERATOR, with_video)] == [
        act.SEQUENCE_ADDED, act.SEQUENCE_ADDED, act.CREATED,
    ]


async def test_open_is_logged_and_edits_write_activity(db: Database) -> None:
    svc = IncidentService(db)
    type_id, statuses, _cam = await _ids(svc)
    iid = await svc.create(OPERATOR, type_id, "first words")
    d = await svc.open(ADMIN, iid)
    other_type = (await svc.types())[1].id
    v2 = await svc.update_main(ADMIN, iid, d.version, type_id=other_type, status_id=statuses[1].id,
                               description="second words")
    assert v2 == d.version + 1
    d2 = await svc.get(OPERATOR, iid)
    assert (d2.type_id, d2.status_id, d2.description, d2.version) == (other_type, statuses[1].id, "second words", v2)
    # read-only fields are untouched by an edit
    assert (d2.id, d2.created_by, d2.created_at) == (d.id, d.created_by, d.created_at)
    log = await svc.activity(OPERATOR, iid)
    assert [e.action for e in log[:4]] == [act.DESCRIPTION_CHANGED, act.STATUS_CHANGED, act.TYPE_CHANGED, act.OPENED]
    assert log[1].details == f"{statuses[0].name} → {statuses[1].name}" and log[1].user == "admin"
    # saving unchanged values writes nothing
    assert await svc.update_main(ADMIN, iid, v2, type_id=other_type, status_id=statuses[1].id,
                                 description="second words") == v2
    assert len(await svc.activity(OPERATOR, iid)) == len(log)


async def test_stale_version_and_deleted_project_are_refused(db: Database) -> None:
    svc = IncidentService(db)
    type_id, statuses, _cam = await _ids(svc)
    iid = await svc.create(OPERATOR, type_id, "x")
    d = await svc.get(OPERATOR, iid)
    await svc.update_main(ADMIN, iid, d.version, type_id=type_id, status_id=statuses[2].id, description="x")
    with pytest.raises(StaleError) as err:
        await svc.update_main(OPERATOR, iid, d.version, type_id=type_id, status_id=statuses[1].id, description="y")
    assert err.value.message == "Cannot perform this action. Please refresh the list."
    assert (await svc.get(OPERATOR, iid)).status_id == statuses[2].id  # the colleague's change stands
    await svc.delete(ADMIN, iid)
    for call in (
        svc.update_main(OPERATOR, iid, d.version + 1, type_id=type_id, status_id=statuses[1].id, description="y"),
        svc.add_comment(OPERATOR, iid, "late"),
        svc.add_call(OPERATOR, iid, CallInput(T0, "incoming", "Guard")),
        svc.delete(OPERATOR, iid),
        svc.get(OPERATOR, iid),
    ):
        with pytest.raises(StaleError):
            await call


async def test_comments_and_calls(db: Database) -> None:
    svc = IncidentService(db)
    type_id, _st, _cam = await _ids(svc)
    iid = await svc.create(OPERATOR, type_id)
    cid = await svc.add_comment(OPERATOR, iid, "Ambulance called")
    d = await svc.get(OPERATOR, iid)
    await svc.edit_comment(OPERATOR, cid, d.comments[0].version, "Ambulance arrived")
    with pytest.raises(StaleError):  # a second edit from the old version
        await svc.edit_comment(OPERATOR, cid, d.comments[0].version, "again")
    call_id = await svc.add_call(OPERATOR, iid, CallInput(T0, "outgoing", "Fire brigade", "112", "asked for help"))
    d = await svc.get(OPERATOR, iid)
    assert [c.text for c in d.comments] == ["Ambulance arrived"]
    assert (d.calls[0].party, d.calls[0].number, d.calls[0].at) == ("Fire brigade", "112", T0)
    await svc.edit_call(OPERATOR, call_id, d.calls[0].version, CallInput(T0, "incoming", "Fire brigade", "112"))
    await svc.delete_call(OPERATOR, call_id)
    await svc.delete_comment(OPERATOR, cid)
    d = await svc.get(OPERATOR, iid)
    assert d.comments == [] and d.calls == []
    actions = [e.action for e in await svc.activity(OPERATOR, iid)]
    assert actions[:6] == [act.COMMENT_DELETED, act.CALL_DELETED, act.CALL_EDITED, act.CALL_ADDED,
                           act.COMMENT_EDITED, act.COMMENT_ADDED]


async def test_bad_input_names_the_field(db: Database) -> None:
    svc = IncidentService(db)
    type_id, _st, cam = await _ids(svc)
    iid = await svc.create(OPERATOR, type_id)
    with pytest.raises(InvalidInput) as err:
        await svc.add_comment(OPERATOR, iid, "   ")
    assert err.value.field == "comment" and "Comment" in err.value.message
    with pytest.raises(InvalidInput) as err:
        await svc.add_call(OPERATOR, iid, CallInput(T0, "sideways", "x"))
    assert err.value.field == "direction"
    with pytest.raises(InvalidInput) as err:
        await svc.create(OPERATOR, 999_999, "x")
    assert err.value.field == "type"
    with pytest.raises(InvalidInput):
        await svc.add_sequences(OPERATOR, iid, [SequenceInput(cam, T0, T0 - timedelta(seconds=1))])
    assert (await svc.get(OPERATOR, iid)).comments == []


async def test_remove_sequence_recomputes_span(db: Database) -> None:
    svc = IncidentService(db)
    type_id, _st, cam = await _ids(svc)
    iid = await svc.create(OPERATOR, type_id, "", [SequenceInput(cam, T0, T0 + timedelta(minutes=1))])
    await svc.add_sequences(OPERATOR, iid, [SequenceInput(cam, T0 + timedelta(hours=1), T0 + timedelta(hours=2))])
    d = await svc.get(OPERATOR, iid)
    assert (d.start_time, d.end_time) == (T0, T0 + timedelta(hours=2))
    await svc.remove_sequence(OPERATOR, d.sequences[0].id)
    d = await svc.get(OPERATOR, iid)
    assert (d.start_time, d.end_time) == (T0 + timedelta(hours=1), T0 + timedelta(hours=2))
    await svc.remove_sequence(OPERATOR, d.sequences[0].id)
    d = await svc.get(OPERATOR, iid)
    assert (d.start_time, d.end_time, d.sequences) == (None, None, [])
    with pytest.raises(StaleError):
        await svc.remove_sequence(OPERATOR, 123456)


async def test_viewer_may_only_view(db: Database) -> None:
    svc = IncidentService(db)
    type_id, statuses, cam = await _ids(svc)
    iid = await svc.create(OPERATOR, type_id, "original")
    d = await svc.open(VIEWER, iid)  # viewing is allowed
    refused = [
        svc.create(VIEWER, type_id, "x"),
        svc.update_main(VIEWER, iid, d.version, type_id=type_id, status_id=statuses[1].id, description="hacked"),
        svc.add_comment(VIEWER, iid, "x"),
        svc.add_call(VIEWER, iid, CallInput(T0, "incoming", "x")),
        svc.add_sequences(VIEWER, iid, [SequenceInput(cam, T0, T0)]),
        svc.delete(VIEWER, iid),
    ]
    for call in refused:
        with pytest.raises(PermissionDenied) as err:
            await call
        assert err.value.message == "Permission denied."
    after = await svc.get(OPERATOR, iid)
    assert (after.description, after.version, after.comments, after.calls) == ("original", d.version, [], [])


async def test_delete_keeps_activity_log(db: Database) -> None:
    svc = IncidentService(db)
    type_id, _st, cam = await _ids(svc)
    iid = await svc.create(OPERATOR, type_id, "x", [SequenceInput(cam, T0, T0)])
    await svc.add_comment(OPERATOR, iid, "c")
    await svc.delete(OPERATOR, iid)
    async with db.read() as s:
        for table in ("sequence", "comment", "call"):
            n = (await s.execute(sa.text(f'SELECT count(*) FROM "{table}" WHERE incident_id = :i'), {"i": iid})).scalar()
            assert n == 0, table
    assert (await svc.activity(ADMIN, iid))[0].action == act.DELETED


async def test_every_change_publishes_its_topic(sqlite_url: str) -> None:
    from imtui.engine.seed import seed_defaults
    from imtui.storage.changes import Topic, topic_versions

    db = Database(sqlite_url)
    try:
        await db.upgrade()
        await seed_defaults(db)
        svc = IncidentService(db)
        type_id, _st, _cam = await _ids(svc)

        async def versions() -> dict[str, int]:
            async with db.query() as conn:
                return await topic_versions(conn)

        before = (await versions()).get(Topic.INCIDENTS, 0)
        iid = await svc.create(OPERATOR, type_id)
        await svc.add_comment(OPERATOR, iid, "x")
        await svc.open(OPERATOR, iid)  # opening changes nothing in the list
        after = await versions()
        assert after[Topic.INCIDENTS] == before + 1 and after[Topic.INCIDENT_DETAILS] == 1  # the comment
        assert Topic.ALARMS not in after  # nothing else was told
    finally:
        await db.dispose()


async def test_postgres_notify_carries_the_topic(pg_url: str) -> None:
    import asyncio

    from imtui.engine.changes import ChangeHub, Topic
    from imtui.engine.seed import seed_defaults

    db = Database(pg_url)
    hub = None
    try:
        await db.upgrade()
        await seed_defaults(db)
        got: list[frozenset] = []
        hub = ChangeHub(db, got.append)
        await hub.start()
        assert hub.live is True
        svc = IncidentService(db)
        await svc.create(OPERATOR, (await svc.types())[0].id)
        for _ in range(100):
            if got:
                break
            await asyncio.sleep(0.05)
        assert got == [frozenset({Topic.INCIDENTS})]
    finally:
        if hub is not None:
            await hub.stop()
        await db.dispose()


async def test_unreachable_database_gives_try_again_later() -> None:
    dead = Database("postgresql+asyncpg://postgres@127.0.0.1:9/none")
    svc = IncidentService(dead)
    try:
        with pytest.raises(UnavailableError) as err:
            await svc.add_comment(OPERATOR, 1, "hello")
        assert err.value.message == "Cannot save comment. Try again later."
        with pytest.raises(UnavailableError) as err:
            await svc.create(OPERATOR, 1, "x")
        assert err.value.message == "Cannot create incident project. Try again later."
    finally:
        await dead.dispose()


async def test_user_text_is_stored_exactly(db: Database) -> None:
    svc = IncidentService(db)
    type_id, _st, _cam = await _ids(svc)
    nasty = "[bold]x[/] [@click=app.quit]q[/] \x1b]52;c;aGk=\x07 \x9b2J \u202e end"
    iid = await svc.create(OPERATOR, type_id, nasty)
    await svc.add_comment(OPERATOR, iid, nasty)
    d = await svc.get(OPERATOR, iid)
    assert d.description == nasty and d.comments[0].text == nasty

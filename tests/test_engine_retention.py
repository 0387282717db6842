"""Retention purge and the audit log reader, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from conftest import ADMIN, OPERATOR
from imtui.engine.audit import AuditService
from imtui.engine.errors import PermissionDenied
from imtui.engine.incidents import CallInput, IncidentService, SequenceInput
from imtui.engine.properties import PropertyService
from imtui.engine.retention import BATCH, RetentionService
from imtui.engine.seed import seed_incidents
from imtui.storage.db import Database


async def _counts(db: Database) -> dict[str, int]:
    async with db.read() as s:
        return {t: (await s.execute(sa.text(f'SELECT count(*) FROM "{t}"'))).scalar_one()
                for t in ("incident", "sequence", "comment", "call", "activity")}


async def test_purge_deletes_expired_projects_with_everything_in_them(db: Database) -> None:
    await seed_incidents(db, 120)  # spread over the last year; seeding keeps them (retention 400)
    svc, retention = IncidentService(db), RetentionService(db)
    fresh = await svc.create(OPERATOR, (await svc.types())[0].id, "today",
                             [SequenceInput((await svc.cameras())[0].id, datetime.now(UTC), datetime.now(UTC))])
    await svc.add_call(OPERATOR, fresh, CallInput(datetime.now(UTC), "incoming", "Guard"))
    assert (await retention.purge()).count == 0
    await PropertyService(db).set_options(ADMIN, retention_days=30)
    dry = await retention.purge(ADMIN, dry_run=True)
    assert dry.dry_run and 90 <= dry.count <= 115 and dry.sample[0] == 1
    assert (await _counts(db))["incident"] == 121  # a dry run deletes nothing
    done = await retention.purge(ADMIN)
    assert done.count == dry.count
    left = await _counts(db)
    assert left["incident"] == 121 - done.count
    async with db.read() as s:
        for table in ("sequence", "comment", "call", "activity"):
            orphans = (await s.execute(sa.text(
                f'SELECT count(*) FROM "{table}" WHERE incident_id NOT IN (SELECT id FROM incident)'))).scalar_one()
            assert orphans == 0, table
    assert (await svc.get(OPERATOR, fresh)).calls  # the new project is untouched
    log = await AuditService(db).entries(ADMIN)
    assert log[0].action == "retention_purge" and log[0].target == f"{done.count} incident projects"
    assert log[0].user == "admin"


async def test_every_scheduled_purge_run_is_audited(db: Database) -> None:
    retention = RetentionService(db)
    assert (await retention.purge()).count == 0
    entry = (await AuditService(db).entries(ADMIN))[0]
    assert (entry.user, entry.action, entry.target) == ("system", "retention_purge", "0 incident projects")
    before = len(await AuditService(db).entries(ADMIN))
    await retention.purge(ADMIN, dry_run=True)  # a dry run changes nothing, not even the log
    assert len(await AuditService(db).entries(ADMIN)) == before
    later = datetime.now(UTC) + timedelta(days=400)
    svc = IncidentService(db)
    await svc.create(OPERATOR, (await svc.types())[0].id)
    assert (await retention.purge(now=later)).count == 1
    entry = (await AuditService(db).entries(ADMIN))[0]
    assert (entry.user, entry.action) == ("system", "retention_purge")


async def test_purge_in_batches(db: Database, monkeypatch) -> None:  # noqa: ANN001
    from imtui.engine import retention as module

    monkeypatch.setattr(module, "BATCH", 7)
    await seed_incidents(db, 30)
    await PropertyService(db).set_options(ADMIN, retention_days=1)
    assert (await RetentionService(db).purge(ADMIN)).count >= 29
    assert BATCH > 7  # the real batch is untouched


async def test_only_administrators_purge_or_read_the_audit_log(db: Database) -> None:
    with pytest.raises(PermissionDenied):
        await RetentionService(db).purge(OPERATOR)
    with pytest.raises(PermissionDenied):
        await AuditService(db).entries(OPERATOR)


async def test_audit_filters(db: Database) -> None:
    props = PropertyService(db)
    await props.add_item(ADMIN, "type", "A")
    svc = IncidentService(db)
    await svc.create(OPERATOR, (await svc.types())[0].id)
    audit = AuditService(db)
    assert {e.user for e in await audit.entries(ADMIN, user="operator")} == {"operator"}
    assert await audit.entries(ADMIN, since=datetime.now(UTC) + timedelta(hours=1)) == []

"""Retention: incident projects older than the retention time are deleted with everything in them.

The administrator sets the time (1 to 365,000 days, default 7: manual 003, GDPR).  The purge runs
when the app starts and hourly, and by hand with ``imtui purge [--dry-run]``.  It deletes in
batches so that operators' writes never wait long for the lock, and writes one audit entry per
run with the count (a dry run writes nothing).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from imtui.engine import audit
from imtui.engine.base import Service
from imtui.engine.permissions import Actor, Feature, Level, require
from imtui.engine.properties import read_options
from imtui.engine.times import utcnow
from imtui.i18n import _
from imtui.storage.changes import Topic
from imtui.storage.models import Activity, Incident

log = logging.getLogger(__name__)
SYSTEM = Actor("system", "Administrator")
BATCH = 2_000
PURGE_RUN = "retention_purge"


@dataclass(frozen=True)
class PurgeResult:
    cutoff: datetime
    retention_days: int
    count: int
    sample: list[int]  # the oldest ids concerned (for --dry-run)
    dry_run: bool


class RetentionService(Service):
    async def purge(self, actor: Actor | None = None, *, dry_run: bool = False, now: datetime | None = None) -> PurgeResult:
        """Delete (or with ``dry_run`` only count) the projects past the retention time.

        ``actor`` None is the scheduled run (no permission check, audited as "system"); a person
        running it by hand needs to manage incident properties.
        """
        if actor is not None:
            require(actor, Feature.PROPERTIES, Level.MANAGE)
        t, a = Incident.__table__, Activity.__table__
        async with self._guard(_("Cannot perform this action. Try again later.")):
            async with self.db.read() as s:
                days = (await read_options(s)).retention_days
                cutoff = (now or utcnow()) - timedelta(days=days)
                expired = t.c.created_at < cutoff
                count = int((await s.execute(sa.select(sa.func.count()).where(expired))).scalar_one())
                sample = [r[0] for r in await s.execute(sa.select(t.c.id).where(expired).order_by(t.c.id).limit(10))]
            if dry_run:
                return PurgeResult(cutoff, days, count, sample, True)
            deleted = 0
            while True:
                async with self.db.write() as s:
                    ids = [r[0] for r in await s.execute(sa.select(t.c.id).where(expired).order_by(t.c.id).limit(BATCH))]
                    if not ids:
                        break
                    await s.execute(sa.delete(a).where(a.c.incident_id.in_(ids)))
                    await s.execute(sa.delete(t).where(t.c.id.in_(ids)))  # sequences, comments, calls cascade
                    deleted += len(ids)
                    if len(ids) < BATCH:
                        await self._log_run(s, actor, deleted, days, cutoff)
                        await self._changed(s, Topic.INCIDENTS)
                        break
                    await self._changed(s, Topic.INCIDENTS)
            if deleted == 0:  # one audit entry per run, also when nothing was due
                async with self.db.write() as s:
                    await self._log_run(s, actor, 0, days, cutoff)
            if deleted:
                log.info("retention purge: %d incident projects created before %s deleted", deleted, cutoff)
            return PurgeResult(cutoff, days, deleted, sample, False)

    @staticmethod
    async def _log_run(s, actor: Actor | None, deleted: int, days: int, cutoff: datetime) -> None:  # noqa: ANN001
        audit.record(s, actor or SYSTEM, PURGE_RUN, f"{deleted} incident projects",
                     f"retention {days} days; created before {cutoff.isoformat(timespec='seconds')}")

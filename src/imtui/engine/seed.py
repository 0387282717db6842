"""A known world for demos and tests: the default properties, three users, cameras, and N
synthetic incidents spread over the last year.

Defaults follow the workplace-injury scenario of the administrator manual (003): five types of
injured person, the statuses New / In progress / On hold / Closed, categories Reason and Location
with their values, and four data fields.  Seeding a million incidents uses the bulk loader
(indexes rebuilt after the load) and takes about a minute on SQLite.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from imtui.storage.bulk import (
    ACTIVITY_COLS,
    COMMENT_COLS,
    INCIDENT_COLS,
    SEQUENCE_COLS,
    SqliteBulkLoader,
    copy_postgres,
)
from imtui.storage.changes import NOTIFY_CHANNEL, Topic
from imtui.storage.db import Database
from imtui.storage.models import (
    Camera,
    LiveView,
    LiveViewCamera,
    Category,
    CategoryValue,
    DataField,
    IncidentStatus,
    IncidentType,
    Role,
    Setting,
    User,
    UserRole,
)

TYPES = [
    "Workplace injury - employee",
    "Workplace injury - contractor (security)",
    "Workplace injury - contractor (cleaning)",
    "Workplace injury - contractor (other)",
    "Workplace injury - visitor",
]
STATUSES = ["New", "In progress", "On hold", "Closed"]
CATEGORIES = [
    (1, "Reason", "What happened?",
     ["Trapped between objects", "Fallen from height", "Struck by falling object", "Tripped or fallen", "Other"]),
    (2, "Location", "Where did the incident take place?",
     ["Laboratory", "Storage room", "Parking lot", "Offices 1-12", "Offices 13-19", "Other"]),
]
DATA_FIELDS = [
    ("integer", 1, "Number of injured persons", ""),
    ("checkbox", 1, "Emergency contact notified?", "Select this if you called the employee's emergency contact."),
    ("checkbox", 2, "Property damaged?", "Select this if property was damaged."),
    ("decimal", 1, "Approximate value of property (USD)", ""),
]
USERS = [("admin", "Administrator", "Administrator"), ("operator", "Operator", "operator"), ("viewer", "Viewer", "viewer")]
SETTINGS = {"report_title": "Incident report", "retention_days": "7"}

_WORDS = (
    "employee fell near the loading dock wet floor ladder forklift visitor badge corridor stairs door alarm "
    "guard patrol injury first aid ambulance called supervisor informed shelf boxes dropped glass broken "
    "laboratory storage parking office contractor cleaning security shift night morning evening camera "
    "recorded witness statement slipped tripped cable trolley hand arm head minor serious report follow up "
    "vehicle reversing gate barrier lift elevator kitchen spill chemical gloves helmet"
).split()
_RARE = "wrongway"
SYNTHETIC_RETENTION_DAYS = 400


@dataclass
class SeedResult:
    incidents: int
    sequences: int
    comments: int
    first_id: int
    last_id: int


async def seed_defaults(db: Database, cameras: int = 8) -> None:
    """Insert the default properties, users, settings and cameras where none exist yet."""
    async with db.write() as s:
        async def empty(model: type) -> bool:
            return (await s.execute(sa.select(sa.func.count()).select_from(model.__table__))).scalar_one() == 0

        if await empty(IncidentType):
            for i, name in enumerate(TYPES):
                s.add(IncidentType(name=name, position=i))
        if await empty(IncidentStatus):
            for i, name in enumerate(STATUSES):
                s.add(IncidentStatus(name=name, position=i))
        if await empty(Category):
            defined = {slot: (name, desc) for slot, name, desc, _ in CATEGORIES}
            for slot in range(1, 6):
                name, desc = defined.get(slot, ("", ""))
                s.add(Category(slot=slot, name=name, description=desc, enabled=slot in defined))
            await s.flush()
            for slot, _name, _desc, values in CATEGORIES:
                for i, value in enumerate(values):
                    s.add(CategoryValue(category_slot=slot, name=value, position=i))
        if await empty(DataField):
            defined_fields = {(k, n): (name, desc) for k, n, name, desc in DATA_FIELDS}
            for kind in ("integer", "decimal", "text", "checkbox", "datetime"):
                for slot in (1, 2, 3):
                    name, desc = defined_fields.get((kind, slot), ("", ""))
                    s.add(DataField(kind=kind, slot=slot, name=name, description=desc, enabled=(kind, slot) in defined_fields))
        if await empty(User):
            r, ur = Role.__table__, UserRole.__table__
            role_ids = {row.name: row.id for row in await s.execute(sa.select(r.c.id, r.c.name))}
            for name, full, role in USERS:
                user = User(name=name, full_name=full)
                s.add(user)
                await s.flush()
                await s.execute(sa.insert(ur).values(user_id=user.id, role_id=role_ids[role]))
        if await empty(Setting):
            for key, value in SETTINGS.items():
                s.add(Setting(key=key, value=value))
        existing = (await s.execute(sa.select(sa.func.count()).select_from(Camera.__table__))).scalar_one()
        for i in range(existing + 1, cameras + 1):
            s.add(Camera(name=f"Camera {i:02d}", source=f"synthetic:?seed={i}"))
        await s.flush()
        if await empty(LiveView):  # two live views, so real-time projects can switch views
            ids = [r[0] for r in await s.execute(sa.select(Camera.__table__.c.id).order_by(Camera.__table__.c.id))]
            for name, members in (("Entrance", ids[0:2]), ("Car park", ids[2:4])):
                if members:
                    view = LiveView(name=name)
                    s.add(view)
                    await s.flush()
                    for pos, cid in enumerate(members):
                        s.add(LiveViewCamera(view_id=view.id, camera_id=cid, position=pos))


async def _ids(db: Database, model: type) -> list[int]:
    async with db.read() as s:
        t = model.__table__
        return [r[0] for r in await s.execute(sa.select(t.c.id).order_by(t.c.id))]


def _description(rng: random.Random) -> str:
    words = rng.choices(_WORDS, k=rng.randint(6, 18))
    if rng.random() < 1e-4:
        words[rng.randrange(len(words))] = _RARE
    text = " ".join(words)
    return text[0].upper() + text[1:] + "."


def synthetic_rows(
    n: int, first_id: int, type_ids: list[int], status_ids: list[int], camera_ids: list[int],
    start: datetime, end: datetime, *, seed: int = 1,
) -> tuple[list[tuple], list[tuple], list[tuple], list[tuple]]:
    """Rows for N incidents created in order between ``start`` and ``end`` (ids follow creation)."""
    rng = random.Random(seed)
    step = (end - start).total_seconds() / max(n, 1)
    users = ["operator", "admin"]
    incidents: list[tuple] = []
    sequences: list[tuple] = []
    comments: list[tuple] = []
    activity: list[tuple] = []
    status_weights = ([1, 2, 1, 6] + [1] * len(status_ids))[: len(status_ids)]
    for k in range(n):
        iid = first_id + k
        created = start + timedelta(seconds=(k + rng.random() * 0.5) * step)
        author = users[k % 7 == 0]
        seqs = []
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
            s0 = created - timedelta(seconds=rng.randint(60, 6 * 3600))
            s1 = s0 + timedelta(seconds=rng.randint(10, 1800))
            seqs.append((iid, rng.choice(camera_ids), s0, s1, created, author))
        st = min((q[2] for q in seqs), default=None)
        en = max((q[3] for q in seqs), default=None)
        incidents.append((iid, created, author, rng.choice(type_ids), rng.choices(status_ids, status_weights)[0],
                          _description(rng), st, en, created, 1))
        sequences.extend(seqs)
        for c in range(rng.choice((0, 1, 1, 2))):
            at = created + timedelta(minutes=5 * (c + 1))
            comments.append((iid, at, author, _description(rng), at, 1))
        activity.append((iid, created, author, "created", ""))
    return incidents, sequences, comments, activity


async def seed_incidents(
    db: Database, n: int, *, seed: int = 1, now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> SeedResult:
    """Bulk-insert N synthetic incidents after the existing ones."""
    say = progress or (lambda _msg: None)
    now = now or datetime.now(UTC)
    if n <= 0:
        return SeedResult(0, 0, 0, 0, 0)
    type_ids, status_ids, camera_ids = await _ids(db, IncidentType), await _ids(db, IncidentStatus), await _ids(db, Camera)
    if not (type_ids and status_ids and camera_ids):
        raise RuntimeError("seed the default properties and cameras first")
    total = SeedResult(0, 0, 0, 0, 0)
    chunk = 200_000
    if db.is_sqlite:
        await db.dispose()  # the bulk loader needs the write lock for itself
        loader = SqliteBulkLoader(db.sqlite_path or "")
        first = loader.next_incident_id()
        begin = _begin(now, loader.newest_created())
        try:
            for offset in range(0, n, chunk):
                m = min(chunk, n - offset)
                inc, seq, com, actv = _rows_for_chunk(m, first + offset, n, offset, type_ids, status_ids, camera_ids, begin, now, seed)
                loader.insert("incident", INCIDENT_COLS, inc, (1, 6, 7, 8))
                total.sequences += loader.insert("sequence", SEQUENCE_COLS, seq, (2, 3, 4))
                total.comments += loader.insert("comment", COMMENT_COLS, com, (1, 4))
                loader.insert("activity", ACTIVITY_COLS, actv, (1,))
                say(f"{offset + m:,} of {n:,} incidents written")
        finally:
            say("building indexes")
            loader.finish()
    else:
        async with db.bulk() as conn:  # COPY of 20k projects and ANALYZE outlast the statement bound
            raw = await conn.get_raw_connection()
            pg = raw.driver_connection
            first = (await pg.fetchval("SELECT coalesce(max(id), 0) FROM incident")) + 1
            begin = _begin(now, await pg.fetchval("SELECT max(created_at) FROM incident"))
            for offset in range(0, n, chunk):
                m = min(chunk, n - offset)
                inc, seq, com, actv = _rows_for_chunk(m, first + offset, n, offset, type_ids, status_ids, camera_ids, begin, now, seed)
                async with pg.transaction():
                    await copy_postgres(pg, "incident", INCIDENT_COLS, inc)
                    total.sequences += await copy_postgres(pg, "sequence", SEQUENCE_COLS, seq)
                    total.comments += await copy_postgres(pg, "comment", COMMENT_COLS, com)
                    await copy_postgres(pg, "activity", ACTIVITY_COLS, actv)
                say(f"{offset + m:,} of {n:,} incidents written")
            await pg.execute("SELECT setval(pg_get_serial_sequence('incident', 'id'), (SELECT max(id) FROM incident))")
            await pg.execute("ANALYZE")
            await pg.execute("SELECT pg_notify($1, $2)", NOTIFY_CHANNEL, Topic.INCIDENTS.value)
            await conn.commit()
    await _keep_synthetic_span(db)
    total.incidents = n
    total.first_id = first
    total.last_id = first + n - 1
    return total


async def _keep_synthetic_span(db: Database) -> None:
    """Synthetic incidents cover a year; raise the retention time so the purge keeps them.

    The product default (7 days) would delete all but the last week at the next start.
    """
    st = Setting.__table__
    async with db.write() as s:
        current = (await s.execute(sa.select(st.c.value).where(st.c.key == "retention_days"))).scalar()
        if current is None or not str(current).isdigit() or int(current) < SYNTHETIC_RETENTION_DAYS:
            await s.execute(sa.delete(st).where(st.c.key == "retention_days"))
            await s.execute(sa.insert(st).values(key="retention_days", value=str(SYNTHETIC_RETENTION_DAYS)))


def _begin(now: datetime, newest: datetime | None) -> datetime:
    """Spread over the last year, but after the newest existing incident: ids follow creation."""
    begin = now - timedelta(days=365)
    if newest is not None and newest >= begin:
        begin = min(newest + timedelta(seconds=1), now)
    return begin


def _rows_for_chunk(m, first_id, n, offset, type_ids, status_ids, camera_ids, begin, now, seed):  # noqa: ANN001, ANN202
    """Chunk ``offset`` of the N-incident span, so a million incidents never sit in memory at once."""
    span = now - begin
    start = begin + span * (offset / max(n, 1))
    end = begin + span * ((offset + m) / max(n, 1))
    return synthetic_rows(m, first_id, type_ids, status_ids, camera_ids, start, end, seed=seed + offset)

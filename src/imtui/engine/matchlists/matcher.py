"""Matching recognitions against match lists, for the worker and for retroactive checks.

The worker keeps every list's index in memory (``imtui.lpr.matching``: a read against a million
entries in well under a millisecond) and reloads it only when a list changed: every change to a
list or its entries touches ``match_list.changed_at``, so one cheap query tells.  Each camera
matches against All lists or the Selected ones (manual 004, "Match lists" tab); the Unlisted list
fires for a read that matched none of the camera's other lists, if the camera uses it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from imtui.lpr.matching import Entry, ListIndex
from imtui.storage.db import Database
from imtui.storage.models import LprCamera, MatchList, MatchListEntry, MatchListField

log = logging.getLogger(__name__)
UNLISTED = "unlisted"


@dataclass(frozen=True)
class Hit:
    list_id: int
    list_name: str
    entry: Entry | None  # None: the Unlisted list
    rule: str  # exact, wildcard, ocr-equivalence, one-difference, unlisted


def uses(selection: tuple[bool, tuple[int, ...]], list_id: int) -> bool:
    all_lists, chosen = selection
    return all_lists or list_id in chosen


def camera_selection(row) -> tuple[bool, tuple[int, ...]]:  # noqa: ANN001
    return bool(row.match_all), tuple(int(x) for x in json.loads(row.match_lists or "[]"))


class Matcher:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.indexes: dict[int, ListIndex] = {}
        self.names: dict[int, str] = {}
        self.unlisted: int | None = None
        self.cameras: dict[int, tuple[bool, tuple[int, ...]]] = {}
        self._signature: tuple | None = None

    async def refresh(self) -> bool:
        """Reload the lists if one changed, and the cameras' selections always (one small query);
        True when the lists were reloaded."""
        t, c = MatchList.__table__, LprCamera.__table__
        async with self.db.read() as s:
            signature = tuple((await s.execute(sa.select(sa.func.count(), sa.func.max(t.c.changed_at),
                                                         sa.func.sum(t.c.id)))).one())
            cams = (await s.execute(sa.select(c.c.camera_id, c.c.match_all, c.c.match_lists))).all()
        self.cameras = {r.camera_id: camera_selection(r) for r in cams}
        if signature == self._signature:
            return False
        from imtui.engine.matchlists.service import MatchListService

        indexes = await MatchListService(self.db).indexes()
        async with self.db.read() as s:
            lists = (await s.execute(sa.select(t.c.id, t.c.name, t.c.kind))).all()
        self.indexes = indexes
        self.names = {r.id: r.name for r in lists}
        self.unlisted = next((r.id for r in lists if r.kind == UNLISTED), None)
        self._signature = signature
        log.info("match lists loaded: %d lists, %d entries", len(indexes), sum(len(i) for i in indexes.values()))
        return True

    def match(self, camera_id: int, plate: str) -> list[Hit]:
        selection = self.cameras.get(camera_id, (True, ()))
        hits = []
        for list_id, index in self.indexes.items():
            if uses(selection, list_id):
                found = index.match(plate)
                if found is not None:
                    hits.append(Hit(list_id, self.names.get(list_id, ""), found.entry, found.rule))
        if not hits and self.unlisted is not None and uses(selection, self.unlisted):
            hits.append(Hit(self.unlisted, self.names.get(self.unlisted, ""), None, UNLISTED))
        return hits


async def entry_fields(s, entry_ids: list[int]) -> dict[int, dict[str, str]]:  # noqa: ANN001
    """Each entry's custom fields by name, as they are now (copied into the match)."""
    if not entry_ids:
        return {}
    e, f = MatchListEntry.__table__, MatchListField.__table__
    rows = (await s.execute(sa.select(e.c.id, e.c.list_id, e.c.fields).where(e.c.id.in_(entry_ids)))).all()
    names: dict[int, list[tuple[str, str]]] = {}
    lists = {r.list_id for r in rows}
    for r in (await s.execute(sa.select(f.c.id, f.c.list_id, f.c.name).where(f.c.list_id.in_(lists))
                              .order_by(f.c.position))).all():
        names.setdefault(r.list_id, []).append((str(r.id), r.name))
    out = {}
    for r in rows:
        values = json.loads(r.fields or "{}")
        out[r.id] = {name: values.get(fid, "") for fid, name in names.get(r.list_id, [])}
    return out


def match_row(hit: Hit, recognition_id: int, camera_id: int, plate: str, at: datetime,
              fields: dict[int, dict[str, str]], *, retroactive: bool = False) -> dict:
    return dict(at=at, recognition_id=recognition_id, camera_id=camera_id, plate=plate, list_id=hit.list_id,
                list_name=hit.list_name, entry_id=hit.entry.id if hit.entry else None,
                entry_plate=hit.entry.plate if hit.entry else "",
                fields=json.dumps(fields.get(hit.entry.id, {}) if hit.entry else {}, ensure_ascii=False),
                rule=hit.rule, retroactive=retroactive)

"""LPR cameras for administrators (manual 004): enable recognition on a camera, change its
recognition settings, keep snapshots, validate the configuration and auto-configure it; and the
recognitions the workers stored.  Reading images runs in a worker thread (the engine is loaded
once per process)."""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
import sqlalchemy as sa

from imtui.engine import audit
from imtui.engine.base import Service
from imtui.engine.errors import InvalidInput, NotFound
from imtui.engine.permissions import Actor, Feature, Level, require
from imtui.engine.times import utcnow
from imtui.engine.video.media import MediaStore
from imtui.i18n import _
from imtui.lpr.settings import RecognitionSettings, from_dict, to_dict
from imtui.lpr.validate import Validation
from imtui.storage.changes import Topic
from imtui.storage.db import Database
from imtui.storage.models import Camera, LprCamera, LprSnapshot, PlateRecognition

SNAPSHOT_DIR = "lpr-snapshots"


@dataclass(frozen=True)
class LprCameraView:
    camera_id: int
    name: str
    enabled: bool
    settings: RecognitionSettings


@dataclass(frozen=True)
class SnapshotView:
    id: int
    camera_id: int
    name: str
    path: str
    added_at: datetime


@dataclass(frozen=True)
class RecognitionView:
    id: int
    camera_id: int
    at: datetime
    last_seen: datetime
    plate: str
    country: str
    confidence: float
    reads: int
    snapshot: str


def _reader():  # noqa: ANN202 - imported lazily: loading the engine costs ~1 s and ~500 MB
    from imtui.lpr.reader import PlateReader

    return PlateReader()


class LprService(Service):
    def __init__(self, db: Database, store: MediaStore) -> None:
        super().__init__(db)
        self.store = store

    async def _camera_name(self, s, camera_id: int) -> str:  # noqa: ANN001
        c = Camera.__table__
        name = (await s.execute(sa.select(c.c.name).where(c.c.id == camera_id))).scalar()
        if name is None:
            raise InvalidInput("camera", _("Camera: no camera has ID {id}; see imtui admin cameras list.").format(id=camera_id))
        return name

    async def camera(self, actor: Actor, camera_id: int) -> LprCameraView:
        require(actor, Feature.PROPERTIES, Level.VIEW)
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            name = await self._camera_name(s, camera_id)
            t = LprCamera.__table__
            row = (await s.execute(sa.select(t).where(t.c.camera_id == camera_id))).first()
        settings = from_dict(json.loads(row.settings)) if row else RecognitionSettings()
        return LprCameraView(camera_id, name, bool(row.enabled) if row else False, settings)

    async def configure(self, actor: Actor, camera_id: int, *, enabled: bool | None = None,
                        settings: RecognitionSettings | None = None) -> LprCameraView:
        """Turn recognition on/off and/or replace the settings (checked; audit-logged)."""
        require(actor, Feature.PROPERTIES, Level.MANAGE)
        if settings is not None:
            problems = settings.check()
            if problems:
                raise InvalidInput("settings", _("Recognition settings: {problems}.").format(problems="; ".join(problems)))
            from imtui.lpr.reader import modules_for

            try:
                modules_for(settings.countries)
            except ValueError as exc:
                raise InvalidInput("countries", _("Country modules: {error}.").format(error=exc)) from None
        async with self._guard(_("Cannot save settings. Try again later.")), self.db.write() as s:
            name = await self._camera_name(s, camera_id)
            t = LprCamera.__table__
            row = (await s.execute(sa.select(t).where(t.c.camera_id == camera_id))).first()
            new_enabled = enabled if enabled is not None else (bool(row.enabled) if row else False)
            new_settings = settings or (from_dict(json.loads(row.settings)) if row else RecognitionSettings())
            values = dict(enabled=new_enabled, settings=json.dumps(to_dict(new_settings)), changed_at=utcnow())
            if row is None:
                await s.execute(sa.insert(t).values(camera_id=camera_id, **values))
            else:
                await s.execute(sa.update(t).where(t.c.camera_id == camera_id).values(**values))
            audit.record(s, actor, audit.PROPERTY_EDITED, f"LPR camera {camera_id}",
                         f"{name}: {'enabled' if new_enabled else 'disabled'}, countries {','.join(new_settings.countries)}")
            await self._changed(s, Topic.RECOGNITION)
        return LprCameraView(camera_id, name, new_enabled, new_settings)

    async def enabled_cameras(self) -> dict[int, RecognitionSettings]:
        """For the worker: camera id → settings of every LPR-enabled camera."""
        t = LprCamera.__table__
        async with self.db.read() as s:
            rows = (await s.execute(sa.select(t).where(t.c.enabled == sa.true()))).all()
        out = {}
        for r in rows:
            try:
                out[r.camera_id] = from_dict(json.loads(r.settings))
            except ValueError:
                continue  # configure() never stores bad settings; a hand-edited row is skipped
        return out

    # -- snapshots -----------------------------------------------------------------------------------
    async def add_snapshot(self, actor: Actor, camera_id: int, image: np.ndarray, name: str) -> int:
        require(actor, Feature.PROPERTIES, Level.MANAGE)
        ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 92])
        if not ok:
            raise InvalidInput("image", _("Snapshot: the image could not be encoded; give a JPEG or PNG file."))
        relative = f"{SNAPSHOT_DIR}/{camera_id}/{secrets.token_hex(8)}.jpg"
        path = self.store.absolute(relative)
        await asyncio.to_thread(_write, path, jpeg.tobytes())
        try:
            async with self._guard(_("Cannot save snapshot. Try again later.")), self.db.write() as s:
                await self._camera_name(s, camera_id)
                t = LprSnapshot.__table__
                return (await s.execute(sa.insert(t).values(camera_id=camera_id, name=name[:200], path=relative,
                                                            added_at=utcnow()).returning(t.c.id))).scalar_one()
        except BaseException:
            path.unlink(missing_ok=True)  # no row (unknown camera, database down): no orphan file
            raise

    async def snapshots(self, actor: Actor, camera_id: int) -> list[SnapshotView]:
        require(actor, Feature.PROPERTIES, Level.VIEW)
        t = LprSnapshot.__table__
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            rows = await s.execute(sa.select(t).where(t.c.camera_id == camera_id).order_by(t.c.id))
            return [SnapshotView(r.id, r.camera_id, r.name, r.path, r.added_at) for r in rows]

    async def delete_snapshot(self, actor: Actor, snapshot_id: int) -> None:
        require(actor, Feature.PROPERTIES, Level.MANAGE)
        t = LprSnapshot.__table__
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.write() as s:
            path = (await s.execute(sa.select(t.c.path).where(t.c.id == snapshot_id))).scalar()
            if path is None:
                raise NotFound()
            await s.execute(sa.delete(t).where(t.c.id == snapshot_id))
        self.store.absolute(path).unlink(missing_ok=True)

    async def _images(self, actor: Actor, camera_id: int) -> list[tuple[str, np.ndarray]]:
        snaps = await self.snapshots(actor, camera_id)
        if not snaps:
            raise InvalidInput("snapshots", _("Snapshots: this camera has none; add some first (imtui lpr snapshot)."))
        images = []
        for snap in snaps:
            image = await asyncio.to_thread(cv2.imread, str(self.store.absolute(snap.path)))
            if image is not None:
                images.append((snap.name, image))
        return images

    async def validate(self, actor: Actor, camera_id: int) -> Validation:
        """"Validate configuration": the camera's snapshots read with its settings."""
        from imtui.lpr.validate import validate

        view = await self.camera(actor, camera_id)
        images = await self._images(actor, camera_id)
        return await asyncio.to_thread(lambda: validate(_reader(), images, view.settings))

    async def auto_configure(self, actor: Actor, camera_id: int, *, apply: bool = False) -> RecognitionSettings | None:
        """Settings derived from the snapshots; stored only with ``apply`` (the caller has asked
        the administrator, since it overwrites manual changes)."""
        from imtui.lpr.validate import auto_configure

        require(actor, Feature.PROPERTIES, Level.MANAGE)
        view = await self.camera(actor, camera_id)
        images = await self._images(actor, camera_id)
        proposed = await asyncio.to_thread(lambda: auto_configure(_reader(), images, view.settings))
        if proposed is not None and apply:
            await self.configure(actor, camera_id, settings=proposed)
        return proposed

    # -- recognitions --------------------------------------------------------------------------------
    async def recognitions(self, actor: Actor, *, camera_id: int | None = None, plate: str | None = None,
                           limit: int = 100) -> list[RecognitionView]:
        require(actor, Feature.SEQUENCES, Level.VIEW)
        t = PlateRecognition.__table__
        stmt = sa.select(t).order_by(t.c.at.desc(), t.c.id.desc()).limit(limit)
        if camera_id is not None:
            stmt = stmt.where(t.c.camera_id == camera_id)
        if plate:  # stored as read, without separators: "ab-123 cd" finds AB123CD
            stmt = stmt.where(t.c.plate == "".join(ch for ch in plate.upper() if ch.isalnum()))
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            return [RecognitionView(r.id, r.camera_id, r.at, r.last_seen, r.plate, r.country, r.confidence, r.reads,
                                    r.snapshot) for r in await s.execute(stmt)]


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    tmp.write_bytes(data)
    tmp.replace(path)

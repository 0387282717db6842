"""Cameras an administrator defines: name, source, enabled, recording retention, motion sensitivity.

Sources are what OpenCV's VideoCapture opens (a video file, ``rtsp://``, ``http(s)://`` MJPEG) or
``synthetic:`` (see :mod:`imtui.engine.video.synthetic`).  A camera that sequences of incident
projects refer to cannot be deleted (disable it instead): the evidence must keep its camera.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from imtui.engine import audit
from imtui.engine.base import Service
from imtui.engine.errors import InvalidInput, StaleError
from imtui.engine.permissions import Actor, Feature, Level, require
from imtui.engine.properties import InUse
from imtui.engine.video.synthetic import PREFIX as SYNTHETIC
from imtui.engine.video.synthetic import SyntheticCamera
from imtui.i18n import _, ngettext
from imtui.storage.changes import Topic
from imtui.storage.models import Camera, Sequence

RETENTION_MIN, RETENTION_MAX = 1, 36_500
CAMERA_ADDED, CAMERA_CHANGED, CAMERA_DELETED = "camera_added", "camera_changed", "camera_deleted"


@dataclass(frozen=True)
class CameraView:
    id: int
    name: str
    source: str
    enabled: bool
    retention_days: int
    motion_sensitivity: int
    sequences: int  # sequences of incident projects that use it


def check_source(source: str) -> str:
    """A source OpenCV (or the synthetic generator) can open, or InvalidInput saying which forms work."""
    source = source.strip()
    if source.startswith(SYNTHETIC):
        try:
            SyntheticCamera.from_source(source)
        except (ValueError, TypeError):
            raise InvalidInput("source", _("Source: a synthetic source looks like "
                                           "synthetic:?size=640x480&fps=4&plates=AB123CD.")) from None
        return source
    if source.lower().startswith(("rtsp://", "http://", "https://", "file://", "/")):
        return source
    raise InvalidInput("source", _("Source: give a video file path (/…), an rtsp:// or http(s):// URL, "
                                   "or synthetic:."))


def _check_int(field: str, label: str, raw: object, lo: int, hi: int) -> int:
    text = str(raw).strip()
    if not text.lstrip("-").isdigit() or not lo <= int(text) <= hi:
        raise InvalidInput(field, _("{label}: type a whole number from {lo} to {hi}.").format(
            label=label, lo=lo, hi=f"{hi:,}"))
    return int(text)


class CameraService(Service):
    async def list(self, actor: Actor) -> list[CameraView]:
        require(actor, Feature.PROPERTIES, Level.VIEW)
        c, q = Camera.__table__, Sequence.__table__
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            used = {r[0]: r[1] for r in await s.execute(sa.select(q.c.camera_id, sa.func.count()).group_by(q.c.camera_id))}
            rows = (await s.execute(sa.select(c).order_by(c.c.name, c.c.id))).all()
        return [CameraView(r.id, r.name, r.source, r.enabled, r.retention_days, r.motion_sensitivity, used.get(r.id, 0))
                for r in rows]

    def _values(self, name: str | None, source: str | None, enabled: bool | None, retention_days: object | None,
                motion_sensitivity: object | None) -> dict:
        values: dict = {}
        if name is not None:
            if not name.strip():
                raise InvalidInput("name", _("Camera name: type a name."))
            values["name"] = name.strip()[:200]
        if source is not None:
            values["source"] = check_source(source)
        if enabled is not None:
            values["enabled"] = enabled
        if retention_days is not None:
            values["retention_days"] = _check_int("retention_days", _("Recording retention (days)"), retention_days,
                                                  RETENTION_MIN, RETENTION_MAX)
        if motion_sensitivity is not None:
            values["motion_sensitivity"] = _check_int("motion_sensitivity", _("Motion sensitivity"),
                                                      motion_sensitivity, 1, 100)
        return values

    async def add(self, actor: Actor, name: str, source: str, *, enabled: bool = True, retention_days: object = 30,
                  motion_sensitivity: object = 50) -> int:
        require(actor, Feature.PROPERTIES, Level.MANAGE)
        values = self._values(name, source, enabled, retention_days, motion_sensitivity)
        async with self._guard(_("Cannot save camera. Try again later.")), self.db.write() as s:
            c = Camera.__table__
            camera_id = (await s.execute(sa.insert(c).values(**values).returning(c.c.id))).scalar_one()
            audit.record(s, actor, CAMERA_ADDED, f"camera {camera_id}", f"{values['name']}: {values['source']}")
            await self._changed(s, Topic.CAMERAS)
            return camera_id

    async def edit(self, actor: Actor, camera_id: int, *, name: str | None = None, source: str | None = None,
                   enabled: bool | None = None, retention_days: object | None = None,
                   motion_sensitivity: object | None = None) -> None:
        require(actor, Feature.PROPERTIES, Level.MANAGE)
        values = self._values(name, source, enabled, retention_days, motion_sensitivity)
        async with self._guard(_("Cannot save camera. Try again later.")), self.db.write() as s:
            c = Camera.__table__
            if values:
                result = await s.execute(sa.update(c).where(c.c.id == camera_id).values(**values))
                if result.rowcount != 1:
                    raise StaleError()
                audit.record(s, actor, CAMERA_CHANGED, f"camera {camera_id}",
                             ", ".join(f"{k}={v}" for k, v in values.items()))
                await self._changed(s, Topic.CAMERAS)

    async def delete(self, actor: Actor, camera_id: int) -> None:
        require(actor, Feature.PROPERTIES, Level.MANAGE)
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.write() as s:
            c, q = Camera.__table__, Sequence.__table__
            name = (await s.execute(sa.select(c.c.name).where(c.c.id == camera_id))).scalar()
            if name is None:
                raise StaleError()
            n = (await s.execute(sa.select(sa.func.count()).where(q.c.camera_id == camera_id))).scalar_one()
            if n:
                raise InUse(ngettext(
                    "Cannot delete camera \u201c{name}\u201d: {n} sequence of incident projects uses it; disable it instead.",
                    "Cannot delete camera \u201c{name}\u201d: {n} sequences of incident projects use it; disable it instead.",
                    n).format(name=name, n=n))
            await s.execute(sa.delete(c).where(c.c.id == camera_id))
            audit.record(s, actor, CAMERA_DELETED, f"camera {camera_id}", name)
            await self._changed(s, Topic.CAMERAS)

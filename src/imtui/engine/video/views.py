"""Live views: named groups of cameras an operator watches together (manual 000, live mode).

A real-time incident project collects the cameras of the view on screen, so views are shared
site-wide and defined by administrators (``imtui admin views``); operators only choose one.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from imtui.engine import audit
from imtui.engine.base import Service
from imtui.engine.errors import InvalidInput, StaleError
from imtui.engine.permissions import Actor, Feature, Level, require
from imtui.i18n import _
from imtui.storage.changes import Topic
from imtui.storage.models import Camera, LiveView, LiveViewCamera


@dataclass(frozen=True)
class ViewCamera:
    id: int
    name: str
    enabled: bool


@dataclass(frozen=True)
class ViewInfo:
    id: int
    name: str
    cameras: tuple[ViewCamera, ...]


class ViewService(Service):
    async def list(self, actor: Actor) -> list[ViewInfo]:
        require(actor, Feature.SEQUENCES, Level.VIEW)
        v, vc, c = LiveView.__table__, LiveViewCamera.__table__, Camera.__table__
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            views = (await s.execute(sa.select(v.c.id, v.c.name).order_by(v.c.name, v.c.id))).all()
            members = (await s.execute(sa.select(vc.c.view_id, c.c.id, c.c.name, c.c.enabled)
                                       .join(c, c.c.id == vc.c.camera_id).order_by(vc.c.position, c.c.id))).all()
        by_view: dict[int, list[ViewCamera]] = {}
        for m in members:
            by_view.setdefault(m.view_id, []).append(ViewCamera(m.id, m.name, m.enabled))
        return [ViewInfo(x.id, x.name, tuple(by_view.get(x.id, ()))) for x in views]

    async def save(self, actor: Actor, name: str, camera_ids: list[int], view_id: int | None = None) -> int:
        """Create a view (``view_id`` None) or replace an existing view's name and cameras."""
        require(actor, Feature.PROPERTIES, Level.MANAGE)
        name = name.strip()[:200]
        if not name:
            raise InvalidInput("name", _("View name: type a name."))
        if not camera_ids:
            raise InvalidInput("cameras", _("Cameras: choose at least one camera for the view."))
        v, vc, c = LiveView.__table__, LiveViewCamera.__table__, Camera.__table__
        async with self._guard(_("Cannot save view. Try again later.")), self.db.write() as s:
            known = {r[0] for r in await s.execute(sa.select(c.c.id).where(c.c.id.in_(camera_ids)))}
            if missing := [str(i) for i in camera_ids if i not in known]:
                raise InvalidInput("cameras", _("Cameras: no camera has id {ids}; see imtui admin cameras list.").format(
                    ids=", ".join(missing)))
            clash = (await s.execute(sa.select(v.c.id).where(v.c.name == name))).scalar()
            if clash is not None and clash != view_id:
                raise InvalidInput("name", _("View name: \u201c{name}\u201d exists already; choose another name.").format(
                    name=name))
            if view_id is None:
                view_id = (await s.execute(sa.insert(v).values(name=name).returning(v.c.id))).scalar_one()
            elif (await s.execute(sa.update(v).where(v.c.id == view_id).values(name=name))).rowcount != 1:
                raise StaleError()
            await s.execute(sa.delete(vc).where(vc.c.view_id == view_id))
            for pos, cid in enumerate(dict.fromkeys(camera_ids)):
                await s.execute(sa.insert(vc).values(view_id=view_id, camera_id=cid, position=pos))
            audit.record(s, actor, "view_saved", f"view {view_id}", f"{name}: cameras {', '.join(map(str, camera_ids))}")
            await self._changed(s, Topic.VIEWS)
            return view_id

    async def delete(self, actor: Actor, view_id: int) -> None:
        require(actor, Feature.PROPERTIES, Level.MANAGE)
        v = LiveView.__table__
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.write() as s:
            if (await s.execute(sa.delete(v).where(v.c.id == view_id))).rowcount != 1:
                raise StaleError()
            audit.record(s, actor, "view_deleted", f"view {view_id}")
            await self._changed(s, Topic.VIEWS)

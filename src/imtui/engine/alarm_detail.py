"""One alarm with what an operator needs to act on it (architecture 002, "View and manage
alarms"): where (the camera), why (the list entry that matched, with its custom fields as they
were when it fired, e.g. Reason), the plate picture the worker kept, and the stretch of
recording around the read that ``v`` plays.  The alarm manager's detail and ``imtui alarms
show`` both read it here, so the screen and the CLI say the same.

A list alarm keeps the ID of its match (``alarm.match_id``); the match keeps its recognition,
which names the plate crop in the media store.  LPR events are purged after
``events.keep_hours``: an older alarm then still names its camera and plate, and the detail says
its event is gone instead of showing fields or a picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from imtui.engine.alarm_incident import AROUND
from imtui.engine.alarms import AlarmService, AlarmView, LogView
from imtui.engine.base import Service
from imtui.engine.lpr_events import Crop, EventMatch, load_crop, match_view
from imtui.engine.permissions import Actor
from imtui.engine.video.media import MediaStore
from imtui.i18n import _
from imtui.storage.db import Database
from imtui.storage.models import Alarm, PlateMatch, PlateRecognition


@dataclass(frozen=True)
class VideoWindow:
    """The recording around the read: what the View video screen plays for the alarm."""

    camera_id: int
    camera_name: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class AlarmDetail:
    alarm: AlarmView
    log: list[LogView]
    match: EventMatch | None  # the list entry that raised it (fields in the list's order); None: no match
    recognition_id: int | None  # the LPR event of the match
    event_gone: bool  # raised by a match whose LPR event was purged since
    snapshot: Crop | None  # the plate crop; None when none was kept (or its event is gone)
    video: VideoWindow | None  # None: the alarm has no camera (an LPR server event)


class AlarmDetailService(Service):
    def __init__(self, db: Database, store: MediaStore, alarms: AlarmService) -> None:
        super().__init__(db)
        self.store = store
        self.alarms = alarms

    async def detail(self, actor: Actor, alarm_id: int, *, decode: bool = False) -> AlarmDetail:
        """The alarm, its log, its match and plate crop (with ``decode`` the picture, read in a
        thread) and its video window.  The same permission as the alarm manager (incidents /
        view): an operator who may see the alarm may see why it was raised; playing the video
        asks the recordings' own permission."""
        view, log = await self.alarms.get(actor, alarm_id)
        a, m, r = Alarm.__table__, PlateMatch.__table__, PlateRecognition.__table__
        found = None
        match_id = None
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            match_id = (await s.execute(sa.select(a.c.match_id).where(a.c.id == alarm_id))).scalar()
            if match_id is not None:
                found = (await s.execute(sa.select(m, r.c.snapshot).select_from(
                    m.outerjoin(r, r.c.id == m.c.recognition_id)).where(m.c.id == match_id))).first()
        snapshot = await load_crop(self.store, found.snapshot or "", decode=decode) if found is not None else None
        video = None
        if view.camera_id is not None:
            video = VideoWindow(view.camera_id, view.where, view.at - AROUND, view.at + AROUND)
        return AlarmDetail(view, log, match_view(found) if found is not None else None,
                           found.recognition_id if found is not None else None,
                           match_id is not None and found is None, snapshot, video)

"""The demo's licence-plate world (``imtui demo``): the first camera reads plates, a "Stolen
vehicles" list holds every third plate its synthetic vehicles carry, and alarm definitions turn a
listed plate (and a lost camera) into alarms, so whoever runs ``make demo`` sees a plate read,
matched and raised in the alarm manager (f9) within seconds of a vehicle crossing — the loop of
issue 7 on a fresh machine, without configuring anything.

Added once: a database that already has an LPR camera or a match list of its own is left as it
is (an administrator's choices are never overwritten).  Everything goes through the services,
as the seeded ``admin``, so it is checked and audit-logged like an administrator's work.
"""

from __future__ import annotations

import sqlalchemy as sa

from imtui.engine.alarms import AlarmService
from imtui.engine.matchlists.service import MatchListService
from imtui.engine.permissions import Actor
from imtui.engine.recognition.service import LprService
from imtui.engine.video.media import MediaStore
from imtui.engine.video.synthetic import SyntheticCamera
from imtui.lpr.settings import RecognitionSettings
from imtui.storage.db import Database
from imtui.storage.models import Camera, LprCamera, MatchList

# A vehicle every 12 s, 6 s in the picture; plates in the French format, read by the FR module.
SOURCE = "synthetic:?size=640x480&fps=4&every=12&cross=6&seed=3"
SETTINGS = RecognitionSettings(countries=("FR",), max_fps=2.0, partial_seconds=1.0,
                               area=(((0.0, 0.15), (1.0, 0.15), (1.0, 1.0), (0.0, 1.0)),))  # not the clock
LISTED_EVERY = 3  # every third vehicle is "stolen": an alarm about every 36 s
VEHICLES = 3000  # ten hours of the stream (it restarts with the worker)
LIST_NAME = "Stolen vehicles"


async def seed_lpr_demo(db: Database, store: MediaStore) -> bool:
    """Add the demo's LPR camera, list and alarm definitions unless LPR is set up already;
    returns whether it added them."""
    c, lc, ml = Camera.__table__, LprCamera.__table__, MatchList.__table__
    async with db.read() as s:
        camera_id = (await s.execute(sa.select(sa.func.min(c.c.id)))).scalar()
        configured = (await s.execute(sa.select(lc.c.camera_id).limit(1))).first() is not None
        own_lists = (await s.execute(sa.select(ml.c.id).where(ml.c.kind == "list").limit(1))).first() is not None
    if camera_id is None or configured or own_lists:
        return False
    admin = Actor("admin", "Administrator")
    async with db.write() as s:
        await s.execute(sa.update(c).where(c.c.id == camera_id).values(source=SOURCE, enabled=True))
    await LprService(db, store).configure(admin, camera_id, enabled=True, settings=SETTINGS)
    lists = MatchListService(db)
    stolen = await lists.create(admin, LIST_NAME, fields=["Reason"])
    truth = SyntheticCamera.from_source(SOURCE)
    lines = ["Plate;Reason"] + [f"{truth.vehicle(n).plate.replace('-', '')};reported stolen"
                                for n in range(1, VEHICLES, LISTED_EVERY)]
    await lists.import_file(admin, stolen.id, ("\n".join(lines) + "\n").encode())
    alarms = AlarmService(db)
    await alarms.define(admin, "Stolen vehicle", "list", list_id=stolen.id, priority=1)
    await alarms.define(admin, "LPR camera connection lost", "camera_lost", priority=2)
    return True

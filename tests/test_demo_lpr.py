"""The demo's LPR world: camera 1 reads plates, every third synthetic vehicle is on "Stolen
vehicles" and an alarm definition raises it; the plate the camera shows is the plate the list
holds (the same synthetic truth), it is added once and never over an administrator's setup."""

from __future__ import annotations

from pathlib import Path

from conftest import ADMIN
from imtui.engine.alarms import AlarmService
from imtui.engine.demo_lpr import LIST_NAME, SETTINGS, SOURCE, seed_lpr_demo
from imtui.engine.matchlists.service import MatchListService
from imtui.engine.recognition.service import LprService
from imtui.engine.video.media import MediaStore
from imtui.engine.video.synthetic import SyntheticCamera
from imtui.lpr.reader import PlateReader
from imtui.storage.db import Database


async def test_the_demo_reads_matches_and_alarms_out_of_the_box(db: Database, tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    assert await seed_lpr_demo(db, store) is True
    camera = await LprService(db, store).camera(ADMIN, 1)
    assert camera.enabled and camera.settings == SETTINGS
    lists = MatchListService(db)
    stolen = await lists.find(ADMIN, LIST_NAME)
    assert [f.name for f in stolen.fields] == ["Reason"]
    [definition] = [d for d in await AlarmService(db).definitions(ADMIN) if d.trigger == "list"]
    assert (definition.list_id, definition.priority, definition.cameras) == (stolen.id, 1, ())

    # the second vehicle the camera shows is listed, and the reader reads it as the list holds it
    truth = SyntheticCamera.from_source(SOURCE)
    index = (await lists.indexes())[stolen.id]  # what the worker matches against
    listed = truth.vehicle(1)
    assert index.match(listed.plate.replace("-", "")) is not None
    assert index.match(truth.vehicle(2).plate.replace("-", "")) is None  # not every vehicle
    middle = int((listed.enters + listed.leaves) / 2 * truth.fps)
    frame, visible = truth.frame(middle)
    assert [v.plate for v in visible] == [listed.plate]
    reads = PlateReader().read(frame, SETTINGS).reads
    assert listed.plate.replace("-", "") in [r.text for r in reads], [r.text for r in reads]

    # once: a second start, or a site with its own LPR setup, is left alone
    assert await seed_lpr_demo(db, store) is False
    assert len(await AlarmService(db).definitions(ADMIN)) == 2


async def test_a_site_with_its_own_lists_is_left_alone(db: Database, tmp_path: Path) -> None:
    await MatchListService(db).create(ADMIN, "Staff")
    assert await seed_lpr_demo(db, MediaStore(tmp_path / "media")) is False
    assert not (await LprService(db, MediaStore(tmp_path / "media")).camera(ADMIN, 1)).enabled
    assert await AlarmService(db).definitions(ADMIN) == []

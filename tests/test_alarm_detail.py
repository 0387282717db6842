"""Where and why of an alarm, on both backends and through the CLI: every alarm read names its
camera (the manager's list, the new-alarm feed, one alarm), and the detail of a list alarm raised
by the worker's own store step carries the list entry's custom fields as they were when it fired,
the plate crop in the media store, and the recording window around the read; a camera event has
a camera and a window but no match; a server event neither; an alarm whose LPR event was purged
says so.  ``imtui alarms show`` (text and ``--json``) carries the same."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from conftest import ADMIN, OPERATOR
from imtui.engine.alarm_detail import AlarmDetailService
from imtui.engine.alarms import AlarmService, raise_for_event
from imtui.engine.matchlists.service import MatchListService
from imtui.engine.seed import seed_defaults
from imtui.engine.times import utcnow
from imtui.engine.video.cameras import CameraService
from imtui.engine.video.media import MediaStore
from imtui.engine.video.worker import Worker
from imtui.storage.db import Database
from imtui.storage.models import PlateMatch
from recording import settings_for
from test_lpr_events import lpr_on, store_reads

REASON = "Stolen 2026-05-02, call 17"


async def stolen_read(db: Database, media: Path) -> int:
    """Camera 1 renamed "Gate"; the list Stolen (fields Owner, Reason) holding AB123CD; a list
    alarm on it; one passage of AB123CD stored with its plate crop.  Returns the recognition id."""
    await CameraService(db).edit(ADMIN, 1, name="Gate")
    await lpr_on(db, 1)
    ml = MatchListService(db)
    stolen = await ml.create(ADMIN, "Stolen", fields=["Owner", "Reason"])
    await ml.add_entry(ADMIN, stolen.id, "AB123CD", {"Owner": "J. Doe", "Reason": REASON})
    await AlarmService(db).define(ADMIN, "Stolen car", "list", list_id=stolen.id, priority=1)
    [read] = await store_reads(db, MediaStore(media), [(1, "AB123CD", utcnow() - timedelta(seconds=30))], crop=True)
    return read


async def test_alarms_name_their_camera_and_the_detail_says_why(db, tmp_path) -> None:  # noqa: ANN001
    alarms = AlarmService(db)
    details = AlarmDetailService(db, MediaStore(tmp_path / "media"), alarms)
    read = await stolen_read(db, tmp_path / "media")
    [alarm] = await alarms.alarms(OPERATOR)
    assert (alarm.camera_id, alarm.camera_name, alarm.where) == (1, "Gate", "Gate")
    assert [a.where for a in await alarms.newer(OPERATOR, 0)] == ["Gate"]  # what the toast says
    assert (await alarms.get(OPERATOR, alarm.id))[0].where == "Gate"

    d = await details.detail(OPERATOR, alarm.id, decode=True)
    assert d.recognition_id == read and not d.event_gone
    assert d.match is not None
    assert (d.match.list_name, d.match.entry_plate, d.match.rule) == ("Stolen", "AB123CD", "exact")
    assert list(d.match.fields.items()) == [("Owner", "J. Doe"), ("Reason", REASON)]  # the list's order
    assert d.snapshot is not None and d.snapshot.exists and d.snapshot.image is not None
    assert (tmp_path / "media") in d.snapshot.path.parents
    assert d.video is not None and (d.video.camera_id, d.video.camera_name) == (1, "Gate")
    assert (d.video.start, d.video.end) == (alarm.at - timedelta(seconds=10), alarm.at + timedelta(seconds=10))
    assert [x.action for x in d.log] == ["raised"]

    # a camera event: a camera and its window, no match; an LPR server event: neither
    await alarms.define(ADMIN, "Camera down", "camera_lost")
    await alarms.define(ADMIN, "Server down", "server_not_responding")
    worker = Worker(db, settings_for(db, tmp_path / "media"))
    await worker.event("camera_lost", 2, "Camera 02: connection lost.")
    async with db.write() as s:  # as the LPR server watch raises it
        await raise_for_event(s, db, "server_not_responding", None, "Service not responding", utcnow(),
                              object="lpr-2")
    by_name = {a.name: a for a in await alarms.alarms(OPERATOR)}
    camera = await details.detail(OPERATOR, by_name["Camera down"].id)
    assert (camera.alarm.where, camera.match, camera.snapshot, camera.event_gone) == ("Camera 02", None, None, False)
    assert camera.video is not None and camera.video.camera_id == 2
    server = await details.detail(OPERATOR, by_name["Server down"].id)
    assert (server.alarm.where, server.video, server.match) == ("", None, None)

    # the LPR event purged: the alarm still names camera and plate, and says its event is gone
    async with db.write() as s:
        await s.execute(sa.delete(PlateMatch.__table__))
    gone = await details.detail(OPERATOR, alarm.id)
    assert gone.event_gone and gone.match is None and gone.snapshot is None and gone.alarm.where == "Gate"


def test_cli_alarms_show_says_where_and_why(tmp_path) -> None:  # noqa: ANN001
    from test_cli import run_in_process as run

    url = f"sqlite+aiosqlite:///{tmp_path / 'imtui.db'}"

    async def world() -> None:
        db = Database(url)
        await db.upgrade()
        await seed_defaults(db, cameras=2)
        await stolen_read(db, tmp_path / "media")
        await db.dispose()

    asyncio.run(world())
    base = ["--db", url, "--user", "operator"]
    env = {"IMTUI_DATA_DIR": str(tmp_path)}  # the media store is tmp_path/media
    listed = run(*base, "alarms", "list", env=env)
    assert listed.returncode == 0 and "\tStolen car\tGate\tAB123CD\t" in listed.stdout
    [alarm] = json.loads(run(*base, "--json", "alarms", "list", env=env).stdout)["alarms"]
    assert (alarm["camera_id"], alarm["camera"]) == (1, "Gate")

    shown = run(*base, "alarms", "show", str(alarm["id"]), env=env)
    assert shown.returncode == 0, shown.stderr
    [crop] = (tmp_path / "media").rglob("*-AB123CD-*.jpg")  # the worker's crop of the read
    for line in ("Camera: Gate (1)", "Matched: Stolen · entry AB123CD · exact", "Owner: J. Doe",
                 f"Reason: {REASON}", f"Plate picture: {crop}", "Video: camera 1, "):
        assert line in shown.stdout, (line, shown.stdout)

    data = json.loads(run(*base, "--json", "alarms", "show", str(alarm["id"]), env=env).stdout)
    assert (data["camera_id"], data["camera"]) == (1, "Gate")
    assert data["match"]["fields"] == {"Owner": "J. Doe", "Reason": REASON} and data["match"]["list"] == "Stolen"
    assert data["snapshot"] == str(crop) and data["snapshot_exists"] is True
    assert data["video"]["camera_id"] == 1 and [x["action"] for x in data["log"]] == ["raised"]

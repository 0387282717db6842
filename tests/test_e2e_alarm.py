"""End to end, as a site runs it: an ``imtui worker`` process records a synthetic camera whose
vehicles carry known plates and reads them; one plate is on a match list with an alarm
definition; an operator's TUI (the real app under pilot) is open on the incident list.  Within
5 s of the camera first showing that plate's read, the alarm is announced in the TUI and listed
in its alarm manager, and the worker has sent the definition's webhook (the gate) to a local
HTTP server.  About 25 s: the camera runs in real time."""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from textual.widgets import DataTable

from conftest import ADMIN
from imtui.engine.alarms import AlarmService
from imtui.engine.matchlists.service import MatchListService
from imtui.engine.recognition.service import LprService
from imtui.engine.seed import seed_defaults
from imtui.engine.video.media import MediaStore
from imtui.engine.video.synthetic import SyntheticCamera
from imtui.lpr.settings import RecognitionSettings
from imtui.storage.db import Database
from imtui.storage.models import Camera
from pilot import make_app, notifications, settle, wait_for

pytestmark = pytest.mark.slow

SOURCE = "synthetic:?size=640x480&fps=4&every=8&cross=6&seed=3"  # vehicles at 2-8, 10-16, 18-24 s
SETTINGS = RecognitionSettings(countries=("FR",), max_fps=4.0, partial_seconds=1.0,
                               area=(((0.0, 0.15), (1.0, 0.15), (1.0, 1.0), (0.0, 1.0)),))  # not the clock overlay


async def test_a_listed_plate_reaches_the_operators_alarm_manager_within_5_s(sqlite_url: str, tmp_path: Path) -> None:
    db = Database(sqlite_url)
    await db.upgrade()
    await seed_defaults(db, cameras=1)
    c = Camera.__table__
    async with db.write() as s:
        await s.execute(sa.update(c).where(c.c.id == 1).values(source=SOURCE))
    await LprService(db, MediaStore(tmp_path / "media")).configure(ADMIN, 1, enabled=True, settings=SETTINGS)
    truth = SyntheticCamera.from_source(SOURCE)
    wanted = truth.vehicle(1).plate.replace("-", "")  # the second vehicle: the worker is up by then
    lists = MatchListService(db)
    stolen = await lists.create(ADMIN, "Stolen", fields=["Reason"])
    await lists.add_entry(ADMIN, stolen.id, wanted, {"Reason": "reported 2026-11-30"})
    received: list[dict] = []

    class Gate(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Gate)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    await AlarmService(db).define(ADMIN, "Stolen vehicle", "list", list_id=stolen.id, cameras=[1], priority=1,
                                  webhook_url=f"http://127.0.0.1:{server.server_port}/gate")
    await db.dispose()

    config = tmp_path / "worker.toml"
    config.write_text(f'[media]\ndir = "{tmp_path / "media"}"\n[worker]\nheartbeat_seconds = 1\n'
                      f'log = "{tmp_path / "worker.log"}"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMTUI_")} | {"IMTUI_CONFIG": str(config)}
    worker = subprocess.Popen([sys.executable, "-m", "imtui", "--db", sqlite_url, "worker", "--name", "gate",
                               "--seconds", "60"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    app = make_app(sqlite_url, user="operator", media_dir=tmp_path / "media")
    arrived: list[datetime] = []
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)

            def announced() -> bool:
                if not arrived and any(n.startswith("New alarm (High): Stolen vehicle") for n in notifications(app)):
                    arrived.append(datetime.now(UTC))
                return bool(arrived)

            await wait_for(announced, timeout=45, pilot=pilot)
            await pilot.press("f9")
            await settle(app, pilot)
            table = app.screen.query_one("#alarms-table", DataTable)
            await wait_for(lambda: table.row_count >= 1, pilot=pilot)
            row = [str(x) for x in table.get_row_at(0)]
            assert row[1:3] == ["High", "New"] and "Stolen vehicle" in row and wanted in row, row
            await wait_for(lambda: bool(received), timeout=10, pilot=pilot)
    finally:
        server.shutdown()
        worker.terminate()
        worker.wait(timeout=60)

    db = Database(sqlite_url)
    try:
        alarm = (await AlarmService(db).alarms(ADMIN))[-1]
        assert (alarm.name, alarm.object, alarm.type, alarm.camera_id) == ("Stolen vehicle", wanted, "Stolen", 1)
        # alarm.at is the stream time the plate was first read: the camera showed it then
        assert 0 <= (arrived[0] - alarm.at).total_seconds() <= 5.0, (arrived[0], alarm.at)
        assert len(received) == 1 and received[0]["object"] == wanted and received[0]["source"] == "gate"
        assert received[0]["match"]["fields"] == {"Reason": "reported 2026-11-30"}
        first = await LprService(db, MediaStore(tmp_path / "media")).recognitions(ADMIN, plate=wanted)
        assert first and first[-1].at == alarm.at
    finally:
        await db.dispose()

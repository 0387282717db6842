"""LPR cameras for administrators (LprService, ``imtui lpr``): settings stored and checked,
snapshots, validation and auto-configure on real photos with known plates, the recognitions
list; permissions and refusals.  Service tests run on both backends; the CLI on SQLite."""

from __future__ import annotations

import asyncio
import csv
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
import sqlalchemy as sa

from conftest import ADMIN, OPERATOR, VIEWER
from imtui.engine.audit import AuditService
from imtui.engine.errors import InvalidInput, NotFound, PermissionDenied
from imtui.engine.permissions import Actor, Feature, Level
from imtui.engine.recognition.service import LprService
from imtui.engine.video.media import MediaStore
from imtui.lpr.settings import RecognitionSettings
from imtui.storage.db import Database
from imtui.storage.models import PlateRecognition
from test_cli import TRUST

PLATES = Path("/work/shared/datasets/plates")
TRUTH = ({row["file"]: row for row in csv.DictReader((PLATES / "truth.csv").read_text().splitlines())}
         if (PLATES / "truth.csv").exists() else {})
PHOTOS = ["br/AYO9034.jpg", "br/HPM9362.jpg", "br/JIT7463.jpg", "br/JQS5683.jpg"]  # read right with BR
needs_photos = pytest.mark.skipif(not TRUTH, reason=f"the plate photos are not at {PLATES}")

LANE = (((0.0, 0.2), (1.0, 0.2), (1.0, 1.0), (0.0, 1.0)),)
SETTINGS = RecognitionSettings(
    area=LANE + (((0.1, 0.1), (0.5, 0.15), (0.3, 0.6)),), min_char_height=2.5, max_char_height=12.0,
    interlaced=True, max_fps=3.0, max_seconds_per_frame=0.5, stop_above=0.95, discard_below=0.4, max_plates=2,
    partial_seconds=2.5, countries=("FR", "BR"))
NO_MANAGE = Actor("props-viewer", grants=((Feature.PROPERTIES, Level.VIEW), (Feature.SEQUENCES, Level.VIEW)))


def service(db: Database, tmp_path: Path) -> LprService:
    return LprService(db, MediaStore(tmp_path / "media"))


async def lpr_audit(db: Database) -> list:
    return [e for e in await AuditService(db).entries(ADMIN) if e.target.startswith("LPR camera")]


# -- settings --------------------------------------------------------------------------------------
async def test_configure_round_trips_settings_and_audits(db, tmp_path) -> None:  # noqa: ANN001
    lpr = service(db, tmp_path)
    off = await lpr.camera(ADMIN, 1)
    assert (off.camera_id, off.name, off.enabled, off.settings) == (1, "Camera 01", False, RecognitionSettings())
    view = await lpr.configure(ADMIN, 1, enabled=True, settings=SETTINGS)
    assert view.enabled and view.settings == SETTINGS
    again = await lpr.camera(ADMIN, 1)  # through the JSON column and back, polygons included
    assert again == view and again.settings.area == SETTINGS.area and again.settings.countries == ("FR", "BR")
    # turning it off keeps the settings; turning it on again too
    assert (await lpr.configure(ADMIN, 1, enabled=False)).settings == SETTINGS
    assert (await lpr.camera(ADMIN, 1)).enabled is False
    assert (await lpr.configure(ADMIN, 1, enabled=True)) == again
    entries = await lpr_audit(db)
    assert len(entries) == 3 and all(e.target == "LPR camera 1" and e.user == "admin" for e in entries)
    assert [e.details for e in entries] == [  # newest first
        "Camera 01: enabled, countries FR,BR", "Camera 01: disabled, countries FR,BR",
        "Camera 01: enabled, countries FR,BR"]


BAD = [  # (change, the field InvalidInput names, words its message must contain)
    (dict(min_char_height=12.0, max_char_height=12.0), "settings", "character height"),
    (dict(min_char_height=20.0, max_char_height=10.0), "settings", "character height"),
    (dict(countries=("FR", "XX")), "countries", "XX"),
    (dict(area=(((0.0, 0.0), (1.5, 0.0), (1.0, 1.0)),)), "settings", "recognition area"),
    (dict(partial_seconds=9.0), "settings", "partial recognitions"),
]


async def test_bad_settings_are_refused_and_nothing_is_stored(db, tmp_path) -> None:  # noqa: ANN001
    lpr = service(db, tmp_path)
    await lpr.configure(ADMIN, 1, enabled=True, settings=SETTINGS)
    before = await lpr_audit(db)
    for change, field, words in BAD:
        with pytest.raises(InvalidInput) as exc:
            await lpr.configure(ADMIN, 1, enabled=False, settings=replace(SETTINGS, **change))
        assert exc.value.field == field and words in exc.value.message, (change, exc.value.message)
        stored = await lpr.camera(ADMIN, 1)
        assert stored.enabled and stored.settings == SETTINGS, change  # neither the flag nor the settings
    with pytest.raises(InvalidInput):  # a camera never configured stays unconfigured
        await lpr.configure(ADMIN, 2, enabled=True, settings=replace(SETTINGS, countries=("XX",)))
    assert (await lpr.camera(ADMIN, 2)).enabled is False and await lpr.enabled_cameras() == {1: SETTINGS}
    assert await lpr_audit(db) == before


async def test_permissions_and_unknown_camera(db, tmp_path) -> None:  # noqa: ANN001
    lpr = service(db, tmp_path)
    for actor in (OPERATOR, VIEWER):  # no grant on properties at all
        with pytest.raises(PermissionDenied):
            await lpr.camera(actor, 1)
        with pytest.raises(PermissionDenied):
            await lpr.configure(actor, 1, enabled=True)
        with pytest.raises(PermissionDenied):
            await lpr.add_snapshot(actor, 1, np.zeros((8, 8, 3), np.uint8), "x.jpg")
    assert (await lpr.camera(NO_MANAGE, 1)).enabled is False  # properties "view" may look ...
    for attempt in (lambda: lpr.configure(NO_MANAGE, 1, enabled=True),  # ... but not change
                    lambda: lpr.auto_configure(NO_MANAGE, 1, apply=False),
                    lambda: lpr.add_snapshot(NO_MANAGE, 1, np.zeros((8, 8, 3), np.uint8), "x.jpg")):
        with pytest.raises(PermissionDenied):
            await attempt()
    assert await lpr_audit(db) == []
    for attempt in (lambda: lpr.camera(ADMIN, 99), lambda: lpr.configure(ADMIN, 99, enabled=True),
                    lambda: lpr.add_snapshot(ADMIN, 99, np.zeros((8, 8, 3), np.uint8), "x.jpg")):
        with pytest.raises(InvalidInput) as exc:
            await attempt()
        assert exc.value.field == "camera" and "99" in exc.value.message
    assert not list((tmp_path / "media").rglob("*.jpg"))  # the refused snapshot left no file behind
    assert await lpr.enabled_cameras() == {}


async def test_enabled_cameras_lists_only_enabled_ones(db, tmp_path) -> None:  # noqa: ANN001
    lpr = service(db, tmp_path)
    fr = replace(SETTINGS, countries=("FR",))
    await lpr.configure(ADMIN, 1, enabled=True, settings=fr)
    await lpr.configure(ADMIN, 2, enabled=False, settings=SETTINGS)
    await lpr.configure(ADMIN, 3, enabled=True)  # defaults
    assert await lpr.enabled_cameras() == {1: fr, 3: RecognitionSettings()}
    await lpr.configure(ADMIN, 1, enabled=False)
    assert await lpr.enabled_cameras() == {3: RecognitionSettings()}


# -- snapshots, validation, auto-configure ---------------------------------------------------------
def photo(name: str) -> np.ndarray:
    image = cv2.imread(str(PLATES / name))
    assert image is not None, name
    return image


@needs_photos
async def test_snapshots_validate_and_auto_configure(db, tmp_path) -> None:  # noqa: ANN001
    lpr = service(db, tmp_path)
    media = tmp_path / "media"
    # max_seconds_per_frame 0: the verdict must not depend on how busy the test machine is
    manual = RecognitionSettings(countries=("BR",), max_seconds_per_frame=0.0)
    await lpr.configure(ADMIN, 1, enabled=True, settings=manual)
    for attempt in (lambda: lpr.validate(ADMIN, 1), lambda: lpr.auto_configure(ADMIN, 1, apply=True)):
        with pytest.raises(InvalidInput) as exc:  # no snapshots yet
            await attempt()
        assert exc.value.field == "snapshots" and "imtui lpr snapshot" in exc.value.message
    ids = [await lpr.add_snapshot(ADMIN, 1, photo(name), Path(name).name) for name in PHOTOS]
    blank = await lpr.add_snapshot(ADMIN, 1, np.full((480, 640, 3), 128, np.uint8), "blank.jpg")
    snaps = await lpr.snapshots(ADMIN, 1)
    assert [s.id for s in snaps] == ids + [blank]
    assert [s.name for s in snaps] == [Path(n).name for n in PHOTOS] + ["blank.jpg"]
    assert all(s.camera_id == 1 and (media / s.path).is_file() for s in snaps)
    assert cv2.imread(str(media / snaps[0].path)).shape == photo(PHOTOS[0]).shape
    assert await lpr.snapshots(ADMIN, 2) == []
    # delete one: row and file go
    gone = snaps[1]
    await lpr.delete_snapshot(ADMIN, gone.id)
    assert not (media / gone.path).exists()
    assert [s.id for s in await lpr.snapshots(ADMIN, 1)] == [ids[0], ids[2], ids[3], blank]
    with pytest.raises(NotFound):
        await lpr.delete_snapshot(ADMIN, gone.id)
    with pytest.raises(PermissionDenied):
        await lpr.delete_snapshot(NO_MANAGE, ids[0])

    kept = [PHOTOS[0], PHOTOS[2], PHOTOS[3]]
    result = await lpr.validate(ADMIN, 1)
    assert result.summary().startswith("License plates detected: 3 of 4\n"), result.summary()
    assert (result.detected, len(result.snapshots)) == (3, 4)
    assert [s.name for s in result.snapshots] == [Path(n).name for n in kept] + ["blank.jpg"]
    for s, name in zip(result.snapshots, kept, strict=False):
        assert TRUTH[name]["plate"] in s.plates and 0 < s.confidence <= 1, s
    assert result.snapshots[-1].plates == () and result.snapshots[-1].confidence == 0
    assert 0.5 < result.average_confidence <= 1 and result.average_ms > 0
    assert "blank.jpg: no plate" in result.details()[-1]
    assert (await lpr.validate(NO_MANAGE, 1)).detected == 3  # validating needs "view" only

    # auto-configure: a proposal only, until applied
    audit_before = await lpr_audit(db)
    proposed = await lpr.auto_configure(ADMIN, 1, apply=False)
    assert proposed is not None and proposed != manual and not proposed.check()
    assert proposed.countries == ("BR",) and proposed.max_seconds_per_frame == 0.0  # the rest is kept
    assert (await lpr.camera(ADMIN, 1)).settings == manual and await lpr_audit(db) == audit_before
    # what it derived fits the photos: every known plate box lies inside the area, and the
    # character heights bracket the plates' (a character is most of a plate's height)
    (area,) = proposed.area
    xs, ys = [x for x, _y in area], [y for _x, y in area]
    for name in kept:
        t, (h, w) = TRUTH[name], photo(name).shape[:2]
        x, y, bw, bh = (int(t[k]) for k in ("x", "y", "w", "h"))
        assert min(xs) <= x / w and (x + bw) / w <= max(xs) and min(ys) <= y / h and (y + bh) / h <= max(ys), name
        assert proposed.min_char_height < bh / h * 100 and bh / h * 100 * 0.5 < proposed.max_char_height, name
    applied = await lpr.auto_configure(ADMIN, 1, apply=True)
    assert applied == proposed
    assert (await lpr.camera(ADMIN, 1)).settings == proposed and len(await lpr_audit(db)) == len(audit_before) + 1
    assert (await lpr.validate(ADMIN, 1)).detected == 3  # the derived settings still read them all


async def test_auto_configure_without_plates_proposes_nothing(db, tmp_path) -> None:  # noqa: ANN001
    lpr = service(db, tmp_path)
    await lpr.add_snapshot(ADMIN, 2, np.full((240, 320, 3), 90, np.uint8), "empty road")
    assert await lpr.auto_configure(ADMIN, 2, apply=True) is None
    assert (await lpr.camera(ADMIN, 2)).settings == RecognitionSettings() and await lpr_audit(db) == []
    assert (await lpr.validate(ADMIN, 2)).summary().startswith("License plates detected: 0 of 1")


# -- recognitions ----------------------------------------------------------------------------------
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


async def add_recognitions(db: Database, rows: list[tuple[int, int, str]]) -> None:
    """(camera, seconds after T0, plate) as a worker stores them."""
    async with db.write() as s:
        await s.execute(sa.insert(PlateRecognition.__table__), [
            dict(camera_id=cam, at=T0 + timedelta(seconds=sec), last_seen=T0 + timedelta(seconds=sec + 3),
                 plate=plate, country="FR", confidence=0.9, reads=4, snapshot=f"lpr/{cam}/{plate}.jpg", source="w1")
            for cam, sec, plate in rows])


async def test_recognitions_filter_by_camera_and_plate_newest_first(db, tmp_path) -> None:  # noqa: ANN001
    lpr = service(db, tmp_path)
    await add_recognitions(db, [(1, 10, "AB123CD"), (2, 20, "AB123CD"), (1, 30, "XY987ZT"), (1, 40, "AB123CD"),
                                (3, 5, "GH456JK")])
    every = await lpr.recognitions(ADMIN)
    assert [(r.camera_id, r.plate) for r in every] == [(1, "AB123CD"), (1, "XY987ZT"), (2, "AB123CD"),
                                                       (1, "AB123CD"), (3, "GH456JK")]
    assert every[0].at == T0 + timedelta(seconds=40) and every[0].last_seen == T0 + timedelta(seconds=43)
    assert (every[0].country, every[0].confidence, every[0].reads, every[0].snapshot) == ("FR", 0.9, 4,
                                                                                          "lpr/1/AB123CD.jpg")
    assert [r.at for r in await lpr.recognitions(ADMIN, camera_id=1)] == [
        T0 + timedelta(seconds=s) for s in (40, 30, 10)]
    assert [(r.camera_id, r.at) for r in await lpr.recognitions(ADMIN, plate="AB123CD")] == [
        (1, T0 + timedelta(seconds=40)), (2, T0 + timedelta(seconds=20)), (1, T0 + timedelta(seconds=10))]
    # typed as seen on the car: lower case, dashes, spaces
    assert len(await lpr.recognitions(ADMIN, plate="ab-123 cd")) == 3
    assert [r.at for r in await lpr.recognitions(ADMIN, camera_id=1, plate="ab123cd", limit=1)] == [
        T0 + timedelta(seconds=40)]
    assert await lpr.recognitions(ADMIN, camera_id=4) == [] and await lpr.recognitions(ADMIN, plate="ZZ") == []
    assert len(await lpr.recognitions(VIEWER)) == 5  # sequences "view" is enough
    with pytest.raises(PermissionDenied):
        await lpr.recognitions(Actor("nobody", grants=()))


# -- the command line (SQLite, in this process: the engine loads once, not per command) ------------
@pytest.fixture
def cli(tmp_path, monkeypatch):  # noqa: ANN001, ANN201
    """``imtui [--json] lpr ...`` as the admin (OS identity trusted), media under ``tmp_path``."""
    from typer.testing import CliRunner

    import imtui.applog
    from imtui.cli import app

    monkeypatch.setattr(imtui.applog, "setup_logging", lambda *a, **k: None)
    url = f"sqlite:///{tmp_path / 'lpr.db'}"
    env = {"IMTUI_CONFIG": str(TRUST), "IMTUI_DATA_DIR": str(tmp_path / "data"), "IMTUI_DATABASE_URL": None}
    runner = CliRunner()
    assert runner.invoke(app, ["--db", url, "seed", "--cameras", "2"], env=env).exit_code == 0

    def lpr(*args: str, json_out: bool = True, user: str = "admin"):  # noqa: ANN202
        return runner.invoke(app, ["--db", url, "--user", user, *(["--json"] if json_out else []), "lpr", *args],
                             env=env)  # stdin is not a terminal

    lpr.url = url  # type: ignore[attr-defined]
    lpr.media = tmp_path / "data" / "media"  # type: ignore[attr-defined]
    return lpr


def ok(result) -> dict:  # noqa: ANN001
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return json.loads(result.stdout)


def refused(result) -> str:  # noqa: ANN001
    assert result.exit_code == 2, (result.stdout, result.stderr, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_cli_settings(cli) -> None:  # noqa: ANN001
    shown = ok(cli("settings", "1", "--enable", "--country", "BR", "--min-char-height", "2", "--max-char-height", "10",
                   "--area", "0,0.2 1,0.2 1,1 0,1"))
    assert ok(cli("settings", "1")) == shown
    assert shown["enabled"] is True and shown["camera_id"] == 1 and shown["name"] == "Camera 01"
    s = shown["settings"]
    assert (s["countries"], s["min_char_height"], s["max_char_height"]) == (["BR"], 2.0, 10.0)
    assert s["area"] == [[[0, 0.2], [1, 0.2], [1, 1], [0, 1]]]
    assert s["max_fps"] == RecognitionSettings().max_fps  # untouched settings keep their values
    human = cli("settings", "1", json_out=False)
    assert human.exit_code == 0, human.stderr
    assert "recognition on" in human.stdout and "country modules: BR" in human.stdout
    assert "recognition area: 0,0.2 1,0.2 1,1 0,1" in human.stdout and "2 – 10 %" in human.stdout
    # percentages in, fractions stored; 'all' clears the area; --disable keeps the settings
    s = ok(cli("settings", "1", "--disable", "--discard-below", "40", "--area", "all"))["settings"]
    assert (s["discard_below"], s["area"], s["countries"]) == (0.4, [], ["BR"])
    assert ok(cli("settings", "1"))["enabled"] is False
    # refusals: exit 2, one line that says the fix, nothing changed
    assert "x,y pairs" in refused(cli("settings", "1", "--area", "0,0.2 1 1,1"))
    assert "x,y pairs" in refused(cli("settings", "1", "--area", "left half"))
    assert "recognition area" in refused(cli("settings", "1", "--area", "0,0 2,0 1,1"))
    assert "character height" in refused(cli("settings", "1", "--min-char-height", "20", "--max-char-height", "10"))
    assert "XX" in refused(cli("settings", "1", "--country", "XX"))
    assert "99" in refused(cli("settings", "99"))
    assert refused(cli("settings", "1", "--enable", user="operator")) == "Permission denied."
    assert ok(cli("settings", "1")) == dict(shown, enabled=False, settings=s)


@needs_photos
def test_cli_snapshot_validate_autoconfigure(cli, tmp_path) -> None:  # noqa: ANN001
    ok(cli("settings", "1", "--enable", "--country", "BR", "--min-char-height", "2", "--max-char-height", "10",
           "--area", "0,0.2 1,0.2 1,1 0,1"))
    added = cli("snapshot", "1", str(PLATES / PHOTOS[0]), json_out=False)
    assert added.exit_code == 0 and "1 snapshots added to camera 1." in added.stdout, added.stderr
    assert len(list((cli.media / "lpr-snapshots" / "1").glob("*.jpg"))) == 1
    (tmp_path / "notes.txt").write_text("not a picture")
    assert "cannot read this image" in refused(cli("snapshot", "1", str(tmp_path / "notes.txt")))
    checked = cli("validate", "1", json_out=False)
    assert checked.exit_code == 0, checked.stderr
    assert checked.stdout.startswith("License plates detected: 1 of 1\n") and "AYO9034" in checked.stdout
    data = ok(cli("validate", "1"))
    assert (data["detected"], data["snapshots"], data["details"][0]["plates"]) == (1, 1, ["AYO9034"])
    before = ok(cli("settings", "1"))
    # auto-configure overwrites manual changes: without --yes and without a terminal it refuses
    assert "--yes" in refused(cli("autoconfigure", "1"))
    assert ok(cli("settings", "1")) == before
    after = ok(cli("autoconfigure", "1", "--yes"))
    assert after["settings"] != before["settings"] and ok(cli("settings", "1")) == after
    assert after["enabled"] and after["settings"]["countries"] == ["BR"]
    (area,) = after["settings"]["area"]
    t, (h, w) = TRUTH[PHOTOS[0]], photo(PHOTOS[0]).shape[:2]
    x, y, bw, bh = (int(t[k]) for k in ("x", "y", "w", "h"))
    assert min(p[0] for p in area) <= x / w and (x + bw) / w <= max(p[0] for p in area)
    assert min(p[1] for p in area) <= y / h and (y + bh) / h <= max(p[1] for p in area)
    assert "imtui lpr snapshot" in refused(cli("validate", "2"))  # camera 2 has no snapshots
    assert refused(cli("autoconfigure", "1", "--yes", user="viewer")) == "Permission denied."


def test_cli_recognitions(cli) -> None:  # noqa: ANN001
    async def fill() -> None:
        db = Database(cli.url)
        try:
            await add_recognitions(db, [(1, 10, "AB123CD"), (2, 20, "XY987ZT"), (1, 30, "GH456JK")])
        finally:
            await db.dispose()

    asyncio.run(fill())
    items = ok(cli("recognitions"))["items"]
    assert [(i["camera_id"], i["plate"]) for i in items] == [(1, "GH456JK"), (2, "XY987ZT"), (1, "AB123CD")]
    assert items[0] == {"at": "2026-03-01 08:00:30", "camera_id": 1, "plate": "GH456JK", "country": "FR",
                        "confidence": 0.9, "reads": 4, "snapshot": "lpr/1/GH456JK.jpg"}  # TZ=UTC (conftest)
    assert [i["plate"] for i in ok(cli("recognitions", "--camera", "1"))["items"]] == ["GH456JK", "AB123CD"]
    assert [i["camera_id"] for i in ok(cli("recognitions", "--plate", "xy-987-zt"))["items"]] == [2]
    assert len(ok(cli("recognitions", "--limit", "1"))["items"]) == 1
    table = cli("recognitions", json_out=False)
    assert table.exit_code == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["AT", "CAMERA_ID", "PLATE", "COUNTRY", "CONFIDENCE", "READS"]
    assert lines[1].split() == ["2026-03-01", "08:00:30", "1", "GH456JK", "FR", "0.9", "4"] and len(lines) == 4
    assert ok(cli("recognitions", user="viewer"))["items"] == items


@needs_photos
async def test_settings_auto_configured_from_one_snapshot_still_read_it(sqlite_url, tmp_path) -> None:  # noqa: ANN001
    from imtui.engine.seed import seed_defaults

    db = Database(sqlite_url)
    await db.upgrade()
    await seed_defaults(db, cameras=1)
    try:
        lpr = service(db, tmp_path)
        await lpr.configure(ADMIN, 1, settings=RecognitionSettings(countries=("BR",), max_seconds_per_frame=0.0))
        await lpr.add_snapshot(ADMIN, 1, photo(PHOTOS[0]), "one")
        assert (await lpr.validate(ADMIN, 1)).detected == 1
        await lpr.auto_configure(ADMIN, 1, apply=True)
        assert (await lpr.validate(ADMIN, 1)).detected == 1
    finally:
        await db.dispose()


@needs_photos
def test_cli_snapshot_from_the_live_picture(cli) -> None:  # noqa: ANN001
    from datetime import UTC, datetime

    assert "--live" in refused(cli("snapshot", "1"))  # neither files nor --live
    assert "no live picture" in refused(cli("snapshot", "1", "--live"))  # the worker has not written one
    MediaStore(cli.media).write_live(1, photo(PHOTOS[0]), datetime(2026, 3, 1, 8, 0, tzinfo=UTC), 0.1)
    added = ok(cli("snapshot", "1", "--live"))
    assert len(added["ids"]) == 1
    (stored,) = (cli.media / "lpr-snapshots" / "1").glob("*.jpg")
    assert cv2.imread(str(stored)).shape == photo(PHOTOS[0]).shape
    ok(cli("settings", "1", "--country", "BR"))
    assert ok(cli("validate", "1"))["details"][0]["plates"] == ["AYO9034"]

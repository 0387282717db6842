"""Evidence export against real recordings: every format decoded back with OpenCV (frame count and
duration of each clip against the recorded frames of its sequence), burned-in timestamps, packages
checked by ``verify``, ``sha256sum -c`` and ``imtui verify`` (fresh, then altered, missing, extra,
manifest edited), cancelling mid-way leaves nothing, names from user text never leave the folder
nor overwrite, the export list on both backends, and the ``imtui report/export/verify`` commands.

Shares the recorded world of test_report.py (built once per session; each test copies the SQLite
file, the media store is read only).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import threading
import zipfile
from datetime import timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import ADMIN, OPERATOR, VIEWER
from imtui.engine.errors import InvalidInput, PermissionDenied
from imtui.engine.export.clips import Cancelled
from imtui.engine.export.package import verify
from imtui.engine.export.service import ExportOptions, ExportProgress
from imtui.engine.incidents import SequenceInput
from imtui.engine.seed import seed_defaults
from imtui.engine.services import Services
from test_cli import run
from test_report import T0, TITLE, World, copy_db, pdf_text, settings, svc, world  # noqa: F401 - fixtures


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def decode(path: Path) -> tuple[int, float, np.ndarray]:
    """Every frame of a video file read back: (frames decoded, container fps, first frame)."""
    cap = cv2.VideoCapture(str(path))
    assert cap.isOpened(), path
    fps = cap.get(cv2.CAP_PROP_FPS)
    first = None
    n = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        first = frame if first is None else first
        n += 1
    cap.release()
    assert first is not None, f"{path.name}: no frame decodes"
    return n, fps, first


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


# -- clips: every format, frame for frame --------------------------------------------------------------
@pytest.mark.parametrize(("fmt", "zipped"), [("mp4", False), ("avi", False), ("package", False), ("package", True)],
                         ids=["mp4", "avi", "package", "package-zip"])
async def test_every_clip_has_the_recorded_frames(svc: Services, world: World, out: Path, tmp_path: Path,
                                                  fmt: str, zipped: bool) -> None:
    items = await svc.exports.project_items(OPERATOR, world.small)
    assert len(items) == 3
    events: list[ExportProgress] = []
    result = await svc.exports.export(OPERATOR, items, out, ExportOptions(fmt, zip=zipped), progress=events.append)
    assert len(result.clips) == 3 and result.missing == ()
    assert result.path.parent == out and [p.name for p in out.iterdir()] == [result.path.name]
    ext = ".mp4" if fmt == "mp4" else ".avi"
    if zipped:
        assert result.path.suffix == ".zip" and zipfile.is_zipfile(result.path)
        unzipped = tmp_path / "unzipped"
        with zipfile.ZipFile(result.path) as z:
            z.extractall(unzipped)
        files = [unzipped / "clips" / c.path.name for c in result.clips]
    else:
        files = [c.path for c in result.clips]
        root = result.path / "clips" if fmt == "package" else result.path
        assert sorted(files) == sorted(root.glob(f"*{ext}"))

    total = 0
    for item, info, path in zip(items, result.clips, files, strict=True):
        assert path.suffix == ext and path.is_file()
        clip = await svc.recordings.clip(OPERATOR, item.camera_id, item.start_time, item.end_time)
        times = clip.times
        assert clip.missing == 0 and len(times) >= 8
        frames, fps, _first = decode(path)
        assert frames == info.frames == clip.frames, path.name
        assert (info.first, info.last) == (times[0], times[-1])
        gaps = {round((b - a).total_seconds(), 3) for a, b in zip(times, times[1:])}
        assert gaps == {0.25, 0.5}  # camera 1 drops frames: irregular, below 4 fps
        span = (times[-1] - times[0]).total_seconds()  # the recorded span of the sequence
        interval = span / (len(times) - 1)
        duration = frames / fps
        assert abs(duration - span) <= interval * 1.02, (path.name, duration, span, fps)
        total += frames
    assert result.frames == total

    if fmt == "package":
        manifest = json.loads((unzipped if zipped else result.path).joinpath("manifest.json").read_bytes())
        clips = [f for f in manifest["files"] if f["kind"] == "clip"]
        assert [c["frames"] for c in clips] == [c.frames for c in result.clips]
        reports = [f for f in manifest["files"] if f["kind"] == "report"]
        assert [r["path"] for r in reports] == [f"report-{world.small}.pdf"]
        report = (unzipped if zipped else result.path) / reports[0]["path"]
        assert "small comment 1 kept" in pdf_text(report) and "User 1" in pdf_text(report)
        assert manifest["exported_by"] == "operator" and manifest["incident_ids"] == [world.small]
        manifest_file = (unzipped if zipped else result.path) / "manifest.json"
        assert result.manifest_sha256 == sha256(manifest_file.read_bytes())
    else:
        assert result.manifest_sha256 == ""
    logged = [a for a in await svc.incidents.activity(OPERATOR, world.small) if a.action == "exported"]
    assert len(logged) == 1 and result.path.name in logged[0].details
    if fmt == "package":
        assert f"manifest sha256 {result.manifest_sha256}" in logged[0].details

    # progress: increasing done, a remaining estimate, ends at the total
    assert len(events) >= 3
    dones = [e.done for e in events]
    assert dones == sorted(dones) and dones[0] == 0 and dones[-1] == events[-1].total
    assert len(set(dones)) >= 3
    estimates = [e.remaining for e in events if e.done > 0]
    assert estimates and all(r is not None and r >= 0 for r in estimates)
    assert events[-1].remaining == 0 and events[-1].fraction == 1.0


async def test_burned_timestamp_changes_the_lower_left_corner(svc: Services, world: World, out: Path) -> None:
    items = (await svc.exports.project_items(OPERATOR, world.small))[:1]
    plain = await svc.exports.export(OPERATOR, items, out, ExportOptions("avi", name="plain"))
    burned = await svc.exports.export(OPERATOR, items, out, ExportOptions("avi", burn_timestamp=True, name="burned"))
    _n, _fps, a = decode(plain.clips[0].path)
    _n, _fps, b = decode(burned.clips[0].path)
    assert a.shape == b.shape == (240, 320, 3)
    diff = np.abs(a.astype(int) - b.astype(int))
    assert diff[-14:, :100].mean() > 20  # the time drawn on a black band, lower left
    assert diff[:100, -100:].mean() < 2  # the rest of the picture is the same
    band = cv2.cvtColor(b[-14:, :100], cv2.COLOR_BGR2GRAY)
    assert (band < 60).mean() > 0.5 and (band > 180).mean() > 0.03  # black band, white text


# -- packages and verify ------------------------------------------------------------------------------
async def test_verify_fresh_and_tampered_packages(svc: Services, world: World, out: Path, tmp_path: Path) -> None:
    assert await svc.exports.send_for_export(OPERATOR, world.small) == 3
    items = await svc.exports.list(OPERATOR)
    folder = await svc.exports.export(OPERATOR, items, out, ExportOptions("package", name="pkg"))
    zipped = await svc.exports.export(OPERATOR, items, out, ExportOptions("package", zip=True, name="pkg"))
    assert (folder.path.name, zipped.path.name) == ("pkg", "pkg.zip")

    for path in (folder.path, zipped.path):
        v = verify(path)
        assert v.ok and v.problems == [], v.problems
        assert v.files == 5  # three clips, the report, the README
    assert verify(folder.path).manifest_sha256 == folder.manifest_sha256
    assert verify(zipped.path).manifest_sha256 == zipped.manifest_sha256
    logged = [a.details for a in await svc.incidents.activity(OPERATOR, world.small) if a.action == "exported"]
    assert len(logged) == 2 and any(zipped.manifest_sha256 in d for d in logged)
    assert any(folder.manifest_sha256 in d for d in logged)

    # standard tools agree, in the folder and in the unzipped package
    unzipped = tmp_path / "unzipped"
    with zipfile.ZipFile(zipped.path) as z:
        z.extractall(unzipped)
    for where in (folder.path, unzipped):
        done = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=where, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.count(": OK") == 6  # five files and the manifest

    clips = sorted(p.relative_to(folder.path).as_posix() for p in (folder.path / "clips").iterdir())
    assert len(clips) == 3

    def tampered(name: str) -> Path:
        copy = tmp_path / name
        shutil.copytree(folder.path, copy)
        return copy

    altered = tampered("altered")
    flip_byte(altered / clips[0])
    assert verify(altered).problems == [("altered", clips[0])]
    cli = run("verify", str(altered))
    assert cli.returncode == 1, cli.stdout + cli.stderr
    assert clips[0] in cli.stdout and "ALTERED" in cli.stdout
    cli = run("--json", "verify", str(altered))
    assert cli.returncode == 1 and json.loads(cli.stdout)["problems"] == [{"kind": "altered", "path": clips[0]}]
    done = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=altered, capture_output=True, text=True)
    assert done.returncode != 0 and f"{clips[0]}: FAILED" in done.stdout

    missing = tampered("missing")
    (missing / clips[1]).unlink()
    assert verify(missing).problems == [("missing", clips[1])]

    extra = tampered("extra")
    (extra / "clips" / "added.avi").write_bytes(b"not evidence")
    assert verify(extra).problems == [("extra", "clips/added.avi")]

    edited = tampered("edited")
    manifest = json.loads((edited / "manifest.json").read_text())
    manifest["exported_by"] = "someone else"
    (edited / "manifest.json").write_text(json.dumps(manifest, indent=2))
    assert verify(edited).problems == [("altered", "manifest.json")]

    # an altered clip inside the ZIP
    bad_zip = tmp_path / "bad.zip"
    with zipfile.ZipFile(zipped.path) as src, zipfile.ZipFile(bad_zip, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == clips[2]:
                data = bytearray(data)
                data[len(data) // 2] ^= 0xFF
                data = bytes(data)
            dst.writestr(info, data)
    assert verify(bad_zip).problems == [("altered", clips[2])]
    assert not verify(tmp_path / "unzipped" / "README.txt").ok  # not a package


# -- cancelling ------------------------------------------------------------------------------------
@pytest.mark.parametrize("options", [ExportOptions("package"), ExportOptions("package", zip=True), ExportOptions("mp4")],
                         ids=["package", "package-zip", "mp4"])
async def test_cancel_leaves_nothing(svc: Services, world: World, out: Path, options: ExportOptions) -> None:
    items = await svc.exports.project_items(OPERATOR, world.big)
    assert len(items) == 10
    cancel = threading.Event()
    seen: list[ExportProgress] = []

    def progress(p: ExportProgress) -> None:
        seen.append(p)
        cancel.set()  # the operator presses Cancel after the first report

    with pytest.raises(Cancelled):
        await svc.exports.export(OPERATOR, items, out, options, progress=progress, cancel=cancel)
    assert seen and seen[0].done == 0 and seen[0].total > 100
    assert sorted(out.iterdir()) == []  # no clip, no staging folder, no partial zip
    assert "exported" not in [a.action for a in await svc.incidents.activity(OPERATOR, world.big)]


# -- names from user text -----------------------------------------------------------------------------
def _control(text: str) -> bool:
    return any(ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F for ch in text)


async def test_names_stay_inside_the_folder(svc: Services, world: World, tmp_path: Path) -> None:
    out = tmp_path / "a" / "b" / "out"
    out.mkdir(parents=True)
    items = await svc.exports.project_items(OPERATOR, world.evil)
    assert items[0].camera_name == "../x/\x1b[2J"
    results = [await svc.exports.export(OPERATOR, items, out, ExportOptions(fmt, zip=z, name="../../evil"))
               for fmt, z in (("package", False), ("package", True), ("mp4", False), ("avi", False))]
    assert [r.path.name for r in results] == ["evil", "evil.zip", "evil-2", "evil-3"]
    root = out.resolve()
    written = list(out.rglob("*"))
    assert len(written) >= 4 + 6 + 2  # the four exports, the package's files
    for path in written:
        assert path.resolve().is_relative_to(root), path
        for part in path.relative_to(out).parts:
            assert not _control(part) and "/" not in part and "\\" not in part and part not in ("..", ".")
            assert not part.startswith("."), part  # no hidden leftovers
    with zipfile.ZipFile(out / "evil.zip") as z:
        for name in z.namelist():
            assert not _control(name) and ".." not in name.split("/") and not name.startswith("/")
    # nothing was written beside or above the chosen folder
    assert sorted(p.name for p in (tmp_path / "a" / "b").iterdir()) == ["out"]
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["b"]
    clip_names = [c.path.name for r in results for c in r.clips]
    assert all("x_2J" in n and "\x1b" not in n for n in clip_names), clip_names
    assert verify(out / "evil").ok and verify(out / "evil.zip").ok


async def test_existing_names_get_a_suffix_never_overwritten(svc: Services, world: World, out: Path) -> None:
    items = (await svc.exports.project_items(OPERATOR, world.small))[:1]
    first = await svc.exports.export(OPERATOR, items, out, ExportOptions("mp4", name="case-7"))
    before = {p: p.read_bytes() for p in first.path.iterdir()}
    second = await svc.exports.export(OPERATOR, items, out, ExportOptions("mp4", name="case-7", burn_timestamp=True))
    assert (first.path.name, second.path.name) == ("case-7", "case-7-2")
    assert {p: p.read_bytes() for p in first.path.iterdir()} == before
    (out / "case-8.zip").write_bytes(b"precious")
    (out / "case-8-2.zip").mkdir()
    third = await svc.exports.export(OPERATOR, items, out, ExportOptions("package", zip=True, name="case-8"))
    assert third.path.name == "case-8-3.zip" and zipfile.is_zipfile(third.path)
    assert (out / "case-8.zip").read_bytes() == b"precious" and list((out / "case-8-2.zip").iterdir()) == []


# -- the export list (both backends) ---------------------------------------------------------------
async def test_export_list_and_permissions(db_url: str, tmp_path: Path) -> None:
    s = Services(settings(db_url, tmp_path / "media"))
    try:
        await s.db.upgrade()
        await seed_defaults(s.db, cameras=4)
        type_id = (await s.incidents.types())[0].id
        spans = [(1, 0, 10), (3, 5, 20), (2, 30, 31)]
        iid = await s.incidents.create(OPERATOR, type_id, "three sequences", [
            SequenceInput(cam, T0 + timedelta(seconds=a), T0 + timedelta(seconds=b)) for cam, a, b in spans])
        empty = await s.incidents.create(OPERATOR, type_id, "no sequences")

        assert await s.exports.send_for_export(OPERATOR, iid) == 3
        listed = await s.exports.list(OPERATOR)
        expected = [(i.incident_id, i.camera_id, i.start_time, i.end_time)
                    for i in await s.exports.project_items(OPERATOR, iid)]
        assert [(i.incident_id, i.camera_id, i.start_time, i.end_time) for i in listed] == expected
        assert sorted(i.camera_id for i in listed) == [1, 2, 3]
        actions = [a.action for a in await s.incidents.activity(OPERATOR, iid)]
        assert actions.count("sent_for_export") == 1
        assert await s.exports.list(ADMIN) == []  # the list is per user

        await s.exports.remove(OPERATOR, [listed[0].id])
        assert [i.id for i in await s.exports.list(OPERATOR)] == [i.id for i in listed[1:]]
        await s.exports.remove(ADMIN, [listed[1].id])  # someone else's item: untouched
        assert len(await s.exports.list(OPERATOR)) == 2

        with pytest.raises(InvalidInput):
            await s.exports.send_for_export(OPERATOR, empty)
        for call in (lambda: s.exports.send_for_export(VIEWER, iid), lambda: s.exports.list(VIEWER),
                     lambda: s.exports.remove(VIEWER, [listed[1].id]), lambda: s.exports.project_items(VIEWER, iid),
                     lambda: s.exports.export(VIEWER, listed, tmp_path, ExportOptions("mp4"))):
            with pytest.raises(PermissionDenied):
                await call()
        assert len(await s.exports.list(OPERATOR)) == 2
        assert [a.action for a in await s.incidents.activity(OPERATOR, iid)].count("sent_for_export") == 1
    finally:
        await s.close()


# -- the commands --------------------------------------------------------------------------------------
def test_cli_report_export_verify(world: World, tmp_path: Path) -> None:
    copy_db(world, tmp_path)
    config = tmp_path / "imtui.toml"
    config.write_text(f'[auth]\ntrust_os_user = true\n[media]\ndir = "{world.media}"\n[site]\ntimezone = "UTC"\n')
    env = {"IMTUI_CONFIG": str(config), "IMTUI_DATA_DIR": str(tmp_path / "data")}
    base = ("--db", f"sqlite:///{tmp_path / 'imtui.db'}", "--user", "operator")

    pdf = tmp_path / "x.pdf"
    r = run(*base, "report", str(world.small), "--out", str(pdf), env=env)
    assert r.returncode == 0, r.stderr
    assert pdf.read_bytes()[:5] == b"%PDF-" and "Report saved" in r.stdout
    text = pdf_text(pdf)
    assert TITLE in text and "small comment 2 kept" in text and "alice.m" not in text

    dest = tmp_path / "dest"
    dest.mkdir()
    r = run(*base, "--json", "export", str(world.small), "--out", str(dest), "--format", "package", "--zip", env=env)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    package = Path(data["path"])
    assert package.parent == dest and package.suffix == ".zip" and list(dest.iterdir()) == [package]
    assert len(data["clips"]) == 3 and data["missing"] == [] and data["frames"] > 0
    with zipfile.ZipFile(package) as z:
        assert sha256(z.read("manifest.json")) == data["manifest_sha256"]

    r = run("verify", str(package), env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("OK: 5 files match the manifest") and data["manifest_sha256"] in r.stdout

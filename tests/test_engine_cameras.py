"""Cameras: sources, settings, refusals, audit (both backends); the CLI on SQLite."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from conftest import ADMIN, OPERATOR
from imtui.engine.audit import AuditService
from imtui.engine.errors import InvalidInput, PermissionDenied
from imtui.engine.incidents import IncidentService, SequenceInput
from imtui.engine.properties import InUse
from imtui.engine.video.cameras import CameraService
from imtui.storage.db import Database


async def test_cameras_add_edit_delete(db: Database) -> None:
    cams = CameraService(db)
    seeded = await cams.list(ADMIN)
    assert len(seeded) == 4 and all(c.source.startswith("synthetic:") for c in seeded)
    new = await cams.add(ADMIN, "Gate", "rtsp://10.0.0.5/stream1", retention_days="14", motion_sensitivity=70)
    await cams.edit(ADMIN, new, enabled=False, source="synthetic:?size=320x240&fps=2")
    gate = next(c for c in await cams.list(ADMIN) if c.id == new)
    assert (gate.name, gate.enabled, gate.retention_days, gate.motion_sensitivity, gate.source) == (
        "Gate", False, 14, 70, "synthetic:?size=320x240&fps=2")
    for bad, field in ((dict(source="ftp://x"), "source"), (dict(retention_days="0"), "retention_days"),
                       (dict(motion_sensitivity="101"), "motion_sensitivity"), (dict(name=" "), "name")):
        with pytest.raises(InvalidInput) as err:
            await cams.edit(ADMIN, new, **bad)
        assert err.value.field == field
    await cams.delete(ADMIN, new)
    assert all(c.id != new for c in await cams.list(ADMIN))
    actions = [e.action for e in await AuditService(db).entries(ADMIN)][:3]
    assert actions == ["camera_deleted", "camera_changed", "camera_added"]


async def test_a_camera_holding_evidence_cannot_be_deleted(db: Database) -> None:
    cams, svc = CameraService(db), IncidentService(db)
    cam = (await cams.list(ADMIN))[0]
    t = datetime(2026, 4, 1, tzinfo=UTC)
    await svc.create(OPERATOR, (await svc.types())[0].id, "x", [SequenceInput(cam.id, t, t)])
    with pytest.raises(InUse) as err:
        await cams.delete(ADMIN, cam.id)
    assert "1 sequence of incident projects uses it; disable it instead" in err.value.message
    with pytest.raises(PermissionDenied):
        await cams.add(OPERATOR, "x", "synthetic:")


def test_cameras_cli(tmp_path) -> None:  # noqa: ANN001
    from test_cli_admin import admin, ok, refused
    from test_cli import run_in_process as run

    url = f"sqlite:///{tmp_path / 'cams.db'}"
    assert run("--db", url, "seed", "--cameras", "2").returncode == 0
    new = ok(admin(url, "cameras", "add", "Dock", "--source", "synthetic:?fps=2", "--retention-days", "7"))["id"]
    ok(admin(url, "cameras", "edit", str(new), "--disable", "--sensitivity", "20"))
    dock = next(c for c in ok(admin(url, "cameras", "list"))["items"] if c["id"] == new)
    assert (dock["enabled"], dock["motion_sensitivity"], dock["retention_days"]) == (False, 20, 7)
    assert refused(admin(url, "cameras", "add", "X", "--source", "gopher://x")).startswith("Source:")
    assert refused(admin(url, "cameras", "edit", str(new), "--retention-days", "0")) == (
        "Recording retention (days): type a whole number from 1 to 36,500.")
    ok(admin(url, "cameras", "delete", str(new)))

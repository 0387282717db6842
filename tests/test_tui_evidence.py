"""Pilot tests for the report dialog (#report) and the export list (#exports): the real app on a
real database over real recordings, producing real PDFs and clips."""

from __future__ import annotations

import asyncio

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
from textual.widgets import Button, Checkbox, DataTable, Input, Select

from conftest import OPERATOR
from imtui.engine.incidents import IncidentService, SequenceInput
from imtui.engine.permissions import Actor
from imtui.engine.seed import seed_defaults
from imtui.engine.video.synthetic import SyntheticCamera
from imtui.screens.confirm import ConfirmDialog
from imtui.screens.editor import IncidentEditorScreen
from imtui.screens.exports import ExportsScreen
from imtui.screens.report_dialog import ReportDialog
from imtui.storage.db import Database
from pilot import make_app, notifications, settle, wait_for
from recording import record_into

T0 = datetime(2026, 4, 7, 9, 0, tzinfo=UTC)
SOURCE = "synthetic:?size=320x240&fps=4&every=10&cross=8"


async def world(url: str, media: Path, *, seconds: int = 4, source: str = SOURCE) -> int:
    """One project with three sequences (``seconds`` long) over a recorded minute and comments by two users."""
    db = Database(url)
    try:
        await db.upgrade()
        await seed_defaults(db, cameras=2)
        svc = IncidentService(db)
        seqs = [SequenceInput(1, T0 + timedelta(seconds=20 * i), T0 + timedelta(seconds=20 * i + seconds))
                for i in range(3)]
        iid = await svc.create(OPERATOR, (await svc.types())[0].id, "Pallet fell in aisle 4", seqs)
        await svc.add_comment(Actor("alice.m", "operator"), iid, "First on scene")
        await svc.add_comment(Actor("bob.k", "operator"), iid, "Area closed")
    finally:
        await db.dispose()
    await record_into(url, media, 1, SyntheticCamera.from_source(source, start=T0), 60)
    return iid


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


async def activity_actions(url: str, iid: int) -> list[str]:
    db = Database(url)
    try:
        return [a.action for a in await IncidentService(db).activity(OPERATOR, iid)]
    finally:
        await db.dispose()


async def test_report_dialog_saves_pdf_with_pseudonyms_then_names(sqlite_url: str, tmp_path: Path) -> None:
    iid = await world(sqlite_url, tmp_path / "media")
    app = make_app(sqlite_url, media_dir=tmp_path / "media", timezone=UTC)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("r")
        await settle(app, pilot)
        assert isinstance(app.screen, ReportDialog) and app.screen.id == "report"
        assert app.screen.query_one("#report-show-names", Checkbox).value is False  # hidden by default
        hidden = tmp_path / "hidden.pdf"
        app.screen.query_one("#report-path", Input).value = str(hidden)
        await pilot.press("ctrl+s")
        await wait_for(lambda: hidden.exists() and not app.screen.busy, 60, pilot)
        await settle(app, pilot)
        text = pdf_text(hidden)
        assert "User 1" in text and "User 2" in text
        assert "alice.m" not in text and "bob.k" not in text
        assert "Report saved" in str(app.screen.query_one("#report-status").render())

        app.screen.query_one("#report-show-names", Checkbox).value = True
        shown = tmp_path / "shown"  # ".pdf" is added
        app.screen.query_one("#report-path", Input).value = str(shown)
        await pilot.click("#report-save")
        await wait_for(lambda: (tmp_path / "shown.pdf").exists() and not app.screen.busy, 60, pilot)
        text = pdf_text(tmp_path / "shown.pdf")
        assert "alice.m" in text and "bob.k" in text and "User 1" not in text

        # A folder that does not exist: the message names the field and the fix; nothing written.
        app.screen.query_one("#report-path", Input).value = str(tmp_path / "nope" / "r.pdf")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert any("Save as: the folder" in n and "does not exist" in n for n in notifications(app))
        assert app.focused is app.screen.query_one("#report-path", Input)
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen.id != "report"
    assert (await activity_actions(sqlite_url, iid)).count("report_generated") == 2


async def test_report_from_editor_and_deleted_project(sqlite_url: str, tmp_path: Path) -> None:
    iid = await world(sqlite_url, tmp_path / "media")
    app = make_app(sqlite_url, media_dir=tmp_path / "media", timezone=UTC)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, IncidentEditorScreen)
        app.screen.query_one("#sequences", DataTable).focus()  # no letter acts in the editor
        await pilot.press("r")
        await settle(app, pilot)
        assert isinstance(app.screen, IncidentEditorScreen)
        await pilot.press("f6")
        await settle(app, pilot)
        assert isinstance(app.screen, ReportDialog)
        db = Database(sqlite_url)  # another operator deletes the project meanwhile
        try:
            await IncidentService(db).delete(OPERATOR, iid)
        finally:
            await db.dispose()
        app.screen.query_one("#report-path", Input).value = str(tmp_path / "gone.pdf")
        await pilot.press("ctrl+s")
        await wait_for(lambda: not app.screen.busy, 30, pilot)
        await settle(app, pilot)
        assert "Cannot generate report. Try again later." in notifications(app)
        assert not (tmp_path / "gone.pdf").exists()


async def test_send_for_export_then_export_package_and_cancel(sqlite_url: str, tmp_path: Path) -> None:
    iid = await world(sqlite_url, tmp_path / "media")
    out = tmp_path / "out"
    out.mkdir()
    app = make_app(sqlite_url, media_dir=tmp_path / "media", timezone=UTC)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("e")  # Send for export asks first: escape sends nothing
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("escape")
        await settle(app, pilot)
        assert "sent_for_export" not in await activity_actions(sqlite_url, iid)
        await pilot.press("e", "left", "enter")  # yes: every sequence goes on the list, the list opens
        await settle(app, pilot)
        assert isinstance(app.screen, ExportsScreen) and app.screen.id == "exports"
        table = app.screen.query_one("#export-list", DataTable)
        assert table.row_count == 3
        await pilot.press("delete")  # the operator may remove items (after a yes)
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("left", "enter")
        await settle(app, pilot)
        assert table.row_count == 2

        # Cancelled right after starting: nothing is left in the folder.
        app.screen.query_one("#export-folder", Input).value = str(out)
        # Start and cancel without the pilot's idle waits (each waits up to a second for a quiet
        # CPU, long enough for a busy export to finish): the same handlers the keys and buttons use.
        app.screen.action_start()
        cancel = app.screen.query_one("#export-cancel", Button)
        for _ in range(500):
            if not cancel.disabled:
                break
            await asyncio.sleep(0.01)
        assert not cancel.disabled
        cancel.press()
        await wait_for(lambda: not app.screen.running, 30, pilot)
        await settle(app, pilot)
        assert "Export cancelled." in notifications(app), notifications(app)
        assert list(out.iterdir()) == []

        # Now a real one: MP4 files with the time on the picture.
        app.screen.query_one("#export-format", Select).value = "mp4"
        app.screen.query_one("#export-timestamp", Checkbox).value = True
        app.screen.query_one("#export-name", Input).value = "../../escape attempt"
        await pilot.press("ctrl+s")
        await wait_for(lambda: not app.screen.running and any(out.iterdir()), 60, pilot)
        await settle(app, pilot)
        written = list(out.iterdir())
        assert [p.name for p in written] == ["escape_attempt"]  # sanitised, inside the folder
        clips = sorted(written[0].glob("*.mp4"))
        assert len(clips) == 2
        for clip in clips:
            cap = cv2.VideoCapture(str(clip))
            assert cap.get(cv2.CAP_PROP_FRAME_COUNT) >= 10  # about 4 s at 4 fps
            cap.release()
        assert "Exported 2 sequences" in str(app.screen.query_one("#export-status").render())
    actions = await activity_actions(sqlite_url, iid)
    assert actions.count("sent_for_export") == 1 and actions.count("exported") == 1


async def test_viewer_cannot_export(sqlite_url: str, tmp_path: Path) -> None:
    await world(sqlite_url, tmp_path / "media")
    app = make_app(sqlite_url, user="viewer", media_dir=tmp_path / "media", timezone=UTC)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("e")
        await settle(app, pilot)
        assert not isinstance(app.screen, ExportsScreen)
        await pilot.press("r")  # viewers may make reports
        await settle(app, pilot)
        assert isinstance(app.screen, ReportDialog)

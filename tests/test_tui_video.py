"""Video under pilot: playback marking and the three ways to add, the draft list's two "add"
paths, a real-time project across a view switch, View video, and frames that come from the right
time (compared pixel by pixel with what the synthetic camera drew at that moment)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from textual.widgets import DataTable, Input, Select

from conftest import OPERATOR
from imtui.engine.drafts import DraftService
from imtui.engine.incidents import IncidentService, SequenceInput
from imtui.engine.seed import seed_defaults
from imtui.engine.video.media import MediaStore
from imtui.engine.video.synthetic import SyntheticCamera
from imtui.screens.drafts import DraftsScreen
from imtui.screens.frame_view import FrameView
from imtui.screens.live import LiveScreen
from imtui.screens.pick_incident import PickIncidentScreen
from imtui.screens.playback import PlaybackScreen
from imtui.screens.video import VideoScreen
from imtui.storage.db import Database
from pilot import make_app, notifications, settle, wait_for
from recording import record_into

T0 = datetime(2026, 4, 7, 9, 0, tzinfo=UTC)
SOURCE = "synthetic:?size=320x240&fps=4&every=20&cross=6"


def camera() -> SyntheticCamera:
    return SyntheticCamera.from_source(SOURCE, start=T0)


async def world(url: str, media: Path, *, incidents: int = 1) -> list[int]:
    """Default properties, 4 cameras (two live views), 60 s of camera 1 recorded, and projects."""
    db = Database(url)
    try:
        await db.upgrade()
        await seed_defaults(db, cameras=4)
        svc = IncidentService(db)
        ids = [await svc.create(OPERATOR, (await svc.types())[0].id, f"existing {i}") for i in range(incidents)]
    finally:
        await db.dispose()
    await record_into(url, media, 1, camera(), 60)
    return ids


async def project(url: str, incident_id: int):  # noqa: ANN201
    db = Database(url)
    try:
        return await IncidentService(db).get(OPERATOR, incident_id)
    finally:
        await db.dispose()


def assert_frame_is(view: FrameView, at: datetime) -> None:
    """The frame on screen is the one the camera drew at ``at`` (not its neighbours)."""
    cam = camera()
    index = round((at - T0).total_seconds() * cam.fps)
    shown = view.shown_frame.astype(int)
    here = np.abs(shown - cam.frame(index)[0]).mean()
    for other in (index - 1, index + 1):
        assert here < np.abs(shown - cam.frame(other)[0]).mean(), (at, other)
    assert here < 3.0  # JPEG noise only


async def go_to(app, pilot, when: str) -> None:  # noqa: ANN001
    await pilot.press("g")
    field = app.screen.query_one("#playback-time", Input)
    field.value = when
    await pilot.press("enter")
    await settle(app, pilot)


async def test_playback_moves_marks_and_adds_three_ways(sqlite_url: str, tmp_path: Path) -> None:
    [existing] = await world(sqlite_url, tmp_path / "media")
    app = make_app(sqlite_url, media_dir=tmp_path / "media", image_mode="halfcell", timezone=UTC)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("p")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, PlaybackScreen) and screen.id == "playback"
        view = screen.query_one("#playback-frame", FrameView)
        assert screen.query_one("#playback-camera", Select).value == 1
        # it opens on the camera's latest recorded period: the third vehicle (enters at 45 s)
        assert view.shown_time == T0 + timedelta(seconds=43.25)
        await go_to(app, pilot, "2026-04-07 09:00:26")
        assert view.shown_time == T0 + timedelta(seconds=26)
        assert_frame_is(view, view.shown_time)
        assert "motion" in str(view.query_one(".frame-caption").render())
        await pilot.press("full_stop")
        await settle(app, pilot)
        assert view.shown_time == T0 + timedelta(seconds=26.25)
        await pilot.press("right")
        await settle(app, pilot)
        assert view.shown_time == T0 + timedelta(seconds=27.25)
        assert_frame_is(view, view.shown_time)
        await pilot.press("comma", "comma")
        await settle(app, pilot)
        assert view.shown_time == T0 + timedelta(seconds=26.75)
        # periods: previous / next recorded period
        await pilot.press("pageup")
        await settle(app, pilot)
        assert view.shown_time == T0 + timedelta(seconds=3.25)
        await pilot.press("pagedown")
        await settle(app, pilot)
        assert view.shown_time == T0 + timedelta(seconds=23.25)
        await go_to(app, pilot, "2026-04-07 09:00:18")  # between periods
        assert view.shown_time is None and "no recording" in str(view.query_one(".frame-caption").render())

        # marks only where something was recorded, and a sequence stays inside one period
        await pilot.press("s")
        assert any(m.startswith("Sequence: nothing was recorded") for m in notifications(app))
        await go_to(app, pilot, "2026-04-07 09:00:10")
        await pilot.press("s", "pagedown")
        await settle(app, pilot)
        await pilot.press("e")
        await pilot.press("n")
        await settle(app, pilot)
        assert any("different recorded periods" in m for m in notifications(app))
        assert isinstance(app.screen, PlaybackScreen)

        # 1) mark start and end, add to a new project
        await go_to(app, pilot, "2026-04-07 09:00:25")
        await pilot.press("s")
        await pilot.press("right_square_bracket")  # +10 s: past the period's end
        await settle(app, pilot)
        await pilot.press("pageup")  # from the gap back to the period's start …
        await settle(app, pilot)
        await pilot.press("right_square_bracket")  # … +10 s: 33.25, inside
        await settle(app, pilot)
        await pilot.press("e")
        await pilot.press("n")
        await settle(app, pilot)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        created = [m for m in notifications(app) if "created" in m]
        assert created, notifications(app)
        new_id = int(created[-1].split()[2])
        seqs = (await project(sqlite_url, new_id)).sequences
        assert [(q.camera_id, q.start_time, q.end_time) for q in seqs] == [
            (1, T0 + timedelta(seconds=25), T0 + timedelta(seconds=33.25))]

        # 2) the draft sequence list
        await go_to(app, pilot, "2026-04-07 09:00:04")
        await pilot.press("s", "right", "e", "a")
        await settle(app, pilot)
        assert "Sequence added to the draft sequence list." in notifications(app)

        # 3) an existing project, picked from the filtered list
        await pilot.press("s", "right", "right", "e", "x")
        await settle(app, pilot)
        assert isinstance(app.screen, PickIncidentScreen)
        await pilot.press("slash")
        app.screen.query_one("#filter-text", Input).value = "existing"
        await pilot.press("enter")
        await settle(app, pilot)
        app.screen.query_one("#incidents", DataTable).focus()
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, PlaybackScreen)
        seqs = (await project(sqlite_url, existing)).sequences
        assert [(q.start_time, q.end_time) for q in seqs] == [
            (T0 + timedelta(seconds=5), T0 + timedelta(seconds=7))]  # the cursor stayed at 5 s

        # an end before the start is refused with the field named; nothing is added
        await pilot.press("s", "left", "e", "a")
        await settle(app, pilot)
        assert any(m.startswith("End time:") for m in notifications(app))
    db = Database(sqlite_url)
    try:
        assert [(d.start_time, d.end_time) for d in await DraftService(db).list(OPERATOR)] == [
            (T0 + timedelta(seconds=4), T0 + timedelta(seconds=5))]
    finally:
        await db.dispose()


async def test_draft_list_add_selected_to_existing_and_all_to_new(sqlite_url: str, tmp_path: Path) -> None:
    existing = await world(sqlite_url, tmp_path / "media", incidents=2)
    db = Database(sqlite_url)
    try:
        drafts = DraftService(db)
        for k in range(3):
            await drafts.add(OPERATOR, 1 + k, T0 + timedelta(minutes=k), T0 + timedelta(minutes=k, seconds=30))
    finally:
        await db.dispose()
    app = make_app(sqlite_url, media_dir=tmp_path / "media", image_mode="off")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("d")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, DraftsScreen) and screen.id == "drafts"
        table = screen.query_one("#drafts", DataTable)
        assert table.row_count == 3
        await pilot.press("down", "space")  # select the second draft
        await settle(app, pilot)
        await pilot.press("x")
        await settle(app, pilot)
        assert isinstance(app.screen, PickIncidentScreen)
        picker = app.screen.query_one("#incidents", DataTable)
        picker.focus()
        target = app.screen.selected_incident()[0]
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen is screen and table.row_count == 2
        seqs = (await project(sqlite_url, target)).sequences
        assert [(q.camera_id, q.start_time) for q in seqs] == [(2, T0 + timedelta(minutes=1))]
        assert target in existing
        # all the rest to a new project
        await pilot.press("n")
        await settle(app, pilot)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert table.row_count == 0
        created = [m for m in notifications(app) if "created" in m]
        new_id = int(created[-1].split()[2])
        seqs = (await project(sqlite_url, new_id)).sequences
        assert sorted(q.camera_id for q in seqs) == [1, 3]


async def test_realtime_project_follows_a_view_switch(sqlite_url: str, tmp_path: Path) -> None:
    await world(sqlite_url, tmp_path / "media")
    busy = "synthetic:?size=160x120&fps=2&every=6&cross=6"  # one vehicle after another: recorded throughout
    since = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=30)
    for camera_id in (1, 2, 3, 4):  # each camera recorded from 30 s ago to 90 s ahead
        await record_into(sqlite_url, tmp_path / "media", camera_id, SyntheticCamera.from_source(busy, start=since), 120)
    store = MediaStore(tmp_path / "media")
    store.live_path(4).unlink()  # as if the worker had not shown camera 4 yet
    frame, _ = camera().frame(100)
    store.write_live(3, frame, T0 + timedelta(seconds=25), 0.04)  # what a worker leaves for live mode
    app = make_app(sqlite_url, media_dir=tmp_path / "media", image_mode="unicode")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("l")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, LiveScreen) and screen.id == "live"
        select = screen.query_one("#live-view", Select)
        assert screen.view.name == "Car park" and [c.id for c in screen.view.cameras] == [3, 4]
        await wait_for(lambda: screen.query_one("#live-cam-3", FrameView).shown_time is not None, pilot=pilot)
        assert screen.query_one("#live-cam-3", FrameView).shown_time == T0 + timedelta(seconds=25)
        assert screen.query_one("#live-cam-4", FrameView).shown_time is None  # no frame from the worker yet
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        assert screen.project is not None
        started = screen.project.started
        await pilot.pause(1.1)
        assert "00:00:01" in str(screen.query_one("#live-project").render())
        select.value = next(v.id for v in screen.views if v.name == "Entrance")
        await settle(app, pilot)
        assert [c.id for c in screen.view.cameras] == [1, 2]
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert screen.project is None
        created = [m for m in notifications(app) if "created" in m]
        assert created[-1].endswith("created with 4 sequences.")
        new_id = int(created[-1].split()[2])
    seqs = sorted((await project(sqlite_url, new_id)).sequences, key=lambda q: (q.start_time, q.camera_id))
    assert [q.camera_id for q in seqs] == [3, 4, 1, 2]
    assert seqs[0].start_time == seqs[1].start_time == started
    switched = seqs[0].end_time
    assert seqs[1].end_time == switched == seqs[2].start_time == seqs[3].start_time
    assert seqs[2].end_time == seqs[3].end_time > switched


async def test_view_video_plays_the_sequence_from_the_right_time(sqlite_url: str, tmp_path: Path) -> None:
    [iid] = await world(sqlite_url, tmp_path / "media")
    db = Database(sqlite_url)
    try:
        await IncidentService(db).add_sequences(OPERATOR, iid, [SequenceInput(1, T0 + timedelta(seconds=26),
                                                                               T0 + timedelta(seconds=30))])
    finally:
        await db.dispose()
    app = make_app(sqlite_url, media_dir=tmp_path / "media", image_mode="halfcell", video_fps=4.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.screen.query_one("#incidents", DataTable).focus()
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press("ctrl+n", "ctrl+n", "ctrl+n")  # main → categories → comments → sequences
        await settle(app, pilot)
        app.screen.query_one("#sequences", DataTable).focus()
        await pilot.press("enter")  # enter on a sequence plays it (no letter acts in the editor)
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, VideoScreen) and screen.id == "video"
        view = screen.query_one("#video-frame", FrameView)
        assert view.shown_time == T0 + timedelta(seconds=26)
        assert_frame_is(view, view.shown_time)
        await pilot.press("space")
        await wait_for(lambda: view.shown_time >= T0 + timedelta(seconds=27), timeout=5, pilot=pilot)
        await pilot.press("space")  # pause
        await settle(app, pilot)
        paused_at = view.shown_time
        assert_frame_is(view, paused_at)
        assert "paused" in str(view.query_one(".frame-caption").render())
        await pilot.press("full_stop")
        await settle(app, pilot)
        assert view.shown_time == paused_at + timedelta(seconds=0.25)
        await pilot.press("plus", "plus", "space")  # ×4: 4 drawn frames a second, 1 s of video each
        await wait_for(lambda: not screen.playing, timeout=10, pilot=pilot)
        await settle(app, pilot)  # the player stops first, then draws the last frame
        assert view.shown_time == T0 + timedelta(seconds=30)  # stopped at the sequence's end
        assert_frame_is(view, view.shown_time)
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen.id != "video"


async def test_image_mode_off_draws_no_picture(sqlite_url: str, tmp_path: Path) -> None:
    await world(sqlite_url, tmp_path / "media")
    store = MediaStore(tmp_path / "media")
    store.write_live(3, camera().frame(100)[0], T0, 0.0)
    app = make_app(sqlite_url, media_dir=tmp_path / "media", image_mode="off", timezone=UTC)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("p")
        await settle(app, pilot)
        await go_to(app, pilot, "2026-04-07 09:00:26")
        view = app.screen.query_one("#playback-frame", FrameView)
        assert not view.query(".frame-image")
        caption = str(view.query_one(".frame-caption").render())
        assert caption.startswith("2026-04-07 09:00:26.000 · motion") and view.shown_time == T0 + timedelta(seconds=26)
        await pilot.press("escape")
        await settle(app, pilot)
        await pilot.press("l")
        await settle(app, pilot)
        await pilot.pause(1.2)
        live = app.screen.query_one("#live-cam-3", FrameView)
        assert not live.query(".frame-image") and live.shown_time is None  # nothing drawn, ever

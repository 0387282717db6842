"""Incident reports as real PDFs: a big project (300 comments by several users, 20 calls, 10
sequences over real recordings of a synthetic camera) rendered by WeasyPrint and read back with
poppler (pdftotext, pdftoppm) and OpenCV; pseudonyms, nothing cut, the page footer; parts missing
part-way (media files gone, a table gone, the project gone); activity and audit on both
backends; printing through a fake ``lp``; user text with markup and escapes printed literally.

The recorded world is built once (``world_template``, shared with test_export.py) and each test
works on its own copy of the SQLite file.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import cv2
import numpy as np
import pytest
import sqlalchemy as sa

from conftest import ADMIN, OPERATOR, VIEWER
from imtui.config import Settings
from imtui.engine.errors import PermissionDenied, ServiceError
from imtui.engine.incidents import CallInput, SequenceInput
from imtui.engine.permissions import Actor, Feature, Level
from imtui.engine.seed import seed_defaults
from imtui.engine.services import Services
from imtui.engine.video.synthetic import SyntheticCamera
from imtui.storage.models import Comment
from imtui.engine.video.recorder import Recorder
from imtui.engine.video.worker import Worker
from imtui.storage.db import Database
from recording import record_into, settings_for

T0 = datetime(2026, 4, 7, 9, 0, tzinfo=UTC)
SOURCE = "synthetic:?size=320x240&fps=4&every=10&cross=8"  # motion all the time: one long recorded period
TITLE = "Harbour Gate Security Log"
EVIL_CAMERA = "../x/\x1b[2J"
CREATOR, CALLER = "dave.r", "erin.s"
AUTHORS = ("alice.m", "bob.k", "carol.t")
REAL_NAMES = (CREATOR, CALLER, *AUTHORS)
# 500 characters without a break (hex: no dictionary would hyphenate it, so any loss is a cut)
LONG_WORD = "".join(hashlib.sha256(str(i).encode()).hexdigest() for i in range(8))[:500]
MARKUP = "<b>x</b> {{ 7*7 }} \x1b[31mred\x1b[0m"
PARTIAL = "Report generated but not all information is included."


@dataclass(frozen=True)
class World:
    root: Path
    db: Path  # the template SQLite file: copy it, never write to it
    media: Path  # shared media store: copy it before changing it
    big: int  # 300 comments, 20 calls, 10 sequences on camera 1
    small: int  # 2 comments, 2 calls, 3 sequences on camera 1
    evil: int  # 1 sequence on camera 2, named EVIL_CAMERA
    markup: int  # MARKUP in description, comment and call; no sequences
    # sequences of the small project (camera 1)
    small_spans: tuple[tuple[datetime, datetime], ...] = ()


SMALL_SPANS = ((T0 + timedelta(seconds=20.5), T0 + timedelta(seconds=26)),  # across a segment boundary
               (T0 + timedelta(seconds=30), T0 + timedelta(seconds=33)),
               (T0 + timedelta(seconds=45), T0 + timedelta(seconds=47.5)))


async def record_with_drops(url: str, media: Path, camera_id: int, cam: SyntheticCamera, seconds: float) -> None:
    """Like recording.record_into, but the camera drops every fifth frame: the recorded frame rate
    is irregular and below the nominal one, as on a loaded network (a clip's rate must follow it)."""
    db = Database(url)
    try:
        worker = Worker(db, settings_for(db, media))
        s = worker.settings
        rec = Recorder(worker.store, camera_id, fps=cam.fps, pre=s.pre_seconds, post=s.post_seconds,
                       segment_seconds=s.segment_seconds, outbox=lambda item: worker.outbox.put((camera_id, item)))
        for i in range(int(seconds * cam.fps)):
            if i % 5 != 2:
                frame, _ = cam.frame(i)
                rec.feed(frame, cam.start + timedelta(seconds=cam.time_of(i)))
        rec.close()
        await worker.flush()
    finally:
        await db.dispose()


def settings(url: str, media: Path) -> Settings:
    return Settings(database_url=url, media_dir=media, timezone=ZoneInfo("UTC"))


async def _build(root: Path) -> World:
    db_file = root / "template.db"
    url = f"sqlite+aiosqlite:///{db_file}"
    media = root / "media"
    s = Services(settings(url, media))
    try:
        await s.db.upgrade()
        await seed_defaults(s.db, cameras=2)
        await s.properties.set_options(ADMIN, report_title=TITLE)
        await s.cameras.edit(ADMIN, 2, name=EVIL_CAMERA)
        await record_with_drops(url, media, 1, SyntheticCamera.from_source(SOURCE, start=T0), 60)
        await record_into(url, media, 2, SyntheticCamera.from_source(SOURCE, start=T0), 12)
        type_id = (await s.incidents.types())[0].id
        creator = Actor(CREATOR, "operator")

        big = await s.incidents.create(
            creator, type_id, f"Forklift hit a shelf in aisle 4. {LONG_WORD} End of description.",
            [SequenceInput(1, T0 + timedelta(seconds=5 * i + 1), T0 + timedelta(seconds=5 * i + 4.5)) for i in range(10)])
        filler = "the guard checked the aisle and reported back "
        async with s.db.write() as session:  # 300 comments in one transaction (one by one takes seconds)
            await session.execute(sa.insert(Comment.__table__), [
                dict(incident_id=big, created_at=T0 + timedelta(minutes=i), updated_at=T0 + timedelta(minutes=i),
                     author=AUTHORS[i % 3], version=1,
                     text=f"cmt{i + 1:03d}x " + filler * (i % 5) + (LONG_WORD if i == 150 else ""))
                for i in range(300)])
        for i in range(20):
            await s.incidents.add_call(Actor(CALLER, "operator"), big, CallInput(
                T0 + timedelta(minutes=i), "incoming" if i % 2 else "outgoing", f"Party {i + 1:02d}", "+33 1 23 45 67",
                f"callnote{i + 1:02d}z " + "details " * 8))

        small = await s.incidents.create(OPERATOR, type_id, "Small project",
                                         [SequenceInput(1, a, b) for a, b in SMALL_SPANS])
        for i in range(2):
            await s.incidents.add_comment(Actor(AUTHORS[i], "operator"), small, f"small comment {i + 1} kept")
            await s.incidents.add_call(OPERATOR, small, CallInput(T0 + timedelta(minutes=i), "incoming",
                                                                  f"Smallparty {i + 1}", "112", "small call"))
        evil = await s.incidents.create(OPERATOR, type_id, "Evil camera",
                                        [SequenceInput(2, T0 + timedelta(seconds=2), T0 + timedelta(seconds=8))])
        markup = await s.incidents.create(OPERATOR, type_id, f"Description {MARKUP}")
        await s.incidents.add_comment(OPERATOR, markup, f"Comment {MARKUP}")
        await s.incidents.add_call(OPERATOR, markup, CallInput(T0, "incoming", "Markup party", "1", f"Notes {MARKUP}"))
    finally:
        await s.close()
    return World(root, db_file, media, big, small, evil, markup, SMALL_SPANS)


_TEMPLATE: dict[str, World] = {}


def world_template(factory: pytest.TempPathFactory) -> World:
    """The recorded world, built once per test session (test_export.py shares it)."""
    if "world" not in _TEMPLATE:
        _TEMPLATE["world"] = asyncio.run(_build(factory.mktemp("world")))
    return _TEMPLATE["world"]


def copy_db(world: World, folder: Path) -> str:
    """A private copy of the world's database; returns its URL."""
    target = folder / "imtui.db"
    shutil.copyfile(world.db, target)
    return f"sqlite+aiosqlite:///{target}"


def pdf_text(path: Path) -> str:
    done = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, timeout=60)
    return done.stdout.decode("utf-8")


def first_page_image(pdf: Path, folder: Path) -> np.ndarray:
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(pdf), str(folder / "page")],
                   check=True, timeout=60)
    (png,) = sorted(folder.glob("page*.png"))
    image = cv2.imread(str(png), cv2.IMREAD_GRAYSCALE)
    assert image is not None
    return image


def squeezed(text: str) -> str:
    """The text without whitespace and hyphens (where a renderer may break a long word)."""
    return "".join(ch for ch in text if not ch.isspace() and ch not in "-\u00ad\u2010\u2011")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return world_template(tmp_path_factory)


@pytest.fixture
async def svc(world: World, tmp_path: Path):  # noqa: ANN201
    """Services over a private copy of the world's database (the media store is shared, read only)."""
    services = Services(settings(copy_db(world, tmp_path), world.media))
    yield services
    await services.close()


# -- the big report ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rendered:
    hidden: object  # ReportResult
    hidden_text: str
    shown: object
    shown_text: str
    page_one: np.ndarray


@pytest.fixture(scope="module")
def big(world: World, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """The big project's report, once with pseudonyms and once with user names."""
    folder = tmp_path_factory.mktemp("big")

    async def go():  # noqa: ANN202
        s = Services(settings(copy_db(world, folder), world.media))
        try:
            hidden = await s.reports.save(OPERATOR, world.big, folder / "hidden.pdf")
            shown = await s.reports.save(OPERATOR, world.big, folder / "shown.pdf", show_user_names=True)
            return hidden, shown
        finally:
            await s.close()

    hidden, shown = asyncio.run(go())
    return Rendered(hidden, pdf_text(hidden.path), shown, pdf_text(shown.path), first_page_image(hidden.path, folder))


def test_big_report_page_one_is_not_blank(big: Rendered) -> None:
    page = big.page_one
    assert page.shape[0] > 300 and page.shape[1] > 200  # A4 at 40 dpi, about 331 x 468
    ink = float((page < 200).mean())
    assert ink > 0.03, f"page 1 is almost blank ({ink:.1%} of the pixels are not white)"
    # there is ink in the upper half (title, main fields) and in the lower half too (a full page)
    half = page.shape[0] // 2
    assert (page[:half] < 200).mean() > 0.02 and (page[half:] < 200).mean() > 0.02


def test_big_report_hides_user_names_unless_asked(big: Rendered) -> None:
    text = big.hidden_text
    for n in range(1, 6):  # creator, three commenters, the caller
        assert f"User {n}" in text
    assert "User 6" not in text
    for name in REAL_NAMES:
        assert name not in text, name
    assert big.hidden.missing == () and big.shown.missing == ()
    shown = big.shown_text
    for name in REAL_NAMES:
        assert name in shown, name
    assert "User 1" not in shown


def test_big_report_cuts_nothing(big: Rendered) -> None:
    for text in (big.hidden_text, big.shown_text):
        for i in range(1, 301):
            assert f"cmt{i:03d}x" in text, f"comment {i} is missing"
        for i in range(1, 21):
            assert f"callnote{i:02d}z" in text and f"Party {i:02d}" in text, f"call {i} is missing"
        assert text.index("cmt001x") < text.index("cmt150x") < text.index("cmt300x")
        assert "Sequence list (10)" in text and "Comments (300)" in text and "Calls (20)" in text
        flat = squeezed(text)
        assert flat.count(LONG_WORD) == 2, "the 500-character word was cut (description and comment 151)"
    assert "No picture" not in big.hidden_text


def test_big_report_pages_footer_and_titles(big: Rendered) -> None:
    pages = big.hidden.pages
    assert pages > 1
    text = big.hidden_text
    assert text.count("\f") in (pages, pages - 1)  # pdftotext ends every page with a form feed
    assert "Page 1 of %d" % pages in text and f"Page {pages} of {pages}" in text
    for n in range(1, pages + 1):
        assert f"Page {n} of {pages}" in text
    first = text.split("\f")[0]
    assert TITLE in first and "Incident report" in first
    assert first.index(TITLE) < first.index("Incident report")
    assert "Times are in UTC" in first and PARTIAL not in text
    assert big.hidden.message.startswith("Report saved:")
    assert b"%PDF" == Path(big.hidden.path).read_bytes()[:4]


# -- missing parts -----------------------------------------------------------------------------------
async def test_media_files_gone_the_report_names_the_sequence(world: World, tmp_path: Path) -> None:
    media = tmp_path / "media"
    shutil.copytree(world.media, media)
    s = Services(settings(copy_db(world, tmp_path), media))
    try:
        start, end = world.small_spans[2]
        clip = await s.recordings.clip(OPERATOR, 1, start, end)
        assert clip.frames > 0
        for part in clip.parts:  # the media files of the third sequence's recordings
            part.path.unlink()
            part.path.with_suffix(".idx").unlink(missing_ok=True)
        result = await s.reports.save(OPERATOR, world.small, tmp_path / "r.pdf")
    finally:
        await s.close()
    assert len(result.missing) == 1 and result.missing[0].startswith("picture of sequence 3 (")
    assert result.message.startswith(PARTIAL)
    text = pdf_text(result.path)
    assert PARTIAL in text and "picture of sequence 3" in text
    assert "No picture" in text  # in place of the thumbnail
    assert "small comment 2 kept" in text and "Smallparty 2" in text


async def test_table_gone_part_way_lists_calls_keeps_comments(world: World, tmp_path: Path) -> None:
    url = copy_db(world, tmp_path)
    con = sqlite3.connect(tmp_path / "imtui.db")
    con.execute("DROP TABLE call")
    con.commit()
    con.close()
    s = Services(settings(url, world.media))
    try:
        result = await s.reports.save(OPERATOR, world.small, tmp_path / "r.pdf")
    finally:
        await s.close()
    assert result.missing == ("calls",)
    assert result.message.startswith(PARTIAL) and "calls" in result.message
    text = pdf_text(result.path)
    assert PARTIAL in text
    assert "small comment 1 kept" in text and "small comment 2 kept" in text
    assert "Smallparty" not in text


async def test_project_gone_cannot_generate(svc: Services, world: World, tmp_path: Path) -> None:
    await svc.incidents.delete(OPERATOR, world.small)
    with pytest.raises(ServiceError, match=r"^Cannot generate report\. Try again later\.$"):
        await svc.reports.save(OPERATOR, world.small, tmp_path / "r.pdf")
    assert list(tmp_path.glob("*.pdf")) == [] and not list(tmp_path.glob(".imtui-report-*"))
    with pytest.raises(ServiceError, match="Cannot generate report"):
        await svc.reports.build(OPERATOR, 9999)


# -- activity, audit, permissions (both backends) ----------------------------------------------------
async def test_report_logs_activity_and_audit_once(db_url: str, tmp_path: Path) -> None:
    s = Services(settings(db_url, tmp_path / "media"))
    try:
        await s.db.upgrade()
        await seed_defaults(s.db, cameras=2)
        iid = await s.incidents.create(OPERATOR, (await s.incidents.types())[0].id, "Activity check")
        await s.incidents.add_comment(OPERATOR, iid, "one comment")
        result = await s.reports.save(OPERATOR, iid, tmp_path / "a.pdf")
        assert result.missing == () and result.path.read_bytes()[:4] == b"%PDF"
        activity = [a for a in await s.incidents.activity(OPERATOR, iid) if a.action.startswith("report_")]
        assert [(a.action, a.user) for a in activity] == [("report_generated", "operator")]
        assert "a.pdf" in activity[0].details and "user names hidden" in activity[0].details
        audit = [e for e in await s.audit.entries(ADMIN) if e.action.startswith("report_")]
        assert [(e.action, e.user, e.target) for e in audit] == [("report_generated", "operator", f"incident {iid}")]

        # a viewer may make a report of what it can see; it is logged under its name
        await s.reports.save(VIEWER, iid, tmp_path / "v.pdf")
        assert "one comment" in pdf_text(tmp_path / "v.pdf")
        users = [a.user for a in await s.incidents.activity(OPERATOR, iid) if a.action == "report_generated"]
        assert users == ["viewer", "operator"]

        # a role that sees incident projects but has no report permission
        no_report = Actor("nora", "clerk", grants=((Feature.INCIDENTS, Level.MANAGE), (Feature.COMMENTS, Level.VIEW)))
        with pytest.raises(PermissionDenied):
            await s.reports.save(no_report, iid, tmp_path / "n.pdf")
        with pytest.raises(PermissionDenied):
            await s.reports.build(no_report, iid)
        assert not (tmp_path / "n.pdf").exists()
        assert len([e for e in await s.audit.entries(ADMIN) if e.action == "report_generated"]) == 2
    finally:
        await s.close()


# -- printing ----------------------------------------------------------------------------------------
async def test_print_goes_through_lp(svc: Services, world: World, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    printed = tmp_path / "printed.pdf"
    lp = bin_dir / "lp"
    lp.write_text(f'#!/bin/sh\nfor last; do :; done\necho "$@" > "{tmp_path}/args"\ncp "$last" "{printed}"\n')
    lp.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    result = await svc.reports.print(OPERATOR, world.small)
    assert printed.read_bytes()[:5] == b"%PDF-"
    assert "small comment 1 kept" in pdf_text(printed)
    assert f"Incident report {world.small}" in (tmp_path / "args").read_text()
    assert result.pages >= 1 and result.missing == ()
    assert not result.path.exists()  # the temporary PDF is gone once printed
    actions = [a.action for a in await svc.incidents.activity(OPERATOR, world.small)]
    assert actions.count("report_printed") == 1 and "report_generated" not in actions
    assert [e.action for e in await svc.audit.entries(ADMIN) if e.action.startswith("report_")] == ["report_printed"]


async def test_print_without_lp_says_so(svc: Services, world: World, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(ServiceError) as raised:
        await svc.reports.print(OPERATOR, world.small)
    assert "lp" in str(raised.value).split() or "no lp command" in str(raised.value)
    assert "report_printed" not in [a.action for a in await svc.incidents.activity(OPERATOR, world.small)]


# -- user text is text ---------------------------------------------------------------------------------
async def test_markup_and_escapes_are_printed_literally(svc: Services, world: World, tmp_path: Path) -> None:
    result = await svc.reports.save(OPERATOR, world.markup, tmp_path / "m.pdf")
    raw = subprocess.run(["pdftotext", "-enc", "UTF-8", str(result.path), "-"], capture_output=True, check=True).stdout
    assert b"\x1b" not in raw
    text = raw.decode("utf-8")
    assert text.count("<b>x</b>") == 3  # description, comment, call notes
    assert text.count("{{ 7*7 }}") == 3
    # in order, not evaluated (no "49" in its place), ESC shown as its visible placeholder "\u241b"
    assert squeezed(text).count("<b>x</b>{{7*7}}\u241b[31mred\u241b[0m") == 3

"""Licence-plate match lists (MatchListService, ``imtui matchlist``) on both backends: lists and
their tolerances, the built-in "Unlisted license plates" list, custom fields (add, rename, delete,
move), entries (normalised with a note or refused with the rule, search with ``?``, pages of 50 to
1000, several rows edited at once), import all-or-nothing in add and replace modes, export, the
camera's list selection, audit entries, permissions; and the indexes the worker matches with."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import timedelta

import pytest

from conftest import ADMIN, VIEWER
from imtui.engine.audit import AuditService
from imtui.engine.errors import InvalidInput, NotFound, PermissionDenied
from imtui.engine.matchlists.service import MatchListService
from imtui.storage.db import Database
from imtui.engine.permissions import Actor, Feature, Level

PROPS_VIEWER = Actor("props-viewer", grants=((Feature.PROPERTIES, Level.VIEW),))


def service(db: Database) -> MatchListService:
    return MatchListService(db)


async def list_audit(db: Database) -> list[str]:
    return [e.details for e in await AuditService(db).entries(ADMIN) if e.target.startswith("match list")]


async def test_unlisted_list_is_built_in_and_protected(db) -> None:  # noqa: ANN001
    ml = service(db)
    lists = await ml.lists(ADMIN)
    assert [(v.name, v.kind) for v in lists] == [("Unlisted license plates", "unlisted")]
    unlisted = lists[0]
    with pytest.raises(InvalidInput, match="cannot be deleted"):
        await ml.delete(ADMIN, unlisted.id)
    with pytest.raises(InvalidInput, match="holds no plates"):
        await ml.add_entry(ADMIN, unlisted.id, "AB123")
    with pytest.raises(InvalidInput, match="holds no plates"):
        await ml.add_field(ADMIN, unlisted.id, "Owner")


async def test_create_edit_delete_with_audit_and_refusals(db) -> None:  # noqa: ANN001
    ml = service(db)
    v = await ml.create(ADMIN, "Stolen vehicles", ocr_equivalence=1, differences=1, fields=["Owner", "Reason"])
    assert (v.name, v.ocr_equivalence, v.differences, [f.name for f in v.fields], v.entries) == (
        "Stolen vehicles", 1, 1, ["Owner", "Reason"], 0)
    with pytest.raises(InvalidInput, match="exists; choose another name"):
        await ml.create(ADMIN, "stolen VEHICLES")
    with pytest.raises(InvalidInput, match="OCR equivalence: 3"):
        await ml.create(ADMIN, "X", ocr_equivalence=3)
    with pytest.raises(InvalidInput, match="Differences allowed: 2"):
        await ml.edit(ADMIN, v.id, differences=2)
    with pytest.raises(InvalidInput, match="name is empty"):
        await ml.create(ADMIN, "   ")
    v2 = await ml.edit(ADMIN, v.id, name="Wanted", ocr_equivalence=2)
    assert (v2.name, v2.ocr_equivalence, v2.differences) == ("Wanted", 2, 1)
    await ml.delete(ADMIN, v.id)
    assert [x.name for x in await ml.lists(ADMIN)] == ["Unlisted license plates"]
    with pytest.raises(NotFound):
        await ml.get(ADMIN, v.id)
    trail = await list_audit(db)
    assert trail[0].startswith("Wanted") and "Stolen vehicles" in trail[-1]
    assert any("'Stolen vehicles' -> 'Wanted'" in d for d in trail)


async def test_permissions(db) -> None:  # noqa: ANN001
    ml = service(db)
    v = await ml.create(ADMIN, "Staff")
    assert [x.name for x in await ml.lists(PROPS_VIEWER)]  # viewing needs properties:view only
    with pytest.raises(PermissionDenied):
        await ml.lists(VIEWER)  # a project viewer sees no lists
    with pytest.raises(PermissionDenied):
        await ml.create(PROPS_VIEWER, "Nope")
    with pytest.raises(PermissionDenied):
        await ml.add_entry(PROPS_VIEWER, v.id, "AB123")
    with pytest.raises(PermissionDenied):
        await ml.import_file(PROPS_VIEWER, v.id, b"AB123\n")


async def test_fields_add_rename_move_delete_keep_values(db) -> None:  # noqa: ANN001
    ml = service(db)
    v = await ml.create(ADMIN, "Fleet", fields=["Owner", "Phone"])
    e, _ = await ml.add_entry(ADMIN, v.id, "AB123", {"owner": "Ann", "Phone": "555"})
    assert e.values == ("Ann", "555")
    owner, phone = v.fields
    v = await ml.move_field(ADMIN, v.id, phone.id, -1)
    assert [f.name for f in v.fields] == ["Phone", "Owner"]
    v = await ml.move_field(ADMIN, v.id, phone.id, -1)  # at the top already: nothing moves
    assert [f.name for f in v.fields] == ["Phone", "Owner"]
    v = await ml.rename_field(ADMIN, v.id, owner.id, "Driver")
    with pytest.raises(InvalidInput, match="has a field called 'Phone'"):
        await ml.rename_field(ADMIN, v.id, owner.id, "phone")
    page = await ml.entries(ADMIN, v.id)
    assert page.rows[0].values == ("555", "Ann")  # values follow their field through move and rename
    v = await ml.delete_field(ADMIN, v.id, phone.id)
    v = await ml.add_field(ADMIN, v.id, "Phone")  # a new field of the same name starts empty
    page = await ml.entries(ADMIN, v.id)
    assert [f.name for f in v.fields] == ["Driver", "Phone"] and page.rows[0].values == ("Ann", "")
    with pytest.raises(InvalidInput, match="no field 'Colour'"):
        await ml.add_entry(ADMIN, v.id, "ZZ999", {"Colour": "red"})


async def test_entries_normalise_refuse_search_page_and_edit_many(db) -> None:  # noqa: ANN001
    ml = service(db)
    v = await ml.create(ADMIN, "Visitors", fields=["Host"])
    entry, note = await ml.add_entry(ADMIN, v.id, "ab 123")
    assert entry.plate == "AB123" and note == "Plate 'ab 123' stored as AB123."
    _, note = await ml.add_entry(ADMIN, v.id, "XY_77")
    assert note is None
    with pytest.raises(InvalidInput, match="already on the list"):
        await ml.add_entry(ADMIN, v.id, "AB-123")
    with pytest.raises(InvalidInput, match=r"Plate: '\*' cannot be in a plate"):
        await ml.add_entry(ADMIN, v.id, "AB*1")
    for i in range(120):
        await ml.add_entry(ADMIN, v.id, f"Q{i:03d}Z")
    assert (await ml.entries(ADMIN, v.id, search="q0?1")).total == 10  # Q001Z, Q011Z ... Q091Z
    assert [r.plate for r in (await ml.entries(ADMIN, v.id, search="y_7")).rows] == ["XY_77"]  # _ is literal
    first = await ml.entries(ADMIN, v.id, limit=50)
    second = await ml.entries(ADMIN, v.id, offset=50, limit=50)
    assert first.total == 122 and len(first.rows) == 50 and first.rows[-1].plate < second.rows[0].plate
    with pytest.raises(InvalidInput, match="Rows per page: 20"):
        await ml.entries(ADMIN, v.id, limit=20)
    ids = [r.id for r in first.rows[:3]]
    changed, _ = await ml.edit_entries(ADMIN, v.id, ids, values={"Host": "Reception"})
    assert changed == 3
    assert [r.values for r in (await ml.entries(ADMIN, v.id, limit=50)).rows[:4]] == [("Reception",)] * 3 + [("",)]
    with pytest.raises(InvalidInput, match="one row at a time"):
        await ml.edit_entries(ADMIN, v.id, ids, plate="NEW1")
    assert await ml.delete_entries(ADMIN, v.id, ids) == 3
    assert (await ml.get(ADMIN, v.id)).entries == 119


async def test_import_add_replace_and_all_or_nothing(db) -> None:  # noqa: ANN001
    ml = service(db)
    v = await ml.create(ADMIN, "Central", fields=["Owner"])
    await ml.add_entry(ADMIN, v.id, "KEEP1", {"Owner": "old"})
    report = await ml.import_file(ADMIN, v.id, "Plate;Owner\nkeep 1;new\nAB123;Ann\n".encode())
    assert (report.added, report.updated, report.removed) == (1, 1, 0)
    rows = {r.plate: r.values for r in (await ml.entries(ADMIN, v.id)).rows}
    assert rows == {"KEEP1": ("new",), "AB123": ("Ann",)}
    before = await ml.entries(ADMIN, v.id)
    with pytest.raises(InvalidInput, match="line 3") as bad:
        await ml.import_file(ADMIN, v.id, b"CD456,x\nEF789,y\nG*H,z\n")
    assert "nothing was imported" in str(bad.value)
    assert await ml.entries(ADMIN, v.id) == before  # nothing half-applied
    report = await ml.import_file(ADMIN, v.id, b"AB123,Bob\nNEW99,\n", replace=True)
    assert (report.added, report.updated, report.removed) == (1, 1, 1)
    rows = {r.plate: r.values for r in (await ml.entries(ADMIN, v.id)).rows}
    assert rows == {"AB123": ("Bob",), "NEW99": ("",)}
    trail = await list_audit(db)
    assert trail[0] == "import (replace): 1 added, 1 updated, 1 removed"


async def test_export_round_trips_and_neutralises_formulas(db) -> None:  # noqa: ANN001
    ml = service(db)
    v = await ml.create(ADMIN, "Export me", fields=["Note", "=cmd"])
    await ml.add_entry(ADMIN, v.id, "AB123", {"Note": 'says "hi", then\tleaves', "=cmd": "=1+1"})
    await ml.add_entry(ADMIN, v.id, "??999", {"Note": "-minus"})
    text = "".join(await ml.export_lines(ADMIN, v.id))
    assert text.endswith("\r\n")
    table = list(csv.reader(io.StringIO(text, newline="")))
    assert table[0] == ["Plate", "Note", "'=cmd"]
    assert table[1:] == [["??999", "'-minus", ""], ["AB123", 'says "hi", then\tleaves', "'=1+1"]]


async def test_import_maps_header_columns_by_name_and_export_imports_back(db) -> None:  # noqa: ANN001
    ml = service(db)
    v = await ml.create(ADMIN, "Watch", fields=["Reason", "Owner"])
    report = await ml.import_file(ADMIN, v.id, b"Plate,Owner,Reason\nAB123,Ann,stolen\nCD456,Bob,\n")
    assert report.added == 2 and "line 1: the header row (Plate, Owner, Reason) names the columns." in report.notes
    page = await ml.entries(ADMIN, v.id)
    assert [(e.plate, e.values) for e in page.rows] == [("AB123", ("stolen", "Ann")), ("CD456", ("", "Bob"))]
    with pytest.raises(InvalidInput, match='column "Colour" that is not a field of the list'):
        await ml.import_file(ADMIN, v.id, b"Plate,Colour\nEF789,red\n")
    tricky = {"EF789": {"Reason": "=HYPERLINK(\"http://x\")", "Owner": "'literal"},
              "GH012": {"Reason": "-5", "Owner": "@home"}, "JK345": {"Reason": "'=x", "Owner": "+33 1, \"quoted\""}}
    for plate, values in tricky.items():
        await ml.add_entry(ADMIN, v.id, plate, values)
    before = [(e.plate, e.values) for e in (await ml.entries(ADMIN, v.id)).rows]
    data = "".join(await ml.export_lines(ADMIN, v.id)).encode("utf-8")
    copy = await ml.create(ADMIN, "Copy", fields=["owner", "REASON"])  # other order and case: by name
    await ml.import_file(ADMIN, copy.id, data)
    after = [(e.plate, e.values[::-1]) for e in (await ml.entries(ADMIN, copy.id)).rows]
    assert after == before and len(after) == 5
    await ml.import_file(ADMIN, v.id, data, replace=True)  # the same list, replaced by its own export
    assert [(e.plate, e.values) for e in (await ml.entries(ADMIN, v.id)).rows] == before


async def test_camera_list_selection(db) -> None:  # noqa: ANN001
    from imtui.engine.recognition.service import LprService
    from imtui.engine.video.media import MediaStore

    ml = service(db)
    a = await ml.create(ADMIN, "A")
    with pytest.raises(InvalidInput, match="never set up on camera 1"):
        await ml.set_camera_lists(ADMIN, 1, all_lists=False, list_ids=[a.id])
    await LprService(db, MediaStore("/nonexistent")).configure(ADMIN, 1, enabled=True)
    assert await ml.camera_lists(ADMIN, 1) == (True, [])  # manual 004's default: All
    await ml.set_camera_lists(ADMIN, 1, all_lists=False, list_ids=[a.id])
    assert await ml.camera_lists(ADMIN, 1) == (False, [a.id])
    with pytest.raises(InvalidInput, match="no list has ID 999"):
        await ml.set_camera_lists(ADMIN, 1, all_lists=False, list_ids=[999])
    with pytest.raises(InvalidInput, match="at least one list"):
        await ml.set_camera_lists(ADMIN, 1, all_lists=False, list_ids=[])


async def test_indexes_match_what_is_stored(db) -> None:  # noqa: ANN001
    ml = service(db)
    v = await ml.create(ADMIN, "Tolerant", ocr_equivalence=1, differences=1)
    await ml.import_file(ADMIN, v.id, b"AB0123\n??999\nXY_77\n")
    index = (await ml.indexes())[v.id]
    assert len(index) == 3
    assert index.match("ABO123").rule == "ocr-equivalence"
    assert index.match("QQ999").rule == "wildcard"
    assert index.match("XY77").rule == "exact"
    assert index.match("AB0124").rule == "one-difference"
    assert index.match("ZZZZZZ") is None


def test_cli_matchlist_round_trip(sqlite_url, tmp_path) -> None:  # noqa: ANN001
    from test_cli import run_in_process as run

    base = ["--db", sqlite_url, "--user", "admin"]
    assert run(*base, "db", "upgrade").returncode == 0
    r = run(*base, "seed", "--incidents", "0")
    assert r.returncode == 0, r.stderr
    r = run(*base, "matchlist", "add", "Watch", "--field", "Owner", "--ocr-equivalence", "1")
    assert r.returncode == 0, r.stderr
    src = tmp_path / "in.csv"
    src.write_bytes("\ufeffPlate,Owner\nab 123,Ann\n??999,\n".encode())
    r = run(*base, "matchlist", "import", "Watch", str(src))
    assert r.returncode == 0 and "2 plates added, 0 updated." in (r.stdout + r.stderr) and "stored as AB123" in (r.stdout + r.stderr)
    r = run(*base, "--json", "matchlist", "show", "Watch", "--search", "AB")
    data = json.loads((r.stdout + r.stderr))
    assert data["total"] == 1 and data["rows"][0]["plate"] == "AB123" and data["rows"][0]["fields"] == {"Owner": "Ann"}
    out = tmp_path / "out.csv"
    r = run(*base, "matchlist", "export", "Watch", "--out", str(out))
    assert r.returncode == 0 and out.read_text(encoding="utf-8").splitlines() == ["Plate,Owner", "??999,", "AB123,Ann"]
    r = run(*base, "matchlist", "export", "Watch", "--out", str(out))
    assert r.returncode == 2 and "the file exists" in (r.stdout + r.stderr)
    # a header maps by name; an export imports back to the same list, formula guard and all
    (tmp_path / "named.csv").write_text("owner,PLATE\n=cmd,EF789\n'quoted,GH012\n", encoding="utf-8")
    r = run(*base, "matchlist", "import", "Watch", str(tmp_path / "named.csv"))
    assert r.returncode == 0 and "2 plates added" in (r.stdout + r.stderr), r.stdout + r.stderr
    r = run(*base, "matchlist", "export", "Watch", "--out", str(tmp_path / "again.csv"))
    assert r.returncode == 0
    assert (tmp_path / "again.csv").read_text(encoding="utf-8").splitlines() == [
        "Plate,Owner", "??999,", "AB123,Ann", "EF789,'=cmd", "GH012,''quoted"]
    r = run(*base, "matchlist", "import", "Watch", str(tmp_path / "again.csv"), "--replace")
    assert r.returncode == 0 and "0 plates added, 4 updated" in (r.stdout + r.stderr), r.stdout + r.stderr
    data = json.loads(run(*base, "--json", "matchlist", "show", "Watch").stdout)
    assert {row["plate"]: row["fields"]["Owner"] for row in data["rows"]} == {
        "??999": "", "AB123": "Ann", "EF789": "=cmd", "GH012": "'quoted"}
    (tmp_path / "bad-header.csv").write_text("Plate,Reason\nAB123,x\n", encoding="utf-8")
    r = run(*base, "matchlist", "import", "Watch", str(tmp_path / "bad-header.csv"))
    assert r.returncode == 2 and '"Reason"' in (r.stdout + r.stderr) and "nothing was imported" in (r.stdout + r.stderr)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"OK1\nB@D\n")
    r = run(*base, "matchlist", "import", "Watch", str(bad))
    assert r.returncode == 2 and "line 2" in (r.stdout + r.stderr)
    r = run(*base, "matchlist", "delete", "Watch", "--plate", "ab123")
    assert r.returncode == 0 and "1 plates deleted." in (r.stdout + r.stderr)
    r = run(*base, "matchlist", "field", "rename", "Watch", "Owner", "Driver")
    assert r.returncode == 0 and "Driver" in (r.stdout + r.stderr)
    r = run(*base, "matchlist", "list")
    assert "Watch\t3\t" in (r.stdout + r.stderr) and "Unlisted license plates" in (r.stdout + r.stderr)


# -- matching: the worker's matcher, retroactive matches ----------------------------------------------
async def _recognition(db: Database, camera_id: int, plate: str, hours_ago: float) -> int:
    import sqlalchemy as sa

    from imtui.engine.times import utcnow
    from imtui.storage.models import PlateRecognition

    t = PlateRecognition.__table__
    at = utcnow() - timedelta(hours=hours_ago)
    async with db.write() as s:
        return (await s.execute(sa.insert(t).values(camera_id=camera_id, at=at, last_seen=at, plate=plate, country="FR",
                                                    confidence=0.9, reads=3, snapshot="", source="test")
                                .returning(t.c.id))).scalar_one()


async def _lpr_on(db: Database, *cameras: int) -> None:
    from imtui.engine.recognition.service import LprService
    from imtui.engine.video.media import MediaStore

    for c in cameras:
        await LprService(db, MediaStore("/nonexistent")).configure(ADMIN, c, enabled=True)


async def test_matcher_follows_camera_selection_and_unlisted(db) -> None:  # noqa: ANN001
    from imtui.engine.matchlists.matcher import Matcher

    ml = service(db)
    await _lpr_on(db, 1, 2)
    a = await ml.create(ADMIN, "A")
    b = await ml.create(ADMIN, "B", ocr_equivalence=1)
    await ml.add_entry(ADMIN, a.id, "AB123")
    await ml.add_entry(ADMIN, b.id, "AB12?")
    unlisted = next(v for v in await ml.lists(ADMIN) if v.unlisted)
    await ml.set_camera_lists(ADMIN, 2, all_lists=False, list_ids=[b.id])
    matcher = Matcher(db)
    assert await matcher.refresh() is True
    assert await matcher.refresh() is False  # nothing changed: no reload
    assert sorted((h.list_name, h.rule) for h in matcher.match(1, "AB123")) == [("A", "exact"), ("B", "wildcard")]
    assert [(h.list_name, h.rule) for h in matcher.match(2, "AB123")] == [("B", "wildcard")]  # A not selected
    assert [(h.list_name, h.rule) for h in matcher.match(1, "ZZ999")] == [("Unlisted license plates", "unlisted")]
    assert matcher.match(2, "ZZ999") == []  # camera 2 did not select Unlisted
    await ml.set_camera_lists(ADMIN, 2, all_lists=False, list_ids=[b.id, unlisted.id])
    await ml.add_entry(ADMIN, a.id, "ZZ999")
    assert await matcher.refresh() is True  # an added plate reloads
    assert [(h.list_name, h.rule) for h in matcher.match(1, "ZZ999")] == [("A", "exact")]
    assert [(h.list_name, h.rule) for h in matcher.match(2, "ZZ999")] == [("Unlisted license plates", "unlisted")]


async def test_a_list_gaining_a_plate_matches_the_last_day_retroactively(db) -> None:  # noqa: ANN001
    ml = service(db)
    await _lpr_on(db, 1, 2)
    stolen = await ml.create(ADMIN, "Stolen", fields=["Case"], ocr_equivalence=1)
    other = await ml.create(ADMIN, "Other")
    await ml.set_camera_lists(ADMIN, 2, all_lists=False, list_ids=[other.id])
    recent = await _recognition(db, 1, "AB0123", 1)
    await _recognition(db, 1, "AB0123", 30)  # older than 24 h: not checked again
    await _recognition(db, 2, "AB0123", 1)  # camera 2 does not match against Stolen
    await _recognition(db, 1, "XY999", 2)
    assert await ml.matches(ADMIN) == []
    await ml.add_entry(ADMIN, stolen.id, "ABO123", {"Case": "2026-117"})  # O for 0: equivalence 1
    found = await ml.matches(ADMIN)
    assert [(m.recognition_id, m.plate, m.list_name, m.entry_plate, m.fields, m.rule, m.retroactive) for m in found] == [
        (recent, "AB0123", "Stolen", "ABO123", {"Case": "2026-117"}, "ocr-equivalence", True)]
    report = await ml.import_file(ADMIN, stolen.id, b"XY999,2026-118\nABO123,2026-117\n")
    assert report.added == 1
    found = await ml.matches(ADMIN, list_id=stolen.id)
    assert sorted((m.plate, m.retroactive) for m in found) == [("AB0123", True), ("XY999", True)]  # no duplicate
    assert [m.plate for m in await ml.matches(ADMIN, plate="xy?9")] == ["XY999"]


def test_cli_matches_lists_retroactive_hits(sqlite_url) -> None:  # noqa: ANN001
    from test_cli import run_in_process as run

    base = ["--db", sqlite_url, "--user", "admin"]
    assert run(*base, "seed", "--incidents", "0").returncode == 0
    assert run(*base, "lpr", "settings", "1", "--enable").returncode == 0
    db = Database(sqlite_url)

    async def read() -> None:
        await _recognition(db, 1, "CD456", 0.5)
        await db.dispose()

    asyncio.run(read())
    assert run(*base, "matchlist", "add", "Wanted").returncode == 0
    r = run(*base, "matchlist", "plate", "Wanted", "cd 456")
    assert r.returncode == 0 and "Plate CD456 added." in r.stdout
    r = run(*base, "matchlist", "matches", "--list", "Wanted")
    assert r.returncode == 0 and "CD456\t1\tWanted\tCD456\texact (retroactive)" in r.stdout, r.stdout
    r = run(*base, "--json", "matchlist", "matches", "--plate", "ZZ")
    assert json.loads(r.stdout) == {"matches": []}


async def test_events_recognitions_and_matches_are_purged_after_keep_hours(db, tmp_path) -> None:  # noqa: ANN001
    import sqlalchemy as sa

    from imtui.engine import events
    from imtui.engine.times import utcnow
    from imtui.engine.video.media import MediaStore
    from imtui.storage.models import Event, PlateMatch, PlateRecognition

    store = MediaStore(tmp_path / "media")
    ml = service(db)
    await _lpr_on(db, 1)
    watch = await ml.create(ADMIN, "Watch")
    old = await _recognition(db, 1, "OLD111", 30)
    new = await _recognition(db, 1, "NEW222", 2)
    crop = store.absolute("lpr-snapshots/1/old.jpg")
    crop.parent.mkdir(parents=True)
    crop.write_bytes(b"jpeg")
    r, e = PlateRecognition.__table__, Event.__table__
    async with db.write() as s:
        await s.execute(sa.update(r).where(r.c.id == old).values(snapshot="lpr-snapshots/1/old.jpg"))
        events.record(s, events.CAMERA_LOST, "old", 1, at=utcnow() - timedelta(hours=25))
        events.record(s, events.CAMERA_RUNNING, "new", 1)
    await ml.import_file(ADMIN, watch.id, b"NEW222\n")  # retroactive match of the recent read only
    gone = await events.purge(db, store, 24)
    assert (gone.events, gone.recognitions, gone.matches, gone.snapshots) == (1, 1, 0, 1) and not crop.exists()
    async with db.read() as s:
        assert (await s.execute(sa.select(r.c.id))).scalars().all() == [new]
        assert (await s.execute(sa.select(e.c.message))).scalars().all() == ["new"]
        assert len((await s.execute(sa.select(PlateMatch.__table__))).all()) == 1
    gone = await events.purge(db, store, 1)  # a shorter keep time takes the rest
    assert (gone.events, gone.recognitions, gone.matches) == (0, 1, 1)

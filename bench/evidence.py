"""What reports and exports cost: seconds to render the issue's report, and export speed as a
multiple of real time.

The world: defaults (users, one camera), two minutes of ``synthetic:?size=640x480&fps=4`` (a
vehicle every 10 s taking 8 s to cross, so motion nearly all the time) recorded through the real
Recorder and indexed by the real Worker, and one incident project with 10 sequences of 10 s,
300 comments by three users and 20 calls (the report the issue names).

* report: ``ReportService.save`` to a temporary PDF, user names hidden; median of 3 runs, with the
  part spent reading (database, thumbnails) and the part spent laying out and writing the PDF
  (WeasyPrint, in a thread).  Target: under 10 s (an operator waits for it behind a progress bar).
* export: ``ExportService.export`` of the project's 10 sequences (100 s of recorded video) as MP4
  files, AVI files, and an evidence package (AVI clips, the report, manifest, SHA256SUMS); speed =
  seconds of video exported / wall seconds.  Median of 3 runs.  Target: at least 2x real time for
  the clip formats (an hour of video in under half an hour); the package adds the report.

Usage: .venv/bin/python bench/evidence.py [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from imtui.config import Settings
from imtui.engine.export.service import ExportOptions
from imtui.engine.incidents import CallInput, SequenceInput
from imtui.engine.permissions import Actor
from imtui.engine.seed import seed_defaults
from imtui.engine.services import Services
from imtui.engine.video.synthetic import SyntheticCamera
from imtui.engine.video.worker import Worker, record_synthetic

from _common import OUT_DIR, write_json
from video import ceil_to

SOURCE = "synthetic:?size=640x480&fps=4&every=10&cross=8"
RECORD_SECONDS = 120.0
SEQUENCES = 10
SEQUENCE_SECONDS = 10
COMMENTS = 300
CALLS = 20
RUNS = 3
TARGET_REPORT_S = 10.0
TARGET_EXPORT_X = 2.0
START = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


async def prepare(services: Services) -> tuple[Actor, int]:
    await services.db.upgrade()
    await seed_defaults(services.db, cameras=1)
    actor = await services.start("operator")
    await record_synthetic(Worker(services.db, services.settings), 1, SyntheticCamera.from_source(SOURCE, start=START),
                  RECORD_SECONDS)
    svc = services.incidents
    seqs = [SequenceInput(1, START + timedelta(seconds=12 * i), START + timedelta(seconds=12 * i + SEQUENCE_SECONDS))
            for i in range(SEQUENCES)]
    incident_id = await svc.create(actor, (await svc.types())[0].id, "Report and export benchmark. " * 20, seqs)
    for i in range(COMMENTS):
        await svc.add_comment(Actor(f"user{i % 3}", "operator"), incident_id,
                              f"Comment {i}: " + "observation of the scene and what was done " * (1 + i % 6))
    for i in range(CALLS):
        await svc.add_call(actor, incident_id, CallInput(START + timedelta(minutes=i), "incoming" if i % 2 else "outgoing",
                                                         f"Caller {i}", "+33 1 23 45 67 89", "Asked for the footage. " * 4))
    return actor, incident_id


async def measure_async(runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-evidence-") as tmp_name:
        tmp = Path(tmp_name)
        settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp / 'bench.db'}", media_dir=tmp / "media", timezone=UTC)
        services = Services(settings)
        try:
            actor, incident_id = await prepare(services)
            reports = []
            for n in range(runs):
                marks: dict[str, float] = {}
                t0 = time.perf_counter()

                def progress(fraction: float, label: str, marks: dict[str, float] = marks, t0: float = t0) -> None:
                    if fraction >= 0.75 and "read" not in marks:
                        marks["read"] = time.perf_counter() - t0

                result = await services.reports.save(actor, incident_id, tmp / f"report-{n}.pdf", progress=progress)
                total = time.perf_counter() - t0
                reports.append({"seconds": round(total, 3), "read_s": round(marks.get("read", 0.0), 3),
                                "layout_and_pdf_s": round(total - marks.get("read", 0.0), 3), "pages": result.pages,
                                "bytes": result.path.stat().st_size, "missing": list(result.missing)})
            items = await services.exports.project_items(actor, incident_id)
            exports: dict[str, list[dict[str, Any]]] = {}
            for fmt in ("mp4", "avi", "package"):
                exports[fmt] = []
                for n in range(runs):
                    out = tmp / f"out-{fmt}-{n}"
                    out.mkdir()
                    r = await services.exports.export(actor, items, out, ExportOptions(format=fmt))
                    size = sum(p.stat().st_size for p in r.path.rglob("*") if p.is_file())
                    exports[fmt].append({"seconds": round(r.elapsed, 3), "video_seconds": round(r.seconds_of_video, 2),
                                         "frames": r.frames, "clips": len(r.clips), "bytes": size,
                                         "speed_x": round(r.seconds_of_video / r.elapsed, 2)})
        finally:
            await services.close()
    report = {"runs": reports, "seconds": statistics.median(r["seconds"] for r in reports),
              "read_s": statistics.median(r["read_s"] for r in reports),
              "layout_and_pdf_s": statistics.median(r["layout_and_pdf_s"] for r in reports),
              "pages": reports[0]["pages"]}
    export = {fmt: {"runs": rs, "speed_x": statistics.median(r["speed_x"] for r in rs),
                    "seconds": statistics.median(r["seconds"] for r in rs), "video_seconds": rs[0]["video_seconds"],
                    "frames": rs[0]["frames"], "bytes": rs[0]["bytes"]} for fmt, rs in exports.items()}
    return {
        "source": SOURCE, "sequences": SEQUENCES, "sequence_seconds": SEQUENCE_SECONDS, "comments": COMMENTS,
        "calls": CALLS, "report": report, "export": export,
        "targets": {"report_s_below": TARGET_REPORT_S, "export_speed_x_at_least": TARGET_EXPORT_X},
        "ok": {"report": report["seconds"] < TARGET_REPORT_S,
               **{f"export_{fmt}": e["speed_x"] >= TARGET_EXPORT_X for fmt, e in export.items() if fmt != "package"}},
    }


def measure(runs: int = RUNS) -> dict[str, Any]:
    data = asyncio.run(measure_async(runs))
    write_json(OUT_DIR / "evidence.json", data)
    return data


def _status(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def rows(data: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(measure, result, target, status) rows for the console and the README table."""
    r = data["report"]
    out = [(f"Report: {data['comments']} comments, {data['calls']} calls, {data['sequences']} sequences "
            f"({r['pages']} pages)",
            f"{ceil_to(r['seconds'], 2):.2f} s (reading {ceil_to(r['read_s'], 2):.2f} s)",
            f"< {TARGET_REPORT_S:g} s", _status(data["ok"]["report"]))]
    names = {"mp4": "MP4 files", "avi": "AVI files", "package": "evidence package (AVI + report + manifest)"}
    for fmt, e in data["export"].items():
        ok = data["ok"].get(f"export_{fmt}")
        out.append((f"Export: {names[fmt]}, {e['video_seconds']:g} s of 640x480 video",
                    f"{e['speed_x']:.1f}× real time ({ceil_to(e['seconds'], 2):.2f} s)",
                    f"≥ {TARGET_EXPORT_X:g}×" if ok is not None else "—",
                    _status(ok) if ok is not None else "—"))
    return out


def format_table(data: dict[str, Any]) -> str:
    table = rows(data)
    w0, w1 = (max(len(r[i]) for r in table) for i in (0, 1))
    return "\n".join([f"Reports and export: {data['source']}"] +
                     [f"{a.ljust(w0)} | {v.rjust(w1)} | {t} | {s}" for a, v, t, s in table])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=RUNS)
    args = ap.parse_args(argv)
    print(format_table(measure(args.runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

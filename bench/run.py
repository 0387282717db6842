"""`make bench`: the list-query, TUI and video benchmarks, summed up as the README's benchmark table.

Each figure is marked against its target, ok or MISSED, never rounded in our favour:

* every list query, through the engine: under 10 ms, and at most 3x the same SQL on raw sqlite3
  (the first says operators do not wait; the second that the layers above SQLite stay thin);
* an idle list writes 0 bytes in 10 s; a cursor key writes under 1,500 bytes;
* recording a 640x480 4 fps camera costs under 6 CPU seconds per camera-minute (10 % of a core);
* View video playing at 2 fps writes under 10,000 bytes/s in unicode mode, under 60,000 in halfcell,
  and nothing in 5 s paused;
* the issue's report (300 comments, 20 calls, 10 sequences) renders in under 10 s, and clips export
  at least 2x faster than real time;
* an alarm is raised under 3 s (p90) after its vehicle enters the picture, two LPR cameras on
  this machine, each passage raising one alarm and one webhook.
* an idle TUI costs under 5 % of a core on PostgreSQL while 10 operators write (bench/idle_tui.py).

Start to first paint, bytes per page switch and the worker's end-to-end CPU have no target yet and
are reported as measured.

Usage: .venv/bin/python bench/run.py [--incidents N | --quick] [--runs 20] [--db PATH]
Writes bench/out/list_queries.json, tui.json, idle_tui.json, video.json, evidence.json, lpr.json,
matchlists.json, alarm_latency.json and bench.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

import alarm_latency
import list_queries
import evidence
import idle_tui
import lpr
import matchlists
import tui
import video
from _common import OUT_DIR, fmt_ms

QUICK_INCIDENTS = 100_000


def _query_status(q: dict[str, Any]) -> str:
    """ok, or MISSED naming which half of the target was missed."""
    if q["ok"]:
        return "ok"
    why = [w for w, bad in (("ms", q["engine_ms"] >= list_queries.TARGET_MS),
                            ("ratio", q["ratio"] > list_queries.TARGET_RATIO)) if bad]
    return f"MISSED ({', '.join(why)})"


def markdown(lq: dict[str, Any], ui: dict[str, Any], vid: dict[str, Any], ev: dict[str, Any],
             lp: dict[str, Any], ml: dict[str, Any], al: dict[str, Any],
             idle: dict[str, Any] | None = None) -> str:
    """One table for the README: measure, result, raw sqlite3 for comparison, target, status."""
    query_target = f"< {list_queries.TARGET_MS:g} ms, ≤ {list_queries.TARGET_RATIO:g}× raw"
    rows: list[tuple[str, str, str, str, str]] = [
        (f"List: {q['label']}", f"{fmt_ms(q['engine_ms'])} ms",
         f"{fmt_ms(q['raw_ms'])} ms ({q['ratio']:.1f}×)", query_target, _query_status(q))
        for q in lq["queries"]
    ]
    s, b, ok = ui["startup"], ui["bytes"], ui["ok"]
    rows += [
        ("TUI: start to first paint", f"{s['first_paint_ms']:,.0f} ms", "", "—", "—"),
        ("TUI: bytes per cursor key (down)", f"{b['cursor_key_bytes']:,}", "",
         f"< {tui.TARGET_CURSOR_BYTES:,}", "ok" if ok["cursor_key"] else "MISSED"),
        ("TUI: bytes per page switch (])", f"{b['page_switch_bytes']:,}", "", "—", "—"),
        (f"TUI: bytes while idle {b['idle_seconds']:g} s", f"{b['idle_bytes']:,}", "",
         f"{tui.TARGET_IDLE_BYTES}", "ok" if ok["idle"] else "MISSED"),
    ]
    if idle is not None:
        rows += [(measure, result, "", target, status) for measure, result, target, status in idle_tui.rows(idle)]
    rows += [(measure, result, "", target, status) for measure, result, target, status in video.rows(vid)]
    rows += [(measure, result, "", target, status) for measure, result, target, status in evidence.rows(ev)]
    rows += [(measure, result, "", target, status) for measure, result, target, status in lpr.rows(lp)]
    rows += [(measure, result, "", target, status) for measure, result, target, status in matchlists.rows(ml)]
    rows += [(measure, result, "", target, status) for measure, result, target, status in alarm_latency.rows(al)]
    head = ("Measure", "Result", "Raw sqlite3", "Target", "Status")
    lines = [
        f"SQLite {lq['sqlite_version']}, Python {lq['python']}, {os.cpu_count()} CPUs ({platform.machine()}); "
        f"list queries: {lq['incidents']:,} incidents, median of {lq['runs']} warm runs through `IncidentService`; "
        f"TUI: {ui['incidents']:,} incidents, {b['size']}, TERM={b['term']}, start time the median of "
        f"{s['launches']} launches. "
        f"Recording: {vid['recorder']['frames']} frames of `{vid['recorder']['source']}` through `Recorder.feed` "
        f"(process CPU, median of {len(vid['recorder']['runs'])}), and `imtui worker` for "
        f"{vid['worker']['seconds']:g} s less its start-up; View video: a {vid['view']['recorded_seconds']:g} s "
        f"recording, {vid['view']['size']}, TERM={vid['view']['term']}, "
        f"{vid['view']['play_seconds']:g} s of playing. "
        f"Report and export: {ev['sequences']} sequences of {ev['sequence_seconds']} s of `{ev['source']}`, "
        f"median of {len(ev['report']['runs'])} runs. LPR: {lp['photos']} photos of the plate set, one core. "
        f"Alarm latency: {al['seconds']:g} s of {al['cameras']} synthetic cameras through a real `Worker`.",
        "",
        "| " + " | ".join(head) + " |",
        "|---|--:|--:|---|---|",
        *("| " + " | ".join(r) + " |" for r in rows),
    ]
    floor = lq["engine_floor"]
    lines += [
        "",
        f"Engine floor (one `SELECT 1` through `Database.query()`, the list's path): "
        f"{fmt_ms(floor['engine_ms'])} ms against {fmt_ms(floor['raw_ms'])} ms on raw sqlite3. Every async "
        "call pays it (SQLAlchemy plus aiosqlite's worker-thread hand-offs); it is why sub-millisecond "
        "queries miss the 3x ratio while staying far under 10 ms.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    size = ap.add_mutually_exclusive_group()
    size.add_argument("--incidents", type=int, default=1_000_000, help="incidents for the list queries (1,000,000)")
    size.add_argument("--quick", action="store_true", help=f"{QUICK_INCIDENTS:,} incidents instead")
    ap.add_argument("--db", type=Path, help="SQLite file for the list queries (default bench/out/incidents-N.db)")
    ap.add_argument("--runs", type=int, default=20, help="timed runs per list query (20)")
    ap.add_argument("--tui-incidents", type=int, default=10_000, help="incidents behind the TUI (10,000)")
    ap.add_argument("--launches", type=int, default=5, help="launches timed for start to first paint (5)")
    args = ap.parse_args(argv)
    incidents = QUICK_INCIDENTS if args.quick else args.incidents

    started = time.perf_counter()
    lq = list_queries.measure(incidents, args.db, args.runs)
    print(list_queries.format_table(lq), end="\n\n", flush=True)
    ui = tui.measure(args.tui_incidents, None, args.launches)
    print(tui.format_table(ui), end="\n\n", flush=True)
    try:
        idle: dict[str, Any] | None = idle_tui.measure()
        print(idle_tui.format_table(idle), end="\n\n", flush=True)
    except OSError as exc:  # no PostgreSQL here: the row is left out and the reason said
        idle = None
        print(f"idle TUI on PostgreSQL not measured: {exc}", end="\n\n", flush=True)
    vid = video.measure()
    print(video.format_table(vid), end="\n\n", flush=True)
    ev = evidence.measure()
    print(evidence.format_table(ev), end="\n\n", flush=True)
    lp = lpr.measure()
    print(lpr.format_table(lp), end="\n\n", flush=True)
    ml = matchlists.measure(args.quick)
    print(matchlists.format_table(ml), end="\n\n", flush=True)
    al = alarm_latency.measure()
    print(alarm_latency.format_table(al), end="\n\n", flush=True)
    table = markdown(lq, ui, vid, ev, lp, ml, al, idle)
    (OUT_DIR / "bench.md").write_text(table + "\n", encoding="utf-8")
    print(table)
    seeded = lq["seed_seconds"]
    print(f"\n(bench took {time.perf_counter() - started:.0f} s"
          + (f", of which {seeded:.0f} s seeding {lq['incidents']:,} incidents" if seeded else ", database reused")
          + f"; SQLite {sqlite3.sqlite_version}; figures in {OUT_DIR}/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

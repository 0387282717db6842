"""`make bench-lpr`: the LPR engine over the developer plate set, on one core, scored by
../shared/tools/lpr_eval.py.

A child process pinned to one CPU (``sched_setaffinity``; ONNX Runtime, OpenCV and OpenMP limited
to one thread) loads the engine once, reads one photo untimed (warm-up), then every photo of
truth.csv: ``cv2.imread`` and ``PlateReader.read`` are timed together.  Each folder is read with the
country modules a camera there would enable: br → BR; eu → SK, CZ, EU (the set's European photos
are Slovak and Czech); us → US.  Settings are ``PHOTO`` (no time budget, every plate).  Its
predictions go to ``bench/out/lpr-predictions.jsonl``; the evaluator scores them with and without
``--fold`` (O/0 and I/1 the same: some truths write O for a zero).  Peak RSS is the child's
``ru_maxrss``.

Targets (one core): exact ≥ 0.82, folded exact ≥ 0.88, within one edit ≥ 0.93; median ≤ 120 ms,
p90 ≤ 400 ms per photo; peak RSS ≤ 600 MB.

With ``--max-seconds S`` the photos are read under that "max seconds per frame" budget instead
(results in ``bench/out/lpr-budget.json``): the per-photo time then shows how far a frame overshoots
its budget (a detector or recogniser call already running is not cut) and what the budget costs in
accuracy.

Usage: .venv/bin/python bench/lpr.py [--limit N] [--errors] [--max-seconds S]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from _common import OUT_DIR, REPO_DIR, write_json

DATASET = Path(os.environ.get("IMTUI_PLATES_DIR", REPO_DIR.parent / "shared" / "datasets" / "plates"))
EVAL = DATASET.parent.parent / "tools" / "lpr_eval.py"
COUNTRIES = {"br": ("BR",), "eu": ("SK", "CZ", "EU"), "us": ("US",)}
TARGETS = {"exact": 0.82, "folded": 0.88, "within1": 0.93, "median_ms": 120.0, "p90_ms": 400.0, "rss_mb": 600.0}
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def child(limit: int, out: Path, max_seconds: float = 0.0) -> None:
    """Runs in the pinned process: read every photo, write JSON lines, print the peak RSS."""
    import cv2

    cv2.setNumThreads(1)
    from imtui.lpr import reader as reader_module
    from imtui.lpr.ocr import Ocr
    from imtui.lpr.reader import PlateReader, modules_for
    from imtui.lpr.settings import PHOTO

    settings = replace(PHOTO, max_seconds_per_frame=max_seconds)

    if os.environ.get("LPR_PASSES"):  # experiments: detector sides of the two passes, e.g. 384,960
        reader_module.PASS1_SIDE, reader_module.PASS2_SIDE = (int(x) for x in os.environ["LPR_PASSES"].split(","))
    for name in ("MIXED_BONUS", "FORMAT_BONUS", "LENGTH_BONUS", "TILE_PIXELS", "TILE_OVERLAP", "AROUND"):
        if f"LPR_{name}" in os.environ:  # experiments: ranking weights, pass 2's tiles and looks around
            kind = type(getattr(reader_module, name))
            setattr(reader_module, name, kind(float(os.environ[f"LPR_{name}"])))

    rows = list(csv.DictReader((DATASET / "truth.csv").open()))
    if limit:
        rows = rows[:limit]
    reader = PlateReader(Ocr(threads=1))
    modules = {k: modules_for(v) for k, v in COUNTRIES.items()}
    reader.read(cv2.imread(str(DATASET / rows[0]["file"])), PHOTO, modules[rows[0]["country"]])  # warm-up
    with out.open("w") as f:
        for r in rows:
            t0 = time.perf_counter()
            image = cv2.imread(str(DATASET / r["file"]))
            result = reader.read(image, settings, modules[r["country"]])
            ms = (time.perf_counter() - t0) * 1000
            f.write(json.dumps({"file": r["file"], "plates": [p.text for p in result.reads], "ms": round(ms, 2),
                                "countries": [p.country for p in result.reads],
                                "confidences": [p.confidence for p in result.reads], "passes": result.passes,
                                "cut": getattr(result, "cut", False)}) + "\n")
    print(json.dumps({"rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


_LINE = re.compile(r"^(\S+)\s+n=(\d+)\s+exact=([\d.]+)\s+within1=([\d.]+)\s+anyk=([\d.]+)")


def evaluate(predictions: Path, fold: bool, errors: bool = False, limit: int = 0) -> dict[str, dict[str, float]]:
    args = [sys.executable, str(EVAL), "--truth", str(DATASET / "truth.csv"), "--jsonl", str(predictions)]
    args += ["--limit", str(limit)] if limit else []
    args += ["--fold"] if fold else []
    args += ["--errors"] if errors else []
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    if errors:
        print(out)
    table = {}
    for line in out.splitlines():
        m = _LINE.match(line)
        if m:
            table[m[1]] = {"n": int(m[2]), "exact": float(m[3]), "within1": float(m[4]), "anyk": float(m[5])}
    return table


def measure(limit: int = 0, errors: bool = False, max_seconds: float = 0.0) -> dict[str, Any]:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    predictions = OUT_DIR / ("lpr-budget-predictions.jsonl" if max_seconds else "lpr-predictions.jsonl")
    cpu = sorted(os.sched_getaffinity(0))[-1]
    env = dict(os.environ, **ONE_THREAD)
    code = (f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import os; "
            f"os.sched_setaffinity(0, {{{cpu}}}); import lpr; "
            f"lpr.child({limit}, __import__('pathlib').Path({str(predictions)!r}), {max_seconds!r})")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO_DIR)
    if done.returncode != 0:
        raise SystemExit(f"lpr child failed:\n{done.stderr[-3000:]}")
    rss = json.loads(done.stdout.strip().splitlines()[-1])["rss_mb"]
    lines = [json.loads(x) for x in predictions.read_text().splitlines()]
    ms = sorted(x["ms"] for x in lines)
    plain, folded = evaluate(predictions, False, errors, limit), evaluate(predictions, True, limit=limit)
    data = {
        "photos": len(lines), "cpu": cpu, "countries": COUNTRIES,
        "exact": plain["ALL"]["exact"], "within1": plain["ALL"]["within1"], "folded": folded["ALL"]["exact"],
        "by_country": {c: {"exact": plain[c]["exact"], "within1": plain[c]["within1"], "folded": folded[c]["exact"],
                           "n": plain[c]["n"]} for c in plain if c != "ALL"},
        "median_ms": statistics.median(ms), "p90_ms": ms[int(0.9 * (len(ms) - 1))], "rss_mb": round(rss, 1),
        "max_ms": ms[-1], "max_seconds_per_frame": max_seconds,
        "cut_share": round(sum(bool(x.get("cut")) for x in lines) / len(lines), 3),
        "second_pass_share": round(sum(x["passes"] > 1 for x in lines) / len(lines), 3),
        "wall_s": round(time.perf_counter() - started, 1),
    }
    data["ok"] = {k: (data[k] >= t if k in ("exact", "folded", "within1") else data[k] <= t) for k, t in TARGETS.items()}
    write_json(OUT_DIR / ("lpr-budget.json" if max_seconds else "lpr.json"), data)
    return data


def rows(data: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(measure, result, target, status) for the console and the README table."""
    by = data["by_country"]
    per = lambda key: " · ".join(f"{c} {by[c][key]:.3f}" for c in sorted(by))  # noqa: E731
    st = lambda k: "ok" if data["ok"][k] else "MISSED"  # noqa: E731
    n = data["photos"]
    return [
        (f"LPR: exact, {n} photos ({per('exact')})", f"{data['exact']:.3f}", f"≥ {TARGETS['exact']}", st("exact")),
        (f"LPR: folded O/0 I/1 ({per('folded')})", f"{data['folded']:.3f}", f"≥ {TARGETS['folded']}", st("folded")),
        (f"LPR: within one edit ({per('within1')})", f"{data['within1']:.3f}", f"≥ {TARGETS['within1']}", st("within1")),
        ("LPR: median ms per photo, one core", f"{data['median_ms']:.0f}", f"≤ {TARGETS['median_ms']:g}", st("median_ms")),
        (f"LPR: p90 ms per photo (second pass on {data['second_pass_share'] * 100:.0f} %)", f"{data['p90_ms']:.0f}",
         f"≤ {TARGETS['p90_ms']:g}", st("p90_ms")),
        ("LPR: peak RSS MB", f"{data['rss_mb']:.0f}", f"≤ {TARGETS['rss_mb']:g}", st("rss_mb")),
    ]


def format_table(data: dict[str, Any]) -> str:
    table = rows(data)
    w0, w1 = (max(len(r[i]) for r in table) for i in (0, 1))
    return "\n".join([f"LPR on {DATASET.name}/ (one core: cpu {data['cpu']})"] +
                     [f"{a.ljust(w0)} | {v.rjust(w1)} | {t} | {s}" for a, v, t, s in table])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, default=0, help="only the first N photos")
    ap.add_argument("--errors", action="store_true", help="list the wrong top-1 reads")
    ap.add_argument("--max-seconds", type=float, default=0.0, help="read under this time budget per photo")
    args = ap.parse_args(argv)
    data = measure(args.limit, args.errors, args.max_seconds)
    print(format_table(data))
    if args.max_seconds:
        print(f"max seconds per frame {args.max_seconds:g}: max {data['max_ms']:.0f} ms, "
              f"{data['cut_share'] * 100:.0f} % of the photos cut")
    return 0


if __name__ == "__main__":
    sys.exit(main())

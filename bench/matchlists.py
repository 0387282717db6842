"""Licence-plate match lists: matching a read against a million entries in memory.

Matching (``measure_matching``): three lists built with ``imtui.lpr.matching.build`` from
``Entry`` objects (as the worker would after loading the rows), 1,000,000 entries in all:

- ``plates``: 900,000 exact plates (three letters and four digits), no tolerance;
- ``watch``: 99,000 exact plates with ``ocr_equivalence`` 2 and ``differences`` 1;
- ``wild``: 1,000 wildcard entries (the same shape with two or three ``?``), no tolerance.

Then 20,000 reads, shuffled, a quarter of each kind: exact hits (half in ``plates``, half in
``watch``), one-difference hits (a ``watch`` plate with one look-alike-free substitution, deletion
or insertion), wildcard hits (a ``wild`` pattern filled in) and misses (a plate in no list and
within one edit of none).  Every read is checked untimed first (it finds its list by the intended
rule; a miss finds nothing), which also warms up; then each read is timed against all three lists
(``time.perf_counter_ns``).  Build time is the three ``build`` calls, ``Entry`` objects included;
peak RSS is this process's ``ru_maxrss`` (run the script alone: a caller's own memory counts too).

Target: one read against all 1,000,000 entries, p99 < 1,000 µs (the worker matches every read of
every LPR camera).  ``--quick``: 100,000 entries and 2,000 reads.

Usage: .venv/bin/python bench/matchlists.py [--quick] [--seed N]
"""

from __future__ import annotations

import argparse
import platform
import random
import resource
import statistics
import sys
import time
from typing import Any

from _common import OUT_DIR, write_json

from imtui.lpr.matching import ALPHABET, Entry, ListIndex, Match, build

TARGET_P99_US = 1000.0
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = "0123456789"
SPACE = 26**3 * 10**4  # LLLDDDD plates
LOOKALIKES = set("OIBSZG018526")  # an edit with these could be folded away (watch has level 2)
KINDS = ("exact", "one-difference", "wildcard", "miss")


def _plate(n: int) -> str:
    """The n-th LLLDDDD plate, 0 <= n < SPACE."""
    n, d = divmod(n, 10**4)
    c, n = n % 26, n // 26
    b, a = n % 26, n // 26
    return f"{LETTERS[a]}{LETTERS[b]}{LETTERS[c]}{d:04d}"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _one_edit(plate: str, rng: random.Random) -> str:
    """``plate`` with one substitution, deletion or insertion that no look-alike folding undoes."""
    i = rng.randrange(len(plate))
    kind = rng.choice(("substitution", "deletion", "insertion"))
    if kind == "deletion":
        return plate[:i] + plate[i + 1:]
    ch = rng.choice([c for c in ALPHABET if c not in LOOKALIKES and c != plate[i]])
    if kind == "substitution":
        return plate[:i] + ch + plate[i + 1:]
    return plate[:i] + ch + plate[i:]


def _rule(index: ListIndex, read: str) -> str | None:
    hit: Match | None = index.match(read)
    return None if hit is None else hit.rule


def _percentile(sorted_values: list[float], share: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(share * len(sorted_values)))]


def measure_matching(quick: bool = False, seed: int = 4) -> dict[str, Any]:
    """Build the three lists, time the reads; every figure in a dict (see the module docstring)."""
    total = 100_000 if quick else 1_000_000
    n_reads = 2_000 if quick else 20_000
    sizes = {"plates": total * 9 // 10, "watch": total * 99 // 1000, "wild": total // 1000}
    tolerances = {"plates": (0, 0), "watch": (2, 1), "wild": (0, 0)}
    rng = random.Random(seed)

    # untimed: the plate strings, as a database would hand them over
    numbers = rng.sample(range(SPACE), sizes["plates"] + sizes["watch"])
    plates = [_plate(n) for n in numbers[:sizes["plates"]]]
    watch = [_plate(n) for n in numbers[sizes["plates"]:]]
    patterns: set[str] = set()
    while len(patterns) < sizes["wild"]:  # a plate's shape with two or three positions left open
        chars = list(_plate(rng.randrange(SPACE)))
        for i in rng.sample(range(7), rng.choice((2, 3))):
            chars[i] = "?"
        patterns.add("".join(chars))
    wild = sorted(patterns)
    plain = {"plates": plates, "watch": watch, "wild": wild}

    rss_before = _rss_mb()
    lists: dict[str, ListIndex] = {}
    started = time.perf_counter()
    next_id = 1
    for list_id, (name, texts) in enumerate(plain.items(), 1):
        eq, diff = tolerances[name]
        lists[name] = build(list_id, (Entry(next_id + i, p) for i, p in enumerate(texts)),
                            ocr_equivalence=eq, differences=diff)
        next_id += len(texts)
    build_s = time.perf_counter() - started
    rss_built = _rss_mb()
    assert sum(len(x) for x in lists.values()) == total, "duplicate entries collapsed"

    # the reads, each checked against what it should find (this also warms up)
    quarter = n_reads // 4
    reads: list[tuple[str, str]] = []
    for i in range(quarter):
        reads.append(("exact", rng.choice(plates) if i % 2 else rng.choice(watch)))
    want = {"exact": None, "one-difference": ("watch", "one-difference"),
            "wildcard": ("wild", "wildcard"), "miss": None}
    makers = {
        "one-difference": lambda: _one_edit(rng.choice(watch), rng),
        "wildcard": lambda: "".join(rng.choice(ALPHABET) if ch == "?" else ch for ch in rng.choice(wild)),
        "miss": lambda: _plate(rng.randrange(SPACE)),
    }
    rejected = 0
    for kind, make in makers.items():
        made = 0
        while made < quarter:
            read = make()
            found = {name: _rule(index, read) for name, index in lists.items()}
            if kind == "miss":
                good = not any(found.values())
            else:
                name, rule = want[kind]
                good = found[name] == rule
            if good:
                reads.append((kind, read))
                made += 1
            else:
                rejected += 1
    for kind, read in reads[:quarter]:
        assert any(rule == "exact" for rule in (_rule(x, read) for x in lists.values())), read
    rng.shuffle(reads)

    indexes = list(lists.values())
    timer = time.perf_counter_ns
    us: list[float] = []
    by_kind: dict[str, list[float]] = {k: [] for k in KINDS}
    matches = 0
    wall = time.perf_counter()
    for kind, read in reads:
        t0 = timer()
        for index in indexes:
            if index.match(read) is not None:
                matches += 1
        dt = (timer() - t0) / 1000
        us.append(dt)
        by_kind[kind].append(dt)
    wall = time.perf_counter() - wall

    us.sort()
    kinds = {}
    for kind, values in by_kind.items():
        values.sort()
        kinds[kind] = {"reads": len(values), "median_us": round(statistics.median(values), 1),
                       "p99_us": round(_percentile(values, 0.99), 1)}
    data = {
        "quick": quick, "seed": seed, "python": platform.python_version(),
        "entries": total, "lists": {name: {"entries": len(lists[name]), "ocr_equivalence": tolerances[name][0],
                                           "differences": tolerances[name][1]} for name in lists},
        "reads": len(reads), "rejected_candidates": rejected, "matches": matches,
        "build_s": round(build_s, 2),
        "rss_mb": round(rss_built, 1), "rss_lists_mb": round(rss_built - rss_before, 1),
        "reads_per_s": round(len(reads) / wall), "median_us": round(statistics.median(us), 1),
        "p99_us": round(_percentile(us, 0.99), 1), "max_us": round(us[-1], 1), "by_kind": kinds,
    }
    data["ok"] = {"p99_us": data["p99_us"] < TARGET_P99_US}
    return data


TARGET_IMPORT_S = 20.0


def measure_import(quick: bool = False) -> dict[str, Any]:
    """``MatchListService.import_file`` of a CSV of N plates with one custom field into an empty
    list on a fresh SQLite file (parse, checks, insert, audit: everything the CLI and the screen
    run), then ``indexes()`` (what a worker loads to match)."""
    import asyncio
    import tempfile

    from imtui.engine.matchlists.service import MatchListService
    from imtui.engine.permissions import Actor
    from imtui.storage.db import Database

    n = 100_000 if quick else 1_000_000
    data = "".join(f"{_plate(i)},owner {i % 1000}\n" for i in range(n)).encode()
    admin = Actor("admin", "Administrator")

    async def go(url: str) -> dict[str, Any]:
        db = Database(url)
        try:
            await db.upgrade()
            ml = MatchListService(db)
            v = await ml.create(admin, "Bench", fields=["Owner"])
            t0 = time.perf_counter()
            report = await ml.import_file(admin, v.id, data)
            import_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            indexes = await ml.indexes()
            index_s = time.perf_counter() - t0
            assert report.added == n and len(indexes[v.id]) == n
            return {"entries": n, "bytes": len(data), "import_s": round(import_s, 2), "index_s": round(index_s, 2),
                    "ok": {"import_s": import_s < TARGET_IMPORT_S * (0.1 if quick else 1)}}
        finally:
            await db.dispose()

    with tempfile.TemporaryDirectory() as tmp:
        return asyncio.run(go(f"sqlite:///{tmp}/bench.db"))


def import_rows(m: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [
        (f"Match lists: import {m['entries']:,} plates from CSV ({m['bytes'] / 1e6:.0f} MB), SQLite",
         f"{m['import_s']:.1f} s", f"< {TARGET_IMPORT_S:g} s", "ok" if m["ok"]["import_s"] else "MISSED"),
        (f"Match lists: worker loads {m['entries']:,} entries for matching", f"{m['index_s']:.1f} s", "—", "—"),
    ]


def measure(quick: bool = False, seed: int = 4) -> dict[str, Any]:
    """Every part of this script, saved to JSON."""
    data = {"matching": measure_matching(quick, seed), "import": measure_import(quick)}
    write_json(OUT_DIR / "matchlists.json", data)
    return data


def matching_rows(m: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    k = m["by_kind"]
    per = lambda key: " · ".join(f"{kind} {k[kind][key]:,.0f}" for kind in KINDS)  # noqa: E731
    lists = " + ".join(f"{x['entries']:,}" for x in m["lists"].values())
    return [
        (f"Match lists: build {lists} entries, s", f"{m['build_s']:.1f}", "—", "—"),
        (f"Match lists: peak RSS MB (the lists {m['rss_lists_mb']:,.0f})", f"{m['rss_mb']:,.0f}", "—", "—"),
        (f"Match lists: reads per second, each against all lists ({m['reads']:,} reads)",
         f"{m['reads_per_s']:,}", "—", "—"),
        (f"Match lists: median µs per read ({per('median_us')})", f"{m['median_us']:,.0f}", "—", "—"),
        (f"Match lists: one read against {m['entries']:,} entries, p99 µs ({per('p99_us')})",
         f"{m['p99_us']:,.0f}", f"< {TARGET_P99_US:,.0f} µs", "ok" if m["ok"]["p99_us"] else "MISSED"),
    ]


def rows(data: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(measure, result, target, status) for the console and the README table, part by part."""
    out: list[tuple[str, str, str, str]] = []
    if "matching" in data:
        out += matching_rows(data["matching"])
    if "import" in data:
        out += import_rows(data["import"])
    return out


def format_table(data: dict[str, Any]) -> str:
    table = rows(data)
    w0, w1 = (max(len(r[i]) for r in table) for i in (0, 1))
    head = "Licence-plate match lists"
    if "matching" in data:
        m = data["matching"]
        head += f" (Python {m['python']}{', --quick' if m['quick'] else ''})"
    return "\n".join([head] + [f"{a.ljust(w0)} | {v.rjust(w1)} | {t} | {s}" for a, v, t, s in table])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="100,000 entries and 2,000 reads")
    ap.add_argument("--seed", type=int, default=4, help="random seed of the plates and reads")
    args = ap.parse_args(argv)
    print(format_table(measure(args.quick, args.seed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

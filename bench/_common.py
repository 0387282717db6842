"""Helpers shared by the benchmark scripts: paths, a seeded database, medians, JSON output.

The benchmarks seed their own SQLite files under ``bench/out/`` (git-ignored) through the real
``imtui seed`` command, so what is measured is exactly what an administrator would get, and a
second run reuses the file instead of paying the minute-long seed again.
"""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
OUT_DIR = BENCH_DIR / "out"
# The repo sits next to ``shared/``; the byte counter lives there, not in the package.
TUI_BYTES = REPO_DIR.parent / "shared" / "tools" / "tui_bytes.py"


def sqlite_url(path: Path) -> str:
    """The ``--db`` URL for an absolute path (four slashes: ``sqlite:////abs/file.db``)."""
    return "sqlite:///" + str(path.resolve())


def default_db(incidents: int) -> Path:
    """One file per size: seeding appends after the newest incident, so a 100k file grown to a
    million would squeeze the new rows into a few seconds and distort the time filter."""
    return OUT_DIR / f"incidents-{incidents}.db"


def isolated_env(**extra: str) -> dict[str, str]:
    """The environment for child ``imtui`` processes, independent of the caller's setup.

    ``IMTUI_DATABASE_URL`` would beat ``--db`` (so a set variable would make us seed or open some
    other database); a nonexistent ``IMTUI_CONFIG`` gives the built-in defaults, so a personal
    config (mouse on, another poll interval) does not change the figures.
    """
    env = dict(os.environ)
    env.pop("IMTUI_DATABASE_URL", None)
    config = OUT_DIR / "bench-config.toml"  # only: trust the OS identity, so --user needs no password
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    config.write_text("[auth]\ntrust_os_user = true\n")
    env["IMTUI_CONFIG"] = str(config)
    env.update(extra)
    return env


def count_incidents(path: Path) -> int:
    """Incidents in the file, 0 when it is missing or has no incident table yet."""
    if not path.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return int(conn.execute("SELECT count(*) FROM incident").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


@dataclass(frozen=True)
class SeededDb:
    path: Path
    incidents: int
    seed_seconds: float | None  # None when an existing file was reused


def ensure_db(path: Path, incidents: int) -> SeededDb:
    """A SQLite file holding at least ``incidents`` incidents, seeding it when needed.

    A file with too few incidents is deleted and reseeded only when it lives under ``bench/out``
    (ours to throw away); anything else is refused rather than silently destroyed or appended to.
    """
    path = path.resolve()
    have = count_incidents(path)
    if have >= incidents:
        return SeededDb(path, have, None)
    if path.exists():
        if OUT_DIR.resolve() not in path.parents:
            raise SystemExit(
                f"{path} holds {have:,} incidents, fewer than {incidents:,}; "
                "pass a new --db path (or one under bench/out/, which the bench may recreate)."
            )
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    print(f"seeding {incidents:,} incidents into {path} (about a minute per million) ...", file=sys.stderr, flush=True)
    cmd = [sys.executable, "-m", "imtui.cli", "--db", sqlite_url(path), "--json", "seed", "--incidents", str(incidents)]
    proc = subprocess.run(cmd, env=isolated_env(), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"seeding failed (exit {proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return SeededDb(path, count_incidents(path), float(result["seconds"]))


def median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")


def fmt_ms(ms: float) -> str:
    """Milliseconds with enough digits to tell sub-millisecond queries apart."""
    if ms < 0.1:
        return f"{ms:.3f}"
    return f"{ms:.2f}" if ms < 10 else f"{ms:.1f}" if ms < 100 else f"{ms:,.0f}"

"""The ``imtui`` command: seed, db upgrade, JSON output, refusals with exit code 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from imtui.storage.migrate import head_revision


TRUST = Path(tempfile.mkdtemp()) / "trust.toml"
TRUST.write_text("[auth]\ntrust_os_user = true\n")


def run(*args: str, env: dict[str, str] | None = None, trusted: bool = True,
        stdin: str | None = None) -> subprocess.CompletedProcess:
    """``imtui ARGS`` in a subprocess; ``trusted`` uses a config that trusts the OS identity."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("IMTUI_")}
    base["IMTUI_CONFIG"] = str(TRUST) if trusted else "/nonexistent/imtui.toml"
    base.update(env or {})
    return subprocess.run([sys.executable, "-m", "imtui", *args], capture_output=True, text=True, env=base,
                          timeout=120, input=stdin if stdin is not None else "")


def run_in_process(*args: str, env: dict[str, str] | None = None, trusted: bool = True,
                   stdin: str | None = None) -> subprocess.CompletedProcess:
    """``imtui ARGS`` in this process (Typer's runner): the same command objects as ``run`` without
    paying an interpreter start and the imports per command (the admin tests make ~150 calls).
    ``run`` keeps testing the real entry point."""
    from unittest import mock

    from typer.testing import CliRunner

    import imtui.applog
    from imtui.cli import app

    base = {k: None for k in os.environ if k.startswith("IMTUI_")}
    base["IMTUI_CONFIG"] = str(TRUST) if trusted else "/nonexistent/imtui.toml"
    base.update(env or {})
    with mock.patch.object(imtui.applog, "setup_logging", lambda *a, **k: None):  # one process, one log setup
        result = CliRunner().invoke(app, list(args), env=base, input=stdin if stdin is not None else "")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout, result.stderr)


def test_seed_creates_a_known_world(tmp_path) -> None:  # noqa: ANN001
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    r = run("--db", url, "--json", "seed", "--incidents", "120", "--cameras", "3")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert (data["incidents"], data["first_id"], data["last_id"]) == (120, 1, 120)
    import sqlite3

    con = sqlite3.connect(tmp_path / "cli.db")
    users = dict(con.execute("SELECT u.name, r.name FROM app_user u JOIN user_role ur ON ur.user_id = u.id "
                             "JOIN role r ON r.id = ur.role_id").fetchall())
    assert users == {"admin": "Administrator", "operator": "operator", "viewer": "viewer"}
    assert [r[0] for r in con.execute("SELECT name FROM incident_status ORDER BY position")] == [
        "New", "In progress", "On hold", "Closed"]
    assert con.execute("SELECT count(*) FROM incident_type").fetchone()[0] == 5
    assert [r[0] for r in con.execute("SELECT name FROM category WHERE enabled ORDER BY slot")] == ["Reason", "Location"]
    assert con.execute("SELECT count(*) FROM category_value").fetchone()[0] == 11
    assert con.execute("SELECT count(*) FROM data_field WHERE enabled").fetchone()[0] == 4
    assert con.execute("SELECT count(*) FROM camera").fetchone()[0] == 3
    created = [r[0] for r in con.execute("SELECT created_at FROM incident ORDER BY id")]
    assert created == sorted(created)  # ids follow creation order
    # FTS index rebuilt after the bulk load, triggers back in place
    assert con.execute("SELECT count(*) FROM incident_fts WHERE incident_fts MATCH 'the'").fetchone()[0] >= 0
    assert con.execute("SELECT count(*) FROM sqlite_master WHERE type='trigger'").fetchone()[0] == 3
    # seeding again keeps the defaults and appends incidents after the existing ones
    r = run("--db", url, "--json", "seed", "--incidents", "5")
    assert json.loads(r.stdout)["first_id"] == 121
    assert con.execute("SELECT count(*) FROM app_user").fetchone()[0] == 3


def test_environment_overrides_db_option(tmp_path) -> None:  # noqa: ANN001
    env_db = tmp_path / "env.db"
    r = run("--db", f"sqlite:///{tmp_path / 'flag.db'}", "db", "upgrade", env={"IMTUI_DATABASE_URL": f"sqlite:///{env_db}"})
    assert r.returncode == 0, r.stderr
    assert env_db.exists() and not (tmp_path / "flag.db").exists()
    assert f"revision {head_revision()}" in r.stdout


def test_refusals_exit_2_with_one_line(tmp_path) -> None:  # noqa: ANN001
    r = run("--db", "postgresql://postgres@127.0.0.1:9/none", "db", "upgrade")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert r.stderr.strip() == "Cannot perform this action. Try again later."  # the manual's words, no driver text
    r = run("--db", f"sqlite:///{tmp_path / 'x.db'}", "admin", "types", "list", trusted=False)
    assert r.returncode == 2 and "--user" in r.stderr  # no --user and no trusted OS login

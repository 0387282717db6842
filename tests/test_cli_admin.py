"""``imtui admin``: every property command, its JSON, its refusals (exit 2, one line)."""

from __future__ import annotations

import json

import pytest

from test_cli import run_in_process as run


@pytest.fixture
def url(tmp_path) -> str:  # noqa: ANN001
    url = f"sqlite:///{tmp_path / 'admin.db'}"
    assert run("--db", url, "seed", "--incidents", "3").returncode == 0
    return url


def admin(url: str, *args: str, user: str = "admin", stdin: str | None = None):  # noqa: ANN201
    return run("--db", url, "--user", user, "--json", "admin", *args, stdin=stdin)


def ok(result) -> dict:  # noqa: ANN001
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def refused(result) -> str:  # noqa: ANN001
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    return lines[0]


def test_types_and_statuses(url: str) -> None:
    new = ok(admin(url, "types", "add", "--name", "Burn", "--description", "hot surfaces"))["id"]
    items = ok(admin(url, "types", "list"))["items"]
    assert items[-1] == {"id": new, "name": "Burn", "description": "hot surfaces", "in_use": 0}
    ok(admin(url, "types", "edit", str(new), "--name", "Burn or scald"))
    assert ok(admin(url, "types", "list"))["items"][-1]["name"] == "Burn or scald"
    ok(admin(url, "types", "delete", str(new)))
    assert all(i["id"] != new for i in ok(admin(url, "types", "list"))["items"])
    used = next(i for i in ok(admin(url, "types", "list"))["items"] if i["in_use"])
    message = refused(admin(url, "types", "delete", str(used["id"])))
    assert used["name"] in message and "use" in message
    status = ok(admin(url, "statuses", "add", "--name", "Escalated"))["id"]
    assert ok(admin(url, "statuses", "list"))["items"][-1]["id"] == status


def test_categories_values_fields_options(url: str) -> None:
    slot = ok(admin(url, "categories", "add", "--name", "Weather"))["slot"]
    assert slot == 3
    value = ok(admin(url, "values", "add", "3", "--name", "Rain"))["id"]
    assert [v["id"] for v in ok(admin(url, "values", "list", "3"))["items"]] == [value]
    ok(admin(url, "values", "edit", str(value), "--name", "Heavy rain"))
    ok(admin(url, "categories", "edit", "3", "--description", "What was the weather?"))
    cats = ok(admin(url, "categories", "list"))["items"]
    assert cats[2] == {"slot": 3, "enabled": True, "name": "Weather", "values": 1, "description": "What was the weather?"}
    ok(admin(url, "categories", "delete", "3"))
    assert not ok(admin(url, "categories", "list"))["items"][2]["enabled"]
    field = ok(admin(url, "fields", "add", "datetime", "--name", "Ambulance arrived"))["id"]
    fields = {f["id"]: f for f in ok(admin(url, "fields", "list"))["items"]}
    assert fields[field]["enabled"] and fields[field]["kind"] == "datetime"
    ok(admin(url, "fields", "delete", str(field)))
    assert "Kind: choose one of" in refused(admin(url, "fields", "add", "colour", "--name", "x"))
    assert ok(admin(url, "options", "--retention-days", "30", "--report-title", "Site 4"))["retention_days"] == 30
    assert ok(admin(url, "options")) == {"report_title": "Site 4", "retention_days": 30, "alarm_type_id": None,
                                         "alarm_type_name": ""}


def test_the_type_of_alarm_projects(url: str) -> None:
    """Set by name or ID, shown, cleared with "", refused naming the field for an unknown type."""
    types = ok(admin(url, "types", "list"))["items"]
    chosen = ok(admin(url, "options", "--alarm-type", types[2]["name"].upper()))
    assert (chosen["alarm_type_id"], chosen["alarm_type_name"]) == (types[2]["id"], types[2]["name"])
    assert ok(admin(url, "options", "--alarm-type", str(types[1]["id"])))["alarm_type_id"] == types[1]["id"]
    shown = run("--db", url, "--user", "admin", "admin", "options")
    assert f"Type for alarm projects: {types[1]['name']}" in shown.stdout and "Report title:" in shown.stdout
    assert refused(admin(url, "options", "--alarm-type", "Fire")) == (
        "Type: no incident type is called 'Fire'; see imtui admin types list.")
    assert refused(admin(url, "options", "--alarm-type", types[0]["name"], user="operator")) == "Permission denied."
    cleared = ok(admin(url, "options", "--alarm-type", ""))
    assert (cleared["alarm_type_id"], cleared["alarm_type_name"]) == (None, "")
    assert "Type for alarm projects: none (the operator chooses)" in run(
        "--db", url, "--user", "admin", "admin", "options").stdout
    audit = ok(run("--db", url, "--user", "admin", "--json", "audit", "--limit", "2"))["items"]
    assert [e["action"] for e in audit] == ["options_changed", "options_changed"]


@pytest.mark.parametrize("bad", ["0", "365001", "-1", "ten"])
def test_retention_refusal_names_the_range(url: str, bad: str) -> None:
    assert refused(admin(url, "options", "--retention-days", bad)) == (
        "Retention time: type a whole number of days from 1 to 365,000.")


def test_refusals(url: str) -> None:
    assert refused(admin(url, "types", "add", "--name", "x", user="operator")) == "Permission denied."
    assert refused(admin(url, "types", "add", "--name", "x", user="nobody")).startswith("User 'nobody' does not exist")
    assert refused(admin(url, "types", "add", "--name", "  ")) == "Type name: type a name."
    assert refused(admin(url, "types", "delete", "999")) == "Cannot perform this action. Please refresh the list."


def test_purge_and_audit(url: str) -> None:
    assert ok(admin(url, "options", "--retention-days", "30"))["retention_days"] == 30
    dry = ok(run("--db", url, "--user", "admin", "--json", "purge", "--dry-run"))
    assert dry["dry_run"] and dry["count"] >= 0 and dry["retention_days"] == 30
    done = ok(run("--db", url, "--user", "admin", "--json", "purge"))
    assert done["count"] == dry["count"]
    entries = ok(run("--db", url, "--user", "admin", "--json", "audit", "--limit", "5"))["items"]
    assert [e["action"] for e in entries[:3]] == ["recording_purge", "retention_purge", "options_changed"]
    assert done["recordings"] == 0 and done["recordings_held_as_evidence"] == 0
    by_operator = ok(run("--db", url, "--user", "admin", "--json", "audit", "--by", "operator"))["items"]
    assert by_operator == []
    assert refused(run("--db", url, "--user", "operator", "--json", "purge")) == "Permission denied."
    assert refused(run("--db", url, "--user", "admin", "audit", "--since", "yesterday")).startswith("--since: type")


def test_without_trust_the_cli_needs_the_password(url: str) -> None:
    assert ok(admin(url, "users", "passwd", "admin", "--password-stdin", stdin="s3cret-pass\n"))
    untrusted = ["--db", url, "--user", "admin", "--json", "admin", "types", "list"]
    assert refused(run(*untrusted, trusted=False)).startswith("No password")
    assert refused(run(*untrusted, trusted=False, env={"IMTUI_PASSWORD": "wrong"})) == "Wrong user name or password."
    assert ok(run(*untrusted, trusted=False, env={"IMTUI_PASSWORD": "s3cret-pass"}))["items"]


def test_roles_and_users(url: str) -> None:
    ok(admin(url, "roles", "add", "night shift"))
    ok(admin(url, "roles", "grant", "night shift", "incidents", "manage"))
    ok(admin(url, "roles", "grant", "night shift", "comments", "view"))
    roles = {r["name"]: r for r in ok(admin(url, "roles", "list"))["items"]}
    assert roles["night shift"]["grants"]["comments"] == "view" and roles["Administrator"]["builtin"]
    assert "cannot be changed" in refused(admin(url, "roles", "grant", "Administrator", "incidents", "none"))
    ok(admin(url, "users", "add", "nina", "--role", "night shift", "--role", "viewer", "--full-name", "Nina",
             "--password-stdin", stdin="nina-password\n"))
    users = {u["name"]: u for u in ok(admin(url, "users", "list"))["items"]}
    assert users["nina"]["roles"] == ["night shift", "viewer"] and users["nina"]["has_password"]
    assert refused(admin(url, "types", "list", user="nina")) == "Permission denied."
    ok(admin(url, "users", "roles", "nina", "--role", "viewer"))
    assert {u["name"]: u for u in ok(admin(url, "users", "list"))["items"]}["nina"]["roles"] == ["viewer"]
    ok(admin(url, "users", "disable", "nina"))
    assert {u["name"]: u for u in ok(admin(url, "users", "list"))["items"]}["nina"]["disabled"]
    ok(admin(url, "users", "disable", "nina", "--enable"))
    ok(admin(url, "roles", "delete", "night shift"))
    assert "Password: use at least 8" in refused(admin(url, "users", "passwd", "nina", "--password-stdin", stdin="x\n"))

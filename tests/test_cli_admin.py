"""``imtui admin``: every property command, its JSON, its refusals (exit 2, one line)."""

from __future__ import annotations

import json

import pytest

from test_cli import run


@pytest.fixture
def url(tmp_path) -> str:  # noqa: ANN001
    url = f"sqlite:///{tmp_path / 'admin.db'}"
    assert run("--db", url, "seed", "--incidents", "3").returncode == 0
    return url


def admin(url: str, *args: str, user: str = "admin"):  # noqa: ANN201
    return run("--db", url, "--user", user, "--json", "admin", *args)


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
    assert ok(admin(url, "options")) == {"report_title": "Site 4", "retention_days": 30}


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
    assert entries[0]["action"] == "retention_purge" and entries[1]["action"] == "options_changed"
    by_operator = ok(run("--db", url, "--user", "admin", "--json", "audit", "--by", "operator"))["items"]
    assert by_operator == []
    assert refused(run("--db", url, "--user", "operator", "--json", "purge")) == "Permission denied."
    assert refused(run("--db", url, "--user", "admin", "audit", "--since", "yesterday")).startswith("--since: type")

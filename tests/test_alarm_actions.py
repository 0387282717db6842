"""Event actions of alarm definitions, with real parts: a real HTTP server on 127.0.0.1 (http.server
in a thread) receives the webhooks, real scripts run as the configured commands, on both backends.

Proved here: an alarm raised by a real camera event (the worker's ``event``) is POSTed as JSON with
its fields and the outcome is in the alarm's log, without the URL's password; failing answers are
retried with backoff and reported after 1 + retries attempts; a list-match alarm carries its list,
entry and custom fields; a command from this host's config gets the JSON on stdin and IMTUI_ALARM_*
variables (not the worker's other IMTUI_* ones), its exit status and first stderr line are
logged, a name this host does not configure is logged as such; two dispatchers racing on one
database fire each alarm once; the definition checks of ``define`` / ``update_definition``; the
CLI's ``define`` / ``edit`` / ``definitions``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import socket
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa

from conftest import ADMIN, OPERATOR
from imtui.engine.alarm_actions import dispatch_pending
from imtui.engine.alarms import AlarmService
from imtui.engine.audit import AuditService
from imtui.engine.errors import InvalidInput, NotFound, PermissionDenied
from imtui.engine.matchlists.service import MatchListService
from imtui.engine.video.worker import Worker
from imtui.storage.db import Database
from imtui.storage.models import Alarm
from recording import settings_for
from test_matchlist_service import _lpr_on, _recognition

LOST = "Camera 01: connection lost."


class Hook:
    """A webhook receiver: answers each POST with the next of ``statuses`` (the last one repeats);
    with ``hang`` it answers nothing until the test ends."""

    def __init__(self) -> None:
        self.statuses: list[int] = [200]
        self.hang = False
        self.requests: list[dict] = []
        self.release = threading.Event()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                hook.requests.append({"path": self.path, "headers": dict(self.headers), "body": body,
                                      "at": time.monotonic()})
                if hook.hang:
                    hook.release.wait(10)
                    return
                status = hook.statuses.pop(0) if len(hook.statuses) > 1 else hook.statuses[0]
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_args) -> None:  # noqa: ANN002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def bodies(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.requests]

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> Iterator[Hook]:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)  # 127.0.0.1 is reached directly, whatever the machine says
    server = Hook()
    yield server
    server.close()


async def _log(db: Database, alarm_id: int) -> list[tuple[str, str, str]]:
    _view, log = await AlarmService(db).get(ADMIN, alarm_id)
    return [(x.user, x.action, x.details) for x in log]


async def _pending(db: Database) -> dict[int, bool]:
    a = Alarm.__table__
    async with db.read() as s:
        return {r.id: bool(r.actions_pending) for r in (await s.execute(sa.select(a.c.id, a.c.actions_pending)))}


async def test_a_camera_event_posts_the_alarm_to_a_local_server(db, tmp_path, hook) -> None:  # noqa: ANN001
    alarms = AlarmService(db)
    url = hook.url.replace("http://", "http://gate:s3cr%40t@")  # credentials go as Basic auth, never to a log
    await alarms.define(ADMIN, "Gate camera down", "camera_lost", cameras=[1], priority=1, webhook_url=url)
    await alarms.define(ADMIN, "Silent", "camera_lost", priority=3)  # no outputs: not pending
    settings = settings_for(db, tmp_path / "media")
    before = datetime.now(UTC)
    await Worker(db, settings).event("camera_lost", 1, LOST)
    found = {a.name: a for a in await alarms.alarms(ADMIN)}
    alarm = found["Gate camera down"]
    assert await _pending(db) == {alarm.id: True, found["Silent"].id: False}

    assert await dispatch_pending(db, settings, source="lpr-1") == 1
    [request] = hook.requests
    assert request["path"] == "/hook"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["headers"]["Authorization"] == "Basic " + base64.b64encode(b"gate:s3cr@t").decode()
    body = json.loads(request["body"])
    assert {k: body[k] for k in ("id", "name", "priority", "priority_name", "state", "object", "tag", "type",
                                 "camera_id", "camera_name", "message", "match", "source")} == {
        "id": alarm.id, "name": "Gate camera down", "priority": 1, "priority_name": "High", "state": "new",
        "object": "", "tag": "", "type": "camera_lost", "camera_id": 1, "camera_name": "Camera 01",
        "message": LOST, "match": None, "source": "lpr-1"}
    at = datetime.fromisoformat(body["at"].replace("Z", "+00:00"))
    assert body["at"].endswith("Z") and abs(at - before).total_seconds() < 30
    assert (await _log(db, alarm.id))[-1] == (
        "system", "action", f"webhook {hook.url}: HTTP 200 after 1 attempt (on lpr-1)")
    assert "s3cr" not in repr(await _log(db, alarm.id))
    assert await _pending(db) == {alarm.id: False, found["Silent"].id: False}
    assert await dispatch_pending(db, settings, source="lpr-1") == 0  # done once
    assert len(hook.requests) == 1


# The two timing tests wait real seconds (the backoff, the timeouts); the database plays no part in
# what they prove (its writes are the same as above, on both backends), so they run on SQLite only.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_failing_webhook_is_retried_with_backoff(db, tmp_path, hook) -> None:  # noqa: ANN001
    hook.statuses = [500, 500, 200]
    alarms = AlarmService(db)
    await alarms.define(ADMIN, "Barrier", "camera_lost", webhook_url=hook.url, webhook_retries=2)
    settings = settings_for(db, tmp_path / "media")
    await Worker(db, settings).event("camera_lost", 2, "Camera 02: connection lost.")
    [alarm] = await alarms.alarms(ADMIN)
    assert await dispatch_pending(db, settings, source="") == 1
    assert len(hook.requests) == 3 and len({r["body"] for r in hook.requests}) == 1  # the same alarm, 3 times
    gaps = [b["at"] - a["at"] for a, b in zip(hook.requests, hook.requests[1:], strict=False)]
    assert gaps[0] >= 0.45 and gaps[1] >= 0.95  # 0.5 s, then 1 s
    assert (await _log(db, alarm.id))[-1] == ("system", "action", f"webhook {hook.url}: HTTP 200 after 3 attempts")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_webhook_that_never_answers_fails_in_time(db, tmp_path, hook, caplog) -> None:  # noqa: ANN001
    hook.hang = True
    alarms = AlarmService(db)
    await alarms.define(ADMIN, "Light", "camera_lost", cameras=[1], webhook_url=hook.url, webhook_timeout=0.5,
                        webhook_retries=1)
    with socket.socket() as closed:  # a port where nothing listens: refused at once
        closed.bind(("127.0.0.1", 0))
        refused = f"http://u:hunter2@127.0.0.1:{closed.getsockname()[1]}/x"
    await alarms.define(ADMIN, "Horn", "camera_lost", cameras=[1], webhook_url=refused, webhook_retries=0)
    settings = settings_for(db, tmp_path / "media")
    await Worker(db, settings).event("camera_lost", 1, LOST)
    found = {a.name: a.id for a in await alarms.alarms(ADMIN)}
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="imtui.engine.alarm_actions"):
        assert await dispatch_pending(db, settings, source="lpr-2") == 2
    elapsed = time.monotonic() - started
    assert 1.4 <= elapsed < 5  # 2 attempts of 0.5 s and 0.5 s between them; the two alarms side by side
    assert len(hook.requests) == 2
    assert (await _log(db, found["Light"]))[-1] == (
        "system", "action", f"webhook {hook.url}: failed after 2 attempts: timed out (on lpr-2)")
    horn = (await _log(db, found["Horn"]))[-1][2]
    assert horn.startswith(f"webhook http://127.0.0.1:{refused.rsplit(':', 1)[1]}: failed after 1 attempt: ")
    assert "refused" in horn.lower()
    warnings = [r.getMessage() for r in caplog.records
                if r.name == "imtui.engine.alarm_actions" and r.levelno == logging.WARNING]
    assert len(warnings) == 2 and not any("hunter2" in w for w in warnings)


async def test_a_match_alarm_carries_its_list_entry_and_fields(db, tmp_path, hook) -> None:  # noqa: ANN001
    alarms, ml = AlarmService(db), MatchListService(db)
    await _lpr_on(db, 1)
    stolen = await ml.create(ADMIN, "Stolen")
    await ml.add_field(ADMIN, stolen.id, "Owner")
    await ml.add_field(ADMIN, stolen.id, "Note")
    await alarms.define(ADMIN, "Stolen car", "list", list_id=stolen.id, priority=2, webhook_url=hook.url,
                        retroactive_outputs=True)  # the match below is found after the read
    await _recognition(db, 1, "AB123", 0.5)
    await ml.add_entry(ADMIN, stolen.id, "AB123", {"Owner": "J. Doe", "Note": 'armed, "dangerous" «!»'})  # retroactive
    [alarm] = await alarms.alarms(ADMIN)
    assert await dispatch_pending(db, settings_for(db, tmp_path / "media"), source="lpr-1") == 1
    [body] = hook.bodies()
    assert (body["id"], body["object"], body["tag"], body["type"], body["priority_name"], body["camera_id"]) == (
        alarm.id, "AB123", "FR", "Stolen", "Medium", 1)
    assert body["match"] == {"list_id": stolen.id, "list": "Stolen", "plate": "AB123", "entry_plate": "AB123",
                             "rule": "exact", "retroactive": True,
                             "fields": {"Owner": "J. Doe", "Note": 'armed, "dangerous" «!»'}}


async def test_a_configured_command_gets_the_alarm_on_stdin(db, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    script = tmp_path / "gate.py"
    script.write_text(
        "import json, os, sys\n"
        "data = sys.stdin.read()\n"
        "env = {k: v for k, v in os.environ.items() if k.startswith('IMTUI_')}\n"
        "open(sys.argv[1], 'w').write(json.dumps({'stdin': data, 'env': env, 'argv': sys.argv[2:]}))\n"
        "if sys.argv[2] == 'jammed':\n"
        "    sys.stderr.write('\\nrelay 2 offline\\nsecond line\\n')\n"
        "    sys.exit(3)\n")
    out = tmp_path / "gate.json"
    settings = settings_for(db, tmp_path / "media", action_commands={
        "gate": (sys.executable, str(script), str(out), "open lane 1"),
        "jammed": (sys.executable, str(script), str(tmp_path / "jammed.json"), "jammed"),
    })
    monkeypatch.setenv("IMTUI_DATABASE_URL", "postgresql://imtui:password@db/imtui")  # not for the command's eyes
    alarms = AlarmService(db)
    await alarms.define(ADMIN, "Open gate", "camera_running", cameras=[2], priority=2, command="gate")
    await alarms.define(ADMIN, "Jammed", "camera_running", cameras=[2], command="jammed")
    await alarms.define(ADMIN, "Ghost", "camera_running", cameras=[2], command="ghost")  # not on this host
    await Worker(db, settings).event("camera_running", 2, "Camera 02: running.")
    found = {a.name: a.id for a in await alarms.alarms(ADMIN)}
    assert await dispatch_pending(db, settings, source="lpr-1") == 3

    ran = json.loads(out.read_text())
    body = json.loads(ran["stdin"])
    assert (body["id"], body["name"], body["type"], body["camera_name"]) == (
        found["Open gate"], "Open gate", "camera_running", "Camera 02")
    assert ran["argv"] == ["open lane 1"]  # one argument: no shell splits it
    assert ran["env"] == {"IMTUI_ALARM_ID": str(found["Open gate"]), "IMTUI_ALARM_NAME": "Open gate",
                          "IMTUI_ALARM_PRIORITY": "2", "IMTUI_ALARM_OBJECT": "", "IMTUI_ALARM_TAG": "",
                          "IMTUI_ALARM_TYPE": "camera_running", "IMTUI_ALARM_CAMERA": "2"}
    assert (await _log(db, found["Open gate"]))[-1] == ("system", "action", "command gate: exit 0 (on lpr-1)")
    assert (await _log(db, found["Jammed"]))[-1] == (
        "system", "action", "command jammed: exit 3: relay 2 offline (on lpr-1)")
    assert (await _log(db, found["Ghost"]))[-1] == (
        "system", "action", "command 'ghost' is not in [actions.commands] of this host's config (on lpr-1)")


async def test_two_dispatchers_fire_each_alarm_once(db, tmp_path, hook) -> None:  # noqa: ANN001
    alarms = AlarmService(db)
    await alarms.define(ADMIN, "Gate", "camera_lost", webhook_url=hook.url)
    settings = settings_for(db, tmp_path / "media")
    worker = Worker(db, settings)
    for camera in (1, 2, 3, 4, 1, 2):
        await worker.event("camera_lost", camera, f"Camera {camera:02d}: connection lost.")
    ids = sorted(a.id for a in await alarms.alarms(ADMIN))
    other = Database(db.url)  # a second worker: its own engine and connections
    try:
        handled = await asyncio.gather(*(dispatch_pending(d, settings, source=name)
                                         for d, name in ((db, "a"), (other, "b"), (db, "c"), (other, "d"))))
    finally:
        await other.dispose()
    assert sum(handled) == 6
    assert sorted(b["id"] for b in hook.bodies()) == ids  # one POST per alarm
    for alarm_id in ids:
        assert len([x for x in await _log(db, alarm_id) if x[1] == "action"]) == 1


async def test_definition_outputs_are_checked_and_edited(db) -> None:  # noqa: ANN001
    alarms, ml = AlarmService(db), MatchListService(db)
    d = await alarms.define(ADMIN, "Gate", "camera_lost", webhook_url=" https://gate.example:8443/open?lane=1 ",
                            webhook_timeout=2, webhook_retries=0, command="open-gate_1")
    assert (d.webhook_url, d.webhook_timeout, d.webhook_retries, d.command, d.has_outputs) == (
        "https://gate.example:8443/open?lane=1", 2.0, 0, "open-gate_1", True)
    plain = await alarms.define(ADMIN, "Plain", "camera_running")
    assert (plain.webhook_url, plain.webhook_timeout, plain.webhook_retries, plain.command, plain.has_outputs) == (
        "", 5.0, 2, "", False)
    bad = (
        (dict(webhook_url="ftp://gate.example/x"), "Webhook URL: write an http:// or https:// address with a host"),
        (dict(webhook_url="http:///open"), "Webhook URL: write an http:// or https:// address with a host"),
        (dict(webhook_url="gate.example/open"), "Webhook URL: write an http:// or https://"),
        (dict(webhook_url="http://gate:99999/"), "Webhook URL: write an http:// or https://"),
        (dict(webhook_url="http://gate/a b"), "Webhook URL: spaces, control characters .* percent-encode"),
        (dict(webhook_url="http://portail.exemple/ouvrir?voie=é"), "Webhook URL: spaces, control characters and "
                                                                  "non-ASCII"),
        (dict(webhook_url="http://g/" + "x" * 1000), "Webhook URL: 1009 characters is too long; use at most 1000"),
        (dict(webhook_timeout=0.1), r"Webhook timeout: 0.1 is not allowed; give 0.5 to 60 seconds"),
        (dict(webhook_timeout=61), r"Webhook timeout: 61 is not allowed"),
        (dict(webhook_retries=6), r"Webhook retries: 6 is not allowed; give 0 to 5"),
        (dict(webhook_retries=-1), r"Webhook retries: -1 is not allowed"),
        (dict(command="open gate"), r"Command: 'open gate' is not a command name; use 1 to 100 letters"),
        (dict(command="/bin/sh"), r"Command: '/bin/sh' is not a command name"),
        (dict(command="x" * 101), r"is not a command name"),
    )
    for kwargs, message in bad:
        with pytest.raises(InvalidInput, match=message) as refused:
            await alarms.define(ADMIN, "New", "camera_lost", **kwargs)
        assert refused.value.field == next(iter(kwargs))
        with pytest.raises(InvalidInput, match=message):
            await alarms.update_definition(ADMIN, d.id, **kwargs)
    assert [x.name for x in await alarms.definitions(ADMIN)] == ["Gate", "Plain"]  # nothing stored or changed
    assert (await alarms.definitions(ADMIN))[0] == d

    # edits: any field, "" clears an output; a trigger away from "list" drops the list
    stolen = await ml.create(ADMIN, "Stolen")
    e = await alarms.update_definition(ADMIN, d.id, name="Main gate", priority=1, enabled=False, cameras=[3, 1, 3],
                                       webhook_url="http://relay:s3cret@10.0.0.9/on", command="")
    assert (e.name, e.priority, e.enabled, e.cameras, e.webhook_url, e.command, e.webhook_timeout) == (
        "Main gate", 1, False, (1, 3), "http://relay:s3cret@10.0.0.9/on", "", 2.0)
    e = await alarms.update_definition(ADMIN, d.id, trigger="list", list_id=stolen.id)
    assert (e.trigger, e.list_id) == ("list", stolen.id)
    e = await alarms.update_definition(ADMIN, d.id, trigger="camera_lost", webhook_url="")
    assert (e.trigger, e.list_id, e.has_outputs) == ("camera_lost", None, False)
    assert await alarms.update_definition(ADMIN, d.id, name="Main gate") == e  # no change, no audit entry
    for kwargs, message in ((dict(name="PLAIN"), "'PLAIN' exists; choose another name"),
                            (dict(trigger="list"), "needs its list"),
                            (dict(trigger="list", list_id=999), "no list has ID 999"),
                            (dict(priority=0), "Priority"), (dict(name=" "), "give a name of 1 to 100")):
        with pytest.raises(InvalidInput, match=message):
            await alarms.update_definition(ADMIN, d.id, **kwargs)
    with pytest.raises(NotFound, match="no definition has ID 999"):
        await alarms.update_definition(ADMIN, 999, priority=1)
    with pytest.raises(PermissionDenied):
        await alarms.update_definition(OPERATOR, d.id, priority=3)
    with pytest.raises(TypeError, match="unknown fields: colour"):
        await alarms.update_definition(ADMIN, d.id, colour="red")
    audit = [(x.action, x.target, x.details) for x in await AuditService(db).entries(ADMIN)
             if x.target == f"alarm definition {d.id}"]
    assert [x[0] for x in audit] == ["property_edited"] * 3 + ["property_added"]
    assert audit[-1][2] == ("Gate: camera_lost; webhook https://gate.example:8443/open?lane=1 (2 s, 0 retries); "
                            "command open-gate_1")
    assert "s3cret" not in repr(audit)
    assert "webhook_url 'https://gate.example:8443/open?lane=1' -> 'http://10.0.0.9/on'" in audit[2][2]
    assert "command 'open-gate_1' -> ''" in audit[2][2] and "cameras all -> 1,3" in audit[2][2]


def test_cli_define_edit_and_list_outputs(sqlite_url) -> None:  # noqa: ANN001
    from test_cli import run_in_process as run

    base = ["--db", sqlite_url, "--user", "admin"]
    assert run(*base, "seed", "--incidents", "0").returncode == 0
    r = run(*base, "--json", "alarms", "define", "Gate", "--trigger", "camera_lost", "--camera", "1",
            "--webhook", "https://u:pw@gate.example/open", "--webhook-timeout", "2.5", "--webhook-retries", "1",
            "--command", "gate")
    assert r.returncode == 0, r.stderr
    made = json.loads(r.stdout)
    assert (made["webhook_url"], made["webhook_timeout"], made["webhook_retries"], made["command"]) == (
        "https://u:pw@gate.example/open", 2.5, 1, "gate")
    assert "not in [actions.commands] of this host's config" in made["note"]  # a hint, not a refusal
    r = run(*base, "alarms", "definitions")
    assert r.returncode == 0
    assert "webhook https://gate.example/open (2.5 s, 1 retries); command gate" in r.stdout and "pw@" not in r.stdout
    r = run(*base, "alarms", "define", "Bad", "--trigger", "camera_lost", "--webhook-retries", "9")
    assert r.returncode == 2 and "Webhook retries: 9 is not allowed; give 0 to 5" in r.stderr

    r = run(*base, "--json", "alarms", "edit", str(made["id"]), "--webhook", "", "--command", "horn", "--disable",
            "--priority", "1", "--cameras", "2", "--cameras", "3", "--name", "Gate 2")
    assert r.returncode == 0, r.stderr
    edited = json.loads(r.stdout)
    assert (edited["name"], edited["webhook_url"], edited["command"], edited["enabled"], edited["priority"],
            edited["cameras"]) == ("Gate 2", "", "horn", False, 1, [2, 3])
    r = run(*base, "alarms", "edit", str(made["id"]), "--all-cameras", "--enable", "--command", "")
    assert r.returncode == 0 and "Alarm definition" in r.stdout and "Note" not in r.stdout
    [listed] = json.loads(run(*base, "--json", "alarms", "definitions").stdout)["definitions"]
    assert (listed["cameras"], listed["enabled"], listed["command"], listed["webhook_url"]) == ([], True, "", "")
    r = run(*base, "alarms", "edit", str(made["id"]), "--webhook-timeout", "0.1")
    assert r.returncode == 2 and "Webhook timeout: 0.1 is not allowed" in r.stderr
    r = run(*base, "alarms", "edit", "999", "--priority", "1")
    assert r.returncode == 2 and "no definition has ID 999" in r.stderr
    assert run(*base, "alarms", "definitions").stdout.splitlines()[0].endswith("\tenabled\t-")  # no outputs


async def test_outputs_of_a_stale_alarm_are_skipped(db, tmp_path, hook) -> None:  # noqa: ANN001
    """A worker back after an outage finds alarms raised long ago: it must not open a barrier for
    a car that left; the skip is in the alarm's log, and fresh alarms still fire."""
    from datetime import timedelta

    import dataclasses

    from imtui.storage.models import AlarmLog

    alarms = AlarmService(db)
    await alarms.define(ADMIN, "Gate camera down", "camera_lost", cameras=[1], priority=1, webhook_url=hook.url)
    settings = dataclasses.replace(settings_for(db, tmp_path / "media"), action_max_age_seconds=60)
    worker = Worker(db, settings)
    await worker.event("camera_lost", 1, LOST)
    [old] = await alarms.alarms(ADMIN)
    lg = AlarmLog.__table__
    async with db.write() as s:  # raised ten minutes ago, while no worker ran the outputs
        await s.execute(sa.update(lg).where(lg.c.alarm_id == old.id).values(at=datetime.now(UTC) - timedelta(minutes=10)))
    await worker.event("camera_lost", 1, LOST)
    assert await dispatch_pending(db, settings, source="lpr-1") == 2
    assert len(hook.requests) == 1 and hook.bodies()[0]["id"] != old.id
    assert (await _log(db, old.id))[-1] == ("system", "action", "outputs skipped: the alarm was raised 10 min ago, "
                                            "more than actions.max_age_seconds (60 s) (on lpr-1)")
    assert await _pending(db) == {old.id: False, hook.bodies()[0]["id"]: False}

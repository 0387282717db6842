"""Event actions: the outputs of alarm definitions (an HTTP webhook, a configured command), run by
a worker after the alarm is stored, for gates and lights.

``alarm_flow.alarms_for_reads`` / ``alarms.raise_for_event`` mark an alarm whose definition has
outputs with ``actions_pending`` (an alarm found after the read only if its definition says so).
:func:`dispatch_pending` (called by the worker loop) claims such alarms one by one —
``UPDATE alarm SET actions_pending = false WHERE id = :id AND actions_pending`` and runs only what it
claimed — so two workers sharing a database never both open a gate; the price is
"at most once": a worker that dies between the claim and the output loses that output (a gate
opened twice is the worse failure).  Outputs run in threads, never on the event loop, every
alarm's outputs at the same time (a dead light's webhook does not hold up a gate).

- Webhook: ``POST`` of :func:`payload` as JSON (``Content-Type: application/json``) with the
  definition's timeout per attempt and 1 + retries attempts, waiting 0.5 s, 1 s, 2 s ... between
  them; a 2xx answer is success, anything else (another status, a refused connection, a timeout)
  is tried again and then reported.  Redirects are not followed.  ``user:password@`` in the URL is
  sent as HTTP Basic authentication and never written to a log.
- Command: the definition only NAMES it; the argv is ``[actions.commands]`` of this host's config
  (``Settings.action_commands``), run without a shell, the same JSON on stdin, ``IMTUI_ALARM_*``
  variables in the environment (and none of this process's other ``IMTUI_*`` variables, which may
  hold the database's password), at most 30 s.

Every outcome goes into the alarm's log (user "system", action "action") and the Python log
(warnings for failures).  Nothing here raises for an output that failed.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import sqlalchemy as sa

from imtui.config import Settings
from imtui.engine.alarms import PRIORITIES, STATE_NAMES, safe_url
from imtui.engine.base import announce
from imtui.engine.times import utcnow
from imtui.i18n import _, ngettext
from imtui.storage.changes import Topic
from imtui.storage.db import Database
from imtui.storage.models import Alarm, AlarmDefinition, AlarmLog, Camera, PlateMatch

log = logging.getLogger(__name__)

COMMAND_TIMEOUT = 30.0  # seconds a command may run before it is killed
BACKOFF = 0.5  # seconds before the 2nd attempt; doubles for each further one
USER = "system"
ACTION = "action"


@dataclass(frozen=True)
class _Job:
    alarm_id: int
    body: dict[str, Any]
    webhook_url: str
    webhook_timeout: float
    webhook_retries: int
    command: str


def _iso(at: datetime) -> str:
    if at.tzinfo is None:  # SQLite hands back UTC without a zone
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def payload(alarm, camera_name: str | None, match, source: str) -> dict[str, Any]:  # noqa: ANN001
    """The JSON body of a webhook and the stdin of a command: the alarm as the alarm manager shows
    it, and for a list match what the list said (``match`` is None for a camera/server event)."""
    body: dict[str, Any] = {
        "id": alarm.id, "name": alarm.name, "priority": alarm.priority,
        "priority_name": PRIORITIES.get(alarm.priority, str(alarm.priority)),
        "state": alarm.state, "state_name": STATE_NAMES.get(alarm.state, alarm.state),
        "at": _iso(alarm.at), "object": alarm.object, "tag": alarm.tag, "type": alarm.type,
        "camera_id": alarm.camera_id, "camera_name": camera_name, "message": alarm.message,
        "definition_id": alarm.definition_id, "match": None, "source": source,
    }
    if match is not None:
        try:
            fields = json.loads(match.fields or "{}")
        except ValueError:
            fields = {}
        body["match"] = {"list_id": match.list_id, "list": match.list_name, "plate": match.plate,
                         "entry_plate": match.entry_plate, "rule": match.rule,
                         "retroactive": bool(match.retroactive), "fields": fields}
    return body


# -- the outputs (blocking: run in a thread) ---------------------------------------------------------

class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        return None  # a 3xx is an answer like any other non-2xx: reported, not followed


def _reason(exc: BaseException) -> str:
    """A failure in a few words: "HTTP 500", "timed out", "Connection refused"."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code}"
    if isinstance(exc, urllib.error.URLError):
        return _reason(exc.reason) if isinstance(exc.reason, BaseException) else str(exc.reason)
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def post_webhook(url: str, body: bytes, timeout: float, retries: int) -> tuple[bool, int, str]:
    """POST ``body`` (JSON) to ``url``: up to 1 + ``retries`` attempts of ``timeout`` seconds each.
    Returns (success, attempts made, "HTTP 200" or the last failure)."""
    parts = urlsplit(url)
    headers = {"Content-Type": "application/json", "User-Agent": "imtui-alarm-actions"}
    if "@" in parts.netloc:
        userinfo, host = parts.netloc.rsplit("@", 1)
        user, _sep, password = userinfo.partition(":")
        token = base64.b64encode(f"{unquote(user)}:{unquote(password)}".encode()).decode("ascii")
        headers["Authorization"] = f"Basic {token}"
        url = urlunsplit(parts._replace(netloc=host))
    opener = urllib.request.build_opener(_NoRedirect)
    attempts = 1 + max(0, retries)
    outcome = ""
    for attempt in range(1, attempts + 1):
        try:
            request = urllib.request.Request(url, data=body, headers=headers, method="POST")
            with opener.open(request, timeout=timeout) as response:
                status = response.status
            if 200 <= status < 300:
                return True, attempt, f"HTTP {status}"
            outcome = f"HTTP {status}"
        except urllib.error.HTTPError as exc:
            outcome = _reason(exc)
            exc.close()
        except Exception as exc:  # noqa: BLE001 - refused, timed out, reset, bad answer: all reported
            outcome = _reason(exc)
        if attempt < attempts:
            time.sleep(BACKOFF * 2 ** (attempt - 1))
    return False, attempts, outcome


def run_command(argv: tuple[str, ...], body: bytes, env: dict[str, str],
                timeout: float = COMMAND_TIMEOUT) -> tuple[bool, str]:
    """Run ``argv`` (no shell) with ``body`` on stdin.  Returns (success, "exit 0" / the failure)."""
    try:
        proc = subprocess.Popen(list(argv), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,  # noqa: S603
                                stderr=subprocess.PIPE, env=env, close_fds=True,
                                start_new_session=os.name == "posix")
    except OSError as exc:
        return False, _("cannot start {program}: {error}").format(program=argv[0], error=exc.strerror or exc)
    try:
        _out, err = proc.communicate(body, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        return False, _("killed after {s:g} s").format(s=timeout)
    if proc.returncode == 0:
        return True, "exit 0"
    if proc.returncode < 0:
        return False, _("killed by signal {n}").format(n=-proc.returncode)
    first = next((line.strip() for line in err.decode("utf-8", "replace").splitlines() if line.strip()), "")
    return False, f"exit {proc.returncode}" + (f": {first[:300]}" if first else "")


def _kill(proc: subprocess.Popen) -> None:
    """The command and whatever it started (its session), so no child keeps the pipes open."""
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except OSError:
        pass
    try:
        proc.communicate(timeout=5)
    except (subprocess.TimeoutExpired, OSError, ValueError):
        for pipe in (proc.stdin, proc.stderr):
            if pipe is not None:
                pipe.close()
        proc.wait(timeout=5)


def _environment(body: dict[str, Any]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMTUI_")}
    env.update({
        "IMTUI_ALARM_ID": str(body["id"]), "IMTUI_ALARM_NAME": body["name"],
        "IMTUI_ALARM_PRIORITY": str(body["priority"]), "IMTUI_ALARM_OBJECT": body["object"],
        "IMTUI_ALARM_TAG": body["tag"], "IMTUI_ALARM_TYPE": body["type"],
        "IMTUI_ALARM_CAMERA": "" if body["camera_id"] is None else str(body["camera_id"]),
    })
    return {k: v.replace("\0", "") for k, v in env.items()}


# -- the dispatcher -----------------------------------------------------------------------------------

async def dispatch_pending(db: Database, settings: Settings, *, source: str, limit: int = 20) -> int:
    """Run the outputs of up to ``limit`` alarms with ``actions_pending`` (oldest first), each one
    claimed atomically so no other worker runs it too.  ``source`` names this worker (host) in
    the alarm log and in the JSON.  Returns how many alarms were handled (claimed); never raises
    for an output that failed, nor for a database that cannot be reached (logged, tried on the
    next call)."""
    a = Alarm.__table__
    try:
        async with db.query() as conn:
            ids = list((await conn.execute(sa.select(a.c.id).where(a.c.actions_pending == sa.true())
                                           .order_by(a.c.id).limit(max(1, limit)))).scalars())
    except Exception as exc:  # noqa: BLE001 - the worker loop goes on; the next call tries again
        log.error("event actions: cannot read pending alarms: %s", exc)
        return 0
    jobs: list[_Job] = []
    handled = 0
    for alarm_id in ids:
        try:
            claimed, job = await _claim(db, alarm_id, source, settings.action_max_age_seconds)
        except Exception as exc:  # noqa: BLE001
            log.error("event actions: cannot claim alarm %s: %s", alarm_id, exc)
            continue
        handled += claimed
        if job is not None:
            jobs.append(job)
    if jobs:
        await asyncio.gather(*(_run(db, settings, job, source) for job in jobs))
    return handled


async def _claim(db: Database, alarm_id: int, source: str, max_age: float) -> tuple[bool, _Job | None]:
    """Take the alarm's outputs for this worker; (False, None) when another worker was first, (True,
    None) when there is nothing to run (its definition was deleted or lost its outputs) or the
    alarm was raised more than ``max_age`` seconds ago: a worker back from an outage must not open
    a barrier for a car that left an hour ago (the skip is in the alarm's log)."""
    a, d, c, m = Alarm.__table__, AlarmDefinition.__table__, Camera.__table__, PlateMatch.__table__
    async with db.write() as s:
        done = await s.execute(sa.update(a).where(a.c.id == alarm_id, a.c.actions_pending == sa.true())
                               .values(actions_pending=False))
        if done.rowcount != 1:
            return False, None
        alarm = (await s.execute(sa.select(a).where(a.c.id == alarm_id))).one()
        definition = None
        if alarm.definition_id is not None:
            definition = (await s.execute(sa.select(d).where(d.c.id == alarm.definition_id))).first()
        if definition is None or not (definition.webhook_url or definition.command):
            log.info("event actions: alarm %s has no outputs to run (its definition changed or was deleted)",
                     alarm_id)
            return True, None
        lg = AlarmLog.__table__
        raised = (await s.execute(sa.select(sa.func.min(lg.c.at)).where(
            lg.c.alarm_id == alarm_id, lg.c.action == "raised"))).scalar() or alarm.at
        age = (utcnow() - raised).total_seconds()
        if age > max_age:
            details = _("outputs skipped: the alarm was raised {minutes:.0f} min ago, more than "
                        "actions.max_age_seconds ({limit:g} s) (on {source})").format(
                minutes=age / 60, limit=max_age, source=source)
            s.add(AlarmLog(alarm_id=alarm_id, at=utcnow(), user=USER, action=ACTION, details=details))
            log.warning("event actions: alarm %s: %s", alarm_id, details)
            return True, None
        camera_name = None
        if alarm.camera_id is not None:
            camera_name = (await s.execute(sa.select(c.c.name).where(c.c.id == alarm.camera_id))).scalar()
        match = None
        if alarm.match_id is not None:
            match = (await s.execute(sa.select(m).where(m.c.id == alarm.match_id))).first()
    return True, _Job(alarm_id, payload(alarm, camera_name, match, source), definition.webhook_url,
                      float(definition.webhook_timeout), int(definition.webhook_retries), definition.command)


async def _run(db: Database, settings: Settings, job: _Job, source: str) -> None:
    body = json.dumps(job.body, ensure_ascii=False).encode("utf-8")
    outputs = []
    if job.webhook_url:
        outputs.append(_webhook(db, job, body, source))
    if job.command:
        outputs.append(_command(db, settings, job, body, source))
    await asyncio.gather(*outputs)


async def _webhook(db: Database, job: _Job, body: bytes, source: str) -> None:
    shown = safe_url(job.webhook_url)
    try:
        ok, attempts, outcome = await asyncio.to_thread(post_webhook, job.webhook_url, body, job.webhook_timeout,
                                                        job.webhook_retries)
    except Exception as exc:  # noqa: BLE001 - never let an output take the worker down
        ok, attempts, outcome = False, 1, _reason(exc)
    if ok:
        details = ngettext("webhook {url}: {outcome} after {n} attempt", "webhook {url}: {outcome} after {n} attempts",
                           attempts).format(url=shown, outcome=outcome, n=attempts)
    else:
        details = ngettext("webhook {url}: failed after {n} attempt: {outcome}",
                           "webhook {url}: failed after {n} attempts: {outcome}",
                           attempts).format(url=shown, outcome=outcome, n=attempts)
    await _record(db, job.alarm_id, details, ok, source)


async def _command(db: Database, settings: Settings, job: _Job, body: bytes, source: str) -> None:
    argv = settings.action_commands.get(job.command)
    if not argv:
        details = _("command {name!r} is not in [actions.commands] of this host's config").format(name=job.command)
        await _record(db, job.alarm_id, details, False, source)
        return
    try:
        ok, outcome = await asyncio.to_thread(run_command, argv, body, _environment(job.body))
    except Exception as exc:  # noqa: BLE001
        ok, outcome = False, str(exc) or type(exc).__name__
    await _record(db, job.alarm_id, f"command {job.command}: {outcome}", ok, source)


async def _record(db: Database, alarm_id: int, details: str, ok: bool, source: str) -> None:
    """The outcome in the alarm's log (a short transaction of its own) and in the Python log."""
    if source:
        details = _("{outcome} (on {source})").format(outcome=details, source=source)
    (log.info if ok else log.warning)("event actions: alarm %s: %s", alarm_id, details)
    try:
        async with db.write() as s:
            s.add(AlarmLog(alarm_id=alarm_id, at=utcnow(), user=USER, action=ACTION, details=details))
            await announce(s, db, Topic.ALARMS)
    except Exception as exc:  # noqa: BLE001 - the alarm may be gone, the database down: the log above stays
        log.error("event actions: cannot log the outcome for alarm %s: %s", alarm_id, exc)

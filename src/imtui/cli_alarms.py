"""``imtui alarms``: alarm definitions for administrators and the alarm manager for operators, from
a script (the same AlarmService as the screens will use)."""

from __future__ import annotations

from typing import Annotated

import typer

from imtui.i18n import _

alarms_app = typer.Typer(help=_("Alarms: definitions and the alarm manager."), no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(alarms_app, name="alarms")


def _data(a) -> dict:  # noqa: ANN001
    return {"id": a.id, "at": a.at.isoformat(), "name": a.name, "priority": a.priority, "state": a.state,
            "assigned_to": a.assigned_to, "object": a.object, "tag": a.tag, "type": a.type, "camera_id": a.camera_id,
            "camera": a.where, "incident_id": a.incident_id, "message": a.message}


def _line(a, tz) -> str:  # noqa: ANN001
    from imtui.engine.alarms import PRIORITIES, STATE_NAMES
    from imtui.safetext import clean

    return "\t".join([str(a.id), f"{a.at.astimezone(tz):%Y-%m-%d %H:%M:%S}", PRIORITIES[a.priority],
                      STATE_NAMES[a.state], clean(a.name), clean(a.where) or "-", a.object or "-", a.tag or "-",
                      clean(a.type), a.assigned_to or "-", str(a.incident_id or "-"), clean(a.message)])


async def type_id_named(s, name: str) -> int:  # noqa: ANN001 - Services
    """The incident type called ``name`` (case-insensitive) or with that ID; InvalidInput names
    the field and where to look."""
    from imtui.engine.errors import InvalidInput

    types = await s.incidents.types()
    wanted = name.strip().casefold()
    found = [t for t in types if t.name.casefold() == wanted] or [t for t in types if str(t.id) == wanted]
    if not found:
        raise InvalidInput("type", _("Type: no incident type is called {name!r}; see imtui admin types list.")
                           .format(name=name))
    return found[0].id


@alarms_app.command("list")
def list_cmd(
    ctx: typer.Context,
    state: Annotated[list[str] | None, typer.Option("--state", help=_(
        "new, in_progress, on_hold or closed (repeatable); default: all."))] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10000)] = 100,
) -> None:
    """Alarms, newest first: ID, time, priority, state, name, camera, object, tag, type, assignee, project."""
    from imtui.cli import _emit
    from imtui.cli_admin import _run

    found, tz = _run(ctx, lambda s, a: _with_tz(s, s.alarms.alarms(a, states=state or [], limit=limit)))
    _emit(ctx.find_root().obj, "\n".join(_line(x, tz) for x in found) or _("No alarms."),
          {"alarms": [_data(x) for x in found]})


async def _with_tz(s, coro):  # noqa: ANN001, ANN202
    return await coro, s.settings.timezone


@alarms_app.command("show")
def show_cmd(ctx: typer.Context, alarm: Annotated[int, typer.Argument(help=_("Alarm ID."))]) -> None:
    """One alarm: its camera, the list entry that matched with its fields, the plate picture's
    file, the recording around the read, and its log."""
    from imtui.cli import _emit
    from imtui.cli_admin import _run

    detail, tz = _run(ctx, lambda s, a: _with_tz(s, s.alarm_details.detail(a, alarm)))
    _emit(ctx.find_root().obj, "\n".join(_detail_lines(detail, tz)), _detail_data(detail))


def _detail_lines(d, tz) -> list[str]:  # noqa: ANN001 - an AlarmDetail
    from imtui.safetext import clean

    fmt = "%Y-%m-%d %H:%M:%S"
    lines = [_line(d.alarm, tz)]
    if d.alarm.camera_id is not None:
        lines.append("  " + _("Camera: {name} ({id})").format(name=clean(d.alarm.where), id=d.alarm.camera_id))
    if d.match is not None:
        entry = f" · {_('entry')} {clean(d.match.entry_plate)}" if d.match.entry_plate else ""
        lines.append("  " + _("Matched: {list}{entry} · {rule}").format(list=clean(d.match.list_name), entry=entry,
                                                                         rule=d.match.rule))
        lines += [f"    {clean(k)}: {clean(v)}" for k, v in d.match.fields.items()]
    elif d.event_gone:
        lines.append("  " + _("Its LPR event is gone (events are kept for a limited time): no fields or picture."))
    if d.snapshot is not None:
        state = "" if d.snapshot.exists else " " + _("(gone: purged or deleted)")
        lines.append("  " + _("Plate picture: {path}").format(path=d.snapshot.path) + state)
    if d.video is not None:
        lines.append("  " + _("Video: camera {id}, {start} to {end}").format(
            id=d.video.camera_id, start=f"{d.video.start.astimezone(tz):{fmt}}",
            end=f"{d.video.end.astimezone(tz):{fmt}}"))
    lines += [f"  {x.at.astimezone(tz):{fmt}}\t{clean(x.user)}\t{x.action}\t{clean(x.details)}" for x in d.log]
    return lines


def _detail_data(d) -> dict:  # noqa: ANN001 - an AlarmDetail
    m = d.match
    return {**_data(d.alarm),
            "match": None if m is None else {"recognition_id": d.recognition_id, "list_id": m.list_id,
                                             "list": m.list_name, "entry": m.entry_plate, "rule": m.rule,
                                             "retroactive": m.retroactive, "fields": m.fields},
            "event_gone": d.event_gone,
            "snapshot": None if d.snapshot is None else str(d.snapshot.path),
            "snapshot_exists": bool(d.snapshot and d.snapshot.exists),
            "video": None if d.video is None else {
                "camera_id": d.video.camera_id, "start": d.video.start.isoformat(), "end": d.video.end.isoformat()},
            "log": [{"at": x.at.isoformat(), "user": x.user, "action": x.action, "details": x.details}
                    for x in d.log]}


@alarms_app.command("state")
def state_cmd(ctx: typer.Context, alarm: Annotated[int, typer.Argument()],
              state: Annotated[str, typer.Argument(help=_("new, in_progress, on_hold or closed."))]) -> None:
    """Change an alarm's state (logged)."""
    _change(ctx, lambda s, a: s.alarms.set_state(a, alarm, state))


@alarms_app.command("assign")
def assign_cmd(ctx: typer.Context, alarm: Annotated[int, typer.Argument()]) -> None:
    """Assign an alarm to yourself (logged)."""
    _change(ctx, lambda s, a: s.alarms.assign_to_me(a, alarm))


@alarms_app.command("comment")
def comment_cmd(ctx: typer.Context, alarm: Annotated[int, typer.Argument()],
                text: Annotated[str, typer.Argument()]) -> None:
    """Add a comment to an alarm's log."""
    _change(ctx, lambda s, a: s.alarms.comment(a, alarm, text))


def _change(ctx: typer.Context, op) -> None:  # noqa: ANN001
    from imtui.cli import _emit
    from imtui.cli_admin import _run

    view, tz = _run(ctx, lambda s, a: _with_tz(s, op(s, a)))
    _emit(ctx.find_root().obj, _line(view, tz), _data(view))


@alarms_app.command("incident")
def incident_cmd(
    ctx: typer.Context,
    alarm: Annotated[int, typer.Argument()],
    type_name: Annotated[str | None, typer.Option("--type", help=_(
        "Incident type (name or ID); default: the type set for alarm projects (imtui admin options --alarm-type)."))
    ] = None,
) -> None:
    """Create an incident project of an alarm (its camera 10 s either side of the read), linked both ways."""
    from imtui.cli import _emit
    from imtui.cli_admin import _run
    from imtui.engine.alarm_incident import TypeNeeded
    from imtui.engine.errors import InvalidInput

    async def work(s, a):  # noqa: ANN001, ANN202
        type_id = await type_id_named(s, type_name) if type_name is not None else None
        try:
            return await s.alarms.to_incident(a, alarm, type_id, s.incidents)
        except TypeNeeded:
            raise InvalidInput("type", _("Type: no incident type is set for projects made of alarms; give --type "
                                         "NAME, or set one with imtui admin options --alarm-type NAME.")) from None

    project = _run(ctx, work)
    _emit(ctx.find_root().obj, _("Alarm {alarm}: incident project {id}.").format(alarm=alarm, id=project),
          {"alarm": alarm, "incident_id": project})


def _definition_data(d) -> dict:  # noqa: ANN001
    return {"id": d.id, "name": d.name, "trigger": d.trigger, "list_id": d.list_id, "cameras": list(d.cameras),
            "priority": d.priority, "enabled": d.enabled, "webhook_url": d.webhook_url,
            "webhook_timeout": d.webhook_timeout, "webhook_retries": d.webhook_retries, "command": d.command,
            "retroactive_outputs": d.retroactive_outputs}


def _outputs(d) -> str:  # noqa: ANN001
    """A definition's outputs in one column, the webhook without its user:password@."""
    from imtui.engine.alarms import safe_url

    out = []
    if d.webhook_url:
        out.append(_("webhook {url} ({timeout:g} s, {retries} retries)").format(
            url=safe_url(d.webhook_url), timeout=d.webhook_timeout, retries=d.webhook_retries))
    if d.command:
        out.append(_("command {name}").format(name=d.command))
    if out and d.retroactive_outputs:
        out.append(_("also for alarms found after the read"))
    return "; ".join(out) or "-"


def _command_note(settings, d) -> str | None:  # noqa: ANN001
    """A hint, not a refusal: the worker host's config is the one that has to name the command."""
    if d.command and d.command not in settings.action_commands:
        return _("Note: command {name!r} is not in [actions.commands] of this host's config; the config of each "
                 "worker host that raises this alarm must name it.").format(name=d.command)
    return None


@alarms_app.command("definitions")
def definitions_cmd(ctx: typer.Context) -> None:
    """Alarm definitions: ID, name, trigger, list, cameras, priority, enabled, outputs."""
    from imtui.cli import _emit
    from imtui.cli_admin import _run
    from imtui.engine.alarms import PRIORITIES
    from imtui.safetext import clean

    found = _run(ctx, lambda s, a: s.alarms.definitions(a))
    _emit(ctx.find_root().obj, "\n".join(
        f"{d.id}\t{clean(d.name)}\t{d.trigger}\t{d.list_id or '-'}\t{','.join(map(str, d.cameras)) or _('all')}\t"
        f"{PRIORITIES[d.priority]}\t{_('enabled') if d.enabled else _('disabled')}\t{clean(_outputs(d))}"
        for d in found) or _("No definitions."),
        {"definitions": [_definition_data(d) for d in found]})


_WEBHOOK_HELP = _("Event action: POST the alarm as JSON to this http:// or https:// URL (\"\" for none).")
_TIMEOUT_HELP = _("Seconds per webhook attempt, 0.5 to 60.")
_RETRIES_HELP = _("Webhook attempts after the first, 0 to 5.")
_COMMAND_HELP = _("Event action: run the command of this name in the actions.commands table of the worker "
                  "host's config (\"\" for none).")  # no brackets: Typer's help reads them as markup
_RETROACTIVE_HELP = _("Run the outputs also for an alarm found after the read (a list gained the plate; the "
                      "vehicle has passed). Off by default.")


@alarms_app.command("define")
def define_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument()],
    trigger: Annotated[str, typer.Option("--trigger", help=_(
        "list, camera_lost, camera_running, server_not_responding or server_responding."))],
    matchlist: Annotated[str | None, typer.Option("--list", help=_("The match list (ID or name) of a list trigger."))] = None,
    camera: Annotated[list[int] | None, typer.Option("--camera", "--cameras", help=_(
        "A source camera (repeatable); default all."))] = None,
    priority: Annotated[int, typer.Option("--priority", help=_("1 high, 2 medium, 3 low."))] = 2,
    disabled: Annotated[bool, typer.Option("--disabled")] = False,
    webhook: Annotated[str, typer.Option("--webhook", help=_WEBHOOK_HELP)] = "",
    webhook_timeout: Annotated[float, typer.Option("--webhook-timeout", help=_TIMEOUT_HELP)] = 5.0,
    webhook_retries: Annotated[int, typer.Option("--webhook-retries", help=_RETRIES_HELP)] = 2,
    command: Annotated[str, typer.Option("--command", help=_COMMAND_HELP)] = "",
    retroactive_outputs: Annotated[bool, typer.Option("--retroactive-outputs", help=_RETROACTIVE_HELP)] = False,
) -> None:
    """Define an alarm, optionally with outputs (a webhook, a command) for gates and lights."""
    from imtui.cli import _emit
    from imtui.cli_admin import _run

    async def work(s, a):  # noqa: ANN001, ANN202
        list_id = (await s.matchlists.find(a, matchlist)).id if matchlist else None
        d = await s.alarms.define(a, name, trigger, list_id=list_id, cameras=camera or [], priority=priority,
                                  enabled=not disabled, webhook_url=webhook, webhook_timeout=webhook_timeout,
                                  webhook_retries=webhook_retries, command=command,
                                  retroactive_outputs=retroactive_outputs)
        return d, _command_note(s.settings, d)

    d, note = _run(ctx, work)
    message = _("Alarm definition {id} created.").format(id=d.id)
    _emit(ctx.find_root().obj, message + (f"\n{note}" if note else ""), {**_definition_data(d), "note": note})


@alarms_app.command("edit")
def edit_cmd(
    ctx: typer.Context,
    definition: Annotated[int, typer.Argument(help=_("Alarm definition ID (see imtui alarms definitions)."))],
    name: Annotated[str | None, typer.Option("--name")] = None,
    trigger: Annotated[str | None, typer.Option("--trigger", help=_(
        "list, camera_lost, camera_running, server_not_responding or server_responding."))] = None,
    matchlist: Annotated[str | None, typer.Option("--list", help=_("The match list (ID or name) of a list trigger."))] = None,
    camera: Annotated[list[int] | None, typer.Option("--camera", "--cameras", help=_(
        "A source camera (repeatable): replaces the cameras."))] = None,
    all_cameras: Annotated[bool, typer.Option("--all-cameras", help=_("Raise it for every camera."))] = False,
    priority: Annotated[int | None, typer.Option("--priority", help=_("1 high, 2 medium, 3 low."))] = None,
    enabled: Annotated[bool | None, typer.Option("--enable/--disable")] = None,
    webhook: Annotated[str | None, typer.Option("--webhook", help=_WEBHOOK_HELP)] = None,
    webhook_timeout: Annotated[float | None, typer.Option("--webhook-timeout", help=_TIMEOUT_HELP)] = None,
    webhook_retries: Annotated[int | None, typer.Option("--webhook-retries", help=_RETRIES_HELP)] = None,
    command: Annotated[str | None, typer.Option("--command", help=_COMMAND_HELP)] = None,
    retroactive_outputs: Annotated[bool | None, typer.Option(
        "--retroactive-outputs/--no-retroactive-outputs", help=_RETROACTIVE_HELP)] = None,
) -> None:
    """Change an alarm definition; options not given stay as they are (pass "" to clear an output)."""
    from imtui.cli import _emit, refuse
    from imtui.cli_admin import _run

    if camera and all_cameras:
        refuse(_("Cameras: give --camera or --all-cameras, not both."))
    changes: dict = {k: v for k, v in (
        ("name", name), ("trigger", trigger), ("priority", priority), ("enabled", enabled), ("webhook_url", webhook),
        ("webhook_timeout", webhook_timeout), ("webhook_retries", webhook_retries), ("command", command),
        ("retroactive_outputs", retroactive_outputs),
    ) if v is not None}
    if camera or all_cameras:
        changes["cameras"] = [] if all_cameras else camera

    async def work(s, a):  # noqa: ANN001, ANN202
        if matchlist:
            changes["list_id"] = (await s.matchlists.find(a, matchlist)).id
        d = await s.alarms.update_definition(a, definition, **changes)
        return d, _command_note(s.settings, d) if "command" in changes else None

    d, note = _run(ctx, work)
    message = _("Alarm definition {id} saved.").format(id=d.id)
    _emit(ctx.find_root().obj, message + (f"\n{note}" if note else ""), {**_definition_data(d), "note": note})


@alarms_app.command("undefine")
def undefine_cmd(ctx: typer.Context, definition: Annotated[int, typer.Argument()]) -> None:
    """Delete an alarm definition (its raised alarms stay)."""
    from imtui.cli import _emit
    from imtui.cli_admin import _run

    _run(ctx, lambda s, a: s.alarms.delete_definition(a, definition))
    _emit(ctx.find_root().obj, _("Alarm definition {id} deleted.").format(id=definition), {"deleted": definition})

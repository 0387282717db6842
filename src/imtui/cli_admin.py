"""``imtui admin ...``: every incident-property action of the admin screen, for headless servers.

Same engine calls as the screens (same permission checks, same audit entries).  Lists print a
table, or JSON with ``--json``; a refusal prints one line and exits with code 2.
"""

from __future__ import annotations

import asyncio
import dataclasses
import getpass
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import typer

from imtui.i18n import _

log = logging.getLogger(__name__)

admin_app = typer.Typer(help=_("Administration: incident properties and options."), no_args_is_help=True)


def _run(ctx: typer.Context, work: Callable[[Any, Any], Awaitable[Any]]) -> Any:
    """Open the services, log the acting user in, run ``work(services, actor)``; refusals exit 2."""
    from imtui.cli import State, _settings, refuse
    from imtui.engine.errors import ServiceError
    from imtui.engine.services import Services

    state: State = ctx.find_root().obj
    settings = _settings(state)
    trusted = settings.trust_os_user
    name = state.user or (getpass.getuser() if trusted else None)
    if not name:
        refuse(_("No user given: pass --user NAME (or set auth.trust_os_user = true in the config)."))
    password = None
    if not trusted:
        password = os.environ.get("IMTUI_PASSWORD")
        if password is None and sys.stdin.isatty():
            password = typer.prompt(_("Password for {name}").format(name=name), hide_input=True, err=True)
        if password is None:
            refuse(_("No password: set IMTUI_PASSWORD, run from a terminal, or trust the OS identity "
                     "(auth.trust_os_user = true)."))

    async def go() -> Any:
        services = Services(settings)
        try:
            if password is None:
                actor = await services.start(name)
            else:
                await services.upgrade()
                actor = await services.security.login(name, password)
            return await work(services, actor)
        finally:
            await services.close()

    try:
        return asyncio.run(go())
    except ServiceError as exc:
        refuse(exc.message)
    except Exception as exc:  # noqa: BLE001 - a bad URL, a failure no service guarded
        refuse(unexpected_failure(exc))


def unexpected_failure(exc: BaseException) -> str:
    """What the CLI says for a failure no service turned into a message: the manual's words for
    a database one, never the driver's text; the traceback goes to imtui.log."""
    from imtui.storage.db import UNREACHABLE

    log.error("command failed", exc_info=exc)
    if isinstance(exc, UNREACHABLE):
        return _("Cannot perform this action. Try again later.")
    if isinstance(exc, ValueError):  # a bad database URL: our own wording, naming the fix
        return _("Cannot perform this action: {error}").format(error=exc)
    return _("Cannot perform this action. See imtui.log for the details.")


def _print(ctx: typer.Context, rows: list[dict[str, Any]], columns: list[str]) -> None:
    from imtui.cli import _emit

    state = ctx.find_root().obj
    if state.json:
        _emit(state, "", {"items": rows})
        return
    widths = {c: max([len(c)] + [len(str(r[c])) for r in rows]) for c in columns}
    lines = ["  ".join(c.upper().ljust(widths[c]) for c in columns)]
    lines += ["  ".join(str(r[c]).ljust(widths[c]) for c in columns) for r in rows]
    _emit(state, "\n".join(lines), {"items": rows})


def _done(ctx: typer.Context, human: str, data: dict[str, Any]) -> None:
    from imtui.cli import _emit

    _emit(ctx.find_root().obj, human, data)


def _simple_kind(kind: str, help_text: str) -> typer.Typer:
    """list/add/edit/delete for types and statuses (one code path, like the engine's)."""
    app = typer.Typer(help=help_text, no_args_is_help=True)

    @app.command("list")
    def list_(ctx: typer.Context) -> None:
        items = _run(ctx, lambda s, a: s.properties.list_items(a, kind))
        _print(ctx, [dataclasses.asdict(i) for i in items], ["id", "name", "in_use", "description"])

    @app.command("add")
    def add(ctx: typer.Context, name: Annotated[str, typer.Option("--name")],
            description: Annotated[str, typer.Option("--description")] = "") -> None:
        new_id = _run(ctx, lambda s, a: s.properties.add_item(a, kind, name, description))
        _done(ctx, _("Added {kind} {id}.").format(kind=kind, id=new_id), {"id": new_id})

    @app.command("edit")
    def edit(ctx: typer.Context, item_id: int, name: Annotated[str | None, typer.Option("--name")] = None,
             description: Annotated[str | None, typer.Option("--description")] = None) -> None:
        _run(ctx, lambda s, a: s.properties.edit_item(a, kind, item_id, name=name, description=description))
        _done(ctx, _("Saved {kind} {id}.").format(kind=kind, id=item_id), {"id": item_id})

    @app.command("delete")
    def delete(ctx: typer.Context, item_id: int) -> None:
        _run(ctx, lambda s, a: s.properties.delete_item(a, kind, item_id))
        _done(ctx, _("Deleted {kind} {id}.").format(kind=kind, id=item_id), {"id": item_id})

    return app


admin_app.add_typer(_simple_kind("type", _("Incident types.")), name="types")
admin_app.add_typer(_simple_kind("status", _("Incident statuses.")), name="statuses")

categories_app = typer.Typer(help=_("The five incident categories."), no_args_is_help=True)
admin_app.add_typer(categories_app, name="categories")


@categories_app.command("list")
def categories_list(ctx: typer.Context) -> None:
    cats = _run(ctx, lambda s, a: s.properties.categories(a))
    rows = [{"slot": c.slot, "enabled": c.enabled, "name": c.name, "values": len(c.values),
             "description": c.description} for c in cats]
    _print(ctx, rows, ["slot", "enabled", "name", "values", "description"])


@categories_app.command("add")
def categories_add(ctx: typer.Context, name: Annotated[str, typer.Option("--name")],
                   description: Annotated[str, typer.Option("--description")] = "") -> None:
    """Enable the first disabled category slot with this name."""

    async def work(s, a) -> int:  # noqa: ANN001
        free = [c.slot for c in await s.properties.categories(a) if not c.enabled]
        if not free:
            from imtui.engine.errors import InvalidInput

            raise InvalidInput("category", _("Category: all five are in use; edit or delete one first."))
        await s.properties.set_category(a, free[0], enabled=True, name=name, description=description)
        return free[0]

    slot = _run(ctx, work)
    _done(ctx, _("Enabled category {slot}.").format(slot=slot), {"slot": slot})


@categories_app.command("edit")
def categories_edit(ctx: typer.Context, slot: int, name: Annotated[str | None, typer.Option("--name")] = None,
                    description: Annotated[str | None, typer.Option("--description")] = None,
                    enabled: Annotated[bool | None, typer.Option("--enable/--disable")] = None) -> None:
    _run(ctx, lambda s, a: s.properties.set_category(a, slot, enabled=enabled, name=name, description=description))
    _done(ctx, _("Saved category {slot}.").format(slot=slot), {"slot": slot})


@categories_app.command("delete")
def categories_delete(ctx: typer.Context, slot: int) -> None:
    """Disable a category (its values stay defined)."""
    _run(ctx, lambda s, a: s.properties.set_category(a, slot, enabled=False))
    _done(ctx, _("Disabled category {slot}.").format(slot=slot), {"slot": slot})


values_app = typer.Typer(help=_("The values of a category."), no_args_is_help=True)
admin_app.add_typer(values_app, name="values")


@values_app.command("list")
def values_list(ctx: typer.Context, slot: int) -> None:
    items = _run(ctx, lambda s, a: s.properties.list_items(a, "value", slot))
    _print(ctx, [dataclasses.asdict(i) for i in items], ["id", "name", "in_use", "description"])


@values_app.command("add")
def values_add(ctx: typer.Context, slot: int, name: Annotated[str, typer.Option("--name")],
               description: Annotated[str, typer.Option("--description")] = "") -> None:
    new_id = _run(ctx, lambda s, a: s.properties.add_item(a, "value", name, description, slot=slot))
    _done(ctx, _("Added value {id} to category {slot}.").format(id=new_id, slot=slot), {"id": new_id})


@values_app.command("edit")
def values_edit(ctx: typer.Context, item_id: int, name: Annotated[str | None, typer.Option("--name")] = None,
                description: Annotated[str | None, typer.Option("--description")] = None) -> None:
    _run(ctx, lambda s, a: s.properties.edit_item(a, "value", item_id, name=name, description=description))
    _done(ctx, _("Saved value {id}.").format(id=item_id), {"id": item_id})


@values_app.command("delete")
def values_delete(ctx: typer.Context, item_id: int) -> None:
    _run(ctx, lambda s, a: s.properties.delete_item(a, "value", item_id))
    _done(ctx, _("Deleted value {id}.").format(id=item_id), {"id": item_id})


fields_app = typer.Typer(help=_("Incident data fields: up to 3 of each kind."), no_args_is_help=True)
admin_app.add_typer(fields_app, name="fields")


@fields_app.command("list")
def fields_list(ctx: typer.Context) -> None:
    fields = _run(ctx, lambda s, a: s.properties.data_fields(a))
    _print(ctx, [dataclasses.asdict(f) for f in fields], ["id", "kind", "slot", "enabled", "name", "description"])


@fields_app.command("add")
def fields_add(ctx: typer.Context, kind: str, name: Annotated[str, typer.Option("--name")],
               description: Annotated[str, typer.Option("--description")] = "") -> None:
    """Enable the first free field of KIND (integer, decimal, text, checkbox, datetime)."""

    async def work(s, a) -> int:  # noqa: ANN001
        from imtui.engine.errors import InvalidInput
        from imtui.engine.properties import DATA_KINDS

        if kind not in DATA_KINDS:
            raise InvalidInput("kind", _("Kind: choose one of {kinds}.").format(kinds=", ".join(DATA_KINDS)))
        free = [f for f in await s.properties.data_fields(a) if f.kind == kind and not f.enabled]
        if not free:
            raise InvalidInput("kind", _("Kind {kind}: all three fields are in use; edit or delete one.").format(kind=kind))
        await s.properties.set_data_field(a, free[0].id, enabled=True, name=name, description=description)
        return free[0].id

    field_id = _run(ctx, work)
    _done(ctx, _("Enabled data field {id}.").format(id=field_id), {"id": field_id})


@fields_app.command("edit")
def fields_edit(ctx: typer.Context, field_id: int, name: Annotated[str | None, typer.Option("--name")] = None,
                description: Annotated[str | None, typer.Option("--description")] = None,
                enabled: Annotated[bool | None, typer.Option("--enable/--disable")] = None) -> None:
    _run(ctx, lambda s, a: s.properties.set_data_field(a, field_id, enabled=enabled, name=name, description=description))
    _done(ctx, _("Saved data field {id}.").format(id=field_id), {"id": field_id})


@fields_app.command("delete")
def fields_delete(ctx: typer.Context, field_id: int) -> None:
    """Disable a data field (values already entered stay stored)."""
    _run(ctx, lambda s, a: s.properties.set_data_field(a, field_id, enabled=False))
    _done(ctx, _("Disabled data field {id}.").format(id=field_id), {"id": field_id})


@admin_app.command("options")
def options(
    ctx: typer.Context,
    report_title: Annotated[str | None, typer.Option("--report-title")] = None,
    # A string on purpose: the engine's own message names the range, not the parser's.
    retention_days: Annotated[str | None, typer.Option("--retention-days", help=_("1 to 365000."))] = None,
    alarm_type: Annotated[str | None, typer.Option("--alarm-type", help=_(
        "The incident type (name or ID) of projects made of alarms; \"\" to let operators choose each time."))] = None,
) -> None:
    """Show, or set, the report title, the retention time of incident projects and the type of
    projects made of alarms."""
    from imtui.cli_alarms import type_id_named

    async def work(s, a):  # noqa: ANN001, ANN202
        if report_title is None and retention_days is None and alarm_type is None:
            return await s.properties.options(a)
        type_id = None if alarm_type is None else (await type_id_named(s, alarm_type) if alarm_type.strip() else 0)
        return await s.properties.set_options(a, report_title=report_title, retention_days=retention_days,
                                              alarm_type_id=type_id)

    opts = _run(ctx, work)
    _done(ctx, _("Report title: {title}\nRetention time: {days} days\nType for alarm projects: {type}").format(
        title=opts.report_title, days=opts.retention_days,
        type=opts.alarm_type_name or _("none (the operator chooses)")), dataclasses.asdict(opts))


roles_app = typer.Typer(help=_("Roles: per-feature grants (none, view, manage)."), no_args_is_help=True)
admin_app.add_typer(roles_app, name="roles")


@roles_app.command("list")
def roles_list(ctx: typer.Context) -> None:
    roles = _run(ctx, lambda s, a: s.security.roles(a))
    rows = [dataclasses.asdict(r) for r in roles]
    for row in rows:
        row["summary"] = ", ".join(f"{f}={lvl}" for f, lvl in row["grants"].items() if lvl != "none")
        row["members"] = ", ".join(row["users"])
    _print(ctx, rows, ["name", "builtin", "members", "summary"])


@roles_app.command("add")
def roles_add(ctx: typer.Context, name: str) -> None:
    role_id = _run(ctx, lambda s, a: s.security.add_role(a, name))
    _done(ctx, _("Added role {name}.").format(name=name), {"id": role_id})


@roles_app.command("grant")
def roles_grant(ctx: typer.Context, role: str, feature: str, level: str) -> None:
    """Set FEATURE (properties, security, incidents, comments, calls, sequences, report, export,
    delete) to LEVEL (none, view, manage) for ROLE."""
    _run(ctx, lambda s, a: s.security.grant(a, role, feature, level))
    _done(ctx, _("Role {role}: {feature} = {level}.").format(role=role, feature=feature, level=level),
          {"role": role, "feature": feature, "level": level})


@roles_app.command("delete")
def roles_delete(ctx: typer.Context, role: str) -> None:
    _run(ctx, lambda s, a: s.security.delete_role(a, role))
    _done(ctx, _("Deleted role {role}.").format(role=role), {"role": role})


users_app = typer.Typer(help=_("Users, their roles and passwords."), no_args_is_help=True)
admin_app.add_typer(users_app, name="users")


def _read_password(stdin: bool) -> str:
    if stdin:
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt(_("New password"), hide_input=True, confirmation_prompt=True, err=True)


@users_app.command("list")
def users_list(ctx: typer.Context) -> None:
    users = _run(ctx, lambda s, a: s.security.users(a))
    rows = []
    for u in users:
        row = dataclasses.asdict(u)
        row["locked_until"] = u.locked_until.isoformat() if u.locked_until else None
        row["role_list"] = ", ".join(u.roles)
        rows.append(row)
    _print(ctx, rows, ["name", "full_name", "role_list", "disabled", "has_password"])


@users_app.command("add")
def users_add(
    ctx: typer.Context, name: str,
    role: Annotated[list[str], typer.Option("--role", help=_("A role; repeat for several."))],
    full_name: Annotated[str, typer.Option("--full-name")] = "",
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help=_("Read the password from stdin."))] = False,
    no_password: Annotated[bool, typer.Option("--no-password", help=_("Only for trusted OS logins."))] = False,
) -> None:
    password = None if no_password else _read_password(password_stdin)
    user_id = _run(ctx, lambda s, a: s.security.add_user(a, name, roles=role, full_name=full_name, password=password))
    _done(ctx, _("Added user {name}.").format(name=name), {"id": user_id})


@users_app.command("passwd")
def users_passwd(
    ctx: typer.Context, name: str,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help=_("Read the password from stdin."))] = False,
) -> None:
    password = _read_password(password_stdin)
    _run(ctx, lambda s, a: s.security.set_password(a, name, password))
    _done(ctx, _("Password of {name} changed.").format(name=name), {"name": name})


@users_app.command("roles")
def users_roles(ctx: typer.Context, name: str,
                role: Annotated[list[str], typer.Option("--role", help=_("A role; repeat for several."))]) -> None:
    _run(ctx, lambda s, a: s.security.set_roles(a, name, role))
    _done(ctx, _("Roles of {name}: {roles}.").format(name=name, roles=", ".join(role)), {"name": name, "roles": role})


@users_app.command("disable")
def users_disable(ctx: typer.Context, name: str,
                  enable: Annotated[bool, typer.Option("--enable", help=_("Enable the user again."))] = False) -> None:
    _run(ctx, lambda s, a: s.security.set_disabled(a, name, not enable))
    _done(ctx, (_("Enabled {name}.") if enable else _("Disabled {name}.")).format(name=name),
          {"name": name, "disabled": not enable})


cameras_app = typer.Typer(help=_("Cameras: source, recording retention, motion sensitivity."), no_args_is_help=True)
admin_app.add_typer(cameras_app, name="cameras")


@cameras_app.command("list")
def cameras_list(ctx: typer.Context) -> None:
    cams = _run(ctx, lambda s, a: s.cameras.list(a))
    _print(ctx, [dataclasses.asdict(c) for c in cams],
           ["id", "name", "enabled", "retention_days", "motion_sensitivity", "sequences", "source"])


@cameras_app.command("add")
def cameras_add(
    ctx: typer.Context, name: str, source: Annotated[str, typer.Option("--source")],
    retention_days: Annotated[str, typer.Option("--retention-days")] = "30",
    sensitivity: Annotated[str, typer.Option("--sensitivity", help=_("1 to 100."))] = "50",
    disabled: Annotated[bool, typer.Option("--disabled")] = False,
) -> None:
    camera_id = _run(ctx, lambda s, a: s.cameras.add(a, name, source, enabled=not disabled,
                                                      retention_days=retention_days, motion_sensitivity=sensitivity))
    _done(ctx, _("Added camera {id}.").format(id=camera_id), {"id": camera_id})


@cameras_app.command("edit")
def cameras_edit(
    ctx: typer.Context, camera_id: int, name: Annotated[str | None, typer.Option("--name")] = None,
    source: Annotated[str | None, typer.Option("--source")] = None,
    retention_days: Annotated[str | None, typer.Option("--retention-days")] = None,
    sensitivity: Annotated[str | None, typer.Option("--sensitivity")] = None,
    enabled: Annotated[bool | None, typer.Option("--enable/--disable")] = None,
) -> None:
    _run(ctx, lambda s, a: s.cameras.edit(a, camera_id, name=name, source=source, enabled=enabled,
                                          retention_days=retention_days, motion_sensitivity=sensitivity))
    _done(ctx, _("Saved camera {id}.").format(id=camera_id), {"id": camera_id})


@cameras_app.command("delete")
def cameras_delete(ctx: typer.Context, camera_id: int) -> None:
    _run(ctx, lambda s, a: s.cameras.delete(a, camera_id))
    _done(ctx, _("Deleted camera {id}.").format(id=camera_id), {"id": camera_id})


views_app = typer.Typer(help=_("Live views: named groups of cameras for live mode and real-time projects."),
                        no_args_is_help=True)
admin_app.add_typer(views_app, name="views")


@views_app.command("list")
def views_list(ctx: typer.Context) -> None:
    views = _run(ctx, lambda s, a: s.views.list(a))
    _print(ctx, [{"id": v.id, "name": v.name, "cameras": ", ".join(f"{c.id}:{c.name}" for c in v.cameras)}
                 for v in views], ["id", "name", "cameras"])


def _camera_ids(raw: str) -> list[int]:
    from imtui.cli import refuse

    try:
        return [int(x) for x in raw.replace(" ", "").split(",") if x]
    except ValueError:
        refuse(_("--cameras: give camera ids separated by commas, e.g. 1,2,5."))
        raise


@views_app.command("add")
def views_add(ctx: typer.Context, name: str,
              cameras: Annotated[str, typer.Option("--cameras", help=_("Camera ids, e.g. 1,2,5."))]) -> None:
    view_id = _run(ctx, lambda s, a: s.views.save(a, name, _camera_ids(cameras)))
    _done(ctx, _("Added view {id}.").format(id=view_id), {"id": view_id})


@views_app.command("edit")
def views_edit(ctx: typer.Context, view_id: int, name: Annotated[str, typer.Option("--name")],
               cameras: Annotated[str, typer.Option("--cameras", help=_("Camera ids, e.g. 1,2,5."))]) -> None:
    _run(ctx, lambda s, a: s.views.save(a, name, _camera_ids(cameras), view_id))
    _done(ctx, _("Saved view {id}.").format(id=view_id), {"id": view_id})


@views_app.command("delete")
def views_delete(ctx: typer.Context, view_id: int) -> None:
    _run(ctx, lambda s, a: s.views.delete(a, view_id))
    _done(ctx, _("Deleted view {id}.").format(id=view_id), {"id": view_id})

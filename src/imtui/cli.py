"""The ``imtui`` command: the TUI, and scriptable sub-commands for administrators.

Human text by default, JSON with ``--json``; a refusal prints one line and exits with code 2.
``IMTUI_DATABASE_URL`` overrides ``--db`` (so a service unit can pin the database).
"""

from __future__ import annotations

import asyncio
import dataclasses
import getpass
import json
import os
import sys
import time
from typing import Annotated, Any

import typer

from imtui.config import ConfigError, Settings, data_dir, load_settings
from imtui.i18n import _

app = typer.Typer(add_completion=False, no_args_is_help=False, help=_("imtui: incident projects for control rooms."))
db_app = typer.Typer(help=_("Database maintenance."))
app.add_typer(db_app, name="db")


def _add_admin() -> None:
    from imtui.cli_admin import admin_app

    app.add_typer(admin_app, name="admin")
    from imtui.cli_evidence import register
    from imtui.cli_lpr import register as register_lpr
    from imtui.cli_alarms import register as register_alarms
    from imtui.cli_matchlist import register as register_matchlist
    from imtui.cli_worker import register as register_worker

    register(app)
    register_lpr(app)
    register_matchlist(app)
    register_alarms(app)
    register_worker(app)


@dataclasses.dataclass
class State:
    db: str | None = None
    user: str | None = None
    mouse: bool = False
    json: bool = False
    image_mode: str | None = None


def refuse(message: str) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(2)


def _settings(state: State, default_url: str | None = None) -> Settings:
    try:
        settings = load_settings()
    except ConfigError as exc:
        refuse(str(exc))
        raise
    url = os.environ.get("IMTUI_DATABASE_URL") or state.db or default_url
    if url:
        settings = dataclasses.replace(settings, database_url=url)
    if state.image_mode:
        settings = dataclasses.replace(settings, image_mode=state.image_mode)
    return settings


def _emit(state: State, human: str, data: dict[str, Any]) -> None:
    from imtui.safetext import clean

    if state.json:
        typer.echo(json.dumps(data))
    else:
        typer.echo(clean(human, multiline=True))


def _run_tui(settings: Settings, user: str | None, mouse: bool, *, trusted: bool = True, worker: bool = False) -> None:
    from imtui.app import create_app

    if trusted:
        tui = create_app(settings=settings, user=user, worker=worker)
    else:
        tui = create_app(settings=settings, login=True, login_hint=user, worker=worker)
    tui.run(mouse=mouse or settings.mouse)


@app.callback(invoke_without_command=True)
def main_callback(
    ctx: typer.Context,
    db: Annotated[str | None, typer.Option("--db", help=_("Database URL (sqlite:///path or postgresql://...)."))] = None,
    user: Annotated[str | None, typer.Option("--user", help=_("Log in as this user."))] = None,
    mouse: Annotated[bool, typer.Option("--mouse", help=_("Enable mouse tracking (off by default: it costs bandwidth)."))] = False,
    as_json: Annotated[bool, typer.Option("--json", help=_("Machine-readable output."))] = False,
    image_mode: Annotated[str | None, typer.Option(
        "--image-mode", help=_("How video frames are drawn: auto, tgp, sixel, halfcell, unicode or off."))] = None,
) -> None:
    if image_mode is not None:
        from imtui.config import check_image_mode

        try:
            check_image_mode(image_mode, "--image-mode")
        except ConfigError as exc:
            refuse(str(exc))
    ctx.obj = State(db=db, user=user, mouse=mouse, json=as_json, image_mode=image_mode)
    from imtui.applog import setup_logging

    try:
        setup_logging()
    except OSError as exc:  # a read-only data dir must not stop an administrator's command
        typer.echo(_("Cannot write the log file: {error}").format(error=exc), err=True)
        import logging

        logging.getLogger().addHandler(logging.NullHandler())  # no driver traceback on stderr either
    if ctx.invoked_subcommand is None:
        settings = _settings(ctx.obj)
        if settings.trust_os_user:  # e.g. ForceCommand imtui over SSH: no password, the user must exist
            _run_tui(settings, user or getpass.getuser(), mouse)
        else:
            _run_tui(settings, user, mouse, trusted=False)


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Create or upgrade the database schema to the newest version."""
    state: State = ctx.obj
    settings = _settings(state)

    async def run() -> str | None:
        from imtui.storage.db import Database

        db = Database(settings.database_url)
        try:
            await db.upgrade()
        finally:
            await db.dispose()
        from imtui.storage.migrate import head_revision

        return head_revision()

    try:
        rev = asyncio.run(run())
    except Exception as exc:  # noqa: BLE001 - told in the manual's words, logged with its traceback
        from imtui.cli_admin import unexpected_failure

        refuse(unexpected_failure(exc))
    _emit(state, _("Database is at revision {rev}.").format(rev=rev), {"revision": rev})


async def _seed(settings: Settings, incidents: int, cameras: int, progress: bool) -> dict[str, Any]:
    from imtui.engine.seed import seed_defaults, seed_incidents
    from imtui.storage.db import Database

    db = Database(settings.database_url)
    try:
        await db.upgrade()
        await seed_defaults(db, cameras=cameras)
        say = (lambda msg: typer.echo(msg, err=True)) if progress else None
        result = await seed_incidents(db, incidents, progress=say)
    finally:
        await db.dispose()
    return dataclasses.asdict(result)


@app.command("seed")
def seed(
    ctx: typer.Context,
    incidents: Annotated[int, typer.Option("--incidents", min=0, help=_("Synthetic incidents to add."))] = 0,
    cameras: Annotated[int, typer.Option("--cameras", min=0, help=_("Cameras to have at least."))] = 8,
) -> None:
    """Create the default properties, users admin/operator/viewer, cameras and N incidents."""
    state: State = ctx.obj
    settings = _settings(state)
    started = time.perf_counter()
    try:
        result = asyncio.run(_seed(settings, incidents, cameras, progress=not state.json and sys.stderr.isatty()))
    except Exception as exc:  # noqa: BLE001 - told in the manual's words, logged with its traceback
        from imtui.cli_admin import unexpected_failure

        refuse(unexpected_failure(exc))
    result["seconds"] = round(time.perf_counter() - started, 2)
    _emit(
        state,
        _("Seeded {incidents:,} incidents ({sequences:,} sequences, {comments:,} comments) in {seconds} s.").format(
            **result
        ),
        result,
    )


@app.command("purge")
def purge(
    ctx: typer.Context,
    dry_run: Annotated[bool, typer.Option("--dry-run", help=_("Only say what would be deleted."))] = False,
) -> None:
    """Delete the incident projects older than the retention time, the recordings past their
    camera's retention and the events past events.keep_hours (the app and the worker do it hourly)."""
    from imtui.cli_admin import _run

    async def every(s, a):  # noqa: ANN001, ANN202
        return (await s.retention.purge(a, dry_run=dry_run), await s.recordings.purge(a, dry_run=dry_run),
                await s.events.purge(a, s.recordings.store, s.settings.events_keep_hours, dry_run=dry_run),
                s.settings.events_keep_hours)

    result, media, lpr, keep_hours = _run(ctx, every)
    data = {"count": result.count, "retention_days": result.retention_days, "cutoff": result.cutoff.isoformat(),
            "dry_run": dry_run, "sample_ids": result.sample, "recordings": media.deleted,
            "recordings_held_as_evidence": media.held, "bytes_freed": media.bytes,
            "events_keep_hours": keep_hours,
            "recognitions": lpr.recognitions, "plate_matches": lpr.matches, "plate_crops": lpr.snapshots,
            "events": lpr.events}
    if dry_run:
        human = _("Would delete {n:,} incident projects created before {cutoff} (retention {days} days).").format(
            n=result.count, cutoff=result.cutoff.isoformat(timespec="minutes"), days=result.retention_days)
        if result.sample:
            human += "\n" + _("Oldest ids: {ids}").format(ids=", ".join(map(str, result.sample)))
    else:
        human = _("Deleted {n:,} incident projects created before {cutoff} (retention {days} days).").format(
            n=result.count, cutoff=result.cutoff.isoformat(timespec="minutes"), days=result.retention_days)
    human += "\n" + (_("Would delete {n:,} recordings past their camera's retention; {held:,} kept as evidence.")
                     if dry_run else
                     _("Deleted {n:,} recordings past their camera's retention; {held:,} kept as evidence.")
                     ).format(n=media.deleted, held=media.held)
    human += "\n" + (_("Would delete {n:,} plate recognitions ({crops:,} plate crops, {matches:,} list matches) "
                       "and {events:,} camera events older than {hours:g} hours.")
                     if dry_run else
                     _("Deleted {n:,} plate recognitions ({crops:,} plate crops, {matches:,} list matches) "
                       "and {events:,} camera events older than {hours:g} hours.")
                     ).format(n=lpr.recognitions, crops=lpr.snapshots, matches=lpr.matches, events=lpr.events,
                              hours=keep_hours)
    _emit(ctx.obj, human, data)


@app.command("events")
def events_list(
    ctx: typer.Context,
    kind: Annotated[str | None, typer.Option("--kind", help=_("camera_lost, camera_running, storage_error …"))] = None,
    camera: Annotated[int | None, typer.Option("--camera", help=_("Only this camera id."))] = None,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 100,
) -> None:
    """Worker events (camera connection lost/running, storage trouble), newest first."""
    from imtui.cli_admin import _print, _run

    settings = _settings(ctx.obj)
    rows = [{"id": e.id, "at": e.at.astimezone(settings.timezone).strftime("%Y-%m-%d %H:%M:%S"), "kind": e.kind,
             "camera_id": e.camera_id, "source": e.source, "message": e.message}
            for e in _run(ctx, lambda s, a: s.events.list(a, kind=kind, camera_id=camera, limit=limit))]
    _print(ctx, rows, ["at", "kind", "camera_id", "source", "message"])


@app.command("audit")
def audit_log(
    ctx: typer.Context,
    since: Annotated[str | None, typer.Option("--since", help=_("YYYY-MM-DD HH:MM, site time."))] = None,
    user: Annotated[str | None, typer.Option("--user-filter", "--by", help=_("Only this user's entries."))] = None,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 1000,
) -> None:
    """The system audit log, newest first."""
    from imtui.cli_admin import _print, _run
    from imtui.engine.incidents import parse_time_field

    settings = _settings(ctx.obj)

    async def work(s, a):  # noqa: ANN001, ANN202
        start = parse_time_field("--since", since, settings.timezone) if since else None
        return await s.audit.entries(a, since=start, user=user, limit=limit)

    rows = [{"id": e.id, "at": e.at.astimezone(settings.timezone).strftime("%Y-%m-%d %H:%M:%S"), "user": e.user,
             "action": e.action, "target": e.target, "details": e.details} for e in _run(ctx, work)]
    _print(ctx, rows, ["at", "user", "action", "target", "details"])


@app.command("demo")
def demo(ctx: typer.Context) -> None:
    """Run imtui on the embedded demo database, creating and seeding it when empty, recording its
    synthetic cameras in the same process."""
    state: State = ctx.obj
    url = f"sqlite+aiosqlite:///{data_dir() / 'demo.db'}"
    settings = _settings(state, default_url=url)
    if not os.environ.get("IMTUI_DATABASE_URL") and not state.db:
        settings = dataclasses.replace(settings, database_url=url, media_dir=data_dir() / "demo-media")
    if state.image_mode is None and settings.image_mode == "off":
        # The demo is there to be seen: pictures unless --image-mode says otherwise (a configured
        # `off` cannot be told from the default here, so it gives way too; --image-mode off does not).
        settings = dataclasses.replace(settings, image_mode="auto")

    async def prepare() -> None:
        from imtui.engine.seed import seed_defaults, seed_incidents
        from imtui.storage.db import Database

        db = Database(settings.database_url)
        try:
            await db.upgrade()
            await seed_defaults(db)
            async with db.read() as s:
                from sqlalchemy import text

                empty = (await s.execute(text("SELECT count(*) FROM incident"))).scalar_one() == 0
            if empty:
                await seed_incidents(db, 2000)
            from imtui.engine.demo_lpr import seed_lpr_demo
            from imtui.engine.video.media import MediaStore

            await seed_lpr_demo(db, MediaStore(settings.media_dir))  # plates read, matched, alarmed
        finally:
            await db.dispose()

    asyncio.run(prepare())
    _run_tui(settings, state.user or "operator", state.mouse, worker=True)


_add_admin()


def main() -> None:
    app()


if __name__ == "__main__":
    main()

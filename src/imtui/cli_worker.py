"""``imtui worker``: run an LPR server (recording and plate reading), and manage the servers of a
site from any host: ``status``, ``stop``, ``move`` (the manual's "Change server"), ``forget`` and
``log`` (this host's worker log, newest entries at the bottom as in the manual)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from imtui.i18n import _
from imtui.units import memory_size as _size
from imtui.units import up_time as _uptime

worker_app = typer.Typer(help=_("Run an LPR server (imtui worker) or manage the site's servers."),
                         invoke_without_command=True)


def register(app: typer.Typer) -> None:
    app.add_typer(worker_app, name="worker")


@worker_app.callback()
def run(
    ctx: typer.Context,
    seconds: Annotated[float | None, typer.Option("--seconds", min=0.1, help=_("Stop after this many seconds."))] = None,
    name: Annotated[str | None, typer.Option("--name", help=_(
        "This LPR server's name (default: worker.name in the config, else the host name)."))] = None,
) -> None:
    """Record and read every camera assigned to this server until stopped (Ctrl+C, SIGTERM or
    imtui worker stop)."""
    if ctx.invoked_subcommand is not None:
        return
    import dataclasses
    import signal

    from imtui.applog import setup_logging
    from imtui.cli import _settings, refuse
    from imtui.engine.lpr_servers import ServerNameTaken
    from imtui.engine.video.worker import run_worker

    settings = _settings(ctx.find_root().obj)
    if name is not None:
        if not name.strip() or len(name.strip()) > 100:
            refuse(_("--name: write a name of 1 to 100 characters."))
        settings = dataclasses.replace(settings, worker_name=name.strip())
    try:
        setup_logging(settings.worker_log)  # the worker's own log file (imtui worker log)
    except OSError as exc:
        typer.echo(_("Cannot write the worker log {path}: {error}").format(path=settings.worker_log, error=exc), err=True)

    async def go() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(settings, stop, seconds=seconds)

    typer.echo(_("Recording to {dir}; log in {log}; stop with Ctrl+C.").format(
        dir=settings.media_dir, log=settings.worker_log), err=True)
    try:
        asyncio.run(go())
    except ServerNameTaken as exc:
        refuse(str(exc))
    except Exception as exc:  # noqa: BLE001 - an unreachable database, a bad URL
        from imtui.cli_admin import unexpected_failure

        refuse(_("Cannot run the worker: {error}").format(error=unexpected_failure(exc)))


def server_data(v) -> dict:  # noqa: ANN001 - a ServerView; also the JSON of `status --json`
    return {"id": v.id, "name": v.name, "host": v.host, "pid": v.pid, "status": v.status, "running": v.running,
            "started_at": v.started_at.isoformat(), "heartbeat_at": v.heartbeat_at.isoformat(),
            "uptime_seconds": int(v.uptime.total_seconds()) if v.uptime is not None else None,
            "cpu_percent": round(v.cpu_percent, 1), "memory_available": v.memory_available, "plates": v.plates,
            "error": v.error,
            "cameras": [{"id": c.id, "name": c.name, "lpr": c.lpr, "state": c.state} for c in v.cameras]}


@worker_app.command("status")
def status_cmd(ctx: typer.Context) -> None:
    """Every LPR server of the site: status, up time, CPU, memory, plates, cameras."""
    from imtui.cli import _emit
    from imtui.cli_admin import _run
    from imtui.safetext import clean

    views = _run(ctx, lambda s, a: s.servers.servers(a))
    lines = []
    for v in views:
        lines.append(f"{clean(v.name)} ({clean(v.host)}): {v.status}")
        if v.running:
            lines.append("  " + _("up {uptime}, CPU {cpu:.0f} %, memory available {mem}, {plates:,} plates recognised").format(
                uptime=_uptime(v.uptime.total_seconds()), cpu=v.cpu_percent, mem=_size(v.memory_available), plates=v.plates))
        if v.error:
            lines.append("  " + clean(v.error))
        for c in v.cameras:
            kind = _("LPR camera") if c.lpr else _("camera")
            lines.append(f"  {kind} {c.id} {clean(c.name)}: {c.state or '-'}")
    if not views:
        lines.append(_("No LPR server has registered yet; start one with imtui worker."))
    _emit(ctx.find_root().obj, "\n".join(lines), {"items": [server_data(v) for v in views]})


@worker_app.command("stop")
def stop_cmd(
    ctx: typer.Context,
    server: Annotated[str, typer.Argument(help=_("Server name or ID."))],
    wait: Annotated[float, typer.Option("--wait", min=0, help=_("Seconds to wait for it to stop (0: do not wait)."))] = 30,
) -> None:
    """Ask a worker to stop; it does at its next heartbeat, on whatever host it runs."""
    from imtui.cli import _emit, refuse
    from imtui.cli_admin import _run
    from imtui.engine.lpr_servers import NOT_RUNNING

    ref = int(server) if server.isdigit() else server

    async def ask_and_wait(s, a) -> tuple[str, bool]:  # noqa: ANN001 - one login, one database connection
        name = await s.servers.request_stop(a, ref)
        deadline = asyncio.get_running_loop().time() + wait
        while wait and asyncio.get_running_loop().time() < deadline:
            view = next((v for v in await s.servers.servers(a) if v.name == name), None)
            if view is None or view.status == NOT_RUNNING:
                return name, True
            await asyncio.sleep(0.5)
        return name, False

    name, stopped = _run(ctx, ask_and_wait)
    if stopped:
        _emit(ctx.find_root().obj, _("LPR server {name!r} stopped.").format(name=name), {"name": name, "stopped": True})
    elif wait:
        refuse(_("LPR server {name!r} was asked to stop but has not yet; see imtui worker status.").format(name=name))
    else:
        _emit(ctx.find_root().obj, _("LPR server {name!r} asked to stop.").format(name=name),
              {"name": name, "stopped": False})


@worker_app.command("move")
def move_cmd(
    ctx: typer.Context,
    camera: Annotated[int, typer.Argument(help=_("Camera ID."))],
    server: Annotated[str, typer.Argument(help=_("Server name or ID."))],
) -> None:
    """Change server: the camera is recorded and read by SERVER from its next reload (seconds)."""
    from imtui.cli import _emit
    from imtui.cli_admin import _run

    ref = int(server) if server.isdigit() else server
    name = _run(ctx, lambda s, a: s.servers.move_camera(a, camera, ref))
    _emit(ctx.find_root().obj, _("Camera {id} now runs on LPR server {name!r}.").format(id=camera, name=name),
          {"camera_id": camera, "server": name})


@worker_app.command("forget")
def forget_cmd(
    ctx: typer.Context,
    server: Annotated[str, typer.Argument(help=_("Server name or ID."))],
) -> None:
    """Remove a server that no longer runs; its cameras go to the next worker that reloads."""
    from imtui.cli import _emit
    from imtui.cli_admin import _run

    ref = int(server) if server.isdigit() else server
    name = _run(ctx, lambda s, a: s.servers.forget(a, ref))
    _emit(ctx.find_root().obj, _("LPR server {name!r} forgotten; its cameras go to the next worker.").format(name=name),
          {"name": name})


def tail(path: Path, lines: int) -> list[str]:
    """The last ``lines`` lines of a (possibly large) log file, reading only its end."""
    with path.open("rb") as f:
        f.seek(0, 2)
        size, block, data = f.tell(), 64 * 1024, b""
        while size > 0 and data.count(b"\n") <= lines:
            step = min(block, size)
            size -= step
            f.seek(size)
            data = f.read(step) + data
    return data.decode("utf-8", "replace").splitlines()[-lines:]


@worker_app.command("log")
def log_cmd(
    ctx: typer.Context,
    lines: Annotated[int, typer.Option("--lines", "-n", min=1, max=100_000, help=_("How many of the newest lines."))] = 50,
) -> None:
    """This host's worker log (worker.log in the config), newest entries at the bottom."""
    from imtui.cli import _emit, _settings, refuse

    path = _settings(ctx.find_root().obj).worker_log
    try:
        shown = tail(path, lines)
    except FileNotFoundError:
        refuse(_("No worker log at {path}: no worker has run on this host with this config (worker.log).").format(path=path))
        return
    except OSError as exc:
        refuse(_("Cannot read the worker log {path}: {error}").format(path=path, error=exc))
        return
    _emit(ctx.find_root().obj, "\n".join(shown), {"path": str(path), "lines": shown})

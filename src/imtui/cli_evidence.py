"""``imtui report``, ``imtui export`` and ``imtui verify``: reports and evidence packages from a
script (the same services as the TUI: same permissions, same activity entries)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from imtui.i18n import _


def register(app: typer.Typer) -> None:
    app.command("report")(report)
    app.command("export")(export)
    app.command("verify")(verify)


def report(
    ctx: typer.Context,
    incident_id: Annotated[int, typer.Argument(help=_("Incident project ID."))],
    out: Annotated[str, typer.Option("--out", help=_("PDF file (or folder) to write."))],
    show_user_names: Annotated[bool, typer.Option("--show-user-names",
                                                  help=_("Print user names instead of User 1, User 2…"))] = False,
) -> None:
    """Save the incident report of a project as PDF."""
    from imtui.cli import _emit
    from imtui.cli_admin import _run
    from imtui.engine.report.service import report_path

    async def work(s, a):  # noqa: ANN001, ANN202
        return await s.reports.save(a, incident_id, report_path(out, incident_id), show_user_names=show_user_names)

    result = _run(ctx, work)
    _emit(ctx.find_root().obj, result.message, {"path": str(result.path), "pages": result.pages,
                                                "missing": list(result.missing)})


def export(
    ctx: typer.Context,
    incident_id: Annotated[int, typer.Argument(help=_("Incident project ID."))],
    out: Annotated[str, typer.Option("--out", help=_("Existing folder to write into."))],
    fmt: Annotated[str, typer.Option("--format", help=_("mp4, avi or package."))] = "package",
    zip_: Annotated[bool, typer.Option("--zip", help=_("Package as one ZIP file."))] = False,
    burn: Annotated[bool, typer.Option("--burn-timestamp", help=_("Draw each frame's time on the picture."))] = False,
    name: Annotated[str, typer.Option("--name", help=_("Name of the export (letters, digits, - and _)."))] = "",
    show_user_names: Annotated[bool, typer.Option("--show-user-names", help=_("In the package's report."))] = False,
) -> None:
    """Export every sequence of a project: clips, or an evidence package with report and manifest."""
    from imtui.cli import _emit
    from imtui.cli_admin import _run
    from imtui.engine.export.names import export_folder
    from imtui.engine.export.service import ExportOptions

    options = ExportOptions(format=fmt, burn_timestamp=burn, zip=zip_, name=name, show_user_names=show_user_names)
    say = (lambda p: typer.echo(f"\r{p.fraction * 100:5.1f} %  {p.label[:60]:<60}", err=True, nl=False)) \
        if sys.stderr.isatty() and not ctx.find_root().obj.json else None

    async def work(s, a):  # noqa: ANN001, ANN202
        items = await s.exports.project_items(a, incident_id)
        return await s.exports.export(a, items, export_folder(out), options, progress=say)

    result = _run(ctx, work)
    if say:
        typer.echo("", err=True)
    _emit(ctx.find_root().obj, result.message + (f"\nmanifest.json sha256 {result.manifest_sha256}"
                                                 if result.manifest_sha256 else ""),
          {"path": str(result.path), "clips": [str(c.path) for c in result.clips], "frames": result.frames,
           "seconds_of_video": round(result.seconds_of_video, 3), "manifest_sha256": result.manifest_sha256,
           "missing": list(result.missing)})


def verify(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help=_("Package folder or ZIP."))],
) -> None:
    """Re-hash an evidence package: OK, or every file missing, extra or altered (exit 1)."""
    from imtui.cli import _emit
    from imtui.engine.export.package import verify as check
    from imtui.safetext import clean

    state = ctx.find_root().obj
    if not path.exists():
        typer.echo(_("{path}: no such file or folder.").format(path=clean(str(path))), err=True)
        raise typer.Exit(2)
    result = check(path)
    words = {"missing": _("MISSING"), "extra": _("EXTRA"), "altered": _("ALTERED"), "invalid": _("INVALID")}
    if result.ok:
        human = _("OK: {n} files match the manifest (manifest.json sha256 {sha}).").format(
            n=result.files, sha=result.manifest_sha256)
    else:
        human = "\n".join(f"{words[k]}  {clean(p)}" for k, p in result.problems)
        human += "\n" + _("FAILED: {n} problem(s).").format(n=len(result.problems))
    _emit(state, human, {"ok": result.ok, "files": result.files, "manifest_sha256": result.manifest_sha256,
                         "problems": [{"kind": k, "path": p} for k, p in result.problems]})
    if not result.ok:
        raise typer.Exit(1)

"""``imtui lpr``: read plates in image files from a script (the same engine as the worker)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from imtui.i18n import _

lpr_app = typer.Typer(help=_("Licence-plate recognition."), no_args_is_help=True)


@lpr_app.command("read")
def read(
    images: Annotated[list[Path], typer.Argument(help=_("Image files (JPEG, PNG, ...)."))],
    country: Annotated[list[str], typer.Option("--country", help=_(
        "Enable a country module (repeatable): e.g. BR, DK, DE, FR, GB, NL, SK, CZ, US, EU, GENERIC."))] = ["GENERIC"],  # noqa: B006
    as_jsonl: Annotated[bool, typer.Option("--jsonl", help=_("One JSON object per image."))] = False,
) -> None:
    """Print the plates in each image, best first."""
    import cv2

    from imtui.lpr.reader import PlateReader, modules_for
    from imtui.lpr.settings import PHOTO
    from imtui.safetext import clean

    try:
        modules = modules_for(tuple(c.upper() for c in country))
    except ValueError as exc:
        typer.echo(_("--country: {error}").format(error=exc), err=True)
        raise typer.Exit(2) from None
    reader = PlateReader()
    failed = False
    for path in images:
        image = cv2.imread(str(path))
        if image is None:
            typer.echo(_("{path}: cannot read this image; give a JPEG or PNG file.").format(path=clean(str(path))),
                       err=True)
            failed = True
            continue
        result = reader.read(image, PHOTO, modules)
        if as_jsonl:
            typer.echo(json.dumps({"file": str(path), "plates": [r.text for r in result.reads],
                                   "countries": [r.country for r in result.reads],
                                   "confidences": [r.confidence for r in result.reads],
                                   "boxes": [list(r.box) for r in result.reads], "ms": round(result.ms, 1)}))
        else:
            for r in result.reads:
                typer.echo(f"{r.text}\t{r.country}\t{r.confidence:.3f}" if len(images) == 1
                           else f"{clean(str(path))}\t{r.text}\t{r.country}\t{r.confidence:.3f}")
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(lpr_app, name="lpr")


def _show(ctx: typer.Context, view) -> None:  # noqa: ANN001
    from imtui.cli import _emit
    from imtui.lpr.settings import to_dict

    data = {"camera_id": view.camera_id, "name": view.name, "enabled": view.enabled, "settings": to_dict(view.settings)}
    s = view.settings
    area = "; ".join(" ".join(f"{x:g},{y:g}" for x, y in poly) for poly in s.area) or _("whole frame")
    human = "\n".join([
        _("Camera {id} “{name}”: recognition {state}").format(id=view.camera_id, name=view.name,
                                                               state=_("on") if view.enabled else _("off")),
        _("  country modules: {c}").format(c=", ".join(s.countries)),
        _("  recognition area: {a}").format(a=area),
        _("  character height: {lo:g} – {hi:g} % of the frame height").format(lo=s.min_char_height, hi=s.max_char_height),
        _("  compensate for interlacing: {v}").format(v=_("yes") if s.interlaced else _("no")),
        _("  maximum frames processed per second: {v}").format(v=f"{s.max_fps:g}" if s.max_fps else _("unlimited")),
        _("  maximum seconds per frame: {v}").format(
            v=f"{s.max_seconds_per_frame:g}" if s.max_seconds_per_frame else _("unlimited")),
        _("  stop recognition above: {v:g} %").format(v=s.stop_above * 100),
        _("  discard recognitions below: {v:g} %").format(v=s.discard_below * 100),
        _("  maximum plates per frame: {v}").format(v=s.max_plates or _("unlimited")),
        _("  time span against partial recognitions: {v:g} s").format(v=s.partial_seconds),
    ])
    _emit(ctx.find_root().obj, human, data)


@lpr_app.command("settings")
def settings_cmd(
    ctx: typer.Context,
    camera: Annotated[int, typer.Argument(help=_("Camera ID."))],
    enable: Annotated[bool | None, typer.Option("--enable/--disable", help=_("Turn recognition on or off."))] = None,
    country: Annotated[list[str] | None, typer.Option("--country", help=_("Country modules (repeatable)."))] = None,
    area: Annotated[list[str] | None, typer.Option("--area", help=_(
        "A polygon as x,y pairs in frame fractions, e.g. '0,0.4 1,0.4 1,1 0,1' (repeatable); 'all' clears."))] = None,
    min_char: Annotated[float | None, typer.Option("--min-char-height", help=_("% of the frame height."))] = None,
    max_char: Annotated[float | None, typer.Option("--max-char-height", help=_("% of the frame height."))] = None,
    interlaced: Annotated[bool | None, typer.Option("--interlaced/--progressive")] = None,
    max_fps: Annotated[float | None, typer.Option("--max-fps", help=_("0: unlimited."))] = None,
    max_seconds: Annotated[float | None, typer.Option("--max-seconds-per-frame", help=_("0: unlimited."))] = None,
    stop_above: Annotated[float | None, typer.Option("--stop-above", help=_("Confidence in %."))] = None,
    discard_below: Annotated[float | None, typer.Option("--discard-below", help=_("Confidence in %."))] = None,
    max_plates: Annotated[int | None, typer.Option("--max-plates", help=_("0: unlimited."))] = None,
    partial: Annotated[float | None, typer.Option("--partial-seconds", help=_("0 to 5."))] = None,
) -> None:
    """Show or change a camera's recognition settings (manual 004, "Recognition settings")."""
    import dataclasses

    from imtui.cli_admin import _run
    from imtui.engine.errors import InvalidInput

    changes: dict = {}
    if country:
        changes["countries"] = tuple(c.upper() for c in country)
    if area:
        if area == ["all"]:
            changes["area"] = ()
        else:
            try:
                changes["area"] = tuple(tuple((float(x), float(y)) for x, y in (pt.split(",") for pt in poly.split()))
                                        for poly in area)
            except ValueError:
                from imtui.cli import refuse

                refuse(_("--area: give x,y pairs separated by spaces, e.g. '0,0.4 1,0.4 1,1 0,1'."))
    for key, value in (("min_char_height", min_char), ("max_char_height", max_char), ("interlaced", interlaced),
                       ("max_fps", max_fps), ("max_seconds_per_frame", max_seconds), ("max_plates", max_plates),
                       ("partial_seconds", partial)):
        if value is not None:
            changes[key] = value
    for key, value in (("stop_above", stop_above), ("discard_below", discard_below)):
        if value is not None:
            changes[key] = value / 100

    async def work(s, a):  # noqa: ANN001, ANN202
        if not changes and enable is None:
            return await s.lpr.camera(a, camera)
        current = await s.lpr.camera(a, camera)
        try:
            new = dataclasses.replace(current.settings, **changes) if changes else None
        except (TypeError, ValueError) as exc:
            raise InvalidInput("settings", str(exc)) from None
        return await s.lpr.configure(a, camera, enabled=enable, settings=new)

    _show(ctx, _run(ctx, work))


@lpr_app.command("snapshot")
def snapshot_cmd(
    ctx: typer.Context,
    camera: Annotated[int, typer.Argument(help=_("Camera ID."))],
    images: Annotated[list[Path] | None, typer.Argument(help=_("Image files to import as snapshots."))] = None,
    live: Annotated[bool, typer.Option("--live", help=_(
        "Capture the camera's latest frame (the worker must be recording it)."))] = False,
) -> None:
    """Add snapshots for validation and auto-configuration: image files, or the live picture."""
    import cv2

    from imtui.cli import _emit, refuse
    from imtui.cli_admin import _run
    from imtui.safetext import clean

    if not images and not live:
        refuse(_("Snapshot: give image files, or --live to capture the camera's current picture."))
    loaded = []
    for path in images or []:
        image = cv2.imread(str(path))
        if image is None:
            refuse(_("{path}: cannot read this image; give a JPEG or PNG file.").format(path=clean(str(path))))
        loaded.append((path.name, image))

    async def work(s, a):  # noqa: ANN001, ANN202
        items = list(loaded)
        if live:
            latest = s.recordings.latest(a, camera)
            if latest is None:
                from imtui.engine.errors import InvalidInput

                raise InvalidInput("live", _("Snapshot: camera {id} has no live picture; is the worker recording it?")
                                   .format(id=camera))
            frame, at, _motion = latest
            items.append((f"live {at.astimezone(s.settings.timezone):%Y-%m-%d %H:%M:%S}", frame))
        return [await s.lpr.add_snapshot(a, camera, image, name) for name, image in items]

    ids = _run(ctx, work)
    _emit(ctx.find_root().obj, _("{n} snapshots added to camera {id}.").format(n=len(ids), id=camera), {"ids": ids})


@lpr_app.command("validate")
def validate_cmd(ctx: typer.Context, camera: Annotated[int, typer.Argument(help=_("Camera ID."))]) -> None:
    """Read the camera's snapshots with its settings: "License plates detected: X of Y"."""
    from imtui.cli import _emit
    from imtui.cli_admin import _run
    from imtui.safetext import clean

    result = _run(ctx, lambda s, a: s.lpr.validate(a, camera))
    _emit(ctx.find_root().obj, result.summary() + "\n" + "\n".join(clean(d) for d in result.details()),
          {"detected": result.detected, "snapshots": len(result.snapshots),
           "average_confidence": round(result.average_confidence, 4), "average_ms": round(result.average_ms, 1),
           "details": [{"name": x.name, "plates": list(x.plates), "confidence": x.confidence, "ms": x.ms}
                       for x in result.snapshots]})


@lpr_app.command("autoconfigure")
def autoconfigure_cmd(
    ctx: typer.Context,
    camera: Annotated[int, typer.Argument(help=_("Camera ID."))],
    yes: Annotated[bool, typer.Option("--yes", help=_("Apply without asking (overwrites manual changes)."))] = False,
) -> None:
    """Derive character heights and the recognition area from the snapshots."""
    from imtui.cli import refuse
    from imtui.cli_admin import _run

    proposed = _run(ctx, lambda s, a: s.lpr.auto_configure(a, camera, apply=False))
    if proposed is None:
        refuse(_("Auto-configure: no plate found in the snapshots; add snapshots that show plates."))
    if not yes:
        if not sys.stdin.isatty():
            refuse(_("Auto-configure overwrites manual changes: run again with --yes to apply."))
        typer.confirm(_("Auto-configure overwrites manual changes. Apply?"), abort=True, err=True)
    _show(ctx, _run(ctx, lambda s, a: s.lpr.configure(a, camera, settings=proposed)))


@lpr_app.command("recognitions")
def recognitions_cmd(
    ctx: typer.Context,
    camera: Annotated[int | None, typer.Option("--camera")] = None,
    plate: Annotated[str | None, typer.Option("--plate")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 100,
) -> None:
    """Plates the workers read, newest first."""
    from imtui.cli import _settings
    from imtui.cli_admin import _print, _run

    settings = _settings(ctx.find_root().obj)
    rows = [{"at": r.at.astimezone(settings.timezone).strftime("%Y-%m-%d %H:%M:%S"), "camera_id": r.camera_id,
             "plate": r.plate, "country": r.country, "confidence": round(r.confidence, 3), "reads": r.reads,
             "snapshot": r.snapshot}
            for r in _run(ctx, lambda s, a: s.lpr.recognitions(a, camera_id=camera, plate=plate, limit=limit))]
    _print(ctx, rows, ["at", "camera_id", "plate", "country", "confidence", "reads"])


def _choose(options, ref: str | None, what: str, hint: str) -> int | None:  # noqa: ANN001
    """An ID or an exact name (case-insensitive) among ``options``; InvalidInput for an unknown
    name.  A number that names nothing is still taken as an ID: events outlive deleted cameras and
    lists."""
    from imtui.engine.errors import InvalidInput
    from imtui.safetext import clean

    if ref is None or not ref.strip():
        return None
    ref = ref.strip()
    for o in options:
        if str(o.id) == ref or o.name.casefold() == ref.casefold():
            return o.id
    if ref.isdigit():
        return int(ref)
    raise InvalidInput(what.lstrip("-"), _("{what}: nothing is called {name!r}; {hint}").format(
        what=what, name=clean(ref), hint=hint))


@lpr_app.command("events")
def events_cmd(
    ctx: typer.Context,
    plate: Annotated[str, typer.Option("--plate", help=_(
        "Part of the plate; ? is any one character, e.g. AB???CD."))] = "",
    camera: Annotated[str | None, typer.Option("--camera", help=_("Camera ID or name."))] = None,
    ref: Annotated[str | None, typer.Option("--list", help=_(
        "Only events that matched this list (ID or name)."))] = None,
    since: Annotated[str | None, typer.Option("--since", help=_("YYYY-MM-DD HH:MM, site time."))] = None,
    until: Annotated[str | None, typer.Option("--until", help=_("YYYY-MM-DD HH:MM, site time."))] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 100,
) -> None:
    """LPR events, newest first: each recognition with the lists it matched (list, entry, rule,
    custom fields) and its plate picture (the LPR tab; kept 24 h by default)."""
    from imtui.cli import _emit
    from imtui.cli_admin import _run
    from imtui.engine.incidents import parse_time_field
    from imtui.safetext import clean

    async def work(s, a):  # noqa: ANN001, ANN202
        tz = s.settings.timezone
        start = parse_time_field("--since", since, tz) if since else None
        end = parse_time_field("--until", until, tz) if until else None
        choices = await s.lpr_events.choices(a)
        camera_id = _choose(choices.cameras, camera, "--camera", _("see imtui admin cameras list."))
        list_id = _choose(choices.lists, ref, "--list", _("see imtui matchlist list."))
        page = await s.lpr_events.search(a, plate=plate, camera_id=camera_id, list_id=list_id, since=start,
                                         until=end, limit=limit)
        return page, tz, s.recordings.store

    page, tz, store = _run(ctx, work)
    lines, items = [], []
    for e in page.events:
        at = e.at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
        camera_name = e.camera_name or f"#{e.camera_id}"
        lines.append("\t".join([at, str(e.camera_id), clean(camera_name), clean(e.plate), clean(e.country),
                                f"{e.confidence:.3f}", ", ".join(clean(m.list_name) for m in e.matches) or "-"]))
        for m in e.matches:
            fields = ", ".join(f"{clean(k)}: {clean(v)}" for k, v in m.fields.items() if v)
            lines.append("\t".join(["", clean(m.list_name), clean(m.entry_plate) or "-",
                                    m.rule + (" (retroactive)" if m.retroactive else ""), fields]).rstrip("\t"))
        items.append({"id": e.id, "at": e.at.isoformat(), "camera_id": e.camera_id, "camera": e.camera_name,
                      "plate": e.plate, "country": e.country, "confidence": round(e.confidence, 4), "reads": e.reads,
                      "snapshot": str(store.absolute(e.snapshot)) if e.snapshot else None,
                      "matches": [{"list_id": m.list_id, "list": m.list_name, "entry": m.entry_plate, "rule": m.rule,
                                   "retroactive": m.retroactive, "fields": m.fields} for m in e.matches]})
    if page.has_next:
        lines.append(_("… more: narrow the search or raise --limit."))
    _emit(ctx.find_root().obj, "\n".join(lines) or _("No LPR events."), {"events": items, "more": page.has_next})

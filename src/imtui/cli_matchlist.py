"""``imtui matchlist``: licence-plate match lists from a script (manual 004) — the same service as
the screens, so the same rules, messages and audit entries."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from imtui.i18n import _

matchlist_app = typer.Typer(help=_("Licence-plate match lists."), no_args_is_help=True)
field_app = typer.Typer(help=_("A list's custom fields (columns)."), no_args_is_help=True)
matchlist_app.add_typer(field_app, name="field")


def register(app: typer.Typer) -> None:
    app.add_typer(matchlist_app, name="matchlist")


def _list_data(v) -> dict:  # noqa: ANN001
    return {"id": v.id, "name": v.name, "kind": v.kind, "ocr_equivalence": v.ocr_equivalence,
            "differences": v.differences, "fields": [f.name for f in v.fields], "entries": v.entries}


def _list_line(v) -> str:  # noqa: ANN001
    from imtui.safetext import clean

    tolerance = _("equivalence {e}, differences {d}").format(e=v.ocr_equivalence, d=v.differences)
    fields = ", ".join(clean(f.name) for f in v.fields) or "-"
    if v.unlisted:
        return f"{v.id}\t{clean(v.name)}\t" + _("(plates on none of a camera's lists)")
    return f"{v.id}\t{clean(v.name)}\t{v.entries}\t{tolerance}\t{fields}"


def _find(s, a, ref: str):  # noqa: ANN001, ANN202
    return s.matchlists.find(a, ref)


@matchlist_app.command("list")
def list_cmd(ctx: typer.Context) -> None:
    """Every list: ID, name, plates, tolerances, custom fields."""
    from imtui.cli import _emit
    from imtui.cli_admin import _run

    views = _run(ctx, lambda s, a: s.matchlists.lists(a))
    _emit(ctx.find_root().obj, "\n".join(_list_line(v) for v in views), {"lists": [_list_data(v) for v in views]})


@matchlist_app.command("add")
def add_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help=_("The new list's name."))],
    field: Annotated[list[str] | None, typer.Option("--field", help=_("A custom field (repeatable, in order)."))] = None,
    equivalence: Annotated[int, typer.Option("--ocr-equivalence", help=_(
        "0 off; 1 O/0 and I/1 read as equal; 2 also B/8, S/5, Z/2, G/6."))] = 0,
    differences: Annotated[int, typer.Option("--differences", help=_("0, or 1 other character may differ."))] = 0,
) -> None:
    """Create a list."""
    from imtui.cli import _emit
    from imtui.cli_admin import _run

    v = _run(ctx, lambda s, a: s.matchlists.create(a, name, ocr_equivalence=equivalence, differences=differences,
                                                   fields=field or []))
    _emit(ctx.find_root().obj, _("Match list {id} created.").format(id=v.id), _list_data(v))


@matchlist_app.command("edit")
def edit_cmd(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help=_("List ID or name."))],
    name: Annotated[str | None, typer.Option("--name")] = None,
    equivalence: Annotated[int | None, typer.Option("--ocr-equivalence")] = None,
    differences: Annotated[int | None, typer.Option("--differences")] = None,
) -> None:
    """Rename a list or change its matching tolerances."""
    _list_op(ctx, ref, lambda s, a, v: s.matchlists.edit(a, v.id, name=name, ocr_equivalence=equivalence,
                                                         differences=differences))


@matchlist_app.command("delete")
def delete_cmd(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help=_("List ID or name."))],
    plate: Annotated[list[str] | None, typer.Option("--plate", help=_(
        "Delete these plates only (repeatable); without it the whole list goes."))] = None,
) -> None:
    """Delete a list, or some of its plates."""
    from imtui.cli import _emit
    from imtui.cli_admin import _run
    from imtui.lpr.matching import PlateRuleError, normalise_plate

    wanted = []
    for p in plate or []:
        try:
            wanted.append(normalise_plate(p)[0])
        except PlateRuleError as exc:
            from imtui.cli import refuse

            refuse(_("Plate: {rule}.").format(rule=exc))

    async def work(s, a):  # noqa: ANN001, ANN202
        v = await _find(s, a, ref)
        if not plate:
            await s.matchlists.delete(a, v.id)
            return v, None
        ids = []
        for p in wanted:
            page = await s.matchlists.entries(a, v.id, search=p, limit=1000)
            ids += [r.id for r in page.rows if r.plate == p]
        return v, await s.matchlists.delete_entries(a, v.id, ids)

    v, gone = _run(ctx, work)
    if gone is None:
        _emit(ctx.find_root().obj, _("Match list {id} deleted.").format(id=v.id), {"deleted": v.id})
    else:
        _emit(ctx.find_root().obj, _("{n} plates deleted.").format(n=gone), {"deleted_plates": gone})


@matchlist_app.command("show")
def show_cmd(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help=_("List ID or name."))],
    search: Annotated[str, typer.Option("--search", help=_("Part of a plate; ? stands for one character."))] = "",
    page: Annotated[int, typer.Option("--page", min=1)] = 1,
    rows: Annotated[int, typer.Option("--rows", help=_("Rows per page, 50 to 1000."))] = 50,
) -> None:
    """A page of a list's plates with their custom fields."""
    from imtui.cli import _emit
    from imtui.cli_admin import _run
    from imtui.safetext import clean

    async def work(s, a):  # noqa: ANN001, ANN202
        v = await _find(s, a, ref)
        return v, await s.matchlists.entries(a, v.id, search=search, offset=(page - 1) * rows, limit=rows)

    v, result = _run(ctx, work)
    header = "\t".join([_("Plate"), *(clean(f.name) for f in v.fields)])
    lines = [header] + ["\t".join([r.plate, *(clean(x) for x in r.values)]) for r in result.rows]
    lines.append(_("{shown} of {total} plates (page {page}).").format(shown=len(result.rows), total=result.total,
                                                                      page=page))
    _emit(ctx.find_root().obj, "\n".join(lines), {
        "list": _list_data(v), "total": result.total, "page": page,
        "rows": [{"id": r.id, "plate": r.plate, "fields": dict(zip([f.name for f in v.fields], r.values, strict=True))}
                 for r in result.rows]})


@matchlist_app.command("plate")
def plate_cmd(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help=_("List ID or name."))],
    plate: Annotated[str, typer.Argument(help=_("Capital letters and digits, ? for any one character, _ between two "
                                                "parts."))],
    value: Annotated[list[str] | None, typer.Option("--set", help=_("FIELD=VALUE (repeatable)."))] = None,
) -> None:
    """Add a plate to a list, or set custom field values of a plate already on it."""
    from imtui.cli import _emit, refuse
    from imtui.cli_admin import _run
    from imtui.engine.errors import InvalidInput

    values = {}
    for item in value or []:
        if "=" not in item:
            refuse(_("--set: write FIELD=VALUE, e.g. --set Owner=Smith."))
        k, v = item.split("=", 1)
        values[k.strip()] = v

    async def work(s, a):  # noqa: ANN001, ANN202
        lst = await _find(s, a, ref)
        try:
            entry, note = await s.matchlists.add_entry(a, lst.id, plate, values)
            return _("Plate {plate} added.").format(plate=entry.plate), note
        except InvalidInput as exc:
            if "already on the list" not in str(exc):
                raise
            from imtui.lpr.matching import normalise_plate

            stored = normalise_plate(plate)[0]
            page = await s.matchlists.entries(a, lst.id, search=stored, limit=1000)
            ids = [r.id for r in page.rows if r.plate == stored]
            await s.matchlists.edit_entries(a, lst.id, ids, values=values)
            return _("Plate {plate} updated.").format(plate=stored), None

    message, note = _run(ctx, work)
    _emit(ctx.find_root().obj, message + (f"\n{note}" if note else ""), {"message": message, "note": note})


@matchlist_app.command("import")
def import_cmd(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help=_("List ID or name."))],
    path: Annotated[Path, typer.Argument(help=_(".txt or .csv: a header row names the columns (Plate and the "
                                                "custom fields, any order); without one, plate then the fields in "
                                                "order; '-' reads standard input."))],
    replace: Annotated[bool, typer.Option("--replace", help=_("Replace the list instead of adding to it."))] = False,
) -> None:
    """Import plates from a comma-separated file (encoding, delimiter and header are detected)."""
    from imtui.cli import _emit, refuse
    from imtui.cli_admin import _run
    from imtui.safetext import clean

    try:
        data = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as exc:
        refuse(_("{path}: cannot read the file ({error}).").format(path=clean(str(path)), error=exc.strerror))

    async def work(s, a):  # noqa: ANN001, ANN202
        v = await _find(s, a, ref)
        return await s.matchlists.import_file(a, v.id, data, replace=replace)

    report = _run(ctx, work)
    human = _("{added} plates added, {updated} updated").format(added=report.added, updated=report.updated)
    if replace:
        human += _(", {removed} removed").format(removed=report.removed)
    human += "."
    if report.notes:
        human += "\n" + "\n".join(clean(n) for n in report.notes)
    _emit(ctx.find_root().obj, human, {"added": report.added, "updated": report.updated, "removed": report.removed,
                                       "notes": report.notes})


@matchlist_app.command("export")
def export_cmd(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help=_("List ID or name."))],
    out: Annotated[Path | None, typer.Option("--out", help=_("A .csv file (never overwritten); default: standard "
                                                             "output."))] = None,
) -> None:
    """Export a whole list as CSV (opens in a spreadsheet; formula-like cells are neutralised)."""
    from imtui.cli import refuse
    from imtui.cli_admin import _run
    from imtui.safetext import clean

    if out is not None and out.exists():
        refuse(_("{path}: the file exists; choose another name.").format(path=clean(str(out))))

    async def work(s, a):  # noqa: ANN001, ANN202
        v = await _find(s, a, ref)
        return list(await s.matchlists.export_lines(a, v.id))

    lines = _run(ctx, work)
    if out is None:
        sys.stdout.write("".join(lines))
        return
    tmp = out.with_name(f".{out.name}.partial")
    with tmp.open("w", encoding="utf-8", newline="") as f:
        f.writelines(lines)
    tmp.replace(out)
    typer.echo(_("{n} plates written to {path}.").format(n=max(0, len(lines) - 1), path=clean(str(out))))


@field_app.command("add")
def field_add(ctx: typer.Context, ref: Annotated[str, typer.Argument()], name: Annotated[str, typer.Argument()]) -> None:
    """Add a custom field at the end."""
    _list_op(ctx, ref, lambda s, a, v: s.matchlists.add_field(a, v.id, name))


@field_app.command("rename")
def field_rename(ctx: typer.Context, ref: Annotated[str, typer.Argument()], field: Annotated[str, typer.Argument()],
                 name: Annotated[str, typer.Argument()]) -> None:
    """Rename a custom field."""
    _list_op(ctx, ref, lambda s, a, v: s.matchlists.rename_field(a, v.id, _field_id(v, field), name))


@field_app.command("delete")
def field_delete(ctx: typer.Context, ref: Annotated[str, typer.Argument()],
                 field: Annotated[str, typer.Argument()]) -> None:
    """Delete a custom field (its values go with it)."""
    _list_op(ctx, ref, lambda s, a, v: s.matchlists.delete_field(a, v.id, _field_id(v, field)))


@field_app.command("up")
def field_up(ctx: typer.Context, ref: Annotated[str, typer.Argument()], field: Annotated[str, typer.Argument()]) -> None:
    """Move a custom field one place up."""
    _list_op(ctx, ref, lambda s, a, v: s.matchlists.move_field(a, v.id, _field_id(v, field), -1))


@field_app.command("down")
def field_down(ctx: typer.Context, ref: Annotated[str, typer.Argument()],
               field: Annotated[str, typer.Argument()]) -> None:
    """Move a custom field one place down."""
    _list_op(ctx, ref, lambda s, a, v: s.matchlists.move_field(a, v.id, _field_id(v, field), 1))


def _field_id(view, ref: str) -> int:  # noqa: ANN001
    from imtui.engine.errors import NotFound

    for f in view.fields:
        if str(f.id) == ref or f.name.casefold() == ref.casefold():
            return f.id
    raise NotFound(_("Custom field: the list has no field {name!r}; see imtui matchlist list.").format(name=ref))


def _list_op(ctx: typer.Context, ref: str, op) -> None:  # noqa: ANN001
    """Find the list by ID or name, apply ``op(services, actor, list)``, print the list after."""
    from imtui.cli import _emit
    from imtui.cli_admin import _run

    async def work(s, a):  # noqa: ANN001, ANN202
        v = await _find(s, a, ref)
        return await op(s, a, v)

    v = _run(ctx, work)
    _emit(ctx.find_root().obj, _list_line(v), _list_data(v))


@matchlist_app.command("camera")
def camera_cmd(
    ctx: typer.Context,
    camera: Annotated[int, typer.Argument(help=_("Camera ID."))],
    lists: Annotated[list[str] | None, typer.Option("--list", help=_("Match only these lists (ID or name, "
                                                                     "repeatable)."))] = None,
    all_lists: Annotated[bool, typer.Option("--all", help=_("Match all lists, also future ones."))] = False,
) -> None:
    """Show or set which lists a camera matches against (manual 004, "Match lists" tab)."""
    from imtui.cli import _emit, refuse
    from imtui.cli_admin import _run

    if all_lists and lists:
        refuse(_("--all and --list exclude each other; give one."))

    async def work(s, a):  # noqa: ANN001, ANN202
        if all_lists or lists:
            ids = [(await _find(s, a, r)).id for r in lists or []]
            await s.matchlists.set_camera_lists(a, camera, all_lists=all_lists, list_ids=ids)
        return await s.matchlists.camera_lists(a, camera), await s.matchlists.lists(a)

    (match_all, ids), views = _run(ctx, work)
    names = {v.id: v.name for v in views}
    human = _("Camera {id} matches all lists.").format(id=camera) if match_all else _(
        "Camera {id} matches: {lists}.").format(id=camera, lists=", ".join(names.get(i, str(i)) for i in ids))
    _emit(ctx.find_root().obj, human, {"camera_id": camera, "all": match_all, "lists": ids})


@matchlist_app.command("matches")
def matches_cmd(
    ctx: typer.Context,
    ref: Annotated[str | None, typer.Option("--list", help=_("Only this list (ID or name)."))] = None,
    plate: Annotated[str, typer.Option("--plate", help=_("Part of the plate; ? for one character."))] = "",
    limit: Annotated[int, typer.Option("--limit", min=1, max=10000)] = 100,
) -> None:
    """Reads that matched a list, newest first (retroactive ones marked)."""
    from imtui.cli import _emit
    from imtui.cli_admin import _run
    from imtui.safetext import clean

    async def work(s, a):  # noqa: ANN001, ANN202
        list_id = (await _find(s, a, ref)).id if ref else None
        return await s.matchlists.matches(a, list_id=list_id, plate=plate, limit=limit), s.settings.timezone

    found, tz = _run(ctx, work)
    lines = []
    for m in found:
        fields = ", ".join(f"{clean(k)}: {clean(v)}" for k, v in m.fields.items() if v)
        lines.append("\t".join([f"{m.at.astimezone(tz):%Y-%m-%d %H:%M:%S}", m.plate, str(m.camera_id),
                                clean(m.list_name), m.entry_plate or "-", m.rule + (" (retroactive)" if m.retroactive
                                                                                    else ""), fields]))
    _emit(ctx.find_root().obj, "\n".join(lines) or _("No matches."), {"matches": [
        {"at": m.at.isoformat(), "plate": m.plate, "camera_id": m.camera_id, "list_id": m.list_id,
         "list": m.list_name, "entry": m.entry_plate, "fields": m.fields, "rule": m.rule,
         "retroactive": m.retroactive, "recognition_id": m.recognition_id} for m in found]})

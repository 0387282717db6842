"""``imtui lpr``: read plates in image files from a script (the same engine as the worker)."""

from __future__ import annotations

import json
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

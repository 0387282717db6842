"""File names from user text (camera names, typed export names): never a path, never hidden,
never outside the chosen folder."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from imtui.engine.errors import InvalidInput
from imtui.i18n import _
from imtui.safetext import clean

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(text: str, fallback: str = "export", limit: int = 60) -> str:
    """``text`` as one portable file-name component: accents folded to ASCII, anything else
    (slashes, dots at the start, spaces, control characters) replaced by ``_``."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    name = _UNSAFE.sub("_", folded).strip("._-")[:limit].strip("._-")
    return name or fallback


def inside(folder: Path, name: str) -> Path:
    """``folder/name``, checked to stay inside ``folder`` once resolved (belt and braces after
    safe_name: a symlink named like our file must not lead elsewhere)."""
    base = folder.resolve()
    target = (base / name).resolve()
    if target.parent != base:
        raise InvalidInput("name", _("Export name: {name} would leave the folder; use letters, digits, - and _.").format(
            name=clean(name)))
    return target


def writable_folder(folder: Path, field: str, label: str) -> Path:
    """``folder`` if it exists and this process may write there; else InvalidInput naming the
    field (``label``, as the operator sees it) and the fix."""
    import os

    if not folder.is_dir():
        raise InvalidInput(field, _("{label}: the folder {folder} does not exist; type an existing folder.").format(
            label=label, folder=clean(str(folder))))
    if not os.access(folder, os.W_OK):
        raise InvalidInput(field, _("{label}: the folder {folder} is not writable; choose another.").format(
            label=label, folder=clean(str(folder))))
    return folder


def export_folder(raw: str) -> Path:
    """The folder typed for an export: it must exist and be writable."""
    text = raw.strip()
    if not text:
        raise InvalidInput("folder", _("Export to: type a folder, e.g. ~/exports."))
    return writable_folder(Path(text).expanduser(), "folder", _("Export to"))

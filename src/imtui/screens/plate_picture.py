"""The plate crop the worker kept for a read, drawn in the site's ``ui.image_mode``, with one note
line under it saying what is shown or why nothing is (none kept, purged, pictures off, unreadable;
the file's path when it is not drawn).  The LPR events screen and the alarm manager show the
same picture the same way.

Ids follow ``prefix``: the container ``#<prefix>-snapshot``, the picture ``#<prefix>-picture``
(absent when pictures are off) and the note ``#<prefix>-snapshot-note``.  The caller fetches the
crop (decoded when :attr:`draws` says a picture is shown) and passes it to :meth:`PlatePicture.show`;
resizing runs in a thread.
"""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from imtui.engine.lpr_events import Crop
from imtui.i18n import _
from imtui.safetext import clean
from imtui.screens.frame_view import image_class, prepare


class PlatePicture(Vertical):
    def __init__(self, mode: str, prefix: str) -> None:
        super().__init__(id=f"{prefix}-snapshot")
        self.mode, self.prefix = mode, prefix

    def compose(self) -> ComposeResult:
        picture = image_class(self.mode)
        if picture is not None:
            yield picture(id=f"{self.prefix}-picture")
        yield Static("", id=f"{self.prefix}-snapshot-note", markup=False)

    @property
    def draws(self) -> bool:
        """A picture is drawn (the crop must be decoded), or only its path is said."""
        return bool(self.query(f"#{self.prefix}-picture"))

    def say(self, text: str) -> None:
        """Only a note (a refusal, or no crop to speak of): the picture is cleared."""
        self._set_picture(None)
        self.query_one(f"#{self.prefix}-snapshot-note", Static).update(Text(clean(text), overflow="fold"))

    async def show(self, crop: Crop | None, *, none: str = "") -> None:
        """Draw ``crop`` (decoded when :attr:`draws`), or say why not; ``none`` is the note for
        no crop at all ("" for none)."""
        picture = None
        if crop is None:
            text = none
        elif not crop.exists:
            text = _("The plate picture is gone (purged or deleted): {path}").format(path=crop.path)
        elif not self.draws:
            text = _("Pictures are off (ui.image_mode); the plate picture is {path}").format(path=crop.path)
        else:
            if crop.image is not None:
                size = self.query_one(f"#{self.prefix}-picture").content_size
                picture = await asyncio.to_thread(prepare, crop.image, (size.width or 30, size.height or 5))
            text = (_("The plate picture cannot be read: {path}").format(path=crop.path) if picture is None
                    else _("Plate picture {name}").format(name=crop.path.name))
        self._set_picture(picture)
        self.query_one(f"#{self.prefix}-snapshot-note", Static).update(Text(clean(text), overflow="fold"))

    def _set_picture(self, picture) -> None:  # noqa: ANN001 - a PIL image or None
        found = self.query(f"#{self.prefix}-picture")
        if found and (picture is not None or found.first().image is not None):  # type: ignore[attr-defined]
            found.first().image = picture  # type: ignore[attr-defined]

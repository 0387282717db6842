"""Dialog to add or edit one camera: name, source, enabled, recording retention, motion sensitivity.

``CameraDialog(camera, save)`` stays open until ``save`` (which calls the service) accepts what was
typed: a refusal is shown in the dialog, the input it names gets the focus and nothing typed is
lost.  It dismisses with the saved :class:`CameraForm`, or None when cancelled.

Editing shows the stored texts sanitised (control characters as visible placeholders); a text left
as shown is not sent, so the stored bytes stay exactly as they were.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, Static

from imtui.engine.video.cameras import CameraView
from imtui.i18n import _
from imtui.safetext import clean
from imtui.screens.render import quiet_input
from imtui.screens.saving_dialog import SavingDialog

# InvalidInput.field of CameraService -> the input to focus
FIELD_INPUTS = {
    "name": "#camera-name",
    "source": "#camera-source",
    "retention_days": "#camera-retention",
    "motion_sensitivity": "#camera-sensitivity",
}


@dataclass(frozen=True)
class CameraForm:
    """What to save; None means "unchanged" (editing only)."""

    name: str | None
    source: str | None
    enabled: bool | None
    retention_days: str | None
    motion_sensitivity: str | None


class CameraDialog(SavingDialog[CameraForm]):
    ERROR_ID = "camera-error"
    SAVE_ID = "camera-save"

    BINDINGS = [
        Binding("escape", "cancel", _("Cancel"), id="camera-dialog-cancel"),
        Binding("ctrl+s", "save", _("Save"), id="camera-dialog-save", priority=True),
    ]

    def __init__(self, camera: CameraView | None, save: Callable[[CameraForm], Awaitable[None]]) -> None:
        super().__init__(save)
        self.camera = camera

    def _shown(self) -> dict[str, str]:
        c = self.camera
        if c is None:
            return {"name": "", "source": "", "retention_days": "30", "motion_sensitivity": "50"}
        return {"name": clean(c.name), "source": clean(c.source), "retention_days": str(c.retention_days),
                "motion_sensitivity": str(c.motion_sensitivity)}

    def compose(self) -> ComposeResult:
        shown = self._shown()
        title = _("Add camera") if self.camera is None else _("Edit camera")
        with Vertical(id="camera-dialog", classes="dialog"):
            yield Label(title, classes="dialog-title")
            for field, label, placeholder in (
                ("name", _("Name"), _("e.g. Gate north")),
                ("source", _("Source"), _("/path/video.mp4, rtsp://…, http(s)://… or synthetic:")),
                ("retention_days", _("Recording retention (days)"), _("1 to 36,500")),
                ("motion_sensitivity", _("Motion sensitivity"), _("1 to 100")),
            ):
                with Horizontal(classes="field-row"):
                    yield Static(label, classes="field-label")
                    yield quiet_input(id=FIELD_INPUTS[field].lstrip("#"), value=shown[field], placeholder=placeholder)
            with Horizontal(classes="field-row"):
                yield Static("", classes="field-label")
                yield Checkbox(_("Enabled"), self.camera.enabled if self.camera else True, id="camera-enabled",
                               compact=True)
            yield Static("", id="camera-error")
            with Horizontal(classes="buttons"):
                yield Button(_("Save"), id="camera-save", variant="primary", compact=True)
                yield Button(_("Cancel"), id="camera-cancel", compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#camera-name", Input).focus()

    def form(self) -> CameraForm:
        shown = self._shown()
        typed = {field: self.query_one(selector, Input).value for field, selector in FIELD_INPUTS.items()}
        enabled = self.query_one("#camera-enabled", Checkbox).value
        if self.camera is None:
            return CameraForm(typed["name"], typed["source"], enabled, typed["retention_days"],
                              typed["motion_sensitivity"])
        changed = {field: (value if value != shown[field] else None) for field, value in typed.items()}
        return CameraForm(changed["name"], changed["source"], enabled if enabled != self.camera.enabled else None,
                          changed["retention_days"], changed["motion_sensitivity"])

    def value(self) -> CameraForm:
        return self.form()

    def input_for(self, field: str) -> str | None:
        return FIELD_INPUTS.get(field)

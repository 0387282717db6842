"""A small form in a dialog: labelled text inputs and checkboxes, saved through a callback.

``FormDialog(title, fields, save)`` behaves as every SavingDialog (open until ``save`` accepts;
a refusal focuses the input named by the error's field) and dismisses with the saved values
(key -> str or bool), or None when cancelled.  Used where a screen needs a few plain fields (match lists, plates, file paths) and a
dedicated dialog would only repeat this one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, Static

from imtui.i18n import _
from imtui.safetext import clean
from imtui.screens.render import plain, quiet_input
from imtui.screens.saving_dialog import SavingDialog

Values = dict[str, str | bool]


@dataclass(frozen=True)
class FormField:
    key: str  # the input's id is "form-<key>"; InvalidInput.field == key focuses it
    label: str
    value: str | bool = ""  # a bool makes a checkbox
    placeholder: str = ""
    disabled: bool = False


class FormDialog(SavingDialog[Values]):
    ERROR_ID = "form-error"
    SAVE_ID = "form-ok"

    BINDINGS = [
        Binding("escape", "cancel", _("Cancel"), id="form-cancel"),
        Binding("ctrl+s", "save", _("Save"), id="form-save", priority=True),
    ]

    def __init__(self, title: str, fields: list[FormField], save: Callable[[Values], Awaitable[None]], *,
                 dialog_id: str = "form-dialog", save_label: str | None = None) -> None:
        super().__init__(save)
        self.title_text = title
        self.fields = fields
        self.dialog_id = dialog_id
        self.save_label = save_label or _("Save")

    def compose(self) -> ComposeResult:
        with Vertical(id=self.dialog_id, classes="dialog form-dialog"):
            yield Label(plain(self.title_text), classes="dialog-title")
            for f in self.fields:
                with Horizontal(classes="field-row"):
                    if isinstance(f.value, bool):
                        yield Static("", classes="field-label")
                        yield Checkbox(plain(f.label), f.value, id=f"form-{f.key}", compact=True, disabled=f.disabled)
                    else:
                        yield Static(plain(f.label), classes="field-label")
                        field = quiet_input(id=f"form-{f.key}", value=clean(f.value), placeholder=f.placeholder)
                        field.disabled = f.disabled
                        yield field
            yield Static("", id="form-error")
            with Horizontal(classes="buttons"):
                yield Button(self.save_label, id="form-ok", variant="primary", compact=True)
                yield Button(_("Cancel"), id="form-no", compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        for f in self.fields:
            if not f.disabled:
                self.query_one(f"#form-{f.key}").focus()
                break

    def values(self) -> Values:
        out: Values = {}
        for f in self.fields:
            widget = self.query_one(f"#form-{f.key}")
            out[f.key] = widget.value if isinstance(widget, Checkbox | Input) else ""
        return out

    def value(self) -> Values:
        return self.values()

    def input_for(self, field: str) -> str | None:
        return f"#form-{field}" if any(f.key == field for f in self.fields) else None

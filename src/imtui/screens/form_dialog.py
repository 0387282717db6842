"""A small form in a dialog: labelled text inputs and checkboxes, saved through a callback.

``FormDialog(title, fields, save)`` stays open until ``save`` (which calls a service) accepts the
values: a refusal is shown in the dialog, the input named by the error's field gets the focus, and
nothing typed is lost.  It dismisses with the saved values (key -> str or bool), or None when
cancelled.  Used where a screen needs a few plain fields (match lists, plates, file paths) and a
dedicated dialog would only repeat this one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static

from imtui.engine.errors import InvalidInput, ServiceError
from imtui.i18n import _
from imtui.safetext import clean
from imtui.screens.render import plain, quiet_input, safe, tell

Values = dict[str, str | bool]


@dataclass(frozen=True)
class FormField:
    key: str  # the input's id is "form-<key>"; InvalidInput.field == key focuses it
    label: str
    value: str | bool = ""  # a bool makes a checkbox
    placeholder: str = ""
    disabled: bool = False


class FormDialog(ModalScreen[Values | None]):
    BINDINGS = [
        Binding("escape", "cancel", _("Cancel"), id="form-cancel"),
        Binding("ctrl+s", "save", _("Save"), id="form-save", priority=True),
    ]

    def __init__(self, title: str, fields: list[FormField], save: Callable[[Values], Awaitable[None]], *,
                 dialog_id: str = "form-dialog", save_label: str | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.fields = fields
        self.save = save
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
        self.query_one("#form-error", Static).display = False
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

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "form-ok":
            self.action_save()
        else:
            self.action_cancel()

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        self.run_save(self.values())

    @work(exclusive=True, group="form-save", exit_on_error=False)
    async def run_save(self, values: Values) -> None:
        try:
            await self.save(values)
        except ServiceError as exc:
            error = self.query_one("#form-error", Static)
            error.update(safe(exc.message, multiline=True))
            error.display = True
            tell(self, exc.message, error=True)
            if isinstance(exc, InvalidInput) and any(f.key == exc.field for f in self.fields):
                self.query_one(f"#form-{exc.field}").focus()
            return
        self.dismiss(values)

    def action_cancel(self) -> None:
        self.dismiss(None)

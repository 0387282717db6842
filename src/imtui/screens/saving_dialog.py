"""The behaviour every editing dialog shares: it stays open until its ``save`` callback (which
calls a service) accepts the value; a refusal is shown in the dialog and the input it names gets
the focus, so nothing typed is lost; it dismisses with the saved value, or None when cancelled.
Subclasses say what the value is (``value()``), which input a field name means (``input_for``),
and the ids of their error line and save button."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from textual import on, work
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from imtui.engine.errors import InvalidInput, ServiceError
from imtui.screens.render import safe, tell

T = TypeVar("T")


class SavingDialog(ModalScreen[T | None], Generic[T]):
    ERROR_ID = "dialog-error"
    SAVE_ID = "dialog-save"

    def __init__(self, save: Callable[[T], Awaitable[None]]) -> None:
        super().__init__()
        self.save = save

    def value(self) -> T:
        raise NotImplementedError

    def input_for(self, field: str) -> str | None:
        """The selector of the input an InvalidInput's field names, if it is in this dialog."""
        return None

    def on_mount(self) -> None:
        self.query_one(f"#{self.ERROR_ID}", Static).display = False

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == self.SAVE_ID:
            self.action_save()
        else:
            self.action_cancel()

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        self.run_save(self.value())

    @work(exclusive=True, group="dialog-save", exit_on_error=False)
    async def run_save(self, value: T) -> None:
        try:
            await self.save(value)
        except ServiceError as exc:
            error = self.query_one(f"#{self.ERROR_ID}", Static)
            error.update(safe(exc.message, multiline=True))
            error.display = True
            tell(self, exc.message, error=True)
            selector = self.input_for(exc.field) if isinstance(exc, InvalidInput) else None
            if selector:
                self.query_one(selector).focus()
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)

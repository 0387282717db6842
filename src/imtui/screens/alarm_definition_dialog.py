"""Dialog ``#alarm-definition`` to add or edit one alarm definition (manual 004, "Alarm definitions
for LPR"): name, trigger (a match list, or one of the four LPR server events), the list, the source
cameras (none ticked = all cameras), priority, enabled, and the event actions (a webhook with its
timeout and retries, the name of a command of ``[actions.commands]``).

``AlarmDefinitionDialog(definition, lists, cameras, commands, save)`` stays open until ``save``
(which calls AlarmService) accepts what was typed: a refusal is shown in the dialog, the field it
names gets the focus and nothing typed is lost.  It dismisses with the saved
:class:`AlarmDefinitionForm`, or None when cancelled.  ctrl+s saves, escape cancels, Tab moves
between the fields; the fields scroll when the terminal is small.

Editing shows the stored texts sanitised (control characters as visible placeholders); a name left
as shown is not sent, so the stored bytes stay exactly as they were.  The webhook field is the only
place that shows a URL with its ``user:password@``.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Label, Select, SelectionList, Static
from textual.widgets.selection_list import Selection

from imtui.engine.alarms import DefinitionView
from imtui.engine.matchlists.service import ListView
from imtui.engine.video.cameras import CameraView
from imtui.i18n import _, ngettext
from imtui.safetext import clean
from imtui.screens.render import plain, quiet_input, safe
from imtui.screens.saving_dialog import SavingDialog


def trigger_names() -> dict[str, str]:
    """Each trigger as the manual names it (the list trigger as the kind of trigger)."""
    return {
        "list": _("License plate match list"),
        "camera_lost": _("LPR camera connection lost"),
        "camera_running": _("LPR camera running"),
        "server_not_responding": _("LPR server not responding"),
        "server_responding": _("LPR server responding"),
    }


def priority_names() -> dict[int, str]:
    return {1: _("High"), 2: _("Medium"), 3: _("Low")}


def command_note(name: str, commands: Collection[str]) -> str:
    """A hint, not a refusal: the config of the worker host that runs the alarm's outputs counts."""
    name = name.strip()
    if name and name not in commands:
        return _("Command {name!r} is not in [actions.commands] of this host's config; the config of each worker "
                 "host that raises this alarm must name it.").format(name=name)
    return ""


_INTEGER = re.compile(r"[+-]?\d+")


def as_retries(text: str) -> int | str:
    """The typed retries as a number, or as typed (the service then says what is allowed)."""
    text = text.strip()
    return int(text) if _INTEGER.fullmatch(text) else text


def as_timeout(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text.strip()


def _is_id(value: object) -> bool:
    """A Select's value that is a number (not blank: Select.BLANK is False, Select.NULL a sentinel)."""
    return isinstance(value, int) and not isinstance(value, bool)


# InvalidInput.field of AlarmService -> the field to focus
FIELD_INPUTS = {
    "name": "#alarm-definition-name",
    "trigger": "#alarm-definition-trigger",
    "list": "#alarm-definition-list",
    "cameras": "#alarm-definition-cameras",
    "priority": "#alarm-definition-priority",
    "enabled": "#alarm-definition-enabled",
    "webhook_url": "#alarm-definition-webhook",
    "webhook_timeout": "#alarm-definition-timeout",
    "webhook_retries": "#alarm-definition-retries",
    "command": "#alarm-definition-command",
    "retroactive_outputs": "#alarm-definition-retroactive",
}


@dataclass(frozen=True)
class AlarmDefinitionForm:
    """What to save.  ``name`` None: unchanged (editing, left as shown).  ``list_id`` None unless
    the trigger is the list.  Timeout and retries as typed, made numbers where they are."""

    name: str | None
    trigger: str
    list_id: int | None
    cameras: tuple[int, ...]  # empty: all cameras
    priority: int
    enabled: bool
    webhook_url: str
    webhook_timeout: float | str
    webhook_retries: int | str
    command: str
    retroactive_outputs: bool = False  # outputs also for an alarm found after the read

    def changes(self) -> dict[str, object]:
        """Keyword arguments of AlarmService.define / update_definition (without the name)."""
        return {"trigger": self.trigger, "list_id": self.list_id, "cameras": list(self.cameras),
                "priority": self.priority, "enabled": self.enabled, "webhook_url": self.webhook_url,
                "webhook_timeout": self.webhook_timeout, "webhook_retries": self.webhook_retries,
                "command": self.command, "retroactive_outputs": self.retroactive_outputs}


class AlarmDefinitionDialog(SavingDialog[AlarmDefinitionForm]):
    ERROR_ID = "alarm-definition-error"
    SAVE_ID = "alarm-definition-ok"

    BINDINGS = [
        Binding("escape", "cancel", _("Cancel"), id="alarm-definition-cancel"),
        Binding("ctrl+s", "save", _("Save"), id="alarm-definition-save", priority=True),
    ]

    def __init__(self, definition: DefinitionView | None, lists: Sequence[ListView], cameras: Sequence[CameraView],
                 commands: Collection[str], save: Callable[[AlarmDefinitionForm], Awaitable[None]]) -> None:
        super().__init__(save)
        self.definition = definition
        self.lists = list(lists)
        self.cameras = list(cameras)
        self.commands = commands

    def compose(self) -> ComposeResult:
        d = self.definition
        title = _("New alarm definition") if d is None else _("Edit alarm definition")
        trigger = d.trigger if d is not None else "list"
        list_ids = {v.id for v in self.lists}
        list_options: list[tuple[Text, int]] = [(safe(v.name), v.id) for v in self.lists]
        if d is not None and d.list_id is not None and d.list_id not in list_ids:  # deleted meanwhile: keep it
            list_options.append((Text(_("List {id} (deleted)").format(id=d.list_id)), d.list_id))
        chosen = set(d.cameras) if d is not None else set()
        camera_options = [Selection(plain(c.name), c.id, c.id in chosen) for c in self.cameras]
        known = {c.id for c in self.cameras}
        # a camera deleted meanwhile stays ticked, so the definition does not become "all cameras"
        camera_options += [Selection(plain(_("Camera {id} (deleted)").format(id=i)), i, True)
                           for i in sorted(chosen - known)]
        with Vertical(id="alarm-definition", classes="dialog"):
            yield Label(title, classes="dialog-title")
            yield Static("", id="alarm-definition-error")  # above the fields: always in view
            with VerticalScroll(id="alarm-definition-fields", can_focus=False):
                with Horizontal(classes="field-row"):
                    yield Static(_("Name"), classes="field-label")
                    yield quiet_input(id="alarm-definition-name", value=clean(d.name) if d else "",
                                      placeholder=_("e.g. Stolen vehicles at the gate"))
                with Horizontal(classes="field-row"):
                    yield Static(_("Trigger"), classes="field-label")
                    yield Select([(Text(label), key) for key, label in trigger_names().items()], value=trigger,
                                 allow_blank=False, id="alarm-definition-trigger", compact=True)
                with Horizontal(classes="field-row"):
                    yield Static(_("Match list"), classes="field-label")
                    yield Select(list_options, prompt=_("Choose a list"), id="alarm-definition-list", compact=True,
                                 value=d.list_id if d is not None and d.list_id is not None else Select.NULL,
                                 disabled=trigger != "list")
                with Horizontal(id="alarm-definition-cameras-row"):
                    yield Static(_("Cameras"), classes="field-label")
                    with Vertical(id="alarm-definition-cameras-box"):
                        yield SelectionList[int](*camera_options, id="alarm-definition-cameras", compact=True)
                        yield Static("", id="alarm-definition-cameras-note")
                with Horizontal(classes="field-row"):
                    yield Static(_("Priority"), classes="field-label")
                    yield Select([(Text(label), key) for key, label in priority_names().items()],
                                 value=d.priority if d is not None else 2, allow_blank=False,
                                 id="alarm-definition-priority", compact=True)
                with Horizontal(classes="field-row"):
                    yield Static("", classes="field-label")
                    yield Checkbox(_("Enabled"), d.enabled if d is not None else True, id="alarm-definition-enabled",
                                   compact=True)
                with Horizontal(classes="field-row"):
                    yield Static(_("Webhook URL"), classes="field-label")
                    yield quiet_input(id="alarm-definition-webhook", value=clean(d.webhook_url) if d else "",
                                      placeholder=_("none; or https://gate.example/open"))
                with Horizontal(classes="field-row"):
                    yield Static(_("Timeout (s)"), classes="field-label")
                    yield quiet_input(id="alarm-definition-timeout",
                                      value=f"{d.webhook_timeout:g}" if d else "5", placeholder=_("0.5 to 60"))
                with Horizontal(classes="field-row"):
                    yield Static(_("Retries"), classes="field-label")
                    yield quiet_input(id="alarm-definition-retries", value=str(d.webhook_retries) if d else "2",
                                      placeholder=_("0 to 5"))
                with Horizontal(classes="field-row"):
                    yield Static(_("Command"), classes="field-label")
                    yield quiet_input(id="alarm-definition-command", value=clean(d.command) if d else "",
                                      placeholder=_("none; or a name in [actions.commands]"))
                yield Static("", id="alarm-definition-command-note")
                with Horizontal(classes="field-row"):
                    yield Static("", classes="field-label")
                    yield Checkbox(_("Outputs also for alarms found after the read"),
                                   d.retroactive_outputs if d is not None else False,
                                   id="alarm-definition-retroactive", compact=True)
            with Horizontal(classes="buttons"):
                yield Button(_("Save"), id="alarm-definition-ok", variant="primary", compact=True)
                yield Button(_("Cancel"), id="alarm-definition-no", compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        self._show_command_note()
        self._show_cameras_note()
        self.query_one("#alarm-definition-name", Input).focus()

    @on(SelectionList.SelectedChanged, "#alarm-definition-cameras")
    def _cameras_changed(self, event: SelectionList.SelectedChanged) -> None:
        event.stop()
        self._show_cameras_note()

    def _show_cameras_note(self) -> None:
        """What is ticked, in words (a ticked box differs from an empty one only by colour)."""
        ticked = len(self.query_one("#alarm-definition-cameras", SelectionList).selected)
        note = _("No camera ticked: all cameras. Space ticks one.") if not ticked else ngettext(
            "{n} camera ticked; Space ticks or unticks.", "{n} cameras ticked; Space ticks or unticks.",
            ticked).format(n=ticked)
        self.query_one("#alarm-definition-cameras-note", Static).update(note)

    @on(Select.Changed, "#alarm-definition-trigger")
    def _trigger_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.query_one("#alarm-definition-list", Select).disabled = event.value != "list"

    @on(Input.Changed, "#alarm-definition-command")
    def _command_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._show_command_note()

    def _show_command_note(self) -> None:
        note = command_note(self.query_one("#alarm-definition-command", Input).value, self.commands)
        widget = self.query_one("#alarm-definition-command-note", Static)
        widget.update(safe(note, multiline=True))
        widget.display = bool(note)

    def form(self) -> AlarmDefinitionForm:
        d = self.definition
        name = self.query_one("#alarm-definition-name", Input).value
        trigger = self.query_one("#alarm-definition-trigger", Select).value
        trigger = trigger if isinstance(trigger, str) else "list"
        chosen_list = self.query_one("#alarm-definition-list", Select).value
        list_id = chosen_list if trigger == "list" and _is_id(chosen_list) else None
        priority = self.query_one("#alarm-definition-priority", Select).value
        return AlarmDefinitionForm(
            name=None if d is not None and name == clean(d.name) else name,
            trigger=trigger,
            list_id=list_id,
            cameras=tuple(sorted(self.query_one("#alarm-definition-cameras", SelectionList).selected)),
            priority=priority if _is_id(priority) else 2,
            enabled=self.query_one("#alarm-definition-enabled", Checkbox).value,
            webhook_url=self.query_one("#alarm-definition-webhook", Input).value,
            webhook_timeout=as_timeout(self.query_one("#alarm-definition-timeout", Input).value),
            webhook_retries=as_retries(self.query_one("#alarm-definition-retries", Input).value),
            command=self.query_one("#alarm-definition-command", Input).value,
            retroactive_outputs=self.query_one("#alarm-definition-retroactive", Checkbox).value,
        )

    def value(self) -> AlarmDefinitionForm:
        return self.form()

    def input_for(self, field: str) -> str | None:
        return FIELD_INPUTS.get(field)

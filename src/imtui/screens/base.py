"""What every imtui screen and dialog reaches through its app: the services and the logged-in
actor (``imtui``), whether that actor may manage administration data (``may_manage``), and the
two steps of every change an administrator makes from a list: ask first (``ask``), then call the
service and tell how it went (``attempt``).

A mixin, not a Screen subclass, so screens and modal dialogs share it (``class X(AppAccess,
Screen[None])``)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, TypeVar, cast

from imtui.engine.changes import Topic, Topics
from imtui.engine.errors import ServiceError
from imtui.screens.render import tell

if TYPE_CHECKING:
    from imtui.app import ImtuiApp

T = TypeVar("T")


class AppAccess:
    app: object  # provided by Textual's DOMNode

    @property
    def imtui(self) -> ImtuiApp:
        return cast("ImtuiApp", self.app)

    @property
    def may_manage(self) -> bool:
        """The engine's answer for this user (the service checks again on every change): it only
        decides which keys are offered."""
        actor = self.imtui.actor
        return actor is not None and self.imtui.services.incidents.capabilities(actor).manage_properties

    async def attempt(self, call: Awaitable[T], done: str | Callable[[T], str]) -> bool:
        """Await a service change: a refusal is told as an error (False), a success with ``done``
        (a message, or one made of the call's result).  The caller reloads either way: a refusal
        is often "refresh the list"."""
        try:
            result = await call
        except ServiceError as exc:
            tell(self, exc.message, error=True)  # type: ignore[arg-type] - self is a Widget
            return False
        tell(self, done(result) if callable(done) else done)  # type: ignore[arg-type]
        return True

    def save_token(self, key: str, content: object) -> str:
        """The client token for saving ``content`` under ``key`` (e.g. "comment"): the same while
        the content is the same, so a second try after a save whose answer was lost finds the
        stored row instead of adding a second one; a new one when the content changed."""
        tokens: dict[str, tuple[object, str]] = self.__dict__.setdefault("_save_tokens", {})
        held = tokens.get(key)
        if held is None or held[0] != content:
            held = tokens[key] = (content, uuid.uuid4().hex)
        return held[1]

    def ask(self, question: str, verb: str, then: Callable[[], object]) -> None:
        """A yes/no question (shown literally and sanitised: it may quote a user's text); ``then``
        runs on yes.  Pushed with a callback, so no worker waits while the dialog is open."""
        from imtui.screens.confirm import ConfirmDialog

        self.app.push_screen(ConfirmDialog(question, verb), callback=lambda yes: then() if yes else None)  # type: ignore[attr-defined]

    def follow(self, topics: Iterable[Topic], reload: Callable[[], object]) -> None:
        """Call ``reload`` when another operator (or the worker) changes one of ``topics``: the
        app's change hub, never a timer of the screen's own.  Other topics are ignored; while
        another screen or a dialog covers this one, the reload waits until it is shown again
        (once, however many changes came)."""
        wanted = frozenset(topics)

        def on_changes(changed: Topics) -> None:
            if not wanted & changed:
                return
            if self.app.screen is self:  # type: ignore[attr-defined] - topmost (is_current includes under a modal)
                reload()
            else:
                self._reload_when_shown = reload

        self.imtui.changes.subscribe(self, on_changes)  # type: ignore[arg-type] - self is a DOMNode

    def on_screen_resume(self) -> None:
        """Shown again: the reload a change asked for while covered (see :meth:`follow`).  Textual
        calls this besides the screen's own handler of the same event."""
        reload = getattr(self, "_reload_when_shown", None)
        if reload is not None:
            self._reload_when_shown = None
            reload()

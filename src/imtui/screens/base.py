"""What every imtui screen and dialog reaches through its app: the services and the logged-in
actor (``imtui``), and whether that actor may manage administration data (``may_manage``).

A mixin, not a Screen subclass, so screens and modal dialogs share it (``class X(AppAccess,
Screen[None])``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from imtui.app import ImtuiApp


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

"""Typed failures whose ``message`` is what the operator sees (the manual's wording)."""

from __future__ import annotations

from imtui.i18n import _


class ServiceError(Exception):
    """Base of every failure a screen shows; ``message`` is translated, user-facing text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PermissionDenied(ServiceError):
    def __init__(self) -> None:
        super().__init__(_("Permission denied."))


class StaleError(ServiceError):
    """The project or item was deleted or changed by someone else since it was loaded."""

    def __init__(self) -> None:
        super().__init__(_("Cannot perform this action. Please refresh the list."))


class UnavailableError(ServiceError):
    """The database could not be reached, hung or stayed locked past its bound; nothing was
    changed (except for :class:`OutcomeUnknown`)."""


class OutcomeUnknown(UnavailableError):
    """The database lost the answer to a COMMIT: the change may or may not be stored."""


class InvalidInput(ServiceError):
    """Bad input: ``field`` names the offending field, the message says the fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class NotFound(ServiceError):
    """The thing is gone (deleted meanwhile) or never was; a CLI lookup by name says which."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or _("Cannot perform this action. Please refresh the list."))

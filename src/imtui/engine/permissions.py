"""Who may do what: the one place the incident services ask.

For now three roles: ``Administrator`` (everything, always), ``operator`` (manages incident
projects) and ``viewer`` (views only).  The full per-feature role model replaces the table below
without touching the services, which only call :func:`require`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from imtui.engine.errors import PermissionDenied

ADMINISTRATOR = "Administrator"


class Feature(str, Enum):
    INCIDENTS = "incidents"
    PROPERTIES = "properties"  # the administrator's incident properties and options


class Level(int, Enum):
    NONE = 0
    VIEW = 1
    MANAGE = 2


_ROLE_LEVELS: dict[str, dict[Feature, Level]] = {
    "operator": {Feature.INCIDENTS: Level.MANAGE},
    "viewer": {Feature.INCIDENTS: Level.VIEW},
}


@dataclass(frozen=True)
class Actor:
    """The user on whose behalf a service acts."""

    name: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == ADMINISTRATOR


def level(actor: Actor, feature: Feature) -> Level:
    if actor.is_admin:
        return Level.MANAGE
    return _ROLE_LEVELS.get(actor.role, {}).get(feature, Level.NONE)


def allowed(actor: Actor, feature: Feature, needed: Level) -> bool:
    return level(actor, feature) >= needed


def require(actor: Actor, feature: Feature, needed: Level) -> None:
    if not allowed(actor, feature, needed):
        raise PermissionDenied()

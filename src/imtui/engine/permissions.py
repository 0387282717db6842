"""Who may do what: the one place every service asks (manual 003, "Rôles et autorisations").

A role grants, per feature, none / view / manage.  A user has one or more roles and the most
permissive grant wins.  The built-in Administrator role always has everything.  Features under
"incident projects" (comments, calls, sequences, report, export, delete) never exceed the grant
on incident projects itself.

An :class:`Actor` carries the grants loaded when the user logged in; an Actor built by hand with
only a role name (tests, the built-in roles) gets that role's default grants.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum, IntEnum

from imtui.engine.errors import PermissionDenied

ADMINISTRATOR = "Administrator"


class Feature(str, Enum):
    PROPERTIES = "properties"  # the administrator's incident properties, options, audit, retention
    SECURITY = "security"  # roles and users
    INCIDENTS = "incidents"  # incident projects as a whole
    COMMENTS = "comments"
    CALLS = "calls"
    SEQUENCES = "sequences"
    REPORT = "report"
    EXPORT = "export"
    DELETE = "delete"


class Level(IntEnum):
    NONE = 0
    VIEW = 1
    MANAGE = 2

    @classmethod
    def parse(cls, text: str) -> Level:
        return cls[text.strip().upper()]


PARENT: dict[Feature, Feature] = {
    f: Feature.INCIDENTS
    for f in (Feature.COMMENTS, Feature.CALLS, Feature.SEQUENCES, Feature.REPORT, Feature.EXPORT, Feature.DELETE)
}

_PROJECT_FEATURES = (Feature.INCIDENTS, Feature.COMMENTS, Feature.CALLS, Feature.SEQUENCES, Feature.REPORT,
                     Feature.EXPORT, Feature.DELETE)
BUILTIN_ROLES: dict[str, dict[Feature, Level]] = {
    "operator": {f: Level.MANAGE for f in _PROJECT_FEATURES},
    "viewer": {f: Level.VIEW for f in _PROJECT_FEATURES if f not in (Feature.EXPORT, Feature.DELETE)},
}


@dataclass(frozen=True)
class Actor:
    """The user on whose behalf a service acts.

    ``role`` names the user's roles (comma-separated); ``grants`` are the merged grants of those
    roles, or None to use the built-in defaults of ``role``.
    """

    name: str
    role: str = ""
    grants: tuple[tuple[Feature, Level], ...] | None = field(default=None, compare=False)

    @property
    def roles(self) -> list[str]:
        return [r.strip() for r in self.role.split(",") if r.strip()]

    @property
    def is_admin(self) -> bool:
        return ADMINISTRATOR in self.roles

    def own(self, feature: Feature) -> Level:
        if self.grants is not None:
            return dict(self.grants).get(feature, Level.NONE)
        return max((BUILTIN_ROLES.get(r, {}).get(feature, Level.NONE) for r in self.roles), default=Level.NONE)


def merge(grants: list[Mapping[Feature, Level]]) -> tuple[tuple[Feature, Level], ...]:
    """Several roles' grants into one: the most permissive grant per feature wins."""
    merged: dict[Feature, Level] = {}
    for g in grants:
        for feature, lvl in g.items():
            merged[feature] = max(merged.get(feature, Level.NONE), Level(lvl))
    return tuple(sorted(merged.items(), key=lambda kv: kv[0].value))


def level(actor: Actor, feature: Feature) -> Level:
    if actor.is_admin:
        return Level.MANAGE
    own = actor.own(feature)
    parent = PARENT.get(feature)
    return min(own, level(actor, parent)) if parent else own


def allowed(actor: Actor, feature: Feature, needed: Level) -> bool:
    return level(actor, feature) >= needed


def require(actor: Actor, feature: Feature, needed: Level) -> None:
    if not allowed(actor, feature, needed):
        raise PermissionDenied()


@dataclass(frozen=True)
class Capabilities:
    """What a user may do, so screens can hide or disable the rest (the services still check)."""

    manage_incidents: bool
    view_comments: bool
    manage_comments: bool
    view_calls: bool
    manage_calls: bool
    view_sequences: bool
    manage_sequences: bool
    delete_incidents: bool
    view_properties: bool
    manage_properties: bool
    view_security: bool
    make_reports: bool
    export: bool


def capabilities(actor: Actor) -> Capabilities:
    def can(feature: Feature, needed: Level) -> bool:
        return allowed(actor, feature, needed)

    return Capabilities(
        manage_incidents=can(Feature.INCIDENTS, Level.MANAGE),
        view_comments=can(Feature.COMMENTS, Level.VIEW),
        manage_comments=can(Feature.COMMENTS, Level.MANAGE),
        view_calls=can(Feature.CALLS, Level.VIEW),
        manage_calls=can(Feature.CALLS, Level.MANAGE),
        view_sequences=can(Feature.SEQUENCES, Level.VIEW),
        manage_sequences=can(Feature.SEQUENCES, Level.MANAGE),
        delete_incidents=can(Feature.DELETE, Level.MANAGE),
        view_properties=can(Feature.PROPERTIES, Level.VIEW),
        manage_properties=can(Feature.PROPERTIES, Level.MANAGE),
        view_security=can(Feature.SECURITY, Level.VIEW),
        make_reports=can(Feature.REPORT, Level.VIEW),
        export=can(Feature.EXPORT, Level.MANAGE),
    )

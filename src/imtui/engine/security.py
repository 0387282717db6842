"""Roles, users, passwords and logins.

Passwords are argon2id hashes (argon2-cffi; OWASP floor: 19 MiB, 2 iterations, 1 lane) and are
re-hashed on login when the parameters are raised.  Five failed logins in a row lock the account
for five minutes.  Logins, failures, lockouts and every change to roles or users go to the system
audit log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import argon2
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from imtui.engine import audit
from imtui.engine.base import Service
from imtui.engine.errors import InvalidInput, PermissionDenied, ServiceError, StaleError
from imtui.engine.permissions import Actor, Feature, Level, merge, require
from imtui.engine.times import utcnow
from imtui.i18n import _
from imtui.storage.changes import Topic
from imtui.storage.models import Role, RoleGrant, User, UserRole

log = logging.getLogger(__name__)
HASHER = argon2.PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=5)
MIN_PASSWORD = 8

LOGIN = "login"
LOGIN_FAILED = "login_failed"
LOGIN_LOCKED = "login_locked"
ROLE_ADDED, ROLE_CHANGED, ROLE_DELETED = "role_added", "role_changed", "role_deleted"
USER_ADDED, USER_CHANGED = "user_added", "user_changed"


class LoginFailed(ServiceError):
    """Wrong user or password, a disabled or locked account: the message says which it may say."""


@dataclass(frozen=True)
class RoleView:
    id: int
    name: str
    builtin: bool
    grants: dict[str, str]  # feature -> none/view/manage
    users: list[str]


@dataclass(frozen=True)
class UserView:
    id: int
    name: str
    full_name: str
    roles: list[str]
    disabled: bool
    locked_until: datetime | None
    has_password: bool


def _check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput("password", _("Password: use at least {n} characters.").format(n=MIN_PASSWORD))
    return password


async def load_actor(s: AsyncSession, name: str) -> Actor | None:
    """The Actor for an existing, enabled user with the merged grants of all their roles."""
    u, ur, r, g = User.__table__, UserRole.__table__, Role.__table__, RoleGrant.__table__
    user = (await s.execute(sa.select(u.c.id, u.c.name, u.c.disabled).where(u.c.name == name))).first()
    if user is None or user.disabled:
        return None
    roles = (await s.execute(sa.select(r.c.id, r.c.name).join(ur, ur.c.role_id == r.c.id)
                             .where(ur.c.user_id == user.id).order_by(r.c.name))).all()
    grants: dict[int, dict[Feature, Level]] = {row.id: {} for row in roles}
    if roles:
        for row in await s.execute(sa.select(g).where(g.c.role_id.in_([x.id for x in roles]))):
            try:
                grants[row.role_id][Feature(row.feature)] = Level(row.level)
            except ValueError:
                continue  # a feature this version does not know
    return Actor(user.name, ",".join(x.name for x in roles), merge(list(grants.values())))


class SecurityService(Service):
    # -- logging in -------------------------------------------------------------------------------
    async def actor(self, name: str) -> Actor:
        """A trusted identity (create_app, ``auth.trust_os_user``, the CLI): no password."""
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            actor = await load_actor(s, name)
        if actor is None:
            raise InvalidInput("user", _("User {name!r} does not exist or is disabled; pass --user with an existing user name.").format(name=name))
        return actor

    async def login(self, name: str, password: str, *, now: datetime | None = None) -> Actor:
        """Check a password; five failures lock the account for five minutes.  All of it audited."""
        now = now or utcnow()
        refused = _("Wrong user name or password.")
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.write() as s:
            u = User.__table__
            row = (await s.execute(sa.select(u).where(u.c.name == name))).first()
            subject = Actor(name)
            if row is None:
                audit.record(s, subject, LOGIN_FAILED, name, "unknown user")
                failure: ServiceError | None = LoginFailed(refused)
            elif row.disabled:
                audit.record(s, subject, LOGIN_FAILED, name, "disabled")
                failure = LoginFailed(_("This account is disabled; ask an administrator."))
            elif row.locked_until is not None and row.locked_until > now:
                audit.record(s, subject, LOGIN_FAILED, name, "locked")
                minutes = max(1, int((row.locked_until - now).total_seconds() // 60) + 1)
                failure = LoginFailed(_("Too many failed attempts: try again in {n} minutes.").format(n=minutes))
            elif not row.password_hash or not _verify(row.password_hash, password):
                failures = row.failed_logins + 1
                values: dict = {"failed_logins": failures}
                if failures >= MAX_FAILURES:
                    values = {"failed_logins": 0, "locked_until": now + LOCKOUT}
                    audit.record(s, subject, LOGIN_LOCKED, name, f"{MAX_FAILURES} failures")
                else:
                    audit.record(s, subject, LOGIN_FAILED, name, "no password set" if not row.password_hash else "wrong password")
                await s.execute(sa.update(u).where(u.c.id == row.id).values(**values))
                failure = LoginFailed(refused)
            else:
                values = {"failed_logins": 0, "locked_until": None}
                if HASHER.check_needs_rehash(row.password_hash):
                    values["password_hash"] = HASHER.hash(password)
                await s.execute(sa.update(u).where(u.c.id == row.id).values(**values))
                audit.record(s, subject, LOGIN, name)
                failure = None
            actor = None if failure else await load_actor(s, name)
        if failure is not None:
            log.info("login refused for %r: %s", name, failure.message)
            raise failure
        assert actor is not None
        log.info("login: %r", name)
        return actor

    # -- roles ------------------------------------------------------------------------------------
    async def roles(self, actor: Actor) -> list[RoleView]:
        require(actor, Feature.SECURITY, Level.VIEW)
        r, g, ur, u = Role.__table__, RoleGrant.__table__, UserRole.__table__, User.__table__
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            rows = (await s.execute(sa.select(r).order_by(r.c.builtin.desc(), r.c.name))).all()
            grants: dict[int, dict[str, str]] = {x.id: {} for x in rows}
            for x in await s.execute(sa.select(g)):
                grants.setdefault(x.role_id, {})[x.feature] = Level(x.level).name.lower()
            members: dict[int, list[str]] = {}
            for x in await s.execute(sa.select(ur.c.role_id, u.c.name).join(u, u.c.id == ur.c.user_id).order_by(u.c.name)):
                members.setdefault(x.role_id, []).append(x.name)
        views = []
        for x in rows:
            shown = {f.value: ("manage" if x.builtin else grants[x.id].get(f.value, "none")) for f in Feature}
            views.append(RoleView(x.id, x.name, x.builtin, shown, members.get(x.id, [])))
        return views

    async def _role(self, s: AsyncSession, name: str):  # noqa: ANN202
        r = Role.__table__
        row = (await s.execute(sa.select(r).where(r.c.name == name))).first()
        if row is None:
            raise InvalidInput("role", _("Role {name!r} does not exist.").format(name=name))
        return row

    async def add_role(self, actor: Actor, name: str) -> int:
        require(actor, Feature.SECURITY, Level.MANAGE)
        name = name.strip()
        if not name:
            raise InvalidInput("name", _("Role name: type a name."))
        async with self._guard(_("Cannot save role. Try again later.")), self.db.write() as s:
            r = Role.__table__
            if (await s.execute(sa.select(r.c.id).where(r.c.name == name))).first():
                raise InvalidInput("name", _("Role name: {name!r} exists already; choose another.").format(name=name))
            role_id = (await s.execute(sa.insert(r).values(name=name, builtin=False).returning(r.c.id))).scalar_one()
            audit.record(s, actor, ROLE_ADDED, f"role {name}")
            return role_id

    async def grant(self, actor: Actor, role: str, feature: str, level: str) -> None:
        """Set one grant of a role: ``level`` is none, view or manage."""
        require(actor, Feature.SECURITY, Level.MANAGE)
        try:
            feat = Feature(feature)
        except ValueError:
            raise InvalidInput("feature", _("Feature: choose one of {list}.").format(
                list=", ".join(f.value for f in Feature))) from None
        try:
            lvl = Level.parse(level)
        except KeyError:
            raise InvalidInput("level", _("Level: choose none, view or manage.")) from None
        async with self._guard(_("Cannot save role. Try again later.")), self.db.write() as s:
            row = await self._role(s, role)
            if row.builtin:
                raise InvalidInput("role", _("The Administrator role always has every permission; it cannot be changed."))
            g = RoleGrant.__table__
            await s.execute(sa.delete(g).where(g.c.role_id == row.id, g.c.feature == feat.value))
            await s.execute(sa.insert(g).values(role_id=row.id, feature=feat.value, level=int(lvl)))
            audit.record(s, actor, ROLE_CHANGED, f"role {role}", f"{feat.value}: {lvl.name.lower()}")
            await self._changed(s, Topic.SECURITY)

    async def delete_role(self, actor: Actor, role: str) -> None:
        require(actor, Feature.SECURITY, Level.MANAGE)
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.write() as s:
            row = await self._role(s, role)
            if row.builtin:
                raise InvalidInput("role", _("The Administrator role cannot be deleted."))
            await s.execute(sa.delete(Role.__table__).where(Role.__table__.c.id == row.id))
            audit.record(s, actor, ROLE_DELETED, f"role {role}")
            await self._changed(s, Topic.SECURITY)

    # -- users ------------------------------------------------------------------------------------
    async def users(self, actor: Actor) -> list[UserView]:
        require(actor, Feature.SECURITY, Level.VIEW)
        u, ur, r = User.__table__, UserRole.__table__, Role.__table__
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            roles: dict[int, list[str]] = {}
            for x in await s.execute(sa.select(ur.c.user_id, r.c.name).join(r, r.c.id == ur.c.role_id).order_by(r.c.name)):
                roles.setdefault(x.user_id, []).append(x.name)
            rows = (await s.execute(sa.select(u).order_by(u.c.name))).all()
        return [UserView(x.id, x.name, x.full_name, roles.get(x.id, []), x.disabled, x.locked_until,
                         bool(x.password_hash)) for x in rows]

    async def _set_roles(self, s: AsyncSession, user_id: int, roles: list[str]) -> None:
        ur = UserRole.__table__
        ids = [(await self._role(s, name)).id for name in dict.fromkeys(roles)]
        await s.execute(sa.delete(ur).where(ur.c.user_id == user_id))
        for role_id in ids:
            await s.execute(sa.insert(ur).values(user_id=user_id, role_id=role_id))

    async def add_user(
        self, actor: Actor, name: str, *, roles: list[str], full_name: str = "", password: str | None = None
    ) -> int:
        require(actor, Feature.SECURITY, Level.MANAGE)
        name = name.strip()
        if not name or len(name) > 64 or any(c.isspace() for c in name):
            raise InvalidInput("name", _("User name: 1 to 64 characters without spaces."))
        hashed = HASHER.hash(_check_password(password)) if password is not None else None
        async with self._guard(_("Cannot save user. Try again later.")), self.db.write() as s:
            u = User.__table__
            if (await s.execute(sa.select(u.c.id).where(u.c.name == name))).first():
                raise InvalidInput("name", _("User name: {name!r} exists already; choose another.").format(name=name))
            user_id = (await s.execute(sa.insert(u).values(name=name, full_name=full_name, created_at=utcnow(),
                                                           password_hash=hashed, disabled=False, failed_logins=0)
                                       .returning(u.c.id))).scalar_one()
            await self._set_roles(s, user_id, roles)
            audit.record(s, actor, USER_ADDED, f"user {name}", ", ".join(roles))
            return user_id

    async def _user_id(self, s: AsyncSession, name: str) -> int:
        u = User.__table__
        user_id = (await s.execute(sa.select(u.c.id).where(u.c.name == name))).scalar()
        if user_id is None:
            raise StaleError()
        return user_id

    async def set_roles(self, actor: Actor, name: str, roles: list[str]) -> None:
        require(actor, Feature.SECURITY, Level.MANAGE)
        async with self._guard(_("Cannot save user. Try again later.")), self.db.write() as s:
            await self._set_roles(s, await self._user_id(s, name), roles)
            audit.record(s, actor, USER_CHANGED, f"user {name}", _("roles: {roles}").format(roles=", ".join(roles)))

    async def set_password(self, actor: Actor, name: str, password: str) -> None:
        """Users change their own password; changing someone else's needs to manage security."""
        if actor.name != name:
            require(actor, Feature.SECURITY, Level.MANAGE)
        hashed = HASHER.hash(_check_password(password))
        async with self._guard(_("Cannot save user. Try again later.")), self.db.write() as s:
            user_id = await self._user_id(s, name)
            u = User.__table__
            await s.execute(sa.update(u).where(u.c.id == user_id).values(password_hash=hashed, failed_logins=0,
                                                                        locked_until=None))
            audit.record(s, actor, USER_CHANGED, f"user {name}", _("password changed"))

    async def set_disabled(self, actor: Actor, name: str, disabled: bool = True) -> None:
        require(actor, Feature.SECURITY, Level.MANAGE)
        if disabled and actor.name == name:
            raise PermissionDenied()  # nobody locks themselves out
        async with self._guard(_("Cannot save user. Try again later.")), self.db.write() as s:
            u = User.__table__
            await s.execute(sa.update(u).where(u.c.id == await self._user_id(s, name)).values(disabled=disabled))
            audit.record(s, actor, USER_CHANGED, f"user {name}", _("disabled") if disabled else _("enabled"))


def _verify(hashed: str, password: str) -> bool:
    try:
        return HASHER.verify(hashed, password)
    except (argon2.exceptions.VerifyMismatchError, argon2.exceptions.InvalidHashError,
            argon2.exceptions.VerificationError):
        return False


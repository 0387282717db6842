"""Roles, grants, users, logins and lockout; and the whole permission matrix through the engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from conftest import ADMIN
from imtui.engine.audit import AuditService
from imtui.engine.errors import InvalidInput, PermissionDenied
from imtui.engine.incidents import CallInput, IncidentService, SequenceInput
from imtui.engine.permissions import Actor, Feature, Level, merge
from imtui.engine.properties import PropertyService
from imtui.engine.retention import RetentionService
from imtui.engine.security import LOCKOUT, MAX_FAILURES, LoginFailed, SecurityService
from imtui.storage.db import Database

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def test_login_lockout_and_audit(db: Database) -> None:
    sec = SecurityService(db)
    await sec.add_user(ADMIN, "nina", roles=["operator"], full_name="Nina", password="correct horse")
    actor = await sec.login("nina", "correct horse")
    assert (actor.name, actor.roles) == ("nina", ["operator"])
    now = datetime.now(UTC)
    for _ in range(MAX_FAILURES):
        with pytest.raises(LoginFailed) as err:
            await sec.login("nina", "wrong", now=now)
        assert err.value.message == "Wrong user name or password."
    with pytest.raises(LoginFailed) as err:  # locked now, even with the right password
        await sec.login("nina", "correct horse", now=now + timedelta(minutes=1))
    assert err.value.message.startswith("Too many failed attempts: try again in")
    assert (await sec.login("nina", "correct horse", now=now + LOCKOUT + timedelta(seconds=1))).name == "nina"
    with pytest.raises(LoginFailed):
        await sec.login("ghost", "whatever")
    actions = [e.action for e in await AuditService(db).entries(ADMIN, user="nina")]
    assert actions.count("login") == 2 and "login_locked" in actions and actions.count("login_failed") == 5
    assert [e.target for e in await AuditService(db).entries(ADMIN, user="ghost")] == ["ghost"]


async def test_passwords_are_argon2id_and_checked(db: Database) -> None:
    sec = SecurityService(db)
    with pytest.raises(InvalidInput) as err:
        await sec.add_user(ADMIN, "short", roles=["viewer"], password="1234")
    assert err.value.message == "Password: use at least 8 characters."
    await sec.add_user(ADMIN, "omar", roles=["viewer"], password="long enough")
    async with db.read() as s:
        import sqlalchemy as sa

        stored = (await s.execute(sa.text("SELECT password_hash FROM app_user WHERE name = 'omar'"))).scalar_one()
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$") and "long enough" not in stored
    await sec.set_password(Actor("omar", "viewer"), "omar", "changed it myself")
    assert (await sec.login("omar", "changed it myself")).name == "omar"
    with pytest.raises(PermissionDenied):
        await sec.set_password(Actor("omar", "viewer"), "admin", "hijacked!")
    with pytest.raises(LoginFailed):  # seeded users have no password until one is set
        await sec.login("operator", "")


async def test_roles_most_permissive_wins_and_administrator_is_fixed(db: Database) -> None:
    sec = SecurityService(db)
    await sec.add_role(ADMIN, "night shift")
    await sec.grant(ADMIN, "night shift", "incidents", "manage")
    await sec.grant(ADMIN, "night shift", "comments", "none")
    await sec.add_user(ADMIN, "lea", roles=["night shift", "viewer"], password="password1")
    lea = await sec.login("lea", "password1")
    from imtui.engine.permissions import level

    assert level(lea, Feature.INCIDENTS) == Level.MANAGE
    assert level(lea, Feature.COMMENTS) == Level.VIEW  # viewer's view beats night shift's none
    assert level(lea, Feature.DELETE) == Level.NONE
    with pytest.raises(InvalidInput):
        await sec.grant(ADMIN, "Administrator", "incidents", "none")
    with pytest.raises(InvalidInput):
        await sec.delete_role(ADMIN, "Administrator")
    with pytest.raises(InvalidInput) as err:
        await sec.grant(ADMIN, "night shift", "coffee", "manage")
    assert err.value.field == "feature"
    roles = {r.name: r for r in await sec.roles(ADMIN)}
    assert roles["Administrator"].builtin and set(roles["Administrator"].grants.values()) == {"manage"}
    assert roles["night shift"].users == ["lea"]
    await sec.set_disabled(ADMIN, "lea")
    with pytest.raises(LoginFailed) as err:
        await sec.login("lea", "password1")
    assert "disabled" in err.value.message
    with pytest.raises(PermissionDenied):
        await sec.set_disabled(ADMIN, "admin")  # nobody disables themselves


def _actor(feature: Feature, granted: Level) -> Actor:
    grants = {feature: granted}
    if feature not in (Feature.INCIDENTS, Feature.PROPERTIES, Feature.SECURITY):
        grants[Feature.INCIDENTS] = Level.MANAGE  # isolate the sub-feature under test
    return Actor(f"user-{feature.value}-{granted.name}", "custom", merge([grants]))


def _matrix():  # noqa: ANN202
    """(label, feature, level needed, call(actor, world) -> awaitable) for every service call."""
    return [
        ("list", Feature.INCIDENTS, Level.VIEW, lambda a, w: w.svc.list_page(a, w.flt)),
        ("count", Feature.INCIDENTS, Level.VIEW, lambda a, w: w.svc.count(a, w.flt)),
        ("open", Feature.INCIDENTS, Level.VIEW, lambda a, w: w.svc.open(a, w.iid)),
        ("get", Feature.INCIDENTS, Level.VIEW, lambda a, w: w.svc.get(a, w.iid)),
        ("activity", Feature.INCIDENTS, Level.VIEW, lambda a, w: w.svc.activity(a, w.iid)),
        ("create", Feature.INCIDENTS, Level.MANAGE, lambda a, w: w.svc.create(a, w.type_id, "x")),
        ("update", Feature.INCIDENTS, Level.MANAGE, lambda a, w: w.svc.update_main(
            a, w.iid, w.version, type_id=w.type_id, status_id=w.status_id, description="changed")),
        ("add comment", Feature.COMMENTS, Level.MANAGE, lambda a, w: w.svc.add_comment(a, w.iid, "c")),
        ("edit comment", Feature.COMMENTS, Level.MANAGE, lambda a, w: w.svc.edit_comment(a, w.comment_id, 1, "e")),
        ("delete comment", Feature.COMMENTS, Level.MANAGE, lambda a, w: w.svc.delete_comment(a, w.comment_id)),
        ("add call", Feature.CALLS, Level.MANAGE, lambda a, w: w.svc.add_call(a, w.iid, CallInput(T0, "incoming", "x"))),
        ("edit call", Feature.CALLS, Level.MANAGE, lambda a, w: w.svc.edit_call(a, w.call_id, 1, CallInput(T0, "outgoing", "y"))),
        ("delete call", Feature.CALLS, Level.MANAGE, lambda a, w: w.svc.delete_call(a, w.call_id)),
        ("add sequences", Feature.SEQUENCES, Level.MANAGE, lambda a, w: w.svc.add_sequences(a, w.iid, [SequenceInput(w.cam, T0, T0)])),
        ("remove sequence", Feature.SEQUENCES, Level.MANAGE, lambda a, w: w.svc.remove_sequence(a, w.sequence_id)),
        ("delete project", Feature.DELETE, Level.MANAGE, lambda a, w: w.svc.delete(a, w.iid)),
        ("list properties", Feature.PROPERTIES, Level.VIEW, lambda a, w: w.props.list_items(a, "type")),
        ("add property", Feature.PROPERTIES, Level.MANAGE, lambda a, w: w.props.add_item(a, "type", "t")),
        ("options", Feature.PROPERTIES, Level.VIEW, lambda a, w: w.props.options(a)),
        ("set options", Feature.PROPERTIES, Level.MANAGE, lambda a, w: w.props.set_options(a, retention_days=9)),
        ("audit", Feature.PROPERTIES, Level.VIEW, lambda a, w: AuditService(w.db).entries(a)),
        ("purge", Feature.PROPERTIES, Level.MANAGE, lambda a, w: RetentionService(w.db).purge(a, dry_run=True)),
        ("roles", Feature.SECURITY, Level.VIEW, lambda a, w: w.sec.roles(a)),
        ("users", Feature.SECURITY, Level.VIEW, lambda a, w: w.sec.users(a)),
        ("add role", Feature.SECURITY, Level.MANAGE, lambda a, w: w.sec.add_role(a, f"r-{a.name}")),
        ("add user", Feature.SECURITY, Level.MANAGE, lambda a, w: w.sec.add_user(a, f"u-{a.name}"[:60], roles=["viewer"])),
    ]


class World:
    async def make(self, db: Database) -> World:
        self.db, self.svc, self.props, self.sec = db, IncidentService(db), PropertyService(db), SecurityService(db)
        from imtui.engine.incidents import IncidentFilter

        self.flt = IncidentFilter()
        self.type_id = (await self.svc.types())[0].id
        self.status_id = (await self.svc.statuses())[1].id
        self.cam = (await self.svc.cameras())[0].id
        self.iid = await self.svc.create(ADMIN, self.type_id, "w", [SequenceInput(self.cam, T0, T0)])
        detail = await self.svc.get(ADMIN, self.iid)
        self.version, self.sequence_id = detail.version, detail.sequences[0].id
        self.comment_id = await self.svc.add_comment(ADMIN, self.iid, "c")
        self.call_id = await self.svc.add_call(ADMIN, self.iid, CallInput(T0, "incoming", "x"))
        return self


async def test_permission_matrix(db: Database) -> None:
    """Every service call x none/view/manage on the feature it needs: allowed exactly when the
    grant reaches the level, refused with "Permission denied." otherwise."""
    checked = 0
    for label, feature, needed, call in _matrix():
        for granted in Level:
            world = await World().make(db)
            actor = _actor(feature, granted)
            if granted >= needed:
                await call(actor, world)
            else:
                with pytest.raises(PermissionDenied):
                    await call(actor, world)
            checked += 1
    assert checked == len(_matrix()) * 3


async def test_sub_features_never_exceed_incident_projects(db: Database) -> None:
    world = await World().make(db)
    actor = Actor("x", "custom", merge([{Feature.COMMENTS: Level.MANAGE, Feature.INCIDENTS: Level.VIEW}]))
    with pytest.raises(PermissionDenied):
        await world.svc.add_comment(actor, world.iid, "no")
    hidden = Actor("y", "custom", merge([{Feature.INCIDENTS: Level.VIEW}]))
    detail = await world.svc.get(hidden, world.iid)
    assert detail.hidden == {"comments", "calls", "sequences"} and detail.comments == [] and detail.calls == []

"""Roles with per-feature grants, users with several roles, passwords and lockout.

Existing users keep what their single role gave them: the roles Administrator (built in),
operator and viewer are created with their default grants and assigned.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_PROJECT = ("incidents", "comments", "calls", "sequences", "report", "export", "delete")
DEFAULT_GRANTS = {
    "operator": {f: 2 for f in _PROJECT},
    "viewer": {f: 1 for f in _PROJECT if f not in ("export", "delete")},
}


def upgrade() -> None:
    op.create_table(
        "role",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False, unique=True),
        sa.Column("builtin", sa.Boolean, nullable=False),
    )
    op.create_table(
        "role_grant",
        sa.Column("role_id", sa.Integer, sa.ForeignKey("role.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("feature", sqlmodel.sql.sqltypes.AutoString(length=32), primary_key=True),
        sa.Column("level", sa.Integer, nullable=False),
    )
    op.create_table(
        "user_role",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("role_id", sa.Integer, sa.ForeignKey("role.id", ondelete="CASCADE"), primary_key=True),
    )
    bind = op.get_bind()
    role = sa.table("role", sa.column("id", sa.Integer), sa.column("name", sa.String), sa.column("builtin", sa.Boolean))
    grant = sa.table("role_grant", sa.column("role_id", sa.Integer), sa.column("feature", sa.String),
                     sa.column("level", sa.Integer))
    link = sa.table("user_role", sa.column("user_id", sa.Integer), sa.column("role_id", sa.Integer))
    user = sa.table("app_user", sa.column("id", sa.Integer), sa.column("role", sa.String))
    ids = {}
    for name, builtin in (("Administrator", True), ("operator", False), ("viewer", False)):
        ids[name] = bind.execute(sa.insert(role).values(name=name, builtin=builtin).returning(role.c.id)).scalar_one()
        for feature, level in DEFAULT_GRANTS.get(name, {}).items():
            bind.execute(sa.insert(grant).values(role_id=ids[name], feature=feature, level=level))
    # Read the old single roles now and link them after app_user is rebuilt: on SQLite the batch
    # rebuild drops the old table, and with foreign keys on that would cascade into user_role.
    memberships = bind.execute(sa.select(user.c.id, user.c.role)).all()
    with op.batch_alter_table("app_user") as batch:
        batch.add_column(sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True))
        batch.add_column(sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("locked_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch.drop_column("role")
    for user_id, role_name in memberships:
        if role_name not in ids:
            ids[role_name] = bind.execute(sa.insert(role).values(name=role_name, builtin=False).returning(role.c.id)).scalar_one()
        bind.execute(sa.insert(link).values(user_id=user_id, role_id=ids[role_name]))


def downgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.add_column(sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False, server_default="viewer"))
        batch.drop_column("locked_until")
        batch.drop_column("failed_logins")
        batch.drop_column("disabled")
        batch.drop_column("password_hash")
    op.drop_table("user_role")
    op.drop_table("role_grant")
    op.drop_table("role")

"""Category and data-field values on incident projects, the system audit log, and the indexes
that let an administrator's "is this type/status in use?" check stay fast at a million projects.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incident_category",
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incident.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("slot", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("value_id", sa.Integer, sa.ForeignKey("category_value.id"), nullable=False),
    )
    op.create_index("ix_incident_category_value_id", "incident_category", ["value_id"])
    op.create_table(
        "incident_data",
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incident.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("field_id", sa.Integer, sa.ForeignKey("data_field.id"), primary_key=True, autoincrement=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    )
    op.create_index("ix_incident_data_field_id", "incident_data", ["field_id"])
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("user", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("target", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("details", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    )
    op.create_index("ix_audit_at", "audit", ["at"])
    op.create_index("ix_incident_type", "incident", ["type_id"])
    op.create_index("ix_incident_status", "incident", ["status_id"])


def downgrade() -> None:
    op.drop_index("ix_incident_status", "incident")
    op.drop_index("ix_incident_type", "incident")
    op.drop_table("audit")
    op.drop_table("incident_data")
    op.drop_table("incident_category")

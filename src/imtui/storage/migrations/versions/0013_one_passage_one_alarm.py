"""One vehicle passage, one recognition, one alarm per definition.

``recognition.passage`` keys a passage (its plate and first-seen time) and is unique per camera, so a
passage stored again (a late settle, a retried commit, a second writer) updates its row instead of
adding one; rows stored before have NULL (not constrained).  An alarm is unique per (definition,
match).  Alarm definitions gain ``retroactive_outputs``: whether an alarm found after the read (a
list gained the plate) runs the definition's outputs; off by default.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("recognition", sa.Column("passage", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
    op.create_index("ux_recognition_passage", "recognition", ["camera_id", "passage"], unique=True)
    op.create_index("ux_alarm_match", "alarm", ["definition_id", "match_id"], unique=True)
    op.add_column("alarm_definition", sa.Column("retroactive_outputs", sa.Boolean, nullable=False,
                                                server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("alarm_definition") as batch:
        batch.drop_column("retroactive_outputs")
    op.drop_index("ux_alarm_match", "alarm")
    op.drop_index("ux_recognition_passage", "recognition")
    with op.batch_alter_table("recognition") as batch:
        batch.drop_column("passage")

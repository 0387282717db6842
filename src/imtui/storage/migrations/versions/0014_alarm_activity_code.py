"""Projects made of an alarm: their activity entry gets a code.

Before, the alarm manager stored the English words "created from alarm" as the action of the
project's activity entry, so the log could not translate it; it is now the code ``from_alarm``
(``imtui.engine.activity.FROM_ALARM``), shown as "Created from alarm" in the operator's language.
Only the action changes; the details (which alarm) stay as written.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_activity = sa.table("activity", sa.column("action", sa.String))


def upgrade() -> None:
    op.execute(_activity.update().where(_activity.c.action == "created from alarm").values(action="from_alarm"))


def downgrade() -> None:
    op.execute(_activity.update().where(_activity.c.action == "from_alarm").values(action="created from alarm"))

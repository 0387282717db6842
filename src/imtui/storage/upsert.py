"""``INSERT … ON CONFLICT DO NOTHING`` on both backends: a row that a unique index says exists
already is not inserted again, and ``RETURNING`` gives only the rows that were."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite


def insert_or_ignore(table: sa.Table, unique: Sequence[str], *, is_sqlite: bool):  # noqa: ANN201 - dialect Insert
    """An insert into ``table`` that skips rows whose ``unique`` columns (a unique index's, exactly)
    match a stored row."""
    insert = sqlite.insert if is_sqlite else postgresql.insert
    return insert(table).on_conflict_do_nothing(index_elements=list(unique))

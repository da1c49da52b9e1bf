"""Actors and places numbered in list order, so a deep page of /actors or /places is a
lookup, not a walk past every row before it.

- `actors.position`, `places.position`: the place in the list order (by `sort_key`, then
  `id`), from 1; `kind_position`: the same among those of its kind.
- A page of all (or of one kind) is then the rows numbered after its offset, and its total
  the last number, both read from an index. The list-order indexes are keyed by these.

Numbered from the loaded rows; nothing needs loading again.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("actors", "places")
# New index: (table, columns, the index it replaces, that index's columns).
_INDEXES = {
    "ix_actors_position": ("actors", ["position"], "ix_actors_sort_key_id", ["sort_key", "id"]),
    "ix_actors_kind_kind_position": (
        "actors",
        ["kind", "kind_position"],
        "ix_actors_kind_sort_key_id",
        ["kind", "sort_key", "id"],
    ),
    "ix_places_position": ("places", ["position"], "ix_places_sort_key_id", ["sort_key", "id"]),
    "ix_places_kind_kind_position": (
        "places",
        ["kind", "kind_position"],
        "ix_places_kind_sort_key_id",
        ["kind", "sort_key", "id"],
    ),
    "ix_places_parent_id_position": (
        "places",
        ["parent_id", "position"],
        "ix_places_parent_id_sort_key_id",
        ["parent_id", "sort_key", "id"],
    ),
}


def upgrade() -> None:
    connection = op.get_bind()
    for table in _TABLES:
        op.add_column(table, sa.Column("position", sa.Integer(), nullable=True))
        op.add_column(table, sa.Column("kind_position", sa.Integer(), nullable=True))
        ordered = connection.execute(sa.text(f"SELECT id, kind FROM {table} ORDER BY sort_key, id"))
        kinds: Counter[str] = Counter()
        numbers = []
        for position, (row_id, kind) in enumerate(ordered, 1):
            kinds[kind] += 1
            numbers.append({"id": row_id, "position": position, "kind_position": kinds[kind]})
        if numbers:
            connection.execute(
                sa.text(
                    f"UPDATE {table} SET position = :position, kind_position = :kind_position"
                    " WHERE id = :id"
                ),
                numbers,
            )
    for name, (table, columns, replaced, _) in _INDEXES.items():
        op.create_index(op.f(name), table, columns)
        op.drop_index(op.f(replaced), table_name=table)
    for table in _TABLES:
        op.execute(f"ANALYZE {table}")


def downgrade() -> None:
    for name, (table, _, replaced, columns) in _INDEXES.items():
        op.create_index(op.f(replaced), table, columns)
        op.drop_index(op.f(name), table_name=table)
    for table in _TABLES:
        # In place (SQLite 3.35+ too): a copy of the table would break the links to it.
        op.execute(f"ALTER TABLE {table} DROP COLUMN kind_position")
        op.execute(f"ALTER TABLE {table} DROP COLUMN position")

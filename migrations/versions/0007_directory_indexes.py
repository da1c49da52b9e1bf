"""Indexes in list order for /actors and /places, whole or by kind or parent.

A page of a directory list is a walk along one of these, and its event counts are looked
up for that page's rows only; with an index on `kind` alone, SQLite looked up every
city's count and then sorted them all. Each replaces the single-column index it extends.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# New index: (table, columns, the index it replaces).
_INDEXES = {
    "ix_actors_sort_key_id": ("actors", ["sort_key", "id"], "ix_actors_sort_key"),
    "ix_actors_kind_sort_key_id": ("actors", ["kind", "sort_key", "id"], "ix_actors_kind"),
    "ix_places_sort_key_id": ("places", ["sort_key", "id"], "ix_places_sort_key"),
    "ix_places_kind_sort_key_id": ("places", ["kind", "sort_key", "id"], "ix_places_kind"),
    "ix_places_parent_id_sort_key_id": (
        "places",
        ["parent_id", "sort_key", "id"],
        "ix_places_parent_id",
    ),
}


def upgrade() -> None:
    for name, (table, columns, replaced) in _INDEXES.items():
        op.create_index(op.f(name), table, columns)
        op.drop_index(op.f(replaced), table_name=table)
    if op.get_bind().dialect.name == "sqlite":
        for name in _INDEXES:
            op.execute(f"ANALYZE {name}")


def downgrade() -> None:
    for name, (table, columns, replaced) in _INDEXES.items():
        op.create_index(op.f(replaced), table, columns[:1])
        op.drop_index(op.f(name), table_name=table)

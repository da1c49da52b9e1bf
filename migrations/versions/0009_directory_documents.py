"""Actors, places and sources as lists and details return them, written at load.

`doc` holds an entity's list entry (with its aliases and event count) and `detail` its
detail (with first and last dates, and a place's parents and children), as JSON text: a
list page is one statement and a detail one lookup. They are built from the whole loaded
dataset, so the upgrade empties it, as 0005 did: the next `timeline load` or `timeline
serve` loads it again. Versions and changes are kept.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ENTITIES = ("actors", "places", "sources")
# Children first, as the loader deletes them.
_DATASET_TABLES = (
    "key_stats",
    "event_keys",
    "event_order",
    "place_tree",
    "event_relations",
    "figures",
    "citations",
    "event_tags",
    "event_places",
    "event_actors",
    "events",
    "place_names",
    "places",
    "actor_names",
    "actors",
    "sources",
    "dataset_meta",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("INSERT INTO events_fts(events_fts) VALUES('delete-all')")
    for table in _DATASET_TABLES:
        op.execute(f"DELETE FROM {table}")
    for table in _ENTITIES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("doc", sa.Text(), nullable=True))
            batch.add_column(sa.Column("detail", sa.Text(), nullable=True))


def downgrade() -> None:
    for table in _ENTITIES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("detail")
            batch.drop_column("doc")

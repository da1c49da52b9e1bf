"""More read at load: documents by rank, the directories' documents, key positions.

- Actors, places and sources as lists and details return them: `doc` holds an entity's
  list entry (with its aliases and event count) and `detail` its detail (with first and
  last dates, and a place's parents and children), as JSON text. A list page is one
  statement and a detail one lookup.
- `event_docs`: each event's document with its versions, by rank, so that a page's
  documents are one lookup each and neighbours in date order sit together.
- `event_keys.pos`: a row's position among its key's rows of its span class, in rank
  order. How many of one key's events fall in a rank range is then two lookups, so the
  total of one filter value within a date window is exact without counting.

All are built from the whole loaded dataset, so the upgrade empties it, as 0005 did: the
next `timeline load` or `timeline serve` loads it again. Versions and changes are kept.

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
    _event_keys(with_positions=True)
    op.create_table(
        "event_docs",
        sa.Column("rank", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("doc", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("rank", name=op.f("pk_event_docs")),
    )


def _event_keys(*, with_positions: bool) -> None:
    """event_keys made anew (it is empty): SQLite cannot add a column to a primary key's
    table without a default, nor change PostgreSQL's INCLUDE list in place."""
    op.drop_table("event_keys")
    positions = [sa.Column("pos", sa.Integer(), nullable=False)] if with_positions else []
    op.create_table(
        "event_keys",
        sa.Column("key", sa.String(500), nullable=False),
        sa.Column("span_class", sa.SmallInteger(), nullable=False),
        sa.Column("rank", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("date_end", sa.Date(), nullable=False),
        *positions,
        sa.PrimaryKeyConstraint(
            "key",
            "span_class",
            "rank",
            name=op.f("pk_event_keys"),
            postgresql_include=["date_end", *(["pos"] if with_positions else [])],
        ),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    for table in ("key_stats", "event_keys", "event_order"):
        op.execute(f"DELETE FROM {table}")
    op.execute("DELETE FROM dataset_meta")  # the next load rebuilds the read tables
    _event_keys(with_positions=False)
    op.drop_table("event_docs")
    for table in _ENTITIES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("detail")
            batch.drop_column("doc")

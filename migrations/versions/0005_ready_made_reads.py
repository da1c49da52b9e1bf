"""Ready-made reads: each event's JSON, its date rank, what each filter value matches.

A request becomes lookups: `events.doc` holds the event as lists return it;
`event_order` ranks events by date; `event_keys` lists, per filter value (actor, role,
place with everything inside, type, tag, source), its events in date order;
`key_stats` counts them; `place_tree` says which places contain which. All are written
by the load, in its transaction. The per-filter date indexes on `events`, and the link-table indexes only they served, go.

These tables are filled from the YAML, not from rows already loaded, so the upgrade
empties the loaded dataset: the next `timeline load` or `timeline serve` loads it again.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EVENT_INDEXES = {
    "ix_events_date_start_date_end_id": ["date_start", "date_end", "id"],
    "ix_events_date_end_date_start_id": ["date_end", "date_start", "id"],
    "ix_events_type_date_start_date_end_id": ["type", "date_start", "date_end", "id"],
    "ix_events_span_class_date_start_date_end_id": ["span_class", "date_start", "date_end", "id"],
    "ix_events_id_date_start_date_end": ["id", "date_start", "date_end"],
}
# Link-table indexes that only the old per-request filters read.
_LINK_INDEXES = {
    "ix_event_actors_actor_id_role_event_id": ("event_actors", ["actor_id", "role", "event_id"]),
    "ix_event_actors_event_id_position_actor_id_role": (
        "event_actors",
        ["event_id", "position", "actor_id", "role"],
    ),
    "ix_event_places_place_id_event_id": ("event_places", ["place_id", "event_id"]),
    "ix_event_places_event_id_position_place_id": (
        "event_places",
        ["event_id", "position", "place_id"],
    ),
    "ix_event_tags_tag_event_id": ("event_tags", ["tag", "event_id"]),
    "ix_citations_source_id_event_id": ("citations", ["source_id", "event_id"]),
}
# Children first, as the loader deletes them.
_DATASET_TABLES = (
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
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("INSERT INTO events_fts(events_fts) VALUES('delete-all')")
    for table in _DATASET_TABLES:
        op.execute(f"DELETE FROM {table}")
    for name in _EVENT_INDEXES:
        op.drop_index(name, table_name="events")
    for name, (table, _) in _LINK_INDEXES.items():
        op.drop_index(name, table_name=table)
    op.add_column("events", sa.Column("doc", sa.Text(), nullable=False, server_default=""))
    op.add_column("events", sa.Column("facets", sa.Text(), nullable=False, server_default=""))
    op.create_table(
        "place_tree",
        sa.Column("place_id", sa.String(200), nullable=False),
        sa.Column("ancestor_id", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["place_id"],
            ["places.id"],
            name=op.f("fk_place_tree_place_id_places"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ancestor_id"],
            ["places.id"],
            name=op.f("fk_place_tree_ancestor_id_places"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("place_id", "ancestor_id", name=op.f("pk_place_tree")),
    )
    op.create_index(op.f("ix_place_tree_ancestor_id"), "place_tree", ["ancestor_id"])
    op.create_table(
        "event_order",
        sa.Column("rank", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("end_rank", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("date_start", sa.Date(), nullable=False),
        sa.Column("date_end", sa.Date(), nullable=False),
        sa.Column("span_class", sa.SmallInteger(), nullable=False),
        sa.Column("facets", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_order_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("rank", name=op.f("pk_event_order")),
        sa.UniqueConstraint("event_id", name=op.f("uq_event_order_event_id")),
    )
    op.create_index(
        op.f("ix_event_order_date_start_date_end_event_id"),
        "event_order",
        ["date_start", "date_end", "event_id"],
    )
    op.create_index(
        op.f("ix_event_order_date_end_end_rank"), "event_order", ["date_end", "end_rank"]
    )
    op.create_table(
        "event_keys",
        sa.Column("key", sa.String(500), nullable=False),
        sa.Column("span_class", sa.SmallInteger(), nullable=False),
        sa.Column("rank", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("date_end", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("key", "span_class", "rank", name=op.f("pk_event_keys")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "key_stats",
        sa.Column("key", sa.String(500), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("first_rank", sa.Integer(), nullable=False),
        sa.Column("last_date", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_key_stats")),
    )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("INSERT INTO events_fts(events_fts) VALUES('delete-all')")
    for table in _DATASET_TABLES:
        op.execute(f"DELETE FROM {table}")
    op.drop_table("key_stats")
    op.drop_table("event_keys")
    op.drop_table("event_order")
    op.drop_table("place_tree")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("facets")
        batch.drop_column("doc")
    for name, columns in _EVENT_INDEXES.items():
        op.create_index(name, "events", columns)
    for name, (table, columns) in _LINK_INDEXES.items():
        op.create_index(name, table, columns)

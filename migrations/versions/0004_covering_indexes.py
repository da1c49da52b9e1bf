"""Covering indexes for what every page reads: a listed set's dates, each event's links.

A filter that matches a list of a few thousand events (an actor, a small place, a rare
word) sorts that list by date: (id, date_start, date_end) lets SQLite read each listed
event's dates from the index instead of its row. A page's actors, places and sources are
read by event id in their order: (event_id, position, ...) holds every column those
queries need, so an event's links are one index entry each instead of a lookup in the
primary key's index and then in the table (at a million events, most of a page's time
when the database is not in memory). It replaces the plain index on citations.event_id.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = {
    "ix_events_id_date_start_date_end": ("events", ["id", "date_start", "date_end"]),
    "ix_event_actors_event_id_position_actor_id_role": (
        "event_actors",
        ["event_id", "position", "actor_id", "role"],
    ),
    "ix_event_places_event_id_position_place_id": (
        "event_places",
        ["event_id", "position", "place_id"],
    ),
    "ix_citations_event_id_position_source_id": (
        "citations",
        ["event_id", "position", "source_id"],
    ),
}


def upgrade() -> None:
    for name, (table, columns) in _INDEXES.items():
        op.create_index(op.f(name), table, columns)
    op.drop_index(op.f("ix_citations_event_id"), table_name="citations")
    if op.get_bind().dialect.name == "sqlite":
        # Without statistics SQLite's planner keeps to the indexes it has statistics for.
        for name in _INDEXES:
            op.execute(f"ANALYZE {name}")


def downgrade() -> None:
    op.create_index(op.f("ix_citations_event_id"), "citations", ["event_id"])
    for name, (table, _) in _INDEXES.items():
        op.drop_index(op.f(name), table_name=table)

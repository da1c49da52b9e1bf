"""An (id, date_start, date_end) index on events.

A filter that matches a list of a few thousand events (an actor, a small place, a rare
word) sorts that list by date; with this index SQLite reads each listed event's dates from
the index instead of its row, and reads rows only for the page it returns.

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


def upgrade() -> None:
    op.create_index(
        op.f("ix_events_id_date_start_date_end"), "events", ["id", "date_start", "date_end"]
    )
    if op.get_bind().dialect.name == "sqlite":
        # Without statistics SQLite's planner keeps to the primary key's index.
        op.execute("ANALYZE ix_events_id_date_start_date_end")


def downgrade() -> None:
    op.drop_index(op.f("ix_events_id_date_start_date_end"), table_name="events")

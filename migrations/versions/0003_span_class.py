"""events.span_class: short, year-long and longer events, each with its own date index.

An event overlapping a window may start before it, by up to its own span. One lower
bound for all events (the longest span in the dataset) makes every window query step
over years of index entries; splitting events by span class gives each class its own,
much closer bound (see app.queries). Existing rows are classed from their dates.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# app.dates.SPAN_CLASS_DAYS, written out: a migration must not change with the app.
_DAYS = {
    "sqlite": "julianday(date_end) - julianday(date_start)",
    "postgresql": "date_end - date_start",
}


def upgrade() -> None:
    # Unclassed rows count as the longest class: never wrong, only slower.
    op.add_column(
        "events", sa.Column("span_class", sa.SmallInteger(), nullable=False, server_default="2")
    )
    days = _DAYS[op.get_bind().dialect.name]
    op.execute(
        f"UPDATE events SET span_class = CASE WHEN {days} <= 31 THEN 0 "
        f"WHEN {days} <= 366 THEN 1 ELSE 2 END"
    )
    op.create_index(
        op.f("ix_events_span_class_date_start_date_end_id"),
        "events",
        ["span_class", "date_start", "date_end", "id"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_events_span_class_date_start_date_end_id"), table_name="events")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("span_class")

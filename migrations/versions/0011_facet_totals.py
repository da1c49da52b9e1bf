"""Running totals of the facet values, so a date window's facets are a difference.

- `facet_totals`: along the order of starts (`rank`) and the order of ends (`end_rank`),
  every `dataset_meta.facet_bucket` positions (a power of two giving about 512 of them,
  16 to 2,048 apart) and at the last, how many events so far count towards each facet
  value: 4-byte little-endian counts, one per facet key of `key_stats`, sorted. The
  events overlapping a window are those starting by its end less those ending before
  its start, so `/facets` of a window reads two totals and the events between each and
  the nearest stored one, instead of every event in the window.
- `ix_event_order_end_rank`, to read a run of end positions.
- `dataset_meta.facet_bucket`: the spacing of the totals (0: none, every event is read).

Built from the loaded rows (`event_order.facets`); nothing needs loading again.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sys
from array import array
from collections import Counter
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FACETS = ("type", "year", "actor", "place", "source")


def upgrade() -> None:
    totals = op.create_table(
        "facet_totals",
        sa.Column("ordered_by", sa.String(length=5), nullable=False),
        sa.Column("bucket", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("counts", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("ordered_by", "bucket", name=op.f("pk_facet_totals")),
    )
    op.create_index(op.f("ix_event_order_end_rank"), "event_order", ["end_rank"])
    op.execute("ALTER TABLE dataset_meta ADD COLUMN facet_bucket INTEGER DEFAULT 0 NOT NULL")
    connection = op.get_bind()
    events = connection.execute(sa.text("SELECT count(*) FROM event_order")).scalar_one()
    if not events:
        return
    size = 16
    while size * 512 < events and size < 2048:
        size *= 2
    facets = " OR ".join(f"key LIKE '{name}:%'" for name in _FACETS)
    found = connection.execute(sa.text(f"SELECT key FROM key_stats WHERE {facets}"))
    position = {key: i for i, key in enumerate(sorted(k for (k,) in found))}
    for order, column in (("start", "rank"), ("end", "end_rank")):
        running = array("I", bytes(4 * len(position)))
        read = sa.text(
            f"SELECT facets FROM event_order WHERE {column} > :low AND {column} <= :high"
        )
        for bucket in range(-(-events // size)):
            rows = connection.execute(read, {"low": bucket * size, "high": (bucket + 1) * size})
            counts = Counter(key for (row,) in rows for key in row.split(" ") if key)
            for key, count in counts.items():
                running[position[key]] += count
            packed = array("I", running)
            if sys.byteorder == "big":
                packed.byteswap()
            row = {"ordered_by": order, "bucket": bucket, "counts": packed.tobytes()}
            op.bulk_insert(totals, [row])
    op.execute(f"UPDATE dataset_meta SET facet_bucket = {size}")


def downgrade() -> None:
    op.drop_table("facet_totals")
    op.drop_index(op.f("ix_event_order_end_rank"), table_name="event_order")
    op.execute("ALTER TABLE dataset_meta DROP COLUMN facet_bucket")

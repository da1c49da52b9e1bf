"""Running totals of the facet values, so a date window's facets are a difference.

- `facet_buckets`: every `dataset_meta.facet_bucket` ranks along the date order (a power
  of two giving about 256 of them, 16 to 4,096 ranks apart) and at the last rank, how
  many events so far count towards each facet value: 4-byte little-endian counts, one
  per facet value of `key_stats` in sorted order. `/facets` of a date window subtracts
  two of them and reads only the events between each end of the window and the nearest
  total, and those starting before it, instead of every event in it.
- `dataset_meta.facet_bucket`: the ranks between totals (0: none, every event is read).

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
    buckets = op.create_table(
        "facet_buckets",
        sa.Column("bucket", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("counts", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", name=op.f("pk_facet_buckets")),
    )
    op.execute("ALTER TABLE dataset_meta ADD COLUMN facet_bucket INTEGER DEFAULT 0 NOT NULL")
    connection = op.get_bind()
    events = connection.execute(sa.text("SELECT count(*) FROM event_order")).scalar_one()
    if not events:
        return
    size = 16
    while size * 256 < events and size < 4096:
        size *= 2
    facets = " OR ".join(f"key LIKE '{name}:%'" for name in _FACETS)
    keys = sorted(
        k for (k,) in connection.execute(sa.text(f"SELECT key FROM key_stats WHERE {facets}"))
    )
    position = {key: i for i, key in enumerate(keys)}
    running = array("I", bytes(4 * len(keys)))
    read = sa.text("SELECT facets FROM event_order WHERE rank > :low AND rank <= :high")
    for bucket in range(-(-events // size)):
        found = connection.execute(read, {"low": bucket * size, "high": (bucket + 1) * size})
        counts = Counter(key for (row,) in found for key in row.split(" ") if key)
        for key, count in counts.items():
            running[position[key]] += count
        packed = array("I", running)
        if sys.byteorder == "big":
            packed.byteswap()
        op.bulk_insert(buckets, [{"bucket": bucket, "counts": packed.tobytes()}])
    op.execute(f"UPDATE dataset_meta SET facet_bucket = {size}")


def downgrade() -> None:
    op.drop_table("facet_buckets")
    op.execute("ALTER TABLE dataset_meta DROP COLUMN facet_bucket")

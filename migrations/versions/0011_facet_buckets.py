"""Facet counts by bucket of ranks, so a date window's facets add up counts.

- `facet_buckets`: for each run of `dataset_meta.facet_bucket` consecutive ranks (a power
  of two, about 256 runs per dataset, 16 to 4,096 ranks each), how many of its events
  count towards each facet value, as a JSON object. `/facets` of a date window adds up
  the buckets inside the window and reads only the events at its two ends and those
  starting before it, instead of every event in it.
- `dataset_meta.facet_bucket`: that bucket size (0: no buckets, every event is read).

Built from the loaded rows (`event_order.facets`); nothing needs loading again.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    buckets = op.create_table(
        "facet_buckets",
        sa.Column("bucket", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
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
    read = sa.text("SELECT facets FROM event_order WHERE rank > :low AND rank <= :high")
    for bucket in range(-(-events // size)):
        counts: Counter[str] = Counter()
        for (facets,) in connection.execute(
            read, {"low": bucket * size, "high": (bucket + 1) * size}
        ):
            counts.update(key for key in facets.split(" ") if key)
        op.bulk_insert(buckets, [{"bucket": bucket, "counts": json.dumps(counts)}])
    op.execute(f"UPDATE dataset_meta SET facet_bucket = {size}")


def downgrade() -> None:
    op.drop_table("facet_buckets")
    op.execute("ALTER TABLE dataset_meta DROP COLUMN facet_bucket")

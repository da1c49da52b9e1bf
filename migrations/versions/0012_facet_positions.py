"""Each event's facet values as positions, so `/facets` counts them in C.

- `event_facets`: by rank, each event's facet values (`event_order.facets`) as their
  positions among the facet keys of `key_stats`, sorted (the positions of
  `facet_totals`), 4 bytes each, little-endian. `/facets` counts the events near a
  window's ends, and the events of any other filter, by adding up these positions
  (`numpy.bincount`) instead of splitting and counting text.

Built from the loaded rows; nothing needs loading again.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FACETS = ("type", "year", "actor", "place", "source")
_CHUNK = 10_000


def upgrade() -> None:
    table = op.create_table(
        "event_facets",
        sa.Column("rank", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("positions", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("rank", name=op.f("pk_event_facets")),
    )
    connection = op.get_bind()
    last = connection.execute(sa.text("SELECT max(rank) FROM event_order")).scalar_one()
    if not last:
        return
    facets = " OR ".join(f"key LIKE '{name}:%'" for name in _FACETS)
    found = connection.execute(sa.text(f"SELECT key FROM key_stats WHERE {facets}"))
    position = {key: i for i, key in enumerate(sorted(k for (k,) in found))}
    read = sa.text("SELECT rank, facets FROM event_order WHERE rank > :low AND rank <= :high")
    for low in range(0, last, _CHUNK):
        rows = []
        for rank, keys in connection.execute(read, {"low": low, "high": low + _CHUNK}):
            at = [position[key] for key in keys.split(" ") if key]
            rows.append({"rank": rank, "positions": struct.pack(f"<{len(at)}I", *at)})
        if rows:
            op.bulk_insert(table, rows)
    if connection.dialect.name == "postgresql":
        # Statistics for the joins on it, as a load leaves them (it runs VACUUM ANALYZE).
        op.execute("ANALYZE event_facets")


def downgrade() -> None:
    op.drop_table("event_facets")

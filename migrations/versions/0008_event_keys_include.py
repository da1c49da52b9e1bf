"""PostgreSQL: event_keys' primary key carries date_end.

A page walks one key's rows in rank order and tests each row's end against the window.
SQLite stores those rows in the key's order with every column (a table without rowid);
PostgreSQL stored them in a heap, read once per index entry. With date_end in the index
(and the load vacuuming the tables it rewrote, so the index is known to be current), the
walk reads the index only.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _primary_key(include: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE event_keys DROP CONSTRAINT pk_event_keys")
    op.execute(
        "ALTER TABLE event_keys ADD CONSTRAINT pk_event_keys"
        f" PRIMARY KEY (key, span_class, rank){include}"
    )


def upgrade() -> None:
    _primary_key(" INCLUDE (date_end)")


def downgrade() -> None:
    _primary_key("")

"""Full-text search indexes and the dataset's longest event span.

SQLite gets an FTS5 trigram index over events.search_text (substring search that can use
an index); PostgreSQL gets a pg_trgm GIN index that serves the same LIKE queries.
dataset_meta.max_span_days bounds how far before a window an overlapping event can start.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dataset_meta") as batch:
        batch.add_column(
            sa.Column("max_span_days", sa.Integer(), nullable=False, server_default="0")
        )
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE events_fts USING fts5("
            "search_text, content='', tokenize='trigram')"
        )
        op.execute(
            "INSERT INTO events_fts(rowid, search_text) SELECT rowid, search_text FROM events"
        )
    else:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            "CREATE INDEX ix_events_search_text_trgm ON events USING gin (search_text gin_trgm_ops)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE events_fts")
    else:
        op.execute("DROP INDEX ix_events_search_text_trgm")
    with op.batch_alter_table("dataset_meta") as batch:
        batch.drop_column("max_span_days")

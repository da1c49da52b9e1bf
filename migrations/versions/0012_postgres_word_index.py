"""PostgreSQL: `q` through its own full-text index instead of trigrams.

`ix_event_words_words` indexes each event's keyed words as a `tsvector` (the `simple`
configuration: the words as they are, no stemming, no stop words), and a word of `q`
is asked as a prefix (`protest:*`), which is what `q` means: the words it begins. The
matches of every word come from the index, in one bitmap, however rare or common they
are; the trigram index (`ix_event_words_trgm`) it replaces served `LIKE` tests that
walked the dates when the words were rare. SQLite is unchanged.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute("DROP INDEX ix_event_words_trgm")
    op.execute(
        "CREATE INDEX ix_event_words_words ON event_words"
        " USING gin (to_tsvector('simple', search_text))"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute("DROP INDEX ix_event_words_words")
    op.execute(
        "CREATE INDEX ix_event_words_trgm ON event_words USING gin (search_text gin_trgm_ops)"
    )

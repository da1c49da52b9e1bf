"""PostgreSQL: drop the trigram index on the events' words, which no query uses.

`q` on PostgreSQL walks each event's words in date order and tests them as substrings
(`app.planner`): a page of common words comes soonest that way, and the index, when the
planner chose it, fetched every match of the words first, often ten times slower; a load
no longer maintains it. SQLite is unchanged.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_event_words_trgm")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_event_words_trgm ON event_words USING gin (search_text gin_trgm_ops)"
        )

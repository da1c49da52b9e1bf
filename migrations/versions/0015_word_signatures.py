"""PostgreSQL: each event's word signature, end and span class beside its words, carried
by `event_words`' primary key.

`event_words.signature` (`app.text.word_signature`) holds, as set bits, the beginnings of
an event's keyed words; `date_end` and `span_class` are its event's (`event_order`). A
search on PostgreSQL walks the primary key, testing each event's signature for every
search word's bits and its end and class against the window, and reads and tests the
words only of the events that pass (`app.planner`). SQLite's full-text index needs none
of them: the columns stay empty there.

Built from the loaded rows; nothing needs loading again.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.text import word_signature

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHUNK = 10_000
_COLUMNS = ("signature", "date_end", "span_class")


def _columns() -> list[sa.Column[object]]:
    return [
        sa.Column("signature", sa.LargeBinary(), nullable=True),
        sa.Column("date_end", sa.Date(), nullable=True),
        sa.Column("span_class", sa.SmallInteger(), nullable=True),
    ]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        for column in _columns():
            op.add_column("event_words", column)
        return
    # Written into a new table in rank order, rather than updated in place, which would
    # leave a dead copy of every row.
    table = op.create_table(
        "event_words_signed",
        sa.Column("rank", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        *_columns(),
    )
    connection = op.get_bind()
    last = connection.execute(sa.text("SELECT max(rank) FROM event_words")).scalar_one() or 0
    read = sa.text(
        "SELECT w.rank, w.search_text, o.date_end, o.span_class FROM event_words w"
        " JOIN event_order o ON o.rank = w.rank WHERE w.rank > :low AND w.rank <= :high"
        " ORDER BY w.rank"
    )
    for low in range(0, last, _CHUNK):
        found = connection.execute(read, {"low": low, "high": low + _CHUNK})
        rows = [
            {
                "rank": rank,
                "search_text": words,
                "signature": word_signature(words),
                "date_end": end,
                "span_class": span_class,
            }
            for rank, words, end, span_class in found
        ]
        if rows:
            op.bulk_insert(table, rows)
    op.drop_table("event_words")
    op.rename_table("event_words_signed", "event_words")
    op.execute(
        "ALTER TABLE event_words ADD CONSTRAINT pk_event_words PRIMARY KEY (rank)"
        f" INCLUDE ({', '.join(_COLUMNS)})"
    )
    op.execute("ANALYZE event_words")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE event_words DROP CONSTRAINT pk_event_words")
        op.execute("ALTER TABLE event_words ADD CONSTRAINT pk_event_words PRIMARY KEY (rank)")
    with op.batch_alter_table("event_words") as batch:
        for name in _COLUMNS:
            batch.drop_column(name)

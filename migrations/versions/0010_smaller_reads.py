"""A smaller file: the full-text index by words (SQLite), each event's parts stored once.

- `events_fts` indexes each event's keyed words (ASCII words) and keeps only which events
  hold each word (`detail='none'`), with ready lists for every one-, two- and
  three-letter beginning (`prefix`). A word of `q` matches the words it begins: up to a
  few dozen of them are looked up as they are, each a seek into its list, where the
  trigram index read the lists of every three letters in the word and their positions.
  At 100,000 events the index is about 20 MB instead of 220 MB.
- `events_fts_terms`: every indexed word and how many events hold it, written at load
  from `events_fts_vocab` (which counts by reading the lists, too slow per request), so
  the planner finds the words a `q` word begins in one index range.
- `events.search_text` moves to `event_words`, by rank, where testing a walk's events for
  words reads neighbouring rows instead of looking each event up by id (PostgreSQL's
  pg_trgm index moves with it).
- `events.doc` goes: each event's document is written once, to `event_docs` by rank,
  where it was also kept beside the row (a million events: about 1.2 GB less).

Everything is moved or rebuilt from the loaded rows; nothing needs loading again.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TRIGRAMS = "CREATE INDEX {name} ON {table} USING gin (search_text gin_trgm_ops)"


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(
        "event_words",
        sa.Column("rank", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("rank", name=op.f("pk_event_words")),
    )
    op.execute(
        "INSERT INTO event_words (rank, search_text) SELECT o.rank, e.search_text"
        " FROM event_order o JOIN events e ON e.id = o.event_id"
    )
    if not sqlite:
        op.execute("DROP INDEX ix_events_search_text_trgm")
        op.execute(_TRIGRAMS.format(name="ix_event_words_trgm", table="event_words"))
    # In place on both (SQLite 3.35+): rebuilding `events` would empty what refers to it.
    op.execute("ALTER TABLE events DROP COLUMN search_text")
    op.execute("ALTER TABLE events DROP COLUMN doc")
    if not sqlite:
        return
    op.execute("DROP TABLE events_fts")
    op.execute(
        "CREATE VIRTUAL TABLE events_fts USING fts5(search_text, content='',"
        " tokenize='ascii', detail='none', prefix='1 2 3')"
    )
    op.execute("CREATE VIRTUAL TABLE events_fts_vocab USING fts5vocab(events_fts, row)")
    op.execute(
        "CREATE TABLE events_fts_terms (term TEXT NOT NULL PRIMARY KEY,"
        " events INTEGER NOT NULL) WITHOUT ROWID"
    )
    op.execute(
        "INSERT INTO events_fts(rowid, search_text)"
        " SELECT rank, search_text FROM event_words ORDER BY rank"
    )
    op.execute("INSERT INTO events_fts_terms (term, events) SELECT term, doc FROM events_fts_vocab")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.execute("ALTER TABLE events ADD COLUMN doc TEXT DEFAULT '' NOT NULL")
    op.execute("ALTER TABLE events ADD COLUMN search_text TEXT DEFAULT '' NOT NULL")
    # The documents are in `event_docs`: copied back as they were, less their versions.
    find = "instr" if sqlite else "strpos"
    op.execute(
        f"UPDATE events SET doc = (SELECT substr(d.doc, 1, {find}(d.doc, ',\"added_in\":') - 1)"
        " || '}' FROM event_docs d JOIN event_order o ON o.rank = d.rank"
        " WHERE o.event_id = events.id),"
        " search_text = (SELECT w.search_text FROM event_words w"
        " JOIN event_order o ON o.rank = w.rank WHERE o.event_id = events.id)"
        " WHERE id IN (SELECT event_id FROM event_order)"
    )
    op.drop_table("event_words")
    if not sqlite:
        op.execute(_TRIGRAMS.format(name="ix_events_search_text_trgm", table="events"))
        return
    op.execute("DROP TABLE events_fts_terms")
    op.execute("DROP TABLE events_fts_vocab")
    op.execute("DROP TABLE events_fts")
    op.execute(
        "CREATE VIRTUAL TABLE events_fts USING fts5(search_text, content='', tokenize='trigram')"
    )
    op.execute(
        "INSERT INTO events_fts(rowid, search_text) SELECT o.rank, e.search_text"
        " FROM event_order o JOIN events e ON e.id = o.event_id ORDER BY o.rank"
    )

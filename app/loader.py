"""Replace the loaded dataset in one transaction; a no-op when its hash is unchanged.

Readers keep seeing the old dataset until the commit, then the new one: never a mix.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import NamedTuple

from sqlalchemy import Connection, Date, Engine, Table, bindparam, delete, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from app import models
from app.dataset import Dataset
from app.db import is_sqlite, vacuum
from app.directory import build_documents
from app.facets import build_facet_totals
from app.rows import DatasetRows, EventDocRow, EventWordsRow, dataset_rows
from app.text import word_signature
from app.versions import record_version

# Children before parents, so deletes never trip a foreign key.
_TABLES_CHILD_FIRST: tuple[type[models.Base], ...] = (
    models.KeyStat,
    models.FacetTotal,
    models.EventFacets,
    models.EventKey,
    models.EventDoc,
    models.EventWords,
    models.EventOrder,
    models.PlaceTree,
    models.EventRelation,
    models.Figure,
    models.Citation,
    models.EventTag,
    models.EventPlace,
    models.EventActor,
    models.Event,
    models.PlaceName,
    models.Place,
    models.ActorName,
    models.Actor,
    models.Source,
    models.DatasetMeta,
)
# Kept across loads, and written by each (`app.versions`).
_VERSIONED: tuple[type[models.Base], ...] = (models.Version, models.EventVersion, models.Change)
_BATCH = 5_000
# SQLite settings of the load's connection only. Foreign keys are checked once, before
# the commit (`_check_foreign_keys`), not row by row: enforced, they make SQLite delete
# the old dataset row by row, rewriting every page of it first (2.5 minutes of a reload of
# a million events); off, `DELETE FROM` drops a table's pages at once. Temporary storage
# (statement journals) in memory saved 4 s of 37 at 100,000 events. Measured and left
# out: a 1 GB page cache (`cache_size`), which loaded a million events no faster and
# took 1.6 GB more memory.
_LOAD_PRAGMAS = {"foreign_keys": 0, "temp_store": 2}  # temp_store 2: MEMORY


@dataclass(frozen=True)
class LoadResult:
    """What a load did: `changed` is False when the same dataset was already loaded."""

    changed: bool
    dataset_hash: str
    events: int


def current_hash(connection: Connection) -> str | None:
    """The hash of the loaded dataset, or None when nothing is loaded."""
    return connection.execute(
        select(models.DatasetMeta.dataset_hash).where(models.DatasetMeta.id == 1)
    ).scalar_one_or_none()


def replace_dataset(
    engine: Engine, dataset: Dataset | DatasetRows, *, force: bool = False
) -> LoadResult:
    """Make `dataset` the loaded one, atomically; skip when its hash is already loaded."""
    sqlite = is_sqlite(engine)
    writer = engine.execution_options(sqlite_immediate=True)
    with writer.connect() as connection, _bulk_settings(connection, sqlite), connection.begin():
        if not sqlite:
            # One loader at a time; readers are not blocked (MVCC).
            connection.execute(text("LOCK TABLE dataset_meta IN EXCLUSIVE MODE"))
        if not force and current_hash(connection) == dataset.hash:
            count = len(dataset.events) if isinstance(dataset, Dataset) else dataset.event_count
            return LoadResult(False, dataset.hash, count)
        rows = dataset_rows(dataset) if isinstance(dataset, Dataset) else dataset
        _replace(connection, rows, sqlite)
    if not sqlite:
        _vacuum(engine)
    return LoadResult(True, rows.hash, rows.event_count)


def _vacuum(engine: Engine) -> None:
    """PostgreSQL, after a load commits: reclaim the replaced rows and mark the new ones
    visible to all, so that walks read the indexes only (the page's keys and dates are all
    in `event_keys`' primary key). Outside the load's transaction, as VACUUM must be; a
    reader meanwhile sees the new dataset either way."""
    vacuum(engine, [_table(model).name for model in (*_TABLES_CHILD_FIRST, *_VERSIONED)])


@contextmanager
def _bulk_settings(connection: Connection, sqlite: bool) -> Iterator[None]:
    """SQLite, for the load's connection only: `_LOAD_PRAGMAS`, restored afterwards."""
    if not sqlite:
        yield
        return
    # Through the driver: a statement on `connection` would begin the transaction (and
    # `foreign_keys` cannot change inside one).
    driver = connection.connection.dbapi_connection
    assert driver is not None
    before = {name: int(driver.execute(f"PRAGMA {name}").fetchone()[0]) for name in _LOAD_PRAGMAS}
    for name, value in _LOAD_PRAGMAS.items():
        driver.execute(f"PRAGMA {name} = {value}")
    try:
        yield
    finally:
        for name, value in before.items():
            driver.execute(f"PRAGMA {name} = {value}")


def _replace(connection: Connection, rows: DatasetRows, sqlite: bool) -> None:
    if sqlite:
        connection.execute(text("INSERT INTO events_fts(events_fts) VALUES('delete-all')"))
    for model in _TABLES_CHILD_FIRST:
        connection.execute(delete(_table(model)))
    _insert_all(connection, rows)
    if sqlite:
        _check_foreign_keys(connection)
    record_version(connection, rows.hash, rows.event_count)  # what changed, as a version
    facet_bucket = _build_reads(connection, rows, sqlite)
    connection.execute(
        insert(_table(models.DatasetMeta)),
        {
            "id": 1,
            "dataset_hash": rows.hash,
            "loaded_at": datetime.now(UTC),
            "event_count": rows.event_count,
            "max_span_days": rows.max_span_days,
            "facet_bucket": facet_bucket,
        },
    )
    if sqlite:
        # Statistics from a sample of each index: a full ANALYZE reads every index entry
        # (tens of millions in event_keys at a million events) for the same plans.
        connection.execute(text("PRAGMA analysis_limit = 1000"))
    connection.execute(text("ANALYZE"))  # fresh statistics for the query planner


FTS_PENDING_BYTES = 64 << 20

# What each filter value matches (see models.EventKey), each kind of key as one SELECT of
# (key, event id); a place also matches the events of every place inside it.
_KEYS = (
    "SELECT '*' AS key, id AS event_id FROM events",
    "SELECT 'type:' || type AS key, id AS event_id FROM events",
    "SELECT DISTINCT 'actor:' || actor_id AS key, event_id FROM event_actors",
    "SELECT DISTINCT 'role:' || role AS key, event_id FROM event_actors",
    "SELECT 'actor-role:' || actor_id || '|' || role AS key, event_id FROM event_actors",
    "SELECT DISTINCT 'place:' || t.ancestor_id AS key, p.event_id FROM event_places p"
    " JOIN place_tree t ON t.place_id = p.place_id",
    "SELECT 'tag:' || tag AS key, event_id FROM event_tags",
    "SELECT DISTINCT 'source:' || source_id AS key, event_id FROM citations",
)


def _build_reads(connection: Connection, rows: DatasetRows, sqlite: bool) -> int:
    """Everything requests read ready-made, from the rows just inserted and their versions:
    the date order, each event's document by rank, each key's events in that order with
    their positions and counts, the facets' running totals, the actors', places' and
    sources' documents, and (SQLite) the full-text index, whose row ids are the events'
    ranks, with its words. Returns the running totals' spacing."""
    connection.execute(
        text(
            "INSERT INTO event_order"
            " (rank, end_rank, event_id, date_start, date_end, span_class, facets)"
            " SELECT row_number() OVER (ORDER BY date_start, date_end, id),"
            " row_number() OVER (ORDER BY date_end, date_start, id),"
            " id, date_start, date_end, span_class, facets FROM events"
            " ORDER BY date_start, date_end, id"
        )
    )
    _insert_documents(connection, rows, sqlite)
    for keys in _KEYS:
        # Each kind's keys share a prefix: inserted in key order, they append to the index.
        connection.execute(
            text(
                "INSERT INTO event_keys (key, span_class, rank, date_end, pos)"
                " SELECT k.key, o.span_class, o.rank, o.date_end, row_number() OVER"
                " (PARTITION BY k.key, o.span_class ORDER BY o.rank)"
                f" FROM ({keys}) AS k"
                " JOIN event_order o ON o.event_id = k.event_id"
                " ORDER BY k.key, o.span_class, o.rank"
            )
        )
    connection.execute(
        text(
            "INSERT INTO key_stats (key, events, first_rank, last_date)"
            " SELECT key, count(*), min(rank), max(date_end) FROM event_keys GROUP BY key"
        )
    )
    year = "substr(date_start, 1, 4)" if sqlite else "to_char(date_start, 'YYYY')"
    connection.execute(  # the year facet of the whole dataset; an open start has no year
        text(
            "INSERT INTO key_stats (key, events, first_rank, last_date)"
            f" SELECT 'year:' || {year}, count(*), min(rank), max(date_end) FROM event_order"
            f" WHERE date_start > :open GROUP BY {year}"
        ).bindparams(bindparam("open", date.min, type_=Date))
    )
    build_documents(connection)
    facet_bucket = build_facet_totals(connection, rows.event_count)
    if sqlite:
        # Terms pending in memory before the index writes a segment: the default (1 MB)
        # writes hundreds of small segments at a million events, merged over and over.
        connection.execute(
            text("INSERT INTO events_fts(events_fts, rank) VALUES('hashsize', :size)"),
            {"size": FTS_PENDING_BYTES},
        )
        connection.execute(
            text(
                # In rank order: the index flushes its pending terms whenever a row id
                # is not above the last one, so any other order costs far more.
                "INSERT INTO events_fts(rowid, search_text)"
                " SELECT rank, search_text FROM event_words ORDER BY rank"
            )
        )
        connection.execute(text("DELETE FROM events_fts_terms"))
        connection.execute(  # the indexed words, for the planner to find what a word begins
            text(
                "INSERT INTO events_fts_terms (term, events) SELECT term, doc FROM events_fts_vocab"
            )
        )
    return facet_bucket


def _insert_documents(connection: Connection, rows: DatasetRows, sqlite: bool) -> None:
    """Each event's document by its rank, closed with the versions it was added and last
    changed in (which `record_version` has just written), and its keyed words, with (on
    PostgreSQL; SQLite's full-text index needs none) their signature and the event's end
    and span class: written once, here, by rank, rather than beside the event's row."""
    # Each event's rank, versions, end and span class (which its stored words carry).
    placed = {
        event_id: (rank, added, changed, end, span_class)
        for event_id, rank, added, changed, end, span_class in connection.execute(
            text(
                "SELECT o.event_id, o.rank, coalesce(v.added_version, 0),"
                " coalesce(v.changed_version, 0), o.date_end, o.span_class FROM event_order o"
                " LEFT JOIN event_versions v ON v.event_id = o.event_id"
            )
        )
    }
    for documents in rows.event_documents():
        ranked = [(placed[d.event_id], d) for d in documents]
        _insert(
            connection,
            models.EventDoc,
            [
                EventDocRow(rank, f'{d.doc[:-1]},"added_in":{added},"changed_in":{changed}}}')
                for (rank, added, changed, _, _), d in ranked
            ],
        )
        words = (
            EventWordsRow(rank, d.search_text, None, None, None)
            if sqlite
            else EventWordsRow(rank, d.search_text, word_signature(d.search_text), end, k)
            for (rank, _, _, end, k), d in ranked
        )
        _insert(connection, models.EventWords, list(words))


def _check_foreign_keys(connection: Connection) -> None:
    """SQLite: refuse the load (it rolls back) if any row refers to a missing one."""
    statement = "PRAGMA foreign_key_check"
    problems = connection.exec_driver_sql(statement).all()
    if problems:
        table, rowid, parent, _ = problems[0]
        message = (
            f"FOREIGN KEY constraint failed: {len(problems)} rows refer to missing rows, "
            f"the first {table} row {rowid} to {parent}"
        )
        raise IntegrityError(statement, None, sqlite3.IntegrityError(message))


def _table(model: type[models.Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _insert_all(connection: Connection, rows: DatasetRows) -> None:
    _insert(connection, models.Source, rows.sources)
    _insert(connection, models.Actor, rows.actors)
    _insert(connection, models.ActorName, rows.actor_names)
    _insert(connection, models.Place, rows.places)
    _insert(connection, models.PlaceName, rows.place_names)
    _insert(connection, models.PlaceTree, rows.place_tree)
    relations: list[NamedTuple] = []  # last: a relation may point to an event of a later file
    for chunk in rows.event_chunks():
        _insert(connection, models.Event, chunk.events)
        _insert(connection, models.EventActor, chunk.event_actors)
        _insert(connection, models.EventPlace, chunk.event_places)
        _insert(connection, models.EventTag, chunk.event_tags)
        _insert(connection, models.Citation, chunk.citations)
        _insert(connection, models.Figure, chunk.figures)
        relations += chunk.event_relations
    _insert(connection, models.EventRelation, relations)


def _insert(connection: Connection, model: type[models.Base], rows: Sequence[NamedTuple]) -> None:
    """Named rows straight to the driver, their fields naming the columns, no per-row
    work in SQLAlchemy: SQLite's executemany, PostgreSQL's COPY (psycopg 3; other
    drivers: multi-row INSERTs)."""
    if not rows:
        return
    table = _table(model)
    columns = rows[0]._fields
    quote = connection.dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    if connection.dialect.name == "sqlite":
        statement = (
            f"INSERT INTO {quote(table.name)} ({names}) VALUES ({', '.join('?' * len(columns))})"
        )
        for start in range(0, len(rows), _BATCH):
            connection.exec_driver_sql(statement, rows[start : start + _BATCH])
        return
    if connection.dialect.driver == "psycopg":
        import psycopg  # only PostgreSQL loads need it

        driver = connection.connection.dbapi_connection  # in the load's transaction
        assert isinstance(driver, psycopg.Connection)
        statement = f"COPY {quote(table.name)} ({names}) FROM STDIN"
        try:
            with driver.cursor() as cursor, cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
        except psycopg.Error as exc:  # as SQLAlchemy raises it for any other statement
            raise DBAPIError.instance(statement, None, exc, psycopg.Error) from exc
        return
    for start in range(0, len(rows), _BATCH):
        connection.execute(insert(table), [row._asdict() for row in rows[start : start + _BATCH]])

"""Replace the loaded dataset in one transaction; a no-op when its hash is unchanged.

Readers keep seeing the old dataset until the commit, then the new one: never a mix.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, Table, delete, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from app import models
from app.dataset import Dataset
from app.db import is_sqlite
from app.rows import (
    ACTOR_COLUMNS,
    ACTOR_NAME_COLUMNS,
    CITATION_COLUMNS,
    EVENT_ACTOR_COLUMNS,
    EVENT_COLUMNS,
    EVENT_PLACE_COLUMNS,
    EVENT_RELATION_COLUMNS,
    EVENT_TAG_COLUMNS,
    FIGURE_COLUMNS,
    PLACE_COLUMNS,
    PLACE_NAME_COLUMNS,
    SOURCE_COLUMNS,
    DatasetRows,
    Row,
    dataset_rows,
)
from app.versions import record_version

# Children before parents, so deletes never trip a foreign key.
_TABLES_CHILD_FIRST: tuple[type[models.Base], ...] = (
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
    return LoadResult(True, rows.hash, rows.event_count)


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
        connection.execute(
            text("INSERT INTO events_fts(rowid, search_text) SELECT rowid, search_text FROM events")
        )
    connection.execute(
        insert(_table(models.DatasetMeta)),
        {
            "id": 1,
            "dataset_hash": rows.hash,
            "loaded_at": datetime.now(UTC),
            "event_count": rows.event_count,
            "max_span_days": rows.max_span_days,
        },
    )
    record_version(connection, rows.hash, rows.event_count)  # what changed, as a version
    connection.execute(text("ANALYZE"))  # fresh statistics for the query planner


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
    _insert(connection, models.Source, SOURCE_COLUMNS, rows.sources)
    _insert(connection, models.Actor, ACTOR_COLUMNS, rows.actors)
    _insert(connection, models.ActorName, ACTOR_NAME_COLUMNS, rows.actor_names)
    _insert(connection, models.Place, PLACE_COLUMNS, rows.places)
    _insert(connection, models.PlaceName, PLACE_NAME_COLUMNS, rows.place_names)
    relations: list[Row] = []  # last: a relation may point to an event of a later file
    for chunk in rows.event_chunks():
        _insert(connection, models.Event, EVENT_COLUMNS, chunk.events)
        _insert(connection, models.EventActor, EVENT_ACTOR_COLUMNS, chunk.event_actors)
        _insert(connection, models.EventPlace, EVENT_PLACE_COLUMNS, chunk.event_places)
        _insert(connection, models.EventTag, EVENT_TAG_COLUMNS, chunk.event_tags)
        _insert(connection, models.Citation, CITATION_COLUMNS, chunk.citations)
        _insert(connection, models.Figure, FIGURE_COLUMNS, chunk.figures)
        relations += chunk.event_relations
    _insert(connection, models.EventRelation, EVENT_RELATION_COLUMNS, relations)


def _insert(
    connection: Connection, model: type[models.Base], columns: Sequence[str], rows: list[Row]
) -> None:
    """Plain tuples straight to the driver, no per-row work in SQLAlchemy: SQLite's
    executemany, PostgreSQL's COPY (psycopg 3; other drivers: multi-row INSERTs)."""
    table = _table(model)
    quote = connection.dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    if connection.dialect.name == "sqlite":
        statement = (
            f"INSERT INTO {quote(table.name)} ({names}) VALUES ({', '.join('?' * len(columns))})"
        )
        for start in range(0, len(rows), _BATCH):
            connection.exec_driver_sql(statement, rows[start : start + _BATCH])
        return
    if connection.dialect.driver == "psycopg" and rows:
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
        batch = [dict(zip(columns, row, strict=True)) for row in rows[start : start + _BATCH]]
        connection.execute(insert(table), batch)

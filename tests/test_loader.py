"""Loading replaces the dataset in one transaction, and is a no-op for the same data."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.exc import IntegrityError

from app import models
from app.cli import load, migrate
from app.dates import span_class
from app.db import make_engine
from app.loader import replace_dataset
from app.reader import read_dataset
from tests.conftest import FIXTURE_DATA, schema_head
from tests.factories import add_events, copy_fixture, event

pytestmark = pytest.mark.usefixtures("backend")


def snapshot(engine: Engine) -> dict[str, list[tuple[str, ...]]]:
    """Every row of every table, to compare a database before and after."""
    with engine.connect() as connection:
        return {
            table.name: sorted(tuple(map(str, row)) for row in connection.execute(select(table)))
            for table in models.Base.metadata.sorted_tables
        }


def count(engine: Engine, model: type[models.Base]) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(model)) or 0)


def test_load_fills_every_table(engine):
    result = load(engine, read_dataset(FIXTURE_DATA))
    assert (result.changed, result.events) == (True, 15)
    assert [
        count(engine, m)
        for m in (
            models.Event,
            models.Actor,
            models.Place,
            models.Source,
            models.Citation,
            models.Figure,
            models.EventRelation,
            models.EventTag,
        )
    ] == [15, 8, 10, 3, 17, 5, 5, 6]
    with engine.connect() as connection:
        khorog = connection.execute(
            select(models.Place.path, models.Place.depth).where(models.Place.id == "khorog")
        ).one()
        row = connection.execute(
            select(
                models.Event.precision,
                models.Event.date_start,
                models.Event.date_end,
                models.Event.approximate,
            ).where(models.Event.id == "2015-09-irpt-banned")
        ).one()
    assert tuple(khorog) == ("/tajikistan/gorno-badakhshan/khorog/", 2)
    assert (row[0], row[1].isoformat(), row[2].isoformat(), row[3]) == (
        "month",
        "2015-09-01",
        "2015-09-30",
        True,
    )


@pytest.mark.parametrize("workers", [0, 2])
def test_each_event_is_loaded_with_the_span_class_of_its_dates(engine, workers):
    migrate(engine)
    with read_dataset(FIXTURE_DATA, rows=True, workers=workers) as rows:
        replace_dataset(engine, rows)
    with engine.connect() as connection:
        loaded = connection.execute(
            select(models.Event.date_start, models.Event.date_end, models.Event.span_class)
        ).all()
    assert len(loaded) == 15
    assert [cls for _, _, cls in loaded] == [span_class(start, end) for start, end, _ in loaded]
    assert {cls for _, _, cls in loaded} >= {0, 1}  # days and months, and years


def test_loading_the_same_data_twice_is_a_no_op(engine):
    dataset = read_dataset(FIXTURE_DATA)
    load(engine, dataset)
    before = snapshot(engine)
    result = load(engine, read_dataset(FIXTURE_DATA))
    assert result.changed is False
    assert snapshot(engine) == before  # loaded_at included: nothing was rewritten


def test_a_changed_dataset_replaces_the_old_one(engine, tmp_path):
    load(engine, read_dataset(FIXTURE_DATA))
    root = copy_fixture(tmp_path)
    (root / "events" / "2017.yaml").unlink()
    add_events(root, event(id="2015-03-new-event"))
    result = load(engine, read_dataset(root))
    assert result.changed is True
    with engine.connect() as connection:
        ids = set(connection.scalars(select(models.Event.id)))
    assert "2017-03-osce-extension" not in ids
    assert "2015-03-new-event" in ids
    assert len(ids) == 15


def test_a_load_failing_inside_the_database_changes_nothing(engine):
    dataset = read_dataset(FIXTURE_DATA)
    load(engine, dataset)
    before = snapshot(engine)
    # A record that slipped past validation: the database's foreign key refuses it
    # halfway through the inserts, and the whole transaction must roll back.
    broken_record = dataset.events[0].record.model_copy(update={"places": ["atlantis"]})
    broken = dataclasses.replace(
        dataset,
        events=[dataclasses.replace(dataset.events[0], record=broken_record), *dataset.events[1:]],
        hash="0" * 64,
    )
    with pytest.raises(IntegrityError):
        replace_dataset(engine, broken)
    assert snapshot(engine) == before


def test_force_reloads_an_unchanged_dataset(engine):
    dataset = read_dataset(FIXTURE_DATA)
    load(engine, dataset)
    assert replace_dataset(engine, dataset, force=True).changed is True
    assert count(engine, models.Event) == 15


def test_search_text_and_name_keys_are_folded(engine):
    load(engine, read_dataset(FIXTURE_DATA))
    with engine.connect() as connection:
        keys = set(
            connection.scalars(
                select(models.ActorName.key).where(models.ActorName.actor_id == "umarali-quvvatov")
            )
        )
        search = connection.scalar(
            select(models.EventWords.search_text)
            .join(models.EventOrder, models.EventOrder.rank == models.EventWords.rank)
            .where(models.EventOrder.event_id == "2002-12-muller-visit")
        )
        version = connection.scalar(text("SELECT version_num FROM alembic_version"))
    assert keys == {"umarali kuvatov", "kuvatov"}
    assert " beregere muler " in search or " berengere muler " in search
    assert version == schema_head()


# --- rows read in worker processes ---------------------------------------------------


def test_rows_read_in_workers_load_the_same_database(engine, databases):
    other = make_engine(databases.new_url())
    try:
        load(engine, read_dataset(FIXTURE_DATA))
        migrate(other)
        with read_dataset(FIXTURE_DATA, rows=True, workers=2) as rows:
            assert replace_dataset(other, rows).changed
        without_time = {"dataset_meta", "versions"}
        assert {k: v for k, v in snapshot(engine).items() if k not in without_time} == {
            k: v for k, v in snapshot(other).items() if k not in without_time
        }
        # Loading the same rows again is a no-op, as for a dataset.
        assert not replace_dataset(other, read_dataset(FIXTURE_DATA, rows=True, workers=0)).changed
    finally:
        other.dispose()


def schema(engine: Engine) -> dict[str, list[str]]:
    """Tables with their columns, indexes and constraints (SQLite: the stored statements)."""
    inspector = inspect(engine)
    described = {
        table: sorted(
            map(
                repr,
                [
                    *inspector.get_columns(table),
                    *inspector.get_indexes(table),
                    *inspector.get_foreign_keys(table),
                    inspector.get_pk_constraint(table),
                ],
            )
        )
        for table in inspector.get_table_names()
    }
    if engine.dialect.name == "sqlite":
        # In order, as `sqlite3 db .schema` prints it. sqlite_stat1 is ANALYZE's, made by
        # the first load (statistics, not schema).
        with engine.connect() as connection:
            statements = connection.exec_driver_sql(
                "SELECT type, name, tbl_name, sql FROM sqlite_master "
                "WHERE name NOT LIKE 'sqlite_stat%' ORDER BY rowid"
            )
            described["sqlite_master"] = list(map(repr, statements))
    return described


def test_the_schema_after_loads_is_the_migrated_schema(engine):
    migrate(engine)
    migrated = schema(engine)
    load(engine, read_dataset(FIXTURE_DATA))
    assert schema(engine) == migrated
    replace_dataset(engine, read_dataset(FIXTURE_DATA), force=True)  # over loaded tables
    assert schema(engine) == migrated


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_load_leaves_the_connection_settings_as_they_were(database_url):
    engine = make_engine(database_url, pool_size=1, max_overflow=0)  # one connection to check
    try:
        settings = "SELECT * FROM pragma_cache_size(), pragma_temp_store(), pragma_foreign_keys()"
        with engine.connect() as connection:
            before = connection.exec_driver_sql(settings).one()
        assert before[2] == 1  # foreign keys on, as app.db sets them
        load(engine, read_dataset(FIXTURE_DATA))
        with engine.connect() as connection:
            assert connection.exec_driver_sql(settings).one() == before
    finally:
        engine.dispose()


def test_a_load_that_cannot_take_the_write_lock_fails_as_a_database_error(tmp_path):
    # What `timeline load` and the API turn into a clear error (not a traceback, not a
    # 500): SQLAlchemy's error, also when BEGIN is sent straight to the driver.
    import sqlite3

    from sqlalchemy.exc import OperationalError

    path = tmp_path / "locked.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect():
        pass  # the file made, in WAL mode
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with engine.execution_options(sqlite_immediate=True).connect() as connection:
            driver = connection.connection.driver_connection
            assert driver is not None
            driver.execute("PRAGMA busy_timeout=50")  # not 30 s
            with pytest.raises(OperationalError, match="database is locked"):
                connection.begin()
    finally:
        holder.close()
        engine.dispose()

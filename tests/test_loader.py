"""Loading replaces the dataset in one transaction, and is a no-op for the same data."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import IntegrityError

from app import models
from app.cli import load
from app.dataset import read_dataset
from app.loader import replace_dataset
from tests.conftest import FIXTURE_DATA
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
            select(models.Event.search_text).where(models.Event.id == "2002-12-muller-visit")
        )
        version = connection.scalar(text("SELECT version_num FROM alembic_version"))
    assert keys == {"umarali kuvatov", "kuvatov"}
    assert " beregere muler " in search or " berengere muler " in search
    assert version == "0003"

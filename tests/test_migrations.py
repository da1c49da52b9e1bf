"""The migrated schema equals the models, and migrations round-trip."""

from __future__ import annotations

import json
from datetime import date

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from app.cli import migrate
from app.models import Base


def include_object(obj, name, type_, reflected, compare_to):
    # The full-text indexes are managed by migrations only (see migrations/env.py).
    return not (name or "").startswith("events_fts")


pytestmark = pytest.mark.usefixtures("backend")


def test_upgrade_from_empty_matches_the_models(engine):
    migrate(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": include_object})
        assert compare_metadata(context, Base.metadata) == []


def test_downgrade_and_upgrade_round_trip(engine):
    migrate(engine)
    migrate_down(engine)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate(engine)
    assert set(inspect(engine).get_table_names()) >= {t.name for t in Base.metadata.sorted_tables}


def test_downgrade_with_a_dataset_loaded_and_back(engine):
    # SQLite copies a table to drop a column; rows of other tables reference it.
    from app.cli import load
    from app.reader import read_dataset
    from tests.conftest import FIXTURE_DATA

    dataset = read_dataset(FIXTURE_DATA)
    load(engine, dataset)
    for revision in ("0008", "0004", "base"):
        assert migrate(engine, revision) == (None if revision == "base" else revision)
    assert migrate(engine) is not None
    assert load(engine, dataset).events == len(dataset.events)


def migrate_down(engine):
    from alembic import command

    from app.cli import alembic_config

    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "base")


def test_upgrading_classes_the_events_already_loaded(engine):
    """Migration 0003 classes existing rows by span with the loader's own limits."""
    from alembic import command
    from sqlalchemy import text

    from app.cli import alembic_config
    from app.dates import parse_edtf, span_class

    def run(revision):
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)

    run("0002")
    dates = ["2015-03-05", "2015-03", "2015-22", "2016", "2003/2005"]
    with engine.begin() as connection:
        for i, edtf in enumerate(dates):
            span = parse_edtf(edtf)
            connection.execute(
                text(
                    "INSERT INTO events (id, title, edtf, precision, date_start, date_end, "
                    "approximate, uncertain, type, summary, search_text) VALUES "
                    "(:id, 't', :edtf, :precision, :start, :end, false, false, 'other', 's', ' ')"
                ),
                {
                    "id": f"e{i}",
                    "edtf": edtf,
                    "precision": span.precision,
                    "start": span.start,
                    "end": span.end,
                },
            )
    run("0003")
    with engine.connect() as connection:
        found = dict(connection.execute(text("SELECT edtf, span_class FROM events")).all())
    assert found == {
        edtf: span_class(parse_edtf(edtf).start, parse_edtf(edtf).end) for edtf in dates
    }
    # 0005's tables are filled only by a load: upgrading empties the dataset, and the next
    # `timeline load` or `serve` loads it again (never a half-built read path).
    run("head")
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM events")) == 0


def test_the_smaller_file_migration_keeps_a_loaded_dataset_searchable(engine):
    """0010 drops `events.doc`, moves `events.search_text` to `event_words` and rebuilds
    the full-text index by words from the rows already loaded; going back restores them.
    Neither needs a new load."""
    from alembic import command
    from sqlalchemy import text

    from app.cli import load
    from app.reader import read_dataset
    from tests.conftest import FIXTURE_DATA

    load(engine, read_dataset(FIXTURE_DATA))
    before = {q: found(engine, q) for q in ("quvvat", "osce mandat", "op")}
    assert all(before.values())
    move(engine, command.downgrade, "0009")
    with engine.connect() as connection:
        restored = connection.execute(
            text(
                "SELECT e.doc, d.doc, e.search_text FROM events e"
                " JOIN event_order o ON o.event_id = e.id JOIN event_docs d ON d.rank = o.rank"
            )
        ).all()
    assert len(restored) == 15
    assert all(d.startswith(e[:-1] + ',"added_in":') for e, d, _ in restored)
    assert all(len(words) > 10 for _, _, words in restored)
    move(engine, command.upgrade, "head")
    columns = {c["name"] for c in inspect(engine).get_columns("events")}
    assert not columns & {"doc", "search_text"}
    assert {q: found(engine, q) for q in before} == before


def test_the_signature_migration_signs_the_words_already_loaded(engine, backend):
    """0015 signs each event's loaded words on PostgreSQL and sets its end and span class
    beside them (SQLite's full-text index needs none of them); going back drops them.
    Searches find the same events, with no new load."""
    from alembic import command
    from sqlalchemy import text

    from app.cli import load
    from app.reader import read_dataset
    from app.text import word_signature
    from tests.conftest import FIXTURE_DATA

    load(engine, read_dataset(FIXTURE_DATA))
    searches = ("quvvat", "osce mandat", "khorog clashes", "istanb", "irpt", "renaissance party")
    before = {q: found(engine, q) for q in searches}
    assert all(before.values())
    move(engine, command.downgrade, "0014")
    assert "signature" not in {c["name"] for c in inspect(engine).get_columns("event_words")}
    move(engine, command.upgrade, "head")
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT w.search_text, w.signature, w.date_end, w.span_class,"
                " o.date_end, o.span_class FROM event_words w JOIN event_order o"
                " ON o.rank = w.rank"
            )
        ).all()
    assert len(rows) == 15
    for words, signature, end, span_class, event_end, event_class in rows:
        if backend == "postgresql":
            assert bytes(signature) == word_signature(words)
            assert (end, span_class) == (event_end, event_class)
        else:
            assert (signature, end, span_class) == (None, None, None)
    assert {q: found(engine, q) for q in searches} == before


def test_an_upgrade_on_postgresql_leaves_the_rewritten_words_readable_from_the_index(
    engine, backend
):
    """0015 rewrites `event_words`; `timeline migrate` then vacuums, so that its rows are
    marked visible to all and a walk of its primary key need not read the table."""
    if backend == "sqlite":
        pytest.skip("SQLite has no visibility map")
    from alembic import command
    from sqlalchemy import text

    from app.cli import load
    from app.reader import read_dataset
    from tests.conftest import FIXTURE_DATA

    load(engine, read_dataset(FIXTURE_DATA))
    move(engine, command.downgrade, "0014")
    move(engine, command.upgrade, "head")
    visible = "SELECT relpages, relallvisible FROM pg_class WHERE relname = 'event_words'"
    with engine.connect() as connection:
        pages, all_visible = connection.execute(text(visible)).one()
    assert all_visible == 0  # rewritten, not vacuumed
    move(engine, command.downgrade, "0014")
    assert migrate(engine) == "0015"
    with engine.connect() as connection:
        pages, all_visible = connection.execute(text(visible)).one()
    assert pages > 0
    assert all_visible == pages
    assert found(engine, "quvvat")


def move(engine, step, revision):
    """Run an Alembic `step` (command.upgrade or downgrade) to `revision` on `engine`."""
    from app.cli import alembic_config

    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        step(config, revision)


def found(engine, q):
    """The ids of the events `q` finds, sorted."""
    from app.db import ReadSession
    from app.planner import EventFilters, plan_events
    from app.queries import page_documents

    with ReadSession(engine) as session:
        docs, _ = page_documents(session, plan_events(session, EventFilters(q=q)), 500, None)
    return sorted(doc.split('"id":"', 1)[1].split('"', 1)[0] for doc in docs)


def test_the_facet_totals_migration_counts_a_loaded_dataset(engine):
    """0011 counts the facets' running totals and 0012 each event's facet positions from the
    rows already loaded: facets are the same before and after, with no new load."""
    from alembic import command
    from sqlalchemy import text

    from app.cli import alembic_config, load
    from app.db import ReadSession
    from app.facets import facet_counts
    from app.planner import EventFilters, plan_events
    from app.reader import read_dataset
    from tests.conftest import FIXTURE_DATA

    def facets():
        windows = [EventFilters(window_start=date(2014, 6, 1), window_end=date(2016, 1, 1))]
        windows.append(EventFilters(window_end=date(2015, 3, 1)))
        windows.append(EventFilters(types=("killing",)))  # counted event by event
        with ReadSession(engine) as session:
            return [facet_counts(session, plan_events(session, w), 100) for w in windows]

    load(engine, read_dataset(FIXTURE_DATA))
    before = facets()
    assert before[0]["total"] > 0
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0010")
        command.upgrade(config, "head")
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT facet_bucket FROM dataset_meta")) == 16
        assert connection.scalar(text("SELECT count(*) FROM facet_totals")) == 2
        events = connection.scalar(text("SELECT count(*) FROM event_order"))
        assert connection.scalar(text("SELECT count(*) FROM event_facets")) == events
    assert facets() == before


def test_the_numbering_migration_keeps_every_list_page(engine):
    """0013 numbers the actors and places already loaded in list order: every page of all
    of them or of one kind, with its total and cursor, is the same as before it."""
    from alembic import command

    from app.cli import alembic_config, load
    from app.db import ReadSession
    from app.directory import ACTORS, PLACES, page
    from app.reader import read_dataset
    from tests.conftest import FIXTURE_DATA

    def pages():
        walked = []
        with ReadSession(engine) as session:
            for directory in (ACTORS, PLACES):
                for kind in (None, "person", "country", "city"):
                    cursor = None
                    while True:
                        body = json.loads(
                            page(
                                session,
                                directory,
                                q=None,
                                equal={"kind": kind},
                                limit=2,
                                cursor=cursor,
                            )
                        )
                        walked.append(body)
                        cursor = body["next_cursor"]
                        if cursor is None:
                            break
        return walked

    load(engine, read_dataset(FIXTURE_DATA))
    before = pages()
    assert sum(len(body["items"]) for body in before) > 10
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0012")
        assert "position" not in {c["name"] for c in inspect(connection).get_columns("actors")}
        command.upgrade(config, "head")
    assert pages() == before

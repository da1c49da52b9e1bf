"""Reading and checking YAML datasets: every problem named by file, line, entry and field."""

from __future__ import annotations

import os
import signal
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from app import workers
from app.errors import DatasetError, InvalidDataset
from app.quotes import verify_quotes
from app.reader import read_dataset
from app.rows import DatasetRows, dataset_rows
from app.workers import PARALLEL_BYTES, default_workers, stop_on_sigterm
from tests.conftest import FIXTURE_ARCHIVE, FIXTURE_DATA
from tests.factories import add_events, copy_fixture, event


def errors_of(root: Path) -> list[DatasetError]:
    with pytest.raises(InvalidDataset) as info:
        read_dataset(root)
    return info.value.errors


def test_fixture_dataset_reads_whole():
    dataset = read_dataset(FIXTURE_DATA)
    assert (len(dataset.sources), len(dataset.actors), len(dataset.places)) == (3, 8, 10)
    assert len(dataset.events) == 15
    assert dataset.files[:3] == ["sources.yaml", "actors.yaml", "places.yaml"]


def test_hash_depends_on_content_only(tmp_path):
    root = copy_fixture(tmp_path)
    assert read_dataset(root).hash == read_dataset(FIXTURE_DATA).hash
    path = root / "events" / "2017.yaml"
    path.write_text(path.read_text().replace("six months.", "six months!"))
    assert read_dataset(root).hash != read_dataset(FIXTURE_DATA).hash


def test_unquoted_yaml_dates_and_years_are_edtf_text(tmp_path):
    root = copy_fixture(tmp_path)
    (root / "events" / "extra.yaml").write_text(
        "- id: a\n  title: A\n  date: 2015-03-05\n  type: arrest\n  summary: s\n"
        "  citations: [{source: alpha-2017, quote: q}]\n"
        "- id: b\n  title: B\n  date: 2015\n  type: arrest\n  summary: s\n"
        "  citations: [{source: alpha-2017, quote: q, claimed_date: 2015-03-06}]\n"
    )
    dataset = read_dataset(root)
    records = {e.record.id: e.record for e in dataset.events}
    assert records["a"].date == "2015-03-05"
    assert records["b"].date == "2015"
    assert records["b"].citations[0].claimed_date == "2015-03-06"


def test_unquoted_numbers_that_yaml_reads_oddly_stay_as_written(tmp_path):
    """YAML 1.1 reads 0777 as octal and 20:15 in base 60: never a silently different year."""
    root = copy_fixture(tmp_path)
    (root / "events" / "extra.yaml").write_text(
        "- id: a\n  title: A\n  date: 0777\n  type: arrest\n  summary: s\n"
        "  citations: [{source: alpha-2017, quote: q}]\n"
    )
    assert {e.record.id: e.record.date for e in read_dataset(root).events}["a"] == "0777"
    (root / "events" / "extra.yaml").write_text(
        "- id: a\n  title: A\n  date: 20:15\n  type: arrest\n  summary: s\n"
        "  citations: [{source: alpha-2017, quote: q}]\n"
    )
    with pytest.raises(InvalidDataset) as info:
        read_dataset(root)
    [error] = info.value.errors
    assert (error.file, error.line, error.entry, error.field) == (
        "events/extra.yaml",
        3,
        "a",
        "date",
    )
    assert "20:15" in error.message


def test_unicode_names_and_empty_optional_lists_load(tmp_path):
    root = copy_fixture(tmp_path)
    add_events(
        root,
        event(
            actors=[], places=[], tags=[], figures=[], related=[], title="Сход в Хороге — «Ḫoruġ»"
        ),
    )
    dataset = read_dataset(root)
    assert any(e.record.title.startswith("Сход") for e in dataset.events)


def test_field_error_names_file_line_entry_and_field(tmp_path):
    root = copy_fixture(tmp_path)
    (root / "events" / "extra.yaml").write_text(
        "- id: bad-quote\n"
        "  title: T\n"
        "  date: 2015-03\n"
        "  type: arrest\n"
        "  summary: s\n"
        "  citations:\n"
        "    - source: alpha-2017\n"
        "      quote: '   '\n"
    )
    assert errors_of(root) == [
        DatasetError(
            "events/extra.yaml",
            8,
            "bad-quote",
            "citations[0].quote",
            "String should have at least 1 character",
        ),
    ]


def test_every_problem_is_reported_not_just_the_first(tmp_path):
    root = copy_fixture(tmp_path)
    add_events(
        root,
        event(id="one", date="2015-13"),
        event(id="two", type="riot"),
        event(id="three", actors=[{"actor": "nobody", "role": "victim"}]),
        event(id="four", places=["atlantis"], related=["missing-event"]),
    )
    errors = errors_of(root)
    assert [(e.entry, e.field) for e in errors] == [
        ("one", "date"),
        ("two", "type"),
    ]  # references are checked once every record is valid
    assert errors[0].message == "'2015-13': month 13 does not exist"
    assert errors[1].message.startswith("unknown event type 'riot'; use one of armed_clash")


def test_reference_errors_are_all_reported(tmp_path):
    root = copy_fixture(tmp_path)
    add_events(
        root,
        event(id="three", actors=[{"actor": "nobody", "role": "victim"}]),
        event(
            id="four",
            places=["atlantis"],
            related=["missing-event"],
            citations=[{"source": "nowhere", "quote": "q"}],
        ),
    )
    assert [(e.entry, e.field, e.message) for e in errors_of(root)] == [
        ("three", "actors[0].actor", "unknown actor 'nobody'"),
        ("four", "places[0]", "unknown place 'atlantis'"),
        ("four", "citations[0].source", "unknown source 'nowhere'"),
        ("four", "related[0]", "unknown event 'missing-event'"),
    ]


def test_duplicate_ids_point_at_the_first_definition(tmp_path):
    root = copy_fixture(tmp_path)
    add_events(root, event(id="2015-09-irpt-banned"))
    [error] = errors_of(root)
    assert (error.file, error.line, error.entry, error.field) == (
        "events/extra.yaml",
        1,
        "2015-09-irpt-banned",
        "id",
    )
    assert error.message == "duplicate event id (first defined at events/2015.yaml:29)"


def test_duplicate_mapping_keys_are_rejected(tmp_path):
    root = copy_fixture(tmp_path)
    (root / "events" / "extra.yaml").write_text(
        "- id: a\n  title: A\n  title: B\n  date: 2015\n  type: arrest\n  summary: s\n"
        "  citations: [{source: alpha-2017, quote: q}]\n"
    )
    [error] = errors_of(root)
    assert (error.file, error.line) == ("events/extra.yaml", 3)
    assert error.message == "duplicate key 'title' (first given on line 2)"


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        (b"- id: a\n\ttitle: A\n", 2, "YAML syntax error"),
        (b"- id: a\n  title: [unclosed\n", 3, "YAML syntax error"),
        (b"- id: a\n  title: caf\xe9\n", 2, "not valid UTF-8 (byte 0xe9)"),
        (b"id: a\ntitle: A\n", 1, "expected a list of records, found a mapping"),
        (b"just text\n", 1, "expected a list of records, found a str"),
    ],
)
def test_unreadable_files_name_their_line(tmp_path, content, line, message):
    root = copy_fixture(tmp_path)
    (root / "events" / "extra.yaml").write_bytes(content)
    [error] = errors_of(root)
    assert (error.file, error.line) == ("events/extra.yaml", line)
    assert error.message.startswith(message)


def test_place_cycles_and_bad_coordinates(tmp_path):
    root = copy_fixture(tmp_path)
    with (root / "places.yaml").open("a") as handle:
        handle.write("- {id: a, name: A, kind: region, parent: b}\n")
        handle.write("- {id: b, name: B, kind: region, parent: a}\n")
        handle.write("- {id: c, name: C, kind: city, lat: 95, lon: 10}\n")
    errors = errors_of(root)
    assert [(e.line, e.entry, e.field) for e in errors] == [(13, "c", "lat")]
    (root / "places.yaml").write_text(
        (root / "places.yaml").read_text().replace("lat: 95", "lat: 45")
    )
    [error] = errors_of(root)
    assert (error.line, error.entry, error.field) == (11, "a", "parent")
    assert error.message == "place parents form a cycle: a -> b -> a"


def test_missing_files_are_named(tmp_path):
    root = copy_fixture(tmp_path)
    (root / "actors.yaml").unlink()
    assert [str(e) for e in errors_of(root)] == ["actors.yaml: file not found"]


def test_verify_quotes_finds_whitespace_normalized_substrings(tmp_path):
    dataset = read_dataset(FIXTURE_DATA)
    checked, problems = verify_quotes(dataset, FIXTURE_ARCHIVE)
    assert (checked, problems) == (21, [])


def test_verify_quotes_reports_paraphrase(tmp_path):
    root = copy_fixture(tmp_path)
    add_events(root, event(citations=[{"source": "alpha-2017", "quote": "Quvvatov was killed"}]))
    checked, problems = verify_quotes(read_dataset(root), FIXTURE_ARCHIVE)
    assert checked == 22
    assert [(p.file, p.line, p.entry, p.field) for p in problems] == [
        ("events/extra.yaml", 8, "2015-03-test-event", "citations[0].quote")
    ]
    assert problems[0].message == "quote not found in alpha-2017's archive: 'Quvvatov was killed'"


# --- reading rows for a load, and in worker processes: the same problems as records -------


def flat(rows: DatasetRows) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows, whichever way the events were split into chunks."""
    tables = {
        "sources": rows.sources,
        "actors": rows.actors,
        "actor_names": rows.actor_names,
        "places": rows.places,
        "place_names": rows.place_names,
    }
    for chunk in rows.event_chunks():
        for name in (
            "events",
            "event_actors",
            "event_places",
            "event_tags",
            "citations",
            "figures",
            "event_relations",
        ):
            tables.setdefault(name, []).extend(getattr(chunk, name))
    return tables


def test_rows_built_in_workers_equal_rows_built_here(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the spool goes
    dataset = read_dataset(FIXTURE_DATA)
    from_records = dataset_rows(dataset)
    here = read_dataset(FIXTURE_DATA, rows=True, workers=0)
    in_workers = read_dataset(FIXTURE_DATA, rows=True, workers=2)  # forced: the fixture is small
    assert here.hash == in_workers.hash == from_records.hash == dataset.hash
    assert flat(here) == flat(in_workers) == flat(from_records)
    assert here.event_count == in_workers.event_count == from_records.event_count == 15
    assert here.max_span_days == in_workers.max_span_days == from_records.max_span_days > 0
    # Workers leave each events file's rows in a spool file, deleted with the rows.
    assert len(in_workers.events) == len(dataset.files) - 3
    assert all(isinstance(chunk, Path) for chunk in in_workers.events)
    assert list(tmp_path.iterdir()) != []
    del in_workers
    assert list(tmp_path.iterdir()) == []


def test_records_read_in_workers_equal_records_read_here(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    here, in_workers = read_dataset(FIXTURE_DATA), read_dataset(FIXTURE_DATA, workers=2)
    assert in_workers.events == here.events
    assert (in_workers.hash, in_workers.files) == (here.hash, here.files)
    assert list(tmp_path.iterdir()) == []  # nothing spooled, nothing left


def errors_when(read: Callable[[], object]) -> list[DatasetError]:
    with pytest.raises(InvalidDataset) as info:
        read()
    return info.value.errors


def test_workers_report_problems_exactly_as_read_dataset(tmp_path, monkeypatch):
    root = copy_fixture(tmp_path)
    events = root / "events"
    # A schema problem (found in a worker, on the slow path), bytes that are not UTF-8
    # (found while reading, here), and a YAML syntax error, in three files in that order.
    (events / "2014.yaml").write_text(
        (events / "2014.yaml")
        .read_text()
        .replace("date: 2014-05\n  type: armed_clash", "date: 2014-13\n  type: riot")
    )
    (events / "2015.yaml").write_bytes(b"- id: caf\xe9\n")
    (events / "2016.yaml").write_text("- id: x\n  title: [\n")
    expected = errors_when(lambda: read_dataset(root))
    assert [(e.file, e.line) for e in expected] == [
        ("events/2014.yaml", 3),
        ("events/2014.yaml", 4),
        ("events/2015.yaml", 1),
        ("events/2016.yaml", 3),
    ]
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    assert errors_when(lambda: read_dataset(root, rows=True, workers=2)) == expected
    assert list(spool.iterdir()) == []  # the rows of the valid files are gone too
    assert errors_when(lambda: read_dataset(root, rows=True, workers=0)) == expected
    assert errors_when(lambda: read_dataset(root, workers=2)) == expected


def test_workers_report_reference_problems_exactly_as_read_dataset(tmp_path):
    root = copy_fixture(tmp_path)
    add_events(
        root,
        event(id="2015-09-irpt-banned"),
        event(id="three", actors=[{"actor": "nobody", "role": "victim"}], related=["nothing"]),
    )
    expected = errors_when(lambda: read_dataset(root))
    assert [(e.file, e.line, e.entry, e.field) for e in expected] == [
        ("events/extra.yaml", 1, "2015-09-irpt-banned", "id"),
        ("events/extra.yaml", 18, "three", "actors[0].actor"),
        ("events/extra.yaml", 21, "three", "related[0]"),
    ]
    assert errors_when(lambda: read_dataset(root, rows=True, workers=2)) == expected


def test_every_corpus_case_is_reported_the_same_when_reading_rows(tmp_path):
    from tests.test_corpus import CASES  # here: test_corpus imports this module

    for number, broken in enumerate(c for c in CASES if not c.isolate):
        root = broken.materialize(tmp_path / str(number))
        errors = errors_when(lambda root=root: read_dataset(root, rows=True, workers=0))
        assert errors == errors_of(root), broken.name


def test_parallel_reading_starts_only_for_big_datasets(tmp_path):
    assert default_workers(sorted((FIXTURE_DATA / "events").iterdir())) == 0
    big = tmp_path / "big.yaml"
    with big.open("wb") as handle:
        handle.truncate(PARALLEL_BYTES)  # sparse: its size is all that counts
    assert default_workers([big]) == (1 if workers.usable_cores() > 1 else 0)


@pytest.mark.parametrize(
    ("cpu_max", "expected"),
    [("max 100000\n", None), ("200000 100000\n", 2), ("50000 100000\n", 1), ("150000 100000", 2)],
)
def test_workers_stay_within_a_containers_cpu_quota(tmp_path, monkeypatch, cpu_max, expected):
    affinity = len(os.sched_getaffinity(0))
    (tmp_path / "cpu.max").write_text(cpu_max)
    monkeypatch.setattr(workers, "CPU_MAX", tmp_path / "cpu.max")
    assert workers.usable_cores() == min(affinity, expected or affinity)
    monkeypatch.setattr(workers, "CPU_MAX", tmp_path / "absent")  # no cgroup v2: affinity only
    assert workers.usable_cores() == affinity


def test_sigterm_ends_a_load_like_ctrl_c_and_leaves_no_spool(tmp_path, monkeypatch):
    """`docker stop` or a service manager sends SIGTERM: the load must clean up, not vanish."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    before = signal.getsignal(signal.SIGTERM)
    with (
        pytest.raises(SystemExit) as info,
        stop_on_sigterm(),
        read_dataset(FIXTURE_DATA, rows=True, workers=2),
    ):
        assert list(tmp_path.iterdir()) != []  # rows spooled by the workers
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(10)  # not reached: the handler raises first
    assert info.value.code == 128 + signal.SIGTERM
    assert list(tmp_path.iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) == before


def test_a_name_or_alias_with_an_empty_search_key_is_refused(tmp_path):
    """Nothing typed could ever find it: the dataset says where it is."""
    from app.errors import InvalidDataset
    from tests.factories import copy_fixture

    root = copy_fixture(tmp_path)
    actors = root / "actors.yaml"
    text = actors.read_text(encoding="utf-8")
    actors.write_text(text.replace("[Quvvatov, Quvatov, Kuvvatov]", '[Quvvatov, "★ ★"]', 1))
    with pytest.raises(InvalidDataset) as raised:
        read_dataset(root)
    [error] = raised.value.errors
    assert (error.file, error.line, error.entry, error.field) == (
        "actors.yaml",
        4,
        "umarali-quvvatov",
        "aliases[1]",
    )
    assert "no letter or digit to search by" in error.message

"""The `timeline` command as users run it: exit codes, messages, no tracebacks."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from sqlalchemy import inspect, select

from app import models
from app.db import make_engine
from tests.conftest import FIXTURE_ARCHIVE, FIXTURE_DATA
from tests.factories import add_events, copy_fixture, event
from tests.test_loader import snapshot


def run(*args: str, database_url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIMELINE_")}
    if database_url:
        env["TIMELINE_DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_validate_ok():
    result = run("validate", "--data", str(FIXTURE_DATA))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("valid: 15 events, 8 actors, 10 places, 3 sources (hash ")


def test_validate_reports_every_problem_without_traceback(tmp_path):
    root = copy_fixture(tmp_path)
    add_events(root, event(id="a", date="2015-02-30"), event(id="b", type="riot"))
    result = run("validate", "--data", str(root))
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0] == (
        "error: events/extra.yaml:3: entry 'a': field 'date': "
        "'2015-02-30': day 30 does not exist in 2015-02"
    )
    assert lines[1].startswith(
        "error: events/extra.yaml:12: entry 'b': field 'type': unknown event type 'riot'"
    )
    assert lines[2] == "2 problems found; the dataset is not valid."  # validate loads nothing
    assert "Traceback" not in result.stderr


def test_validate_missing_directory(tmp_path):
    result = run("validate", "--data", str(tmp_path / "nope"))
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == f"error: {tmp_path / 'nope'}: not a directory"


@pytest.mark.usefixtures("backend")
def test_load_then_reload_is_a_no_op(database_url):
    first = run("load", "--data", str(FIXTURE_DATA), database_url=database_url)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("loaded 15 events (hash ")
    second = run("load", "--data", str(FIXTURE_DATA), database_url=database_url)
    assert second.returncode == 0
    assert second.stdout.startswith("unchanged: this dataset is already loaded")


@pytest.mark.usefixtures("backend")
def test_broken_load_leaves_the_database_untouched(database_url, tmp_path):
    assert run("load", "--data", str(FIXTURE_DATA), database_url=database_url).returncode == 0
    engine = make_engine(database_url)
    before = snapshot(engine)
    root = copy_fixture(tmp_path)
    (root / "events" / "2017.yaml").write_text("- id: x\n  title: [\n")
    result = run("load", "--data", str(root), database_url=database_url)
    assert result.returncode == 1
    assert result.stderr.startswith("error: events/2017.yaml:3: YAML syntax error")
    assert snapshot(engine) == before
    with engine.connect() as connection:
        assert connection.scalar(select(models.DatasetMeta.event_count)) == 15
    engine.dispose()


@pytest.mark.usefixtures("backend")
def test_migrate(database_url):
    from alembic.script import ScriptDirectory

    from app.cli import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    result = run("migrate", database_url=database_url)
    assert (result.returncode, result.stdout) == (0, f"schema at {head} (head)\n")
    # An earlier revision moves the schema down to it, and says where it is.
    result = run("migrate", "--revision", "0005", database_url=database_url)
    assert (result.returncode, result.stdout) == (0, "schema at 0005\n")
    result = run("migrate", "--revision", "base", database_url=database_url)
    assert (result.returncode, result.stdout) == (0, "schema at base\n")
    result = run("migrate", "--revision", "9999", database_url=database_url)
    assert result.returncode == 2 and "9999" in result.stderr
    assert "Traceback" not in result.stderr
    # Steps, as Alembic names them: from the current revision, or from head.
    result = run("migrate", "--revision", "+2", database_url=database_url)
    assert (result.returncode, result.stdout) == (0, "schema at 0002\n")
    result = run("migrate", "--revision", "-1", database_url=database_url)
    assert (result.returncode, result.stdout) == (0, "schema at 0001\n")
    previous = f"{int(head) - 1:04d}"
    result = run("migrate", "--revision", "head-1", database_url=database_url)
    assert (result.returncode, result.stdout) == (0, f"schema at {previous}\n")
    result = run("migrate", "--revision", "+2", database_url=database_url)
    assert result.returncode == 2 and "past the last revision" in result.stderr
    result = run("migrate", database_url=database_url)
    assert (result.returncode, result.stdout) == (0, f"schema at {head} (head)\n")


def test_unreachable_database_is_a_clear_error(tmp_path):
    result = run("migrate", database_url="postgresql://nobody@127.0.0.1:1/none")
    assert result.returncode == 2
    assert result.stderr.startswith("error: OperationalError: ")
    assert "Traceback" not in result.stderr


def test_verify_quotes(tmp_path):
    result = run(
        "verify-quotes", "--data", str(FIXTURE_DATA), "--archive-dir", str(FIXTURE_ARCHIVE)
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "ok: 21 quotes found verbatim in their sources; not archived, not checked: gamma-2016\n"
    )
    root = copy_fixture(tmp_path)
    add_events(root, event(citations=[{"source": "beta-2014", "quote": "made up words"}]))
    result = run("verify-quotes", "--data", str(root), "--archive-dir", str(FIXTURE_ARCHIVE))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: events/extra.yaml:8: entry '2015-03-test-event': field 'citations[0].quote': "
        "quote not found in beta-2014's archive: 'made up words'",
        "1 of 22 quotes failed; not archived, not checked: gamma-2016",
    ]


def test_verify_quotes_without_the_archives(tmp_path):
    empty = tmp_path / "archive"
    empty.mkdir()
    result = run("verify-quotes", "--data", str(FIXTURE_DATA), "--archive-dir", str(empty))
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "2 archives could not be read, so their quotes were not checked; "
        "not archived, not checked: gamma-2016"
    )
    result = run("verify-quotes", "--data", str(FIXTURE_DATA), "--archive-dir", str(tmp_path / "x"))
    assert (result.returncode, result.stderr) == (1, f"error: {tmp_path / 'x'}: not a directory\n")


def test_version_and_help_name_the_database():
    from app import __version__

    assert run("--version").stdout == f"timeline {__version__}\n"
    top = run("--help").stdout
    assert "TIMELINE_DATABASE_URL" in top and "timeline.db in the current directory" in top
    for command in ("validate", "load", "migrate", "verify-quotes", "serve"):
        help_text = run(command, "--help").stdout
        # its one-line description, after the usage lines
        assert re.search(r"\n\n[A-Z][^\n]*\.\n\n", help_text), command
        assert "TIMELINE_DATABASE_URL" in help_text


def test_verify_quotes_needs_archive_dir():
    result = run("verify-quotes", "--data", str(FIXTURE_DATA))
    assert result.returncode == 2
    assert "--archive-dir" in result.stderr


@pytest.mark.usefixtures("backend")
def test_broken_dataset_does_not_even_create_the_schema(database_url, tmp_path):
    root = copy_fixture(tmp_path)
    (root / "events" / "2017.yaml").write_text("- id: x\n  date: 2015-13\n")
    result = run("load", "--data", str(root), database_url=database_url)
    assert result.returncode == 1
    engine = make_engine(database_url)
    assert inspect(engine).get_table_names() == []
    engine.dispose()


def test_unchanged_dataset_is_not_parsed_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    assert run("load", "--data", str(FIXTURE_DATA), database_url=url).returncode == 0
    # Same bytes, so the same hash: the loader must not need to read the records.
    copy = copy_fixture(tmp_path)
    second = run("load", "--data", str(copy), database_url=url)
    assert second.stdout.startswith("unchanged: this dataset is already loaded")

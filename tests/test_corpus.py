"""A corpus of broken datasets: each is refused whole, precisely located, without a trace.

Every case is a small dataset that is valid except for one deliberate breakage (or, for the
"many-..." cases, several at once). Most live as directories under `tests/corpus/`; those
that need raw bytes, huge values or an empty directory are built in code from
`tests/corpus/valid-minimal`.

Each case lists every problem `read_dataset` must report, in order, as
(file, line, entry id, field, part of the message). The in-process check runs for every
case; the real `python -m app.cli load` runs for a representative subset on each backend,
against a database holding the fixture dataset, which must come out byte-for-byte the same.

Cases that could hang or crash the interpreter (YAML bombs, deep nesting) are read in a
child process with a time and memory limit, so a defect fails its test instead of the run.
"""

from __future__ import annotations

import dataclasses
import json
import os
import resource
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from app import models
from app.cli import load
from app.db import make_engine
from app.errors import DatasetError, InvalidDataset
from app.loader import current_hash
from app.reader import read_dataset
from tests.conftest import FIXTURE_DATA, PROJECT, DatabaseFactory
from tests.test_loader import snapshot

CORPUS = Path(__file__).parent / "corpus"
VALID_MINIMAL = CORPUS / "valid-minimal"
MEMORY_LIMIT = 2 << 30  # bytes of address space for child processes: bombs fail, not swap
ISOLATED_TIMEOUT = 15  # seconds for read_dataset in a child: "rejected quickly"
CLI_TIMEOUT = 30

# (file, line, entry, field, a fragment of the message)
Expected = tuple[str, int | None, str | None, str | None, str]

EVENT_A = "2015-03-event-a"
EVENT_B = "2016-05-event-b"
UNKNOWN_TYPE = "unknown event type 'riot'; use one of armed_clash, killing"
ACTOR_KINDS = "Input should be 'person', 'organization', 'party'"
PLACE_KINDS = "Input should be 'country', 'region', 'city' or 'site'"


# --- datasets built in code ------------------------------------------------------------


def _copy_minimal(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    shutil.copytree(VALID_MINIMAL, root)
    return root


def _event_text(extra: str = "", *, event_id: str = "2016-01-event-c", title: str = "C") -> str:
    return (
        f"- id: {event_id}\n"
        f"  title: {title}\n"
        "  date: 2016-01\n"
        "  type: statement\n"
        "  summary: Something was said.\n"
        "  citations: [{source: src-a, quote: Something was said.}]\n" + extra
    )


def _with_file(rel: str, content: bytes) -> Callable[[Path], Path]:
    def build(tmp_path: Path) -> Path:
        root = _copy_minimal(tmp_path)
        (root / rel).write_bytes(content)
        return root

    return build


def _huge_title(tmp_path: Path) -> Path:
    root = _copy_minimal(tmp_path)
    title = "x" * 100_000
    (root / "events" / "2016.yaml").write_text(_event_text(title=title))
    return root


def _ten_thousand_items(tmp_path: Path) -> Path:
    root = _copy_minimal(tmp_path)
    places = ", ".join(["city-a"] * 10_000)
    tags = ", ".join(f"tag-{i}" for i in range(10_000))
    (root / "events" / "2016.yaml").write_text(
        _event_text(f"  places: [{places}]\n  tags: [{tags}]\n")
    )
    return root


def _deep_nesting(tmp_path: Path) -> Path:
    # 30,000 nested flow sequences: 60 KB of brackets.
    root = _copy_minimal(tmp_path)
    depth = 30_000
    (root / "events" / "2016.yaml").write_text(_event_text(f"  tags: {'[' * depth}{']' * depth}\n"))
    return root


def _deep_place_path(tmp_path: Path) -> Path:
    # Ten nested places with 199-character ids: the deepest one's path ("/a/b/.../j/")
    # is 2,001 characters, one more than the column holds; its parents' paths fit.
    root = _copy_minimal(tmp_path)
    ids = [chr(ord("a") + i) * 199 for i in range(10)]
    lines = [f"- {{id: {ids[0]}, name: P0, kind: region}}\n"]
    lines += [
        f"- {{id: {ids[i]}, name: P{i}, kind: region, parent: {ids[i - 1]}}}\n"
        for i in range(1, 10)
    ]
    with (root / "places.yaml").open("a") as handle:
        handle.writelines(lines)
    return root


def _empty_events_directory(tmp_path: Path) -> Path:
    root = _copy_minimal(tmp_path)
    (root / "events" / "2015.yaml").unlink()
    return root


def _bom_everywhere(tmp_path: Path) -> Path:
    root = _copy_minimal(tmp_path)
    for path in [*root.glob("*.yaml"), *root.glob("events/*.yaml")]:
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    return root


# --- the cases -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    expected: tuple[Expected, ...]
    build: Callable[[Path], Path] | None = None  # None: the directory tests/corpus/<name>
    isolate: bool = False  # may hang or crash the interpreter: read in a child process

    def materialize(self, tmp_path: Path) -> Path:
        return CORPUS / self.name if self.build is None else self.build(tmp_path)


def case(
    name: str,
    *expected: Expected,
    build: Callable[[Path], Path] | None = None,
    isolate: bool = False,
) -> Case:
    return Case(name, expected, build, isolate)


CASES: list[Case] = [
    # YAML syntax and encoding
    case(
        "yaml-unclosed-bracket",
        ("events/2015.yaml", 8, None, None, "YAML syntax error: while parsing a flow sequence"),
    ),
    case(
        "yaml-bad-indentation",
        ("sources.yaml", 3, None, None, "mapping values are not allowed in this context"),
    ),
    case(
        "yaml-tab-indent",
        ("actors.yaml", 3, None, None, "found a tab character that violates indentation"),
    ),
    case(
        "non-utf8-bytes",
        ("events/2016.yaml", 2, None, None, "not valid UTF-8 (byte 0xe9)"),
        build=_with_file("events/2016.yaml", _event_text(title="Caf\xe9").encode("latin-1")),
    ),
    case(
        "utf16-file",
        ("actors.yaml", 1, None, None, "not valid UTF-8 (byte 0xff)"),
        build=_with_file(
            "actors.yaml", (VALID_MINIMAL / "actors.yaml").read_text().encode("utf-16")
        ),
    ),
    case(
        "raw-nul-byte",
        ("events/2016.yaml", 2, None, None, "contains a NUL byte"),
        build=_with_file("events/2016.yaml", _event_text(title="C\x00D").encode()),
    ),
    case(
        # A NUL written as a YAML escape passes the byte check; PostgreSQL cannot store it.
        "nul-escape-in-string",
        ("events/2015.yaml", 2, EVENT_A, "title", "NUL"),
    ),
    case(
        # Bytes would pass as a title, unchecked: a NUL here.
        "binary-value",
        ("events/2016.yaml", 2, None, None, "binary values (!!binary) are not supported"),
        build=_with_file("events/2016.yaml", _event_text(title="!!binary RXgAdHJh").encode()),
    ),
    case(
        # A set has no order: its tags would be stored differently on each load.
        "set-value",
        ("events/2016.yaml", 7, None, None, "sets (!!set) are not supported"),
        build=_with_file("events/2016.yaml", _event_text("  tags: !!set {a, b, c}\n").encode()),
    ),
    case(
        # Python refuses to read integers of more than 4,300 digits.
        "integer-too-long",
        ("events/2016.yaml", 7, None, None, "number too long"),
        build=_with_file(
            "events/2016.yaml",
            _event_text(
                "  figures: [{metric: killed, value: 1" + "0" * 5000 + ", source: src-a,"
                " quote: Something was said.}]\n"
            ).encode(),
        ),
    ),
    case(
        "duplicate-key-event",
        ("events/2015.yaml", 5, EVENT_A, "title", "duplicate key 'title' (first given on line 2)"),
    ),
    case(
        "duplicate-key-source",
        ("sources.yaml", 8, "src-a", "language", "duplicate key 'language' (first given on"),
    ),
    case(
        "python-object-tag",
        ("events/2015.yaml", 2, None, None, "could not determine a constructor for the tag"),
    ),
    # Shapes
    case(
        "top-level-mapping",
        ("places.yaml", 1, None, None, "expected a list of records, found a mapping"),
    ),
    case("top-level-scalar", ("actors.yaml", 1, None, None, "expected a list of records, found")),
    case(
        "top-level-list-of-scalars",
        ("sources.yaml", 1, None, "[0]", "expected a mapping (key: value)"),
        ("sources.yaml", 2, None, "[1]", "expected a mapping (key: value)"),
    ),
    # Fields and types
    case(
        "missing-required-fields",
        ("events/2015.yaml", 1, EVENT_A, "title", "Field required"),
        ("events/2015.yaml", 1, EVENT_A, "summary", "Field required"),
    ),
    case(
        "wrong-type-list-for-string",
        ("events/2015.yaml", 2, EVENT_A, "title", "Input should be a valid string"),
    ),
    case(
        "wrong-type-string-for-list",
        ("events/2015.yaml", 7, EVENT_A, "places", "Input should be a valid list"),
    ),
    case(
        "wrong-type-mapping-for-list",
        ("actors.yaml", 4, "person-a", "aliases", "Input should be a valid list"),
    ),
    case(
        "wrong-type-number-for-id",
        ("actors.yaml", 1, "12345", "id", "Input should be a valid string"),
    ),
    case(
        # `lat: true` must not become latitude 1.0.
        "wrong-type-bool-for-number",
        ("places.yaml", 4, "country-a", "lat", "a number, not true/false"),
    ),
    case(
        "unknown-fields",
        ("actors.yaml", 4, "person-a", "nickname", "Extra inputs are not permitted"),
        ("events/2015.yaml", 11, EVENT_A, "colour", "Extra inputs are not permitted"),
    ),
    case("unknown-event-type", ("events/2015.yaml", 4, EVENT_A, "type", UNKNOWN_TYPE)),
    case("unknown-actor-kind", ("actors.yaml", 3, "person-a", "kind", ACTOR_KINDS)),
    case("unknown-place-kind", ("places.yaml", 8, "city-a", "kind", PLACE_KINDS)),
    case(
        "event-without-citations",
        ("events/2016.yaml", 1, EVENT_B, "citations", "Field required"),
        ("events/2016.yaml", 15, "2016-05-event-c", "citations", "at least 1 item"),
    ),
    case(
        "quote-empty-and-blank",
        ("events/2015.yaml", 11, EVENT_A, "citations[1].quote", "at least 1 character"),
        ("events/2015.yaml", 12, EVENT_A, "citations[2].quote", "at least 1 character"),
    ),
    case(
        "figure-low-above-high",
        ("events/2015.yaml", 12, EVENT_A, "figures[0]", "low (10) is greater than high (5)"),
    ),
    case(
        "inferred-date-without-note",
        ("sources.yaml", 1, "src-a", "basis_note", "an inferred publication date needs a"),
    ),
    # Dates
    case("date-month-13", ("events/2015.yaml", 3, EVENT_A, "date", "month 13 does not exist")),
    case(
        "date-february-30",
        ("events/2015.yaml", 3, EVENT_A, "date", "'2015-02-30': day 30 does not exist in 2015-02"),
    ),
    case(
        "date-year-zero",
        ("events/2015.yaml", 3, EVENT_A, "date", "'0000': year must be between 0001 and 9999"),
    ),
    case(
        "date-reversed-interval",
        ("events/2015.yaml", 3, EVENT_A, "date", "the interval is reversed"),
    ),
    case(
        "date-claimed-invalid",
        ("events/2015.yaml", 11, EVENT_A, "citations[0].claimed_date", "day 31 does not exist"),
    ),
    # Places
    case(
        "coordinates-out-of-range",
        ("places.yaml", 4, "country-a", "lat", "less than or equal to 90"),
        ("places.yaml", 5, "country-a", "lon", "greater than or equal to -180"),
    ),
    case(
        "lat-without-lon",
        ("places.yaml", 1, "country-a", "lon", "lat and lon go together"),
    ),
    case(
        "place-self-parent",
        ("places.yaml", 4, "country-a", "parent", "cycle: country-a -> country-a"),
    ),
    case(
        "place-two-cycle",
        ("places.yaml", 4, "country-a", "parent", "cycle: country-a -> city-a -> country-a"),
    ),
    case(
        "place-three-cycle",
        (
            "places.yaml",
            10,
            "region-a",
            "parent",
            "cycle: region-a -> site-a -> town-a -> region-a",
        ),
    ),
    case(
        "place-path-too-long-for-column",
        ("places.yaml", 19, "j" * 199, "parent", "2000 characters"),
        build=_deep_place_path,
    ),
    # Identity and references
    case(
        "duplicate-event-id",
        ("events/2016.yaml", 1, EVENT_A, "id", "duplicate event id (first defined at events/2015"),
    ),
    case(
        "duplicate-actor-id",
        ("actors.yaml", 5, "person-a", "id", "duplicate actor id (first defined at actors.yaml:1)"),
    ),
    case(
        "duplicate-place-id",
        ("places.yaml", 10, "city-a", "id", "duplicate place id (first defined at places.yaml:6)"),
    ),
    case(
        "duplicate-source-id",
        ("sources.yaml", 8, "src-a", "id", "duplicate source id (first defined at sources.yaml:1)"),
    ),
    case(
        "dangling-actor",
        ("events/2015.yaml", 6, EVENT_A, "actors[0].actor", "unknown actor 'person-z'"),
    ),
    case(
        "dangling-place",
        ("events/2015.yaml", 7, EVENT_A, "places[1]", "unknown place 'atlantis'"),
    ),
    case(
        "dangling-source",
        ("events/2015.yaml", 9, EVENT_A, "citations[0].source", "unknown source 'src-z'"),
        ("events/2015.yaml", 12, EVENT_A, "figures[0].source", "unknown source 'src-y'"),
    ),
    case(
        "dangling-related",
        ("events/2015.yaml", 11, EVENT_A, "related[0]", "unknown event '2099-01-no-such-event'"),
    ),
    case("dangling-parent", ("places.yaml", 9, "city-a", "parent", "unknown place 'country-z'")),
    # Files
    case("missing-sources-file", ("sources.yaml", None, None, None, "file not found")),
    case("missing-events-directory", ("events/", None, None, None, "directory not found")),
    # Huge values and columns
    case(
        "huge-title-100kb",
        ("events/2016.yaml", 2, "2016-01-event-c", "title", "at most 500 characters"),
        build=_huge_title,
    ),
    case(
        "figure-value-1e400",
        ("events/2016.yaml", 7, "2016-01-event-c", "figures[0].value", "must be a finite number"),
        build=_with_file(
            "events/2016.yaml",
            _event_text(
                "  figures: [{metric: killed, value: 1e400, source: src-a, quote: many}]\n"
            ).encode(),
        ),
    ),
    case(
        "ten-thousand-element-lists",
        ("events/2016.yaml", 7, "2016-01-event-c", "places", "at most 500 items"),
        ("events/2016.yaml", 8, "2016-01-event-c", "tags", "at most 100 items"),
        build=_ten_thousand_items,
    ),
    case(
        "role-too-long-for-column",
        ("events/2015.yaml", 6, EVENT_A, "actors[0].role", "at most 100 characters"),
    ),
    case(
        "language-too-long-for-column",
        ("sources.yaml", 7, "src-a", "language", "at most 20 characters"),
    ),
    case(
        # 200 Cyrillic letters fit the 500-character name, but "Щ" folds to "shch": the
        # search key (800 characters) does not fit its 500-character column.
        "name-key-too-long-for-column",
        ("actors.yaml", 2, "person-a", "name", "search key"),
    ),
    # Bombs: bounded in time and memory
    case(
        "alias-bomb",
        ("events/2015.yaml", 11, EVENT_A, "notes", "Input should be a valid string"),
        isolate=True,
    ),
    case("merge-key-bomb", ("events/2015.yaml", 2, None, None, "merge key"), isolate=True),
    case(
        "deep-nesting",
        ("events/2016.yaml", 7, None, None, "YAML"),  # the library words the rest
        build=_deep_nesting,
        isolate=True,
    ),
    # Several problems in several files: all are reported, in file order.
    case(
        "many-problems-many-files",
        ("sources.yaml", 7, "src-a", "language", "String should match pattern"),
        ("actors.yaml", 3, "person-a", "kind", ACTOR_KINDS),
        ("places.yaml", 4, "country-a", "lat", "less than or equal to 90"),
        ("events/2015.yaml", 3, EVENT_A, "date", "'2015-13': month 13 does not exist"),
        ("events/2016.yaml", 9, EVENT_B, "citations[0].quote", "at least 1 character"),
    ),
    case(
        "many-reference-problems-many-files",
        ("sources.yaml", 8, "src-a", "id", "duplicate source id"),
        ("places.yaml", 9, "city-a", "parent", "unknown place 'country-z'"),
        ("events/2015.yaml", 6, EVENT_A, "actors[0].actor", "unknown actor 'person-z'"),
        ("events/2016.yaml", 10, EVENT_B, "related[1]", "unknown event '2099-01-no-such-event'"),
    ),
    case(
        "invalid-yaml-and-schema-in-several-files",
        ("actors.yaml", 3, None, None, "found a tab character"),
        ("places.yaml", 8, "city-a", "kind", PLACE_KINDS),
        ("events/2015.yaml", 8, None, None, "YAML syntax error"),
        ("events/2016.yaml", 4, EVENT_B, "type", UNKNOWN_TYPE),
    ),
]
BY_NAME = {c.name: c for c in CASES}

# The real CLI costs a second or two a run: a sample of syntax, encoding, schema, reference
# and multi-file cases, and every case that reaches the database or could hang or crash.
CLI_CASES = [
    "yaml-unclosed-bracket",
    "non-utf8-bytes",
    "duplicate-key-event",
    "wrong-type-bool-for-number",
    "duplicate-event-id",
    "many-problems-many-files",
    "many-reference-problems-many-files",
    "nul-escape-in-string",
    "role-too-long-for-column",
    "language-too-long-for-column",
    "name-key-too-long-for-column",
    "place-path-too-long-for-column",
    "merge-key-bomb",
    "deep-nesting",
]


# --- helpers ---------------------------------------------------------------------------


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _child_env(database_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIMELINE_")}
    if database_url:
        env["TIMELINE_DATABASE_URL"] = database_url
    return env


def run_cli(*args: str, database_url: str | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m app.cli ...` as users run it, with a time and memory ceiling."""
    try:
        return subprocess.run(
            [sys.executable, "-m", "app.cli", *args],
            capture_output=True,
            text=True,
            env=_child_env(database_url),
            cwd=PROJECT,
            timeout=CLI_TIMEOUT,
            check=False,
            preexec_fn=_limit_memory,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"`timeline {' '.join(args)}` still running after {CLI_TIMEOUT} s")


_CHILD = """
import dataclasses, json, sys
from pathlib import Path
from app.reader import read_dataset
from app.errors import InvalidDataset
try:
    read_dataset(Path(sys.argv[1]))
except InvalidDataset as exc:
    print(json.dumps([dataclasses.asdict(error) for error in exc.errors]))
else:
    print("[]")
"""


def errors_isolated(root: Path) -> list[DatasetError]:
    """read_dataset's problems, read in a child process bounded in time and memory."""
    try:
        result = subprocess.run(
            [sys.executable, "-c", _CHILD, str(root)],
            capture_output=True,
            text=True,
            env=_child_env(),
            cwd=PROJECT,
            timeout=ISOLATED_TIMEOUT,
            check=False,
            preexec_fn=_limit_memory,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"read_dataset did not finish within {ISOLATED_TIMEOUT} s")
    assert result.returncode == 0, (
        f"read_dataset crashed (exit code {result.returncode}): {result.stderr[-2000:]}"
    )
    return [DatasetError(**item) for item in json.loads(result.stdout)]


def errors_of(root: Path) -> list[DatasetError]:
    with pytest.raises(InvalidDataset) as info:
        read_dataset(root)
    return info.value.errors


def located(errors: list[DatasetError]) -> list[tuple[str, int | None, str | None, str | None]]:
    return [(e.file, e.line, e.entry, e.field) for e in errors]


def expected_prefix(item: Expected) -> str:
    """How the CLI starts the line for one expected problem: `error: file:line: entry...`."""
    file, line, entry, field, _ = item
    return "error: " + str(DatasetError(file, line, entry, field, ""))


# --- the corpus itself -----------------------------------------------------------------


def test_corpus_has_enough_cases_and_no_strays():
    assert len(CASES) >= 30
    assert len(BY_NAME) == len(CASES)
    on_disk = {p.name for p in CORPUS.iterdir() if p.is_dir()}
    in_code = {c.name for c in CASES if c.build is None}
    assert on_disk - in_code == {"valid-minimal", "valid-edge-cases"}
    assert in_code <= on_disk
    assert set(CLI_CASES) <= set(BY_NAME)


# --- every case, in process ------------------------------------------------------------


@pytest.mark.parametrize("broken", CASES, ids=[c.name for c in CASES])
def test_read_dataset_reports_every_problem_where_it_is(broken: Case, tmp_path):
    root = broken.materialize(tmp_path)
    errors = errors_isolated(root) if broken.isolate else errors_of(root)
    assert located(errors) == [item[:4] for item in broken.expected], [str(e) for e in errors]
    for error, item in zip(errors, broken.expected, strict=True):
        assert item[4] in error.message, str(error)
        assert len(str(error)) < 600, "messages stay readable"
        assert "Traceback" not in error.message


# --- a representative subset through the real CLI, on each backend ---------------------


@pytest.fixture(scope="module")
def fixture_loaded(databases: DatabaseFactory) -> Iterator[Engine]:
    """One database per backend holding the fixture dataset; each test restores it."""
    url = databases.new_url()
    engine = make_engine(url)
    load(engine, read_dataset(FIXTURE_DATA))
    yield engine
    engine.dispose()


def _state(engine: Engine) -> tuple[dict[str, list[tuple[str, ...]]], str | None]:
    with engine.connect() as connection:
        loaded = current_hash(connection)
    return snapshot(engine), loaded


@pytest.mark.parametrize("name", CLI_CASES)
def test_cli_load_refuses_and_leaves_the_database_untouched(name, fixture_loaded, tmp_path):
    broken = BY_NAME[name]
    engine = fixture_loaded
    before = _state(engine)
    assert before[1] == read_dataset(FIXTURE_DATA).hash
    root = broken.materialize(tmp_path)
    url = engine.url.render_as_string(hide_password=False)
    try:
        result = run_cli("load", "--data", str(root), database_url=url)
        assert "Traceback" not in result.stderr
        assert result.returncode == 1, (result.returncode, result.stdout, result.stderr[-3000:])
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        count = len(broken.expected)
        assert lines[-1] == f"{count} problem{'s' if count != 1 else ''} found; nothing was loaded."
        assert len(lines) == count + 1, lines
        for line, item in zip(lines, broken.expected, strict=False):
            assert line.startswith(expected_prefix(item)), (line, expected_prefix(item))
            assert item[4] in line
        assert _state(engine) == before
        with engine.connect() as connection:
            assert connection.scalar(select(models.DatasetMeta.event_count)) == 15
    finally:
        if _state(engine) != before:  # a defect let something through: restore for the rest
            load(engine, read_dataset(FIXTURE_DATA), force=True)


# --- valid edge cases ------------------------------------------------------------------


def test_valid_minimal_reads():
    dataset = read_dataset(VALID_MINIMAL)
    assert [len(x) for x in (dataset.sources, dataset.actors, dataset.places)] == [1, 1, 2]
    assert [e.record.id for e in dataset.events] == [EVENT_A]


def test_valid_edge_cases_read():
    dataset = read_dataset(CORPUS / "valid-edge-cases")
    events = {e.record.id: e.record for e in dataset.events}
    assert sorted(events) == ["2015-03-event-a", "2016-05-event-b", "2016-event-year"]
    # Unquoted YAML dates and years stay EDTF text.
    assert events[EVENT_B].date == "2016-05-02"
    assert events[EVENT_B].citations[0].claimed_date == "2016-05-03"
    assert events["2016-event-year"].date == "2016"
    assert dataset.sources[0].record.published == "2017-07-07"
    # Names in any script, with accents and emoji, are kept as written.
    assert events[EVENT_B].title == "Ҳабси Раҳмон — «arrest» in Khorugh 📰"
    actors = {a.record.id: a.record for a in dataset.actors}
    assert actors["rahmon"].name == "Эмомалӣ Раҳмон"
    assert actors["rahmon"].aliases == ["Emomali Rahmon", "Émomali Rakhmonov", "Рахмон 🇹🇯"]
    assert actors["group-24"].name == "Group 24 ✊"
    # Empty optional lists are fine; a file of comments holds no events.
    assert events["2016-event-year"].actors == []
    assert events["2016-event-year"].figures == []
    assert "events/2017.yaml" in dataset.files
    assert all(e.file != "events/2017.yaml" for e in dataset.events)


def test_byte_order_mark_is_accepted(tmp_path):
    """Decision: a UTF-8 BOM (as some Windows editors write) is harmless and ignored."""
    with_bom = read_dataset(_bom_everywhere(tmp_path))
    plain = read_dataset(VALID_MINIMAL)
    assert [e.record for e in with_bom.events] == [e.record for e in plain.events]
    assert [s.record for s in with_bom.sources] == [s.record for s in plain.sources]
    assert with_bom.raw(with_bom.events[0]).line == plain.raw(plain.events[0]).line == 1


def test_empty_events_directory_is_a_valid_empty_timeline(tmp_path):
    """Decision: an events/ directory without files is a dataset with no events yet.

    (A missing events/ directory is an error: see the corpus case.)"""
    dataset = read_dataset(_empty_events_directory(tmp_path))
    assert dataset.events == []
    assert len(dataset.places) == 2


@pytest.mark.usefixtures("backend")
def test_valid_edge_cases_load_through_the_cli(database_url):
    result = run_cli("load", "--data", str(CORPUS / "valid-edge-cases"), database_url=database_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("loaded 3 events (hash ")
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            name = connection.scalar(select(models.Actor.name).where(models.Actor.id == "rahmon"))
            title = connection.scalar(select(models.Event.title).where(models.Event.id == EVENT_B))
            edtf = connection.scalar(
                select(models.Event.edtf).where(models.Event.id == "2016-event-year")
            )
    finally:
        engine.dispose()
    assert (name, title, edtf) == (
        "Эмомалӣ Раҳмон",
        "Ҳабси Раҳмон — «arrest» in Khorugh 📰",
        "2016",
    )


@pytest.mark.parametrize("depth", [999, 1000, 30_000])
def test_deep_nesting_is_refused_at_its_line_without_our_own_prescan(depth):
    """Whatever the depth, a located problem (not a crash): libyaml refuses 1000 levels and
    more itself; below that, the line-keeping parse runs out of recursion safely."""
    from app.yamlfile import YamlProblem, parse_yaml

    text = "- id: a\n  tags: " + "[" * depth + "]" * depth + "\n"
    with pytest.raises(YamlProblem) as raised:
        parse_yaml(text)
    assert raised.value.line == 2

"""`read_dataset(dir)`: the one reading of a dataset directory, with every check.

Files are read and hashed here, in order. Events files are parsed, validated and checked
on their own here or, for big datasets, in worker processes, which keep of each valid file
its records or, for a load, its rows. Nothing is returned unless the whole dataset passed:
`InvalidDataset` lists every problem by file, line, entry and field, in reading order.
"""

from __future__ import annotations

import hashlib
import shutil
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from tempfile import mkdtemp
from typing import Any, Literal, NamedTuple, TypeVar, overload

from pydantic import ValidationError

from app.checks import CheckedEvents, KnownIds, check_dataset, check_events
from app.dataset import (
    EVENT_TYPES,
    ActorRecord,
    Dataset,
    Entities,
    EventRecord,
    Located,
    PlaceRecord,
    Record,
    SourceRecord,
)
from app.errors import DatasetError, InvalidDataset, field_path, short
from app.rows import DatasetRows, EventRows, Lookup, event_rows, spool_rows
from app.workers import default_workers, no_gc, worker_pool
from app.yamlfile import (
    LineDict,
    LineList,
    NeedsPositions,
    YamlProblem,
    decode_yaml,
    line_of,
    parse_yaml,
    parse_yaml_fast,
    raw_problems,
    raw_record,
)

R = TypeVar("R", bound=Record)


@overload
def read_dataset(
    root: Path, *, rows: Literal[False] = False, workers: int | None = None
) -> Dataset: ...


@overload
def read_dataset(root: Path, *, rows: Literal[True], workers: int | None = None) -> DatasetRows: ...


def read_dataset(
    root: Path, *, rows: bool = False, workers: int | None = None
) -> Dataset | DatasetRows:
    """Read and check the dataset in `root`: its records, or with `rows` the rows a load
    inserts (use them in `with`: see `DatasetRows`). Raises `InvalidDataset` with every
    problem.

    Events files are parsed by `workers` processes (0: here) while this one reads and
    hashes them. By default rows are built by one worker per core once the files are big
    enough to be worth it, and records are read here: sending them back from workers cost
    what parsing in parallel saved (`timeline diff` of 100,000 events, 2 cores).
    """
    with no_gc():
        reader = _Reader(root)
        entities = reader.read_entities()
        paths = reader.event_files()
        if workers is None:
            workers = default_workers(paths) if rows else 0
        spool = Path(mkdtemp(prefix="timeline-load-")) if rows and workers else None
        try:
            lookup = Lookup.of(entities) if rows else None
            context = _Context(root, KnownIds.of(entities), lookup, spool)
            kept: list[_ValidFile] = []
            for result in _read_events(reader, paths, context, workers):
                if isinstance(result, list):
                    reader.errors += result
                else:
                    kept.append(result)
            # Cross-references are only meaningful when every file could be read whole.
            if not reader.errors:
                checked = [file.checked for file in kept]
                check_dataset(reader.errors, reader.raw, entities, checked)
            if reader.errors:
                raise InvalidDataset(reader.errors)
            digest = reader.digest.hexdigest()
            if lookup is None:
                events = [
                    Located(record, file.checked.file, index)
                    for file in kept
                    if isinstance(file.events, list)
                    for index, record in enumerate(file.events)
                ]
                return Dataset(*entities, events, digest, reader.files, root, reader.positions)
            chunks = [file.events for file in kept if not isinstance(file.events, list)]
            count = sum(len(file.checked.ids) for file in kept)
            span = max((file.max_span_days for file in kept), default=0)
            return DatasetRows.of(digest, entities, chunks, count, span, spool)
        except BaseException:
            if spool is not None:
                shutil.rmtree(spool, ignore_errors=True)
            raise


def event_files(root: Path) -> list[Path]:
    """The events files of a dataset, in reading order."""
    return sorted(p for p in (root / "events").iterdir() if p.suffix in (".yaml", ".yml"))


def dataset_hash(root: Path) -> str | None:
    """The hash `read_dataset` would give, from the bytes alone (None if files are missing).

    Lets `serve` and `load` skip parsing a dataset that is already loaded.
    """
    names = ["sources.yaml", "actors.yaml", "places.yaml"]
    digest = hashlib.sha256()
    try:
        for path in [root / name for name in names] + event_files(root):
            _hash_file(digest, path.relative_to(root).as_posix(), path.read_bytes())
    except OSError:
        return None
    return digest.hexdigest()


def _hash_file(digest: Any, name: str, data: bytes) -> None:
    digest.update(name.encode() + b"\0" + data + b"\0")


class _Reader:
    """One reading: every file's name and bytes hashed in reading order, the problems found
    so far, and the files parsed with line numbers (to say where later problems are)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.errors: list[DatasetError] = []
        self.digest = hashlib.sha256()
        self.files: list[str] = []
        self.positions: dict[str, LineList] = {}

    def raw(self, item: Located[Any]) -> LineDict:
        return raw_record(self.root, item.file, item.index, self.positions)

    def read_text(self, path: Path) -> str | DatasetError:
        """The text of `path`, added to the hash; or why it cannot be read (not recorded)."""
        name = path.relative_to(self.root).as_posix()
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return DatasetError(name, None, None, None, "file not found")
        except OSError as exc:
            return DatasetError(name, None, None, None, f"cannot read file: {exc.strerror}")
        self.files.append(name)
        _hash_file(self.digest, name, data)
        try:
            return decode_yaml(data)
        except YamlProblem as exc:
            return DatasetError(name, exc.line, None, None, exc.message)

    def records(self, name: str, model: type[R]) -> list[Located[R]]:
        text = self.read_text(self.root / name)
        if isinstance(text, DatasetError):
            self.errors.append(text)
            return []
        return parse_records(name, text, model, self.errors, self.positions)

    def read_entities(self) -> Entities:
        """Sources, actors and places; raises `InvalidDataset` if `root` is no directory."""
        if not self.root.is_dir():
            raise InvalidDataset(
                [DatasetError(str(self.root), None, None, None, "not a directory")]
            )
        return Entities(
            self.records("sources.yaml", SourceRecord),
            self.records("actors.yaml", ActorRecord),
            self.records("places.yaml", PlaceRecord),
        )

    def event_files(self) -> list[Path]:
        """The events files in reading order (a missing directory is a problem)."""
        if not (self.root / "events").is_dir():
            self.errors.append(DatasetError("events/", None, None, None, "directory not found"))
            return []
        return event_files(self.root)


# --- events files, in worker processes when the dataset is big -------------------------


class _Context(NamedTuple):
    """What every events file is read with (each worker receives it once)."""

    root: Path
    known: KnownIds
    lookup: Lookup | None  # what rows need; None keeps records instead
    spool: Path | None  # where workers leave rows


class _ValidFile(NamedTuple):
    """What is kept of a valid events file: what the last checks need, and its records or
    rows (in a file of the spool when built in a worker)."""

    checked: CheckedEvents
    events: list[EventRecord] | EventRows | Path
    max_span_days: int


def _read_events(
    reader: _Reader, paths: list[Path], context: _Context, workers: int
) -> Iterator[list[DatasetError] | _ValidFile]:
    """Each events file's problems or what is kept of it, in file order; files are read
    and hashed here, in order."""
    with worker_pool(_read_file, context, workers) as submit:
        pending: deque[Future[list[DatasetError] | _ValidFile] | list[DatasetError]] = deque()
        for number, path in enumerate(paths):
            text = reader.read_text(path)
            if isinstance(text, DatasetError):
                pending.append([text])
            else:
                # Once a problem is found, nothing will be kept: only look for more.
                wanted = not reader.errors and not any(isinstance(p, list) for p in pending)
                pending.append(submit(number, path, text, wanted))
            # Texts wait in memory until a worker takes them: keep only a few in flight.
            while len(pending) > 2 * workers:
                yield _result(pending.popleft())
        while pending:
            yield _result(pending.popleft())


def _result(
    item: Future[list[DatasetError] | _ValidFile] | list[DatasetError],
) -> list[DatasetError] | _ValidFile:
    return item if isinstance(item, list) else item.result()


def _read_file(
    context: _Context, number: int, path: Path, text: str, wanted: bool
) -> list[DatasetError] | _ValidFile:
    """Parse, validate and check the `number`th events file: its problems, or what is kept
    of it if it is valid and still `wanted` (no problem found before it)."""
    name = path.relative_to(context.root).as_posix()
    errors: list[DatasetError] = []
    records = [item.record for item in parse_records(name, text, EventRecord, errors, {})]
    if errors or not wanted:
        return errors
    checked = check_events(name, records, context.known)
    if context.lookup is None:
        return _ValidFile(checked, records, 0)
    rows = event_rows(records, context.lookup)
    if context.spool is None:
        return _ValidFile(checked, rows, rows.max_span_days)
    spooled = context.spool / f"{number:06d}.pickle"
    spool_rows(rows, spooled)
    return _ValidFile(checked, spooled, rows.max_span_days)


# --- one file's records ----------------------------------------------------------------


def parse_records(
    name: str,
    text: str,
    model: type[R],
    errors: list[DatasetError],
    positions: dict[str, LineList],
) -> list[Located[R]]:
    """The valid records of one file's text; its problems go to `errors` and, when it has
    any, its records with their lines to `positions`."""
    try:
        return _fast_records(name, text, model)
    except NeedsPositions:
        return _slow_records(name, text, model, errors.append, positions)


def _fast_records(name: str, text: str, model: type[R]) -> list[Located[R]]:
    """Every record of a valid file, validated; `NeedsPositions` at the first doubt."""
    content = parse_yaml_fast(text)
    if content is None:
        return []
    if not isinstance(content, list):
        raise NeedsPositions
    located = []
    for index, raw in enumerate(content):
        if not isinstance(raw, dict):
            raise NeedsPositions
        try:
            located.append(Located(model.model_validate(raw), name, index))
        except ValidationError:
            raise NeedsPositions from None
    return located


def _slow_records(
    name: str,
    text: str,
    model: type[R],
    report: Callable[[DatasetError], None],
    positions: dict[str, LineList],
) -> list[Located[R]]:
    """Parse again with line numbers, to say exactly where each problem is."""
    try:
        items = parse_yaml(text)
    except YamlProblem as exc:
        report(DatasetError(name, exc.line, None, None, exc.message))
        return []
    if items is None:
        return []
    if not isinstance(items, LineList):
        line = getattr(items, "line", 1)
        kind = type(items).__name__.replace("LineDict", "mapping")
        report(DatasetError(name, line, None, None, f"expected a list of records, found a {kind}"))
        return []
    positions[name] = items
    located = []
    for index, raw in enumerate(items):
        line = items.lines[index]
        if not isinstance(raw, LineDict):
            report(DatasetError(name, line, None, f"[{index}]", "expected a mapping (key: value)"))
            continue
        entry = _entry_id(raw)
        problems = list(raw_problems(raw, [], set()))
        for where, at, message in problems:
            found = at if at is not None else line_of(raw, where, line)
            report(DatasetError(name, found, entry, field_path(where) or None, message))
        try:
            record = model.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors():
                loc = err["loc"]
                message = short(err["msg"].removeprefix("Value error, "))
                if err["type"] == "literal_error" and loc and loc[-1] == "type":
                    message = f"unknown event type {raw.get('type')!r}; use one of " + (
                        ", ".join(EVENT_TYPES)
                    )
                at = line_of(raw, loc, line)
                report(DatasetError(name, at, entry, field_path(loc) or None, message))
            continue
        if not problems:
            located.append(Located(record, name, index))
    return located


def _entry_id(raw: LineDict) -> str | None:
    value = raw.get("id")
    return str(value) if isinstance(value, str | int) else None

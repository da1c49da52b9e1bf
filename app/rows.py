"""A checked dataset as the rows of each table, ready to insert.

`read_rows(dir)` is how a load reads a dataset: big datasets' event files are parsed,
validated and turned into rows in worker processes, which leave the rows in a spool
directory until the load inserts them. Rows are named tuples whose fields are the table's
columns, and each event row carries its ready-made JSON document.
"""

from __future__ import annotations

import gc
import os
import pickle
import shutil
import signal
import threading
import weakref
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from tempfile import mkdtemp
from types import FrameType
from typing import Any, NamedTuple

from pydantic_core import to_json

from app.dataset import (
    CheckedEvents,
    Dataset,
    DatasetReader,
    Entities,
    EventRecord,
    KnownIds,
    PlaceRecord,
    SourceRecord,
    check_events,
)
from app.dates import date_label, parse_edtf, span_class
from app.errors import DatasetError
from app.schemas import ActorItem, PlaceItem
from app.text import fold, name_key, text_key
from app.versions import content_hash

# Event files below this many bytes in all (about 30,000 events) are parsed in this
# process: starting workers (about a second of CPU each) would save little or nothing.
PARALLEL_BYTES = 32_000_000


# --- named rows, one type per table (fields = columns) ---------------------------------


class SourceRow(NamedTuple):
    id: str
    title: str
    author: str
    publisher: str
    published: str
    published_start: str
    published_end: str
    published_basis: str
    basis_note: str | None
    url: str | None
    language: str
    archive: str | None


class ActorRow(NamedTuple):
    id: str
    name: str
    kind: str
    description: str | None
    country: str | None
    sort_key: str


class ActorNameRow(NamedTuple):
    actor_id: str
    name: str
    key: str
    is_alias: bool


class PlaceRow(NamedTuple):
    id: str
    name: str
    kind: str
    parent_id: str | None
    lat: float | None
    lon: float | None
    path: str
    depth: int
    sort_key: str


class PlaceNameRow(NamedTuple):
    place_id: str
    name: str
    key: str
    is_alias: bool


class PlaceTreeRow(NamedTuple):
    place_id: str
    ancestor_id: str


class EventRow(NamedTuple):
    id: str
    title: str
    edtf: str
    precision: str
    date_start: str  # ISO text, as SQLite stores dates
    date_end: str
    approximate: bool
    uncertain: bool
    span_class: int
    type: str
    summary: str
    notes: str | None
    search_text: str
    doc: str
    facets: str
    content_hash: str


class EventActorRow(NamedTuple):
    event_id: str
    actor_id: str
    role: str
    position: int


class EventPlaceRow(NamedTuple):
    event_id: str
    place_id: str
    position: int


class EventTagRow(NamedTuple):
    event_id: str
    tag: str


class CitationRow(NamedTuple):
    event_id: str
    source_id: str
    quote: str
    claimed_date: str | None
    position: int


class FigureRow(NamedTuple):
    event_id: str
    metric: str
    value: float | None
    low: float | None
    high: float | None
    approximate: bool
    unit: str | None
    source_id: str
    quote: str
    position: int


class EventRelationRow(NamedTuple):
    event_id: str
    related_id: str


# --- building rows ---------------------------------------------------------------------


class Lookup(NamedTuple):
    """What an event's rows need of the actors and places it names: their spellings
    (search text includes them) and how the event's document shows them."""

    actor_names: dict[str, list[str]]
    place_names: dict[str, list[str]]
    actors: dict[str, tuple[str, str]]  # id -> (name, kind)
    places: dict[str, tuple[str, str, float | None, float | None]]  # id -> (name, kind, lat, lon)
    containing: dict[str, list[str]]  # place id -> it and every place containing it

    @classmethod
    def of(cls, entities: Entities) -> Lookup:
        actors = [a.record for a in entities.actors]
        places = [p.record for p in entities.places]
        parents = {p.id: p.parent for p in places}
        return cls(
            {a.id: [a.name, *a.aliases] for a in actors},
            {p.id: [p.name, *p.aliases] for p in places},
            {a.id: (a.name, a.kind) for a in actors},
            {p.id: (p.name, p.kind, p.lat, p.lon) for p in places},
            {p.id: _containing(p.id, parents) for p in places},
        )


def _containing(place_id: str, parents: dict[str, str | None]) -> list[str]:
    chain: list[str] = []
    current: str | None = place_id
    while current is not None and current not in chain:
        chain.append(current)
        current = parents.get(current)
    return chain


def facet_keys(event: EventRecord, lookup: Lookup) -> str:
    """The facet values an event counts towards (type, start year, actors, places with
    every place containing them, sources), as space-separated keys: facets of a filtered
    set are these, counted."""
    places = dict.fromkeys(c for p in event.places for c in lookup.containing.get(p, [p]))
    # An event with an open start (`../2017-07-07`) has no start year to count under.
    year = [] if event.date.startswith("..") else [f"year:{event.span.start.year:04d}"]
    keys = [
        f"type:{event.type}",
        *year,
        *dict.fromkeys(f"actor:{a.actor}" for a in event.actors),
        *(f"place:{p}" for p in places),
        *dict.fromkeys(f"source:{c.source}" for c in event.citations),
    ]
    return " ".join(keys)


@dataclass
class EventRows:
    """The rows some events add to each event table, in insert order."""

    events: list[EventRow] = field(default_factory=list)
    event_actors: list[EventActorRow] = field(default_factory=list)
    event_places: list[EventPlaceRow] = field(default_factory=list)
    event_tags: list[EventTagRow] = field(default_factory=list)
    citations: list[CitationRow] = field(default_factory=list)
    figures: list[FigureRow] = field(default_factory=list)
    event_relations: list[EventRelationRow] = field(default_factory=list)
    max_span_days: int = 0


@dataclass
class DatasetRows:
    """A dataset that passed every check, as the rows of each table, ready to insert.

    The rows of a big dataset's events wait in files (one per events file) in `spool`,
    deleted by `close()` (or `with`; at the latest when this object goes); the rows of
    small ones, in memory.
    """

    hash: str
    sources: list[SourceRow]
    actors: list[ActorRow]
    actor_names: list[ActorNameRow]
    places: list[PlaceRow]
    place_names: list[PlaceNameRow]
    place_tree: list[PlaceTreeRow]
    events: list[EventRows | Path]  # one per events file, in file order
    event_count: int
    max_span_days: int  # bounds how far before a window an overlapping event starts
    spool: Path | None = None

    def __post_init__(self) -> None:
        self._remove_spool = (
            weakref.finalize(self, shutil.rmtree, self.spool, ignore_errors=True)
            if self.spool
            else None
        )

    def close(self) -> None:
        """Delete the spooled rows."""
        if self._remove_spool:
            self._remove_spool()

    def __enter__(self) -> DatasetRows:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def event_chunks(self) -> Iterator[EventRows]:
        """The event rows, one events file at a time."""
        for chunk in self.events:
            if isinstance(chunk, Path):
                with chunk.open("rb") as handle:
                    rows: EventRows = pickle.load(handle)
                yield rows
            else:
                yield chunk


def dataset_rows(dataset: Dataset) -> DatasetRows:
    """The rows of a dataset read with `read_dataset`."""
    entities = Entities(dataset.sources, dataset.actors, dataset.places)
    events = event_rows((item.record for item in dataset.events), Lookup.of(entities))
    return _with_entities(
        dataset.hash, entities, [events], len(dataset.events), events.max_span_days
    )


def _with_entities(
    dataset_hash: str,
    entities: Entities,
    events: list[EventRows | Path],
    count: int,
    max_span_days: int,
    spool: Path | None = None,
) -> DatasetRows:
    sources = [item.record for item in entities.sources]
    actors = [item.record for item in entities.actors]
    places = _place_rows([item.record for item in entities.places])
    return DatasetRows(
        dataset_hash,
        [_source_row(s) for s in sources],
        [ActorRow(a.id, a.name, a.kind, a.description, a.country, fold(a.name)) for a in actors],
        [ActorNameRow(*row) for row in _names((a.id, a.name, a.aliases) for a in actors)],
        places,
        [
            PlaceNameRow(*row)
            for row in _names(
                (p.id, p.name, p.aliases) for p in (i.record for i in entities.places)
            )
        ],
        [PlaceTreeRow(p.id, ancestor) for p in places for ancestor in p.path.strip("/").split("/")],
        events,
        count,
        max_span_days,
        spool,
    )


def _source_row(source: SourceRecord) -> SourceRow:
    span = parse_edtf(source.published)
    return SourceRow(
        source.id,
        source.title,
        source.author,
        source.publisher,
        source.published,
        span.start.isoformat(),
        span.end.isoformat(),
        source.published_basis,
        source.basis_note,
        source.url,
        source.language,
        source.archive,
    )


def _place_rows(places: list[PlaceRecord]) -> list[PlaceRow]:
    parents = {p.id: p.parent for p in places}
    paths = {p.id: _path(p.id, parents) for p in places}
    ordered = sorted(places, key=lambda p: paths[p.id].count("/"))  # parents first
    return [
        PlaceRow(
            p.id,
            p.name,
            p.kind,
            p.parent,
            p.lat,
            p.lon,
            paths[p.id],
            paths[p.id].count("/") - 2,
            fold(p.name),
        )
        for p in ordered
    ]


def _names(
    entities: Iterable[tuple[str, str, list[str]]],
) -> Iterator[tuple[str, str, str, bool]]:
    """(owner id, name, key, is_alias) for each distinct spelling; the id is a name too."""
    for owner, name, aliases in entities:
        seen: set[str] = set()
        for spelling, is_alias in [(name, False), *((a, True) for a in aliases), (owner, True)]:
            key = name_key(spelling)
            if key and spelling not in seen:
                seen.add(spelling)
                yield owner, spelling, key, is_alias


def _path(place_id: str, parents: dict[str, str | None]) -> str:
    chain = [place_id]
    parent = parents.get(place_id)
    while parent is not None:
        chain.append(parent)
        parent = parents.get(parent)
    return "/" + "/".join(reversed(chain)) + "/"


def event_document(event: EventRecord, lookup: Lookup) -> dict[str, Any]:
    """The event as lists and feeds return it (`EventSummary`), from its record; the
    versions it was added and changed in are added as it is read."""
    span = event.span
    actors: list[ActorItem] = []
    for ref in event.actors:
        # An unknown reference is reported by the checks; the load never stores it.
        name, kind = lookup.actors.get(ref.actor, (ref.actor, "other"))
        actors.append({"id": ref.actor, "name": name, "kind": kind, "role": ref.role})  # type: ignore[typeddict-item]
    places: list[PlaceItem] = []
    for place in event.places:
        name, kind, lat, lon = lookup.places.get(place, (place, "site", None, None))
        places.append({"id": place, "name": name, "kind": kind, "lat": lat, "lon": lon})  # type: ignore[typeddict-item]
    return {
        "id": event.id,
        "title": event.title,
        "date": event.date,
        "display_date": date_label(event.date),
        "precision": span.precision,
        "start": span.start.isoformat(),
        "end": span.end.isoformat(),
        "approximate": span.approximate,
        "uncertain": span.uncertain,
        "type": event.type,
        "summary": event.summary,
        "actors": actors,
        "places": places,
        "tags": sorted(set(event.tags)),
        "sources": list(dict.fromkeys(c.source for c in event.citations)),
    }


def event_rows(events: Iterable[EventRecord], lookup: Lookup) -> EventRows:
    """The rows of `events` in every event table."""
    rows = EventRows()
    for event in events:
        span = event.span
        rows.max_span_days = max(rows.max_span_days, (span.end - span.start).days)
        texts = [event.title, event.summary, *event.tags]
        texts += [c.quote for c in event.citations] + [f.quote for f in event.figures]
        for ref in event.actors:
            texts += lookup.actor_names.get(ref.actor, [])
        for place in event.places:
            texts += lookup.place_names.get(place, [])
        rows.events.append(
            EventRow(
                event.id,
                event.title,
                event.date,
                span.precision,
                span.start.isoformat(),
                span.end.isoformat(),
                span.approximate,
                span.uncertain,
                span_class(span.start, span.end),
                event.type,
                event.summary,
                event.notes,
                search_text(texts),
                to_json(event_document(event, lookup)).decode(),
                facet_keys(event, lookup),
                content_hash(event),
            )
        )
        rows.event_actors += (
            EventActorRow(event.id, ref.actor, ref.role, i) for i, ref in enumerate(event.actors)
        )
        rows.event_places += (
            EventPlaceRow(event.id, place, i) for i, place in enumerate(event.places)
        )
        rows.event_tags += (EventTagRow(event.id, tag) for tag in event.tags)
        rows.citations += (
            CitationRow(event.id, c.source, c.quote, c.claimed_date, i)
            for i, c in enumerate(event.citations)
        )
        rows.figures += (
            FigureRow(
                event.id,
                f.metric,
                f.value,
                f.low,
                f.high,
                f.approximate,
                f.unit,
                f.source,
                f.quote,
                i,
            )
            for i, f in enumerate(event.figures)
        )
        rows.event_relations += (EventRelationRow(event.id, related) for related in event.related)
    return rows


def search_text(texts: Iterable[str]) -> str:
    """Keyed words of all texts, space-padded so a word match is a LIKE '% word%'."""
    return " " + text_key(" ".join(texts)) + " "


# --- reading, in worker processes when the dataset is big -----------------------------


class _FileRows(NamedTuple):
    """What parsing one events file gives: its problems, or what the last checks need of
    its events and their rows (in a file of the spool, when parsed in a worker)."""

    errors: list[DatasetError]
    checked: CheckedEvents | None
    rows: EventRows | Path
    max_span_days: int


class _Context(NamedTuple):
    """What every events file is read with."""

    root: Path
    lookup: Lookup
    known: KnownIds
    spool: Path | None  # where workers leave rows


def read_rows(root: Path, *, workers: int | None = None) -> DatasetRows:
    """Read and check the dataset in `root` (exactly as `read_dataset` does) into rows.

    Event files are parsed by `workers` processes (by default: one per core once the files
    are big enough to be worth it; 0 parses here) while this one reads and hashes them.
    Raises `InvalidDataset` with every problem, in the order `read_dataset` reports them.
    Workers are started fresh ("spawn"), so a script calling this needs the usual
    `if __name__ == "__main__":` guard. Use the result in `with`: see `DatasetRows`.
    """
    with _no_gc():
        reader = DatasetReader(root)
        entities = reader.read_entities()
        paths = reader.event_files()
        if workers is None:
            workers = _default_workers(paths)
        spool = Path(mkdtemp(prefix="timeline-load-")) if workers else None
        try:
            context = _Context(root, Lookup.of(entities), KnownIds.of(entities), spool)
            checked: list[CheckedEvents] = []
            chunks: list[EventRows | Path] = []
            span = 0
            for result in _parsed(reader, paths, context, workers):
                if isinstance(result, DatasetError):
                    reader.errors.append(result)
                    continue
                reader.errors += result.errors
                if result.checked is not None:
                    checked.append(result.checked)
                    chunks.append(result.rows)
                    span = max(span, result.max_span_days)
            reader.check(entities, checked)
            count = sum(len(c.ids) for c in checked)
            return _with_entities(reader.hash, entities, chunks, count, span, spool)
        except BaseException:
            if spool is not None:
                shutil.rmtree(spool, ignore_errors=True)
            raise


@contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """Make SIGTERM end a load as Ctrl-C does: an exception, so the load rolls back, the
    workers stop and the spool is deleted (by default the process would just die, leaving
    both behind). Only in the main thread, where Python runs signal handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _default_workers(paths: Sequence[Path]) -> int:
    size = 0
    for path in paths:
        with suppress(OSError):  # reported when the file is read
            size += path.stat().st_size
    cores = usable_cores()
    return min(cores, len(paths)) if size >= PARALLEL_BYTES and cores > 1 else 0


CPU_MAX = Path("/sys/fs/cgroup/cpu.max")  # cgroup v2: "<quota> <period>" or "max <period>"


def usable_cores() -> int:
    """The cores this process may use: those it may run on, and no more than a container's
    CPU quota (`docker run --cpus 2` on a 64-core host is 2, not 64 workers' memory)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    with suppress(OSError, ValueError):
        quota, period = CPU_MAX.read_text().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, -(-int(quota) // int(period))))
    return cores


@contextmanager
def _no_gc() -> Iterator[None]:
    # Millions of new, acyclic objects: the cycle collector would rescan them over and over.
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _parsed(
    reader: DatasetReader, paths: list[Path], context: _Context, workers: int
) -> Iterator[_FileRows | DatasetError]:
    """Each file's result, in file order; files are read and hashed here, in order."""
    if workers == 0:
        for number, path in enumerate(paths):
            text = reader.read_text(path)
            if isinstance(text, DatasetError):
                yield text
            else:
                yield _file_rows(context, number, path, text, wanted=not reader.errors)
        return
    assert context.spool is not None
    # Workers read the context from a file: what a new process is sent must stay far below
    # a pipe's 64 KiB, or this process would wait forever on a worker that died starting.
    saved = context.spool / "context.pickle"
    with saved.open("wb") as handle:
        pickle.dump(context, handle, protocol=pickle.HIGHEST_PROTOCOL)
    # spawn: a fresh interpreter, safe whatever threads this process runs.
    pool = ProcessPoolExecutor(
        workers, mp_context=get_context("spawn"), initializer=_start_worker, initargs=(saved,)
    )
    try:
        pending: deque[Future[_FileRows] | DatasetError] = deque()
        for number, path in enumerate(paths):
            text = reader.read_text(path)
            if isinstance(text, DatasetError):
                pending.append(text)
            else:
                # Once a problem is found, nothing will be loaded: only look for more.
                wanted = not reader.errors and not any(
                    isinstance(item, DatasetError) for item in pending
                )
                pending.append(pool.submit(_worker_file_rows, number, path, text, wanted))
            # Texts wait in memory until a worker takes them: keep only a few in flight.
            while len(pending) > 2 * workers:
                yield _result(pending.popleft())
        while pending:
            yield _result(pending.popleft())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _result(item: Future[_FileRows] | DatasetError) -> _FileRows | DatasetError:
    return item if isinstance(item, DatasetError) else item.result()


_worker_context: _Context | None = None


def _start_worker(saved: Path) -> None:
    global _worker_context
    with saved.open("rb") as handle:
        _worker_context = pickle.load(handle)
    gc.disable()  # see _no_gc; the worker lives only as long as the load


def _worker_file_rows(number: int, path: Path, text: str, wanted: bool) -> _FileRows:
    assert _worker_context is not None
    return _file_rows(_worker_context, number, path, text, wanted=wanted)


def _file_rows(context: _Context, number: int, path: Path, text: str, *, wanted: bool) -> _FileRows:
    """Parse, validate and check the `number`th events file; rows only if it is valid
    and still `wanted` (no problem found before it)."""
    name = path.relative_to(context.root).as_posix()
    reader = DatasetReader(context.root)
    records = [item.record for item in reader.parse(name, text, EventRecord)]
    if reader.errors or not wanted:
        return _FileRows(reader.errors, None, EventRows(), 0)
    checked = check_events(name, records, context.known)
    rows = event_rows(records, context.lookup)
    if context.spool is None:
        return _FileRows([], checked, rows, rows.max_span_days)
    spooled = context.spool / f"{number:06d}.pickle"
    with spooled.open("wb") as handle:
        pickle.dump(rows, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return _FileRows([], checked, spooled, rows.max_span_days)

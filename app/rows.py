"""A checked dataset as the rows of each table, ready to insert.

Rows are named tuples whose fields are the table's columns; each event row carries its
ready-made JSON document. A load reads a dataset straight into rows
(`read_dataset(dir, rows=True)`): big datasets' rows are built in worker processes, one
events file at a time, and wait in a spool directory until the load inserts them.
"""

from __future__ import annotations

import pickle
import shutil
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

from pydantic_core import to_json

from app.dataset import (
    ActorRecord,
    Dataset,
    Entities,
    EventRecord,
    PlaceRecord,
    SourceRecord,
)
from app.dates import Span, date_label, parse_edtf, span_class
from app.schemas import ActorItem, PlaceItem
from app.text import fold, name_key, text_key
from app.versions import content_hash

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
    facets: str
    content_hash: str


class EventDocument(NamedTuple):
    """The event as lists and feeds return it, as JSON text, less its versions, and its
    keyed words: the load writes them by rank (`event_docs`, `event_words`), once the
    ranks and versions are known."""

    event_id: str
    doc: str
    search_text: str


class EventDocRow(NamedTuple):
    rank: int
    doc: str  # with its versions


class EventWordsRow(NamedTuple):
    rank: int
    search_text: str
    signature: bytes | None
    date_end: date | None
    span_class: int | None


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
    """The place and each place containing it, innermost first (a cycle ends the walk)."""
    chain: list[str] = []
    current: str | None = place_id
    while current is not None and current not in chain:
        chain.append(current)
        current = parents.get(current)
    return chain


def facet_keys(event: EventRecord, span: Span, lookup: Lookup) -> str:
    """The facet values an event counts towards (type, start year, actors, places with
    every place containing them, sources), as space-separated keys: facets of a filtered
    set are these, counted."""
    places = dict.fromkeys(c for p in event.places for c in lookup.containing.get(p, [p]))
    # An event with an open start (`../2017-07-07`) has no start year to count under.
    year = [] if event.date.startswith("..") else [f"year:{span.start.year:04d}"]
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
    documents: list[EventDocument] = field(default_factory=list)
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

    @classmethod
    def of(
        cls,
        dataset_hash: str,
        entities: Entities,
        events: list[EventRows | Path],
        event_count: int,
        max_span_days: int,
        spool: Path | None = None,
    ) -> DatasetRows:
        """The rows of `entities`, with `events`' (see the fields)."""
        actors = [item.record for item in entities.actors]
        places = [item.record for item in entities.places]
        place_rows = _place_rows(places)
        return cls(
            dataset_hash,
            [_source_row(item.record) for item in entities.sources],
            [
                ActorRow(a.id, a.name, a.kind, a.description, a.country, fold(a.name))
                for a in actors
            ],
            [ActorNameRow(*row) for row in _names(actors)],
            place_rows,
            [PlaceNameRow(*row) for row in _names(places)],
            [
                PlaceTreeRow(p.id, ancestor)
                for p in place_rows
                for ancestor in p.path.strip("/").split("/")
            ],
            events,
            event_count,
            max_span_days,
            spool,
        )

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
        """The event rows, one events file at a time (their documents apart, see
        `event_documents`)."""
        for chunk in self.events:
            yield _unpickle(chunk) if isinstance(chunk, Path) else chunk

    def event_documents(self) -> Iterator[list[EventDocument]]:
        """The event documents, one events file at a time: spooled apart from the rows,
        since they are written later and read only then."""
        for chunk in self.events:
            yield _unpickle(_documents_path(chunk)) if isinstance(chunk, Path) else chunk.documents


def spool_rows(rows: EventRows, path: Path) -> None:
    """Write one events file's rows to `path`, for `DatasetRows.events`."""
    _pickle(replace(rows, documents=[]), path)
    _pickle(rows.documents, _documents_path(path))


def _documents_path(spooled: Path) -> Path:
    return spooled.with_suffix(".documents")


def _pickle(value: object, path: Path) -> None:
    with path.open("wb") as handle:
        pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)


def _unpickle(path: Path) -> Any:
    with path.open("rb") as handle:
        return pickle.load(handle)


def dataset_rows(dataset: Dataset) -> DatasetRows:
    """The rows of a dataset read as records."""
    entities = Entities(dataset.sources, dataset.actors, dataset.places)
    events = event_rows((item.record for item in dataset.events), Lookup.of(entities))
    count, span = len(dataset.events), events.max_span_days
    return DatasetRows.of(dataset.hash, entities, [events], count, span)


def _source_row(source: SourceRecord) -> SourceRow:
    span = parse_edtf(source.published)
    start, end = span.start.isoformat(), span.end.isoformat()
    return SourceRow(**source.model_dump(), published_start=start, published_end=end)


def _place_rows(places: list[PlaceRecord]) -> list[PlaceRow]:
    parents = {p.id: p.parent for p in places}
    paths = {p.id: "/" + "/".join(reversed(_containing(p.id, parents))) + "/" for p in places}
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
    records: Iterable[ActorRecord | PlaceRecord],
) -> Iterator[tuple[str, str, str, bool]]:
    """(owner id, name, key, is_alias) for each distinct spelling; the id is a name too."""
    for record in records:
        seen: set[str] = set()
        spellings = [(record.name, False), *((a, True) for a in record.aliases), (record.id, True)]
        for spelling, is_alias in spellings:
            key = name_key(spelling)
            if key and spelling not in seen:
                seen.add(spelling)
                yield record.id, spelling, key, is_alias


def event_document(event: EventRecord, span: Span, lookup: Lookup) -> dict[str, Any]:
    """The event as lists and feeds return it (`EventSummary`), from its record and its
    span; the versions it was added and changed in are added as it is read."""
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
                facet_keys(event, span, lookup),
                content_hash(event),
            )
        )
        rows.documents.append(
            EventDocument(
                event.id, to_json(event_document(event, span, lookup)).decode(), search_text(texts)
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
    """The distinct keyed words of all texts, space-padded so that a word beginning with
    `w` is a LIKE '% w%' (a search asks which words an event holds, never how often)."""
    return " " + " ".join(dict.fromkeys(text_key(" ".join(texts)).split())) + " "

"""Replace the loaded dataset in one transaction; a no-op when its hash is unchanged.

Readers keep seeing the old dataset until the commit, then the new one: never a mix.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, insert, select, text

from app import models
from app.dataset import Dataset, EventRecord
from app.dates import parse_edtf, span_class
from app.db import is_sqlite
from app.text import fold, name_key

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


def replace_dataset(engine: Engine, dataset: Dataset, *, force: bool = False) -> LoadResult:
    """Make `dataset` the loaded one, atomically; skip when its hash is already loaded."""
    writer = engine.execution_options(sqlite_immediate=True)
    with writer.begin() as connection:
        if not is_sqlite(engine):
            # One loader at a time; readers are not blocked (MVCC).
            connection.execute(text("LOCK TABLE dataset_meta IN EXCLUSIVE MODE"))
        if not force and current_hash(connection) == dataset.hash:
            return LoadResult(False, dataset.hash, len(dataset.events))
        sqlite = is_sqlite(engine)
        if sqlite:
            connection.execute(text("INSERT INTO events_fts(events_fts) VALUES('delete-all')"))
        for model in _TABLES_CHILD_FIRST:
            connection.execute(delete(_table(model)))
        _insert_all(connection, dataset)
        if sqlite:
            connection.execute(
                text(
                    "INSERT INTO events_fts(rowid, search_text) "
                    "SELECT rowid, search_text FROM events"
                )
            )
        connection.execute(
            insert(_table(models.DatasetMeta)),
            {
                "id": 1,
                "dataset_hash": dataset.hash,
                "loaded_at": datetime.now(UTC),
                "event_count": len(dataset.events),
                "max_span_days": _max_span(dataset),
            },
        )
        connection.execute(text("ANALYZE"))  # fresh statistics for the query planner
    return LoadResult(True, dataset.hash, len(dataset.events))


def _max_span(dataset: Dataset) -> int:
    spans = (item.record.span for item in dataset.events)
    return max(((span.end - span.start).days for span in spans), default=0)


def _table(model: type[models.Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _insert(
    connection: Connection, model: type[models.Base], rows: Iterable[dict[str, Any]]
) -> None:
    batch: list[dict[str, Any]] = []
    table = _table(model)
    for row in rows:
        batch.append(row)
        if len(batch) >= _BATCH:
            connection.execute(insert(table), batch)
            batch = []
    if batch:
        connection.execute(insert(table), batch)


def _insert_all(connection: Connection, dataset: Dataset) -> None:
    sources = [item.record for item in dataset.sources]
    actors = [item.record for item in dataset.actors]
    places = [item.record for item in dataset.places]
    events = [item.record for item in dataset.events]

    _insert(
        connection,
        models.Source,
        (
            {
                "id": s.id,
                "title": s.title,
                "author": s.author,
                "publisher": s.publisher,
                "published": s.published,
                "published_start": (span := parse_edtf(s.published)).start,
                "published_end": span.end,
                "published_basis": s.published_basis,
                "basis_note": s.basis_note,
                "url": s.url,
                "language": s.language,
                "archive": s.archive,
            }
            for s in sources
        ),
    )
    _insert(
        connection,
        models.Actor,
        (
            {
                "id": a.id,
                "name": a.name,
                "kind": a.kind,
                "description": a.description,
                "country": a.country,
                "sort_key": fold(a.name),
            }
            for a in actors
        ),
    )
    _insert(
        connection,
        models.ActorName,
        (
            {"actor_id": actor_id, "name": name, "key": key, "is_alias": is_alias}
            for actor_id, name, key, is_alias in _names((a.id, a.name, a.aliases) for a in actors)
        ),
    )

    parents = {p.id: p.parent for p in places}
    paths = {p.id: _path(p.id, parents) for p in places}
    ordered = sorted(places, key=lambda p: paths[p.id].count("/"))
    _insert(
        connection,
        models.Place,
        (
            {
                "id": p.id,
                "name": p.name,
                "kind": p.kind,
                "parent_id": p.parent,
                "lat": p.lat,
                "lon": p.lon,
                "path": paths[p.id],
                "depth": paths[p.id].count("/") - 2,
                "sort_key": fold(p.name),
            }
            for p in ordered
        ),
    )
    _insert(
        connection,
        models.PlaceName,
        (
            {"place_id": place_id, "name": name, "key": key, "is_alias": is_alias}
            for place_id, name, key, is_alias in _names((p.id, p.name, p.aliases) for p in places)
        ),
    )

    actor_names = {a.id: [a.name, *a.aliases] for a in actors}
    place_names = {p.id: [p.name, *p.aliases] for p in places}
    _insert(connection, models.Event, (_event_row(e, actor_names, place_names) for e in events))
    _insert(
        connection,
        models.EventActor,
        (
            {"event_id": e.id, "actor_id": ref.actor, "role": ref.role, "position": i}
            for e in events
            for i, ref in enumerate(e.actors)
        ),
    )
    _insert(
        connection,
        models.EventPlace,
        (
            {"event_id": e.id, "place_id": place, "position": i}
            for e in events
            for i, place in enumerate(e.places)
        ),
    )
    _insert(
        connection,
        models.EventTag,
        ({"event_id": e.id, "tag": tag} for e in events for tag in e.tags),
    )
    _insert(
        connection,
        models.Citation,
        (
            {
                "event_id": e.id,
                "source_id": c.source,
                "quote": c.quote,
                "claimed_date": c.claimed_date,
                "position": i,
            }
            for e in events
            for i, c in enumerate(e.citations)
        ),
    )
    _insert(
        connection,
        models.Figure,
        (
            {
                "event_id": e.id,
                "metric": f.metric,
                "value": f.value,
                "low": f.low,
                "high": f.high,
                "approximate": f.approximate,
                "unit": f.unit,
                "source_id": f.source,
                "quote": f.quote,
                "position": i,
            }
            for e in events
            for i, f in enumerate(e.figures)
        ),
    )
    _insert(
        connection,
        models.EventRelation,
        ({"event_id": e.id, "related_id": related} for e in events for related in e.related),
    )


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


def _event_row(
    event: EventRecord, actor_names: dict[str, list[str]], place_names: dict[str, list[str]]
) -> dict[str, Any]:
    span = event.span
    texts = [event.title, event.summary, *event.tags]
    texts += [c.quote for c in event.citations] + [f.quote for f in event.figures]
    for ref in event.actors:
        texts += actor_names.get(ref.actor, [])
    for place in event.places:
        texts += place_names.get(place, [])
    return {
        "id": event.id,
        "title": event.title,
        "edtf": event.date,
        "precision": span.precision,
        "date_start": span.start,
        "date_end": span.end,
        "approximate": span.approximate,
        "uncertain": span.uncertain,
        "type": event.type,
        "summary": event.summary,
        "notes": event.notes,
        "search_text": search_text(texts),
        "span_class": span_class(span.start, span.end),
    }


def search_text(texts: Iterable[str]) -> str:
    """Keyed words of all texts, space-padded so a word match is a LIKE '% word%'."""
    return " " + name_key(" ".join(texts)) + " "
